"""A real terminal for the command line's prompts: the command runs as a pty's child, with
the pty as its controlling terminal (what getpass opens) and as its standard streams."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sys
import time
from collections.abc import Mapping


class Terminal:
    """`python -m xbearer ARGS` on a terminal; standard input from a file if `stdin`."""

    def __init__(self, args: list[str], env: Mapping[str, str], stdin: str | None = None) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child, on the terminal
            if stdin is not None:
                os.dup2(os.open(stdin, os.O_RDONLY), 0)
            argv = [sys.executable, "-m", "xbearer", *args]
            os.execve(sys.executable, argv, dict(env))  # noqa: S606 - no shell: the terminal's child
        self.pid, self.fd = pid, fd
        self.screen = b""
        self._seen = 0  # expect() looks only after what it matched last

    def _read(self, timeout: float) -> bool:
        """Read what the child wrote within `timeout`; False once it closed the terminal."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the child closed the terminal
            return False
        self.screen += chunk
        return bool(chunk)

    def expect(self, pattern: bytes, timeout: float = 30) -> re.Match[bytes]:
        """Wait for the pattern (a regular expression) to appear on the screen."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.screen, self._seen)
            if match:
                self._seen = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.5)):
                match = regex.search(self.screen, self._seen)
                assert match, f"{pattern!r} did not appear on the terminal: {self.screen!r}"
                self._seen = match.end()
                return match

    def type(self, line: str) -> None:
        """Type a line and Enter."""
        self.send(line.encode() + b"\n")

    def send(self, keys: bytes) -> None:
        """Press these keys (Ctrl-D is b"\\x04")."""
        os.write(self.fd, keys)

    def finish(self, timeout: float = 60) -> int:
        """Read the screen to the end; the exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.5):
            pass
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        os.close(self.fd)
        if not pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            raise AssertionError(f"the command did not end: {self.screen!r}")
        return os.waitstatus_to_exitcode(status)
