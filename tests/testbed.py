"""This repository's offline release testbed: a registry on loopback and a fresh engine.

../shared/testbed/registry-up and fresh-engine start them; this wraps them for the
release rehearsal (tests/test_rehearsal.py) and the fresh-job benchmark (bench/run.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

GRACE = 20.0  # how long a service may take to stop after SIGTERM, as fresh-engine waits


def _pid(pid_file: Path) -> int | None:
    """The process id the file records, if it records one."""
    try:
        return int(pid_file.read_text())
    except (OSError, ValueError):
        return None


def _running(pid: int) -> bool:
    """Whether the process runs. One that exited counts as stopped even before its parent
    reaps it: the services' parent is init, which may reap a zombie seconds later."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _alive(pid_file: Path) -> bool:
    """Whether the process whose id the file records is running."""
    pid = _pid(pid_file)
    return pid is not None and _running(pid)


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _exited(pids: list[int]) -> bool:
    """Wait until none of the processes runs, GRACE seconds at most; whether none does."""
    deadline = time.monotonic() + GRACE
    while any(map(_running, pids)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(pids: list[int]) -> None:
    """SIGTERM each, and wait until all exited; SIGKILL what still runs after GRACE."""
    _signal(pids, signal.SIGTERM)
    if not _exited(pids):
        _signal(pids, signal.SIGKILL)
        if not _exited(pids):
            raise TestbedError(f"processes {pids} did not stop, even killed")


class TestbedError(RuntimeError):
    """A testbed service did not start (the script's own lines, not its daemon's log), or
    did not stop."""

    __test__ = False  # not a test class


def _failure(name: str, stderr: str) -> str:
    """What a failed script said in its own words ("testbed: ..." lines, the log's path
    among them), at most two lines; the daemon's log stays in its file."""
    said = [line for line in stderr.splitlines() if line.startswith("testbed: ")][-2:]
    return "\n".join([f"{name} failed", *said] if said else [f"{name} failed (it said nothing)"])


class Testbed:
    """A registry on loopback and a second Docker engine with its own, empty store.

    What it started, `close()` stops again, by the process ids the scripts recorded;
    what was running before is left running. `env` may move them (REGISTRY_PORT,
    TESTBED_LOG_DIR, FRESH_ENGINE_DIR).
    """

    __test__ = False  # not a test class

    def __init__(self, scripts: Path, env: dict[str, str] | None = None) -> None:
        self.scripts, self.env = scripts, {**os.environ, **(env or {})}
        logs = Path(self.env.get("TESTBED_LOG_DIR", "/tmp/testbed"))  # noqa: S108 - the scripts'
        self.registry_pid_file = logs / f"registry-{self.env.get('REGISTRY_PORT', '5000')}" / "pid"
        fresh = Path(self.env.get("FRESH_ENGINE_DIR", logs / "fresh-engine"))
        self.fresh_pid_file = fresh / "dockerd.pid"
        registry_was_up = _alive(self.registry_pid_file)
        self.registry = self._script("registry-up")
        self.started = [] if registry_was_up else ["registry"]
        fresh_was_up = _alive(self.fresh_pid_file)
        self.fresh_host = self._script("fresh-engine")
        self.started += [] if fresh_was_up else ["fresh engine"]

    def _script(self, name: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.scripts / name), *args],
            capture_output=True,
            text=True,
            check=False,
            env=self.env,
        )
        if done.returncode != 0:
            raise TestbedError(_failure(name, done.stderr))
        return done.stdout.strip().rpartition("\n")[2]

    def close(self) -> None:
        """Stop the registry and the fresh engine if this testbed started them."""
        self._stop_services(self.started)
        self.started = []

    def _stop_services(self, services: list[str]) -> None:
        """Stop these services at once, each waited for until it exited (about a second:
        the engine's shutdown), and unmount what a stopped engine left."""
        files = {"registry": self.registry_pid_file, "fresh engine": self.fresh_pid_file}
        _stop([pid for name in services if (pid := _pid(files[name])) is not None])
        if "fresh engine" in services:
            self._unmount()

    def _unmount(self) -> None:
        """What a stopped engine can leave mounted (its network namespace)."""
        root = Path(self.fresh_host.removeprefix("unix://")).parent
        for line in Path("/proc/mounts").read_text().splitlines():
            mountpoint = line.split()[1]
            if mountpoint.startswith(f"{root}/"):
                subprocess.run(["umount", "-l", mountpoint], check=True)

    def reset_fresh_engine(self) -> None:
        """Stop the fresh engine, empty its store, start it again: a new runner.

        A stopped engine can leave its network namespace mounted, which `--reset`
        cannot delete ("Device or resource busy"): unmount what it left first.
        """
        self._stop_services(["fresh engine"])
        assert self._script("fresh-engine", "--reset") == self.fresh_host

    def fresh(self, *args: str) -> subprocess.CompletedProcess[str]:
        """docker on the fresh engine."""
        env = {**self.env, "DOCKER_HOST": self.fresh_host}
        return subprocess.run(
            ["docker", *args], env=env, capture_output=True, text=True, check=False
        )

    def push(self, image: str, repository: str, tag: str) -> str:
        """Push a local image to the registry; return REGISTRY/repository@sha256:..."""
        target = f"{self.registry}/{repository}"
        subprocess.run(["docker", "tag", image, f"{target}:{tag}"], check=True)
        pushed = subprocess.run(
            ["docker", "push", f"{target}:{tag}"], capture_output=True, text=True, check=False
        )
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        (digest,) = re.findall(r"digest: (sha256:[0-9a-f]{64})", pushed.stdout)
        return f"{target}@{digest}"
