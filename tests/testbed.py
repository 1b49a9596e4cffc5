"""This repository's offline release testbed: a registry on loopback and a fresh engine.

../shared/testbed/registry-up and fresh-engine start them; this wraps them for the
release rehearsal (tests/test_rehearsal.py) and the fresh-job benchmark (bench/run.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


class Testbed:
    """A registry on loopback and a second Docker engine with its own, empty store."""

    __test__ = False  # not a test class

    def __init__(self, scripts: Path) -> None:
        self.scripts = scripts
        self.registry = self._script("registry-up")
        self.fresh_host = self._script("fresh-engine")

    def _script(self, name: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.scripts / name), *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{name} {args} failed:\n{done.stdout}{done.stderr}"
        return done.stdout.strip().rpartition("\n")[2]

    def reset_fresh_engine(self) -> None:
        """Stop the fresh engine, empty its store, start it again: a new runner.

        A stopped engine can leave its network namespace mounted, which `--reset`
        cannot delete ("Device or resource busy"): unmount what it left first.
        """
        self._script("fresh-engine", "--stop")
        root = Path(self.fresh_host.removeprefix("unix://")).parent
        for line in Path("/proc/mounts").read_text().splitlines():
            mountpoint = line.split()[1]
            if mountpoint.startswith(f"{root}/"):
                subprocess.run(["umount", "-l", mountpoint], check=True)
        assert self._script("fresh-engine", "--reset") == self.fresh_host

    def fresh(self, *args: str) -> subprocess.CompletedProcess[str]:
        """docker on the fresh engine."""
        env = {**os.environ, "DOCKER_HOST": self.fresh_host}
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
