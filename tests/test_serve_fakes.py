"""tests/fakes/runner.py, what the matrix workflow (.github/workflows/native.yml) serves
on a real runner's loopback: started as that workflow's step starts it, it outlives the
step, and the action reaches the fake GitHub as api.github.com through its proxy, with
GitHub's own variables left as a real runner sets them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

import ghrunner

ROOT = ghrunner.ROOT
REPOSITORY = "octo-org/widgets"


def _runner_step(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m fakes.runner` as the workflow's step runs it."""
    return subprocess.run(
        [sys.executable, "-m", "fakes.runner"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str], Path]]:
    """The runner module's outputs and job variables, as the runner reads its files."""
    files = {kind: tmp_path / f"{kind.lower()}_file" for kind in ("OUTPUT", "ENV")}
    for path in files.values():
        path.touch()
    env = {
        **ghrunner.host_env(),
        "PYTHONPATH": str(ROOT / "tests"),
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_REPOSITORY": REPOSITORY,
        **{f"GITHUB_{kind}": str(path) for kind, path in files.items()},
    }
    started = _runner_step(env, tmp_path)
    assert started.returncode == 0, started.stdout + started.stderr
    pid = int(started.stdout.split("(process ", 1)[1].split(")", 1)[0])
    try:
        outputs = ghrunner.parse_file_command(files["OUTPUT"].read_text())
        for name in ("api-key", "api-secret", "client-secret", "refresh-token", "github-token"):
            assert f"::add-mask::{outputs[name]}" in started.stdout.splitlines()
        yield outputs, ghrunner.parse_file_command(files["ENV"].read_text()), tmp_path
    finally:
        os.kill(pid, signal.SIGTERM)


def test_fakes_that_fail_to_start_say_why_at_once_from_their_log(tmp_path: Path) -> None:
    """The detached process ends (here: a workspace that does not exist, for the CA): the
    step fails within seconds, not after the minute it waits, and shows the log's end."""
    runner_temp = tmp_path / "runner_temp"
    runner_temp.mkdir()
    env = {
        **ghrunner.host_env(),
        "PYTHONPATH": str(ROOT / "tests"),
        "GITHUB_WORKSPACE": str(tmp_path / "no such workspace"),
        "RUNNER_TEMP": str(runner_temp),
    }
    started = time.monotonic()
    failed = _runner_step(env, tmp_path)
    assert failed.returncode == 1 and time.monotonic() - started < 30, failed.stderr
    (log,) = runner_temp.glob("xbearer-fakes-*/fakes.log")
    assert failed.stderr.startswith(
        f"python -m fakes.runner: the fakes ended (exit 1); the end of their log, {log}:\n"
    )
    assert "FileNotFoundError" in failed.stderr and "fakes-ca.pem" in failed.stderr
    assert not list(runner_temp.glob("xbearer-fakes-*/ready.json"))


def test_the_fakes_outlive_their_step_and_serve_an_app_only_run(served) -> None:
    outputs, _, workspace = served
    inputs = {name: outputs[name] for name in ("api-key", "api-secret", "api-url")}
    result = ghrunner.run(inputs, workspace=workspace)
    assert result.rc == 0, result.log
    tweets = requests.get(
        f"{outputs['api-url']}/2/tweets?ids=20",
        headers={"Authorization": f"Bearer {result.outputs['bearer']}"},
        timeout=10,
    )
    assert tweets.status_code == 200


def test_a_user_context_run_stores_in_the_fake_github_as_api_github_com(served) -> None:
    outputs, variables, workspace = served
    assert set(variables) == {"HTTPS_PROXY", "NO_PROXY"}
    names = ("client-id", "client-secret", "refresh-token", "github-token", "api-url", "ca-bundle")
    inputs = {name: outputs[name] for name in names}
    inputs["refresh-token-secret-name"] = "X_REFRESH_TOKEN"
    runner = {"GITHUB_API_URL": "https://api.github.com", "GITHUB_REPOSITORY": REPOSITORY}
    result = ghrunner.run(inputs, workspace=workspace, env={**runner, **variables})
    assert result.rc == 0, result.log
    assert f"Stored the rotated refresh token in the secret X_REFRESH_TOKEN of {REPOSITORY}" in (
        result.summary
    )
    me = requests.get(
        f"{outputs['api-url']}/2/users/me",
        headers={"Authorization": f"Bearer {result.outputs['bearer']}"},
        timeout=10,
    )
    assert me.status_code == 200
    # The rotated token was stored: the one the fakes started with is used up.
    again = ghrunner.run(inputs, workspace=workspace, env={**runner, **variables})
    assert again.rc == 1 and "was used already" in again.log


def test_the_workflow_step_runs_the_module_with_the_locked_wheels() -> None:
    action = yaml.safe_load((ROOT / ".github/actions/serve-fakes/action.yml").read_text())
    (step,) = action["runs"]["steps"]
    assert "--require-hashes" in step["run"] and "scripts/fakes-requirements.txt" in step["run"]
    assert "-m fakes.runner" in step["run"]
    assert set(action["outputs"]) == {
        "api-url",
        "api-key",
        "api-secret",
        "client-id",
        "client-secret",
        "refresh-token",
        "github-token",
        "ca-bundle",
    }
