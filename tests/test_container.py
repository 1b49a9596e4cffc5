"""The built image itself, run with the runner's mounts and variables."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ghrunner
from conftest import Api, GitHub
from fakes import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, TOKEN

PASS = "correct horse battery staple"


def _run(image: str, api: Api, inputs: dict[str, str], **kwargs) -> ghrunner.Run:
    result = ghrunner.run(inputs, image=image, env={"RUNNER_DEBUG": "1"}, **kwargs)
    ghrunner.assert_no_leak(result, [api.fake.token], trust_runner=False)
    return result


def test_happy_path_in_the_container(image: str, api: Api) -> None:
    result = _run(image, api, api.inputs(export_env="TWITTER_BEARER_TOKEN"))
    assert result.rc == 0, result.log
    assert result.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    assert result.env == {"TWITTER_BEARER_TOKEN": TOKEN}
    assert "Obtained a bearer token" in result.summary


def test_failure_in_the_container(image: str, api: Api) -> None:
    result = _run(image, api, api.inputs(api_secret="wrong"))
    assert result.rc == 1
    assert "HTTP 403, code 99" in result.annotations("error")[0]
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    assert "Traceback" not in result.log


def test_bad_input_in_the_container(image: str, api: Api) -> None:
    result = _run(image, api, api.inputs(api_url="http://example.com"))
    assert result.rc == 1
    assert "only for a loopback host" in result.annotations("error")[0]
    assert api.fake.requests == []


def test_ca_bundle_relative_to_the_mounted_workspace(
    image: str, tls_api: Api, tmp_path: Path
) -> None:
    result = _run(image, tls_api, tls_api.inputs(ca_bundle="ca.pem"), workspace=tmp_path)
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN


def test_hand_off_in_githubs_order_in_the_container(image: str, api: Api) -> None:
    # Job 1 main, job 1 post, job 2 main, job 2 post: the last job revokes.
    mint_inputs = api.inputs(passphrase=PASS)
    mint = _run(image, api, mint_inputs)
    assert mint.rc == 0, mint.log
    mint_post = _run(image, api, mint_inputs, post=True, state=mint.state)
    assert mint_post.rc == 0 and "Nothing to revoke" in mint_post.log
    last_inputs = {
        **api.inputs(invalidate="true"),
        "sealed-bearer": mint.outputs["sealed-bearer"],
        "passphrase": PASS,
        "access-token": ACCESS_TOKEN,
        "access-token-secret": ACCESS_TOKEN_SECRET,
    }
    last = _run(image, api, last_inputs)
    assert last.rc == 0, last.log
    assert last.outputs["bearer"] == TOKEN
    assert TOKEN not in api.fake.revoked
    last_post = _run(image, api, last_inputs, post=True, state=last.state)
    assert last_post.rc == 0 and "Revoked the bearer token" in last_post.log, last_post.log
    assert TOKEN in api.fake.revoked
    assert len(api.fake.token_requests()) == 1


def test_the_image_holds_compiled_code_and_nothing_unused(image: str) -> None:
    listing = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "/usr/local/bin/python",  # the image has no shell
            image,
            "-IBSc",
            "import os; print(*os.listdir('/app/lib'), *os.listdir('/app/xbearer/__pycache__'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "tests" not in listing and "bin" not in listing
    compiled = {name.split(".")[0] for name in listing if name.endswith(".pyc")}
    sources = {p.stem for p in (ghrunner.ROOT / "src" / "xbearer").glob("*.py")}
    assert sources <= compiled


def test_image_runs_as_root_with_an_absolute_exec_entrypoint(image: str) -> None:
    inspect = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            "{{json .Config.Entrypoint}} {{.Config.User}}",
            image,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert inspect == '["/app/bin/main"]'
    dockerfile = (ghrunner.ROOT / "Dockerfile").read_text()
    assert "ARG BASE=python:3.13-slim" in dockerfile and "\nUSER" not in dockerfile


def test_a_jobs_python_variables_cannot_reach_into_the_container(image: str, api: Api) -> None:
    # The runner passes the job's env into the container; the entry points run Python -I.
    hostile = {"PYTHONPATH": "/nonexistent", "PYTHONHOME": "/bogus", "PYTHONWARNINGS": "error"}
    result = ghrunner.run(api.inputs(), image=image, env=hostile)
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN


def test_two_consecutive_user_context_runs_in_the_container(
    image: str, api: Api, github: GitHub
) -> None:
    # The second run gets the refresh token the first stored in the fake GitHub, whose
    # Curve25519 key opens what the container sealed.
    inputs = api.user_inputs(github)
    tokens = lambda: [api.fake.token, *api.fake.oauth2.issued(), *github.fake.tokens]  # noqa: E731
    bearers = []
    for _ in range(2):
        result = ghrunner.run(inputs, image=image, env={"RUNNER_DEBUG": "1", **github.env()})
        ghrunner.assert_no_leak(result, tokens(), trust_runner=False)
        assert result.rc == 0, result.log
        assert result.outputs["expires-in"] == "7200"
        bearers.append(result.outputs["bearer"])
        stored = github.fake.secret("X_REFRESH_TOKEN")
        assert stored and stored != inputs["refresh-token"]
        assert api.fake.oauth2.valid_refresh_tokens() == [stored]
        inputs = {**inputs, "refresh-token": stored}
    assert len(set(bearers)) == 2
    assert set(bearers) <= set(api.fake.oauth2.valid_access_tokens())
