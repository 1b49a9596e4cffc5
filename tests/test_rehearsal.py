"""A release rehearsal, offline, with real parts: the release image pushed to a registry on
loopback, action.yml pinned to its digest by scripts/pin-image, and the two-job
workflow run under act on a second Docker engine that starts empty, as a fresh
runner does. Needs ../shared/testbed (registry-up, fresh-engine).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from actrun import assert_handoff, repo_copy, run_act
from conftest import BASE, Api
from testbed import Testbed

# One worker runs them in turn (--dist loadfile): they share the session's testbed (one
# registry, one engine).
pytestmark = pytest.mark.testbed


def _pinned_copy(dest: Path, reference: str) -> Path:
    def pin(repo: Path) -> None:
        subprocess.run([str(repo / "scripts" / "pin-image"), reference], cwd=repo, check=True)

    return repo_copy(dest, pin)


def _repositories(testbed: Testbed) -> list[str]:
    return sorted(testbed.fresh("images", "--format", "{{.Repository}}").stdout.split())


@pytest.fixture
def released(release_image: str, testbed: Testbed) -> tuple[str, str]:
    """The action's release image (`--target release`, as the release workflow builds
    it) and a job image, pushed; the fresh engine reset to empty."""
    action = testbed.push(release_image, "xbearer/action", "rehearsal")
    job = testbed.push(BASE, "library/python", "3.13-slim").split("@")[0] + ":3.13-slim"
    testbed.reset_fresh_engine()
    assert testbed.fresh("images", "-q").stdout == ""
    return action, job


def test_a_released_action_is_pulled_by_digest_and_passes(
    released: tuple[str, str], testbed: Testbed, api: Api, tmp_path: Path
) -> None:
    action, job = released
    assert testbed.fresh("image", "inspect", action).returncode != 0  # not there before
    repo = _pinned_copy(tmp_path / "repo", action)
    rc, log = run_act(repo, api, job, docker_host=testbed.fresh_host)
    assert_handoff(rc, log, api)
    assert f"docker pull image={action} " in log
    assert testbed.fresh("image", "inspect", action).returncode == 0  # pulled by digest
    # Nothing was built: the fresh engine holds the two pulled images and nothing else.
    assert _repositories(testbed) == sorted([action.split("@")[0], job.rsplit(":", 1)[0]])
    # What it pulled is the release image, with no shell; the default image has one.
    shell = ["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", action, "-c", "true"]
    assert "no such file or directory" in testbed.fresh(*shell).stderr


def test_a_digest_missing_from_the_registry_fails_the_job(
    released: tuple[str, str], testbed: Testbed, api: Api, tmp_path: Path
) -> None:
    action, job = released
    missing = action.split("@")[0] + "@sha256:" + hashlib.sha256(b"never pushed").hexdigest()
    repo = _pinned_copy(tmp_path / "repo", missing)
    rc, log = run_act(repo, api, job, docker_host=testbed.fresh_host)
    assert rc != 0
    assert f"manifest for {missing} not found: manifest unknown" in log, log[-2000:]
    assert "docker build" not in log  # no fallback to building the Dockerfile
    assert api.fake.requests == []
    assert _repositories(testbed) == [job.rsplit(":", 1)[0]]  # the job's image only


def test_the_testbed_stops_what_it_started_and_only_that() -> None:
    # Its own registry port and engine directory (short: the engine's sockets live
    # there), so the session's testbed is untouched.
    from conftest import TESTBED

    root = Path(tempfile.mkdtemp(prefix="tb-", dir="/tmp"))
    env = {
        "REGISTRY_PORT": "5055",
        "TESTBED_LOG_DIR": str(root / "logs"),
        "FRESH_ENGINE_DIR": str(root / "engine"),
    }
    bed = Testbed(TESTBED, env)
    try:
        assert bed.started == ["registry", "fresh engine"]
        pids = [int(f.read_text()) for f in (bed.registry_pid_file, bed.fresh_pid_file)]
        again = Testbed(TESTBED, env)  # both already up: it started nothing
        assert again.started == []
        again.close()
        assert all(_running(pid) for pid in pids)
    finally:
        bed.close()
    assert not any(_running(pid) for pid in pids)
    shutil.rmtree(root, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (exited, not yet reaped) counts as stopped.
    return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
