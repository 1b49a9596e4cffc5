"""This repository's offline release testbed: a registry on loopback and a fresh engine.

../shared/testbed/registry-up and fresh-engine start them; this wraps them for the
release rehearsal (tests/test_rehearsal.py) and the fresh-job benchmark (bench/run.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path


def _alive(pid_file: Path) -> bool:
    """Whether the process whose id the file records is running."""
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


class TestbedError(RuntimeError):
    """A testbed service did not start: the script's own lines, not its daemon's log."""

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
        if "fresh engine" in self.started:
            self._script("fresh-engine", "--stop")
            self._unmount()
        if "registry" in self.started:
            pid = int(self.registry_pid_file.read_text())
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _alive(self.registry_pid_file):
                    break
                time.sleep(0.1)
        self.started = []

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
        self._script("fresh-engine", "--stop")
        self._unmount()
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
