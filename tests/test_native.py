"""The native action without Docker: its composite steps run as the runner runs them
(ghrunner.run_composite), each through native/bootstrap.sh with a real, hash-checked
pip install of the locked wheels (downloaded once a session from PyPI, then installed
from that folder), in every mode, against the fake X API and the fake GitHub.

Most runs share one session's tool cache (a warm start, as a later step or job on a
runner that keeps RUNNER_TOOL_CACHE); the cold-start tests start from an empty one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests

import ghrunner
from conftest import Api, GitHub, _leak_checked
from fakes import API_KEY, API_SECRET, CLIENT_ID, CLIENT_SECRET, TOKEN

NATIVE = ghrunner.ROOT / "native"
COMPANION = NATIVE / "invalidate"
PASS = "correct horse battery staple"
PYTHON_DIR = str(Path(sys.executable).parent)  # a Python 3.11+, as a runner's python3
INSTALLED = "Installed the action's 10 locked packages (hashes checked)"


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked wheels for this Python, from PyPI once a session, hashes checked."""
    folder = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check"),
            *("--require-hashes", "--no-deps", "--only-binary", ":all:", "-d", str(folder)),
            *("-r", str(ghrunner.ROOT / "requirements.txt")),
        ],
        check=True,
        capture_output=True,
    )
    return folder


def _job_env(wheels: Path, tool_cache: Path) -> dict[str, str]:
    """A job's variables: this Python first on PATH, the tool cache, and pip installing
    from the session's folder of wheels alone (with the machine's pip settings off)."""
    return {
        "PATH": f"{PYTHON_DIR}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TOOL_CACHE": str(tool_cache),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
    }


@pytest.fixture(scope="session")
def warm(wheels: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A job's variables with the packages already in the tool cache: a warm start."""
    env = _job_env(wheels, tmp_path_factory.mktemp("toolcache"))
    first = ghrunner.run_composite(COMPANION, {}, env=env)
    assert first.rc == 0 and INSTALLED in first.log, first.log
    return env


@pytest.fixture
def native(
    api: Api, warm: dict[str, str], request: pytest.FixtureRequest
) -> Callable[..., ghrunner.Run]:
    """Run the native action (or, with action=COMPANION, its companion) warm, as the
    runner runs a composite action's steps, every run scanned for leaks."""

    def start(inputs: dict[str, str], *, env: dict[str, str], **kwargs: Any) -> ghrunner.Run:
        action = kwargs.pop("action", NATIVE)
        return ghrunner.run_composite(action, inputs, env={**warm, **env}, **kwargs)

    return _leak_checked(start, api, request)


def _tweets(api: Api, bearer: str = TOKEN) -> int:
    headers = {"Authorization": f"Bearer {bearer}"}
    return requests.get(f"{api.url}/2/tweets?ids=20", headers=headers, timeout=5).status_code


def test_app_only_outputs_the_masked_token_as_the_action_output(native, api: Api) -> None:
    result = native(api.inputs())
    assert result.rc == 0, result.log
    assert result.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    assert result.action_outputs == {
        "bearer": TOKEN,
        "token-type": "bearer",
        "sealed-bearer": "",
        "expires-in": "",
        "expires-at": "",
        "scope": "",
    }
    assert {TOKEN, unquote(TOKEN)} <= ghrunner.mask_values(result.log)
    assert "Obtained a bearer token from 127.0.0.1" in result.summary
    assert INSTALLED not in result.log  # warm: nothing installed
    assert result.annotations("error") == result.annotations("warning") == []


def test_a_sealed_hand_off_across_two_jobs_then_the_companion_revokes(native, api: Api) -> None:
    mint = native(api.inputs(passphrase=PASS))
    assert mint.rc == 0, mint.log
    assert mint.action_outputs is not None
    sealed = mint.action_outputs["sealed-bearer"]  # the job output the next job needs
    assert sealed.startswith("v2.") and TOKEN not in sealed
    later = {"sealed-bearer": sealed, "passphrase": PASS, "api-url": api.url}
    use = native(later)
    assert use.rc == 0, use.log
    assert use.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    assert len(api.fake.token_requests()) == 1  # unsealed, no request
    assert _tweets(api) == 200
    keys = {"api-key": API_KEY, "api-secret": API_SECRET}
    revoke = native({**later, **keys}, action=COMPANION)
    assert revoke.rc == 0 and revoke.annotations("warning") == [], revoke.log
    assert "Revoked the bearer token at 127.0.0.1" in revoke.log
    assert "Revoked the bearer token" in revoke.summary
    assert _tweets(api) == 401


def test_user_context_stores_the_rotated_refresh_token_then_the_companion_revokes(
    native, api: Api, github: GitHub
) -> None:
    inputs = api.user_inputs(github)
    result = native(inputs)
    assert result.rc == 0, result.log
    rotated = github.fake.secret("X_REFRESH_TOKEN")
    assert rotated not in (None, inputs["refresh-token"])
    assert api.fake.oauth2.valid_refresh_tokens() == [rotated]
    assert result.action_outputs is not None
    bearer = result.action_outputs["bearer"]
    assert result.action_outputs["expires-in"] == "7200" and result.action_outputs["scope"]
    assert "Stored the rotated refresh token in the secret X_REFRESH_TOKEN" in result.summary
    client = {"client-id": CLIENT_ID, "client-secret": CLIENT_SECRET, "api-url": api.url}
    revoke = native({"bearer": bearer, **client}, action=COMPANION)
    assert revoke.rc == 0 and revoke.annotations("warning") == [], revoke.log
    assert "Revoked the user access token" in revoke.log
    assert bearer in api.fake.oauth2.revoked()


def test_export_env_sets_the_token_for_later_steps(native, api: Api) -> None:
    result = native(api.inputs(export_env="TWITTER_BEARER_TOKEN"))
    assert result.rc == 0, result.log
    assert result.env == {"TWITTER_BEARER_TOKEN": TOKEN}


def test_invalidate_is_refused_pointing_to_the_companion(native, api: Api) -> None:
    result = native(api.inputs(invalidate="true"))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert error.startswith("invalidate: true needs a post step")
    assert "native/invalidate" in error and "if: always()" in error
    assert error.endswith("Nothing was output.")
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    assert api.fake.requests == []


def test_a_revocation_that_fails_is_a_warning_not_a_failure(native, api: Api) -> None:
    keys = {"api-key": API_KEY, "api-secret": API_SECRET, "api-url": api.url, "retries": "0"}
    api.fake.revoked.add(TOKEN)  # X: "invalid or expired token" (code 89)
    result = native({"bearer": TOKEN, **keys}, action=COMPANION)
    assert result.rc == 0, result.log
    (warning,) = result.annotations("warning")
    assert warning.startswith("Could not revoke the bearer token:") and "code 89" in warning
    assert result.annotations("error") == []


def test_the_companion_after_a_failed_step_has_nothing_to_revoke(native, api: Api) -> None:
    keys = {"api-key": API_KEY, "api-secret": API_SECRET, "api-url": api.url}
    result = native({"bearer": "", **keys}, action=COMPANION)  # if: always() after a failure
    assert result.rc == 0, result.log
    assert "Nothing to revoke: bearer and sealed-bearer are empty" in result.log
    assert api.fake.requests == []


def test_the_companion_without_credentials_warns_what_to_give(native, api: Api) -> None:
    result = native({"bearer": TOKEN, "api-url": api.url}, action=COMPANION)
    assert result.rc == 0
    (warning,) = result.annotations("warning")
    assert "needs api-key and api-secret (an app-only token) or client-id" in warning
    assert api.fake.requests == []


def test_the_jobs_pythonpath_cannot_reach_into_the_action(native, api: Api, tmp_path: Path) -> None:
    (tmp_path / "requests.py").write_text("print('HIJACKED')\nraise SystemExit(9)\n")
    (tmp_path / "sitecustomize.py").write_text("print('HIJACKED')\n")
    result = native(api.inputs(), env={"PYTHONPATH": str(tmp_path)})
    assert result.rc == 0, result.log
    assert "HIJACKED" not in result.log


def _fake_pythons(folder: Path, versions: dict[str, str]) -> str:
    """A folder of fake interpreters that answer bootstrap.sh's version check as old
    Pythons would (and fail it), for a PATH holding nothing else."""
    folder.mkdir()
    for name, version in versions.items():
        fake = folder / name
        fake.write_text(f'#!/bin/sh\necho "{version}"\nexit 1\n')
        fake.chmod(0o755)
    return str(folder)


def test_without_python_3_11_the_step_fails_in_one_line_naming_setup_python(
    api: Api, tmp_path: Path
) -> None:
    path = _fake_pythons(tmp_path / "bin", {"python3": "3.9", "python": "2.7"})
    result = ghrunner.run_composite(NATIVE, api.inputs(), env={"PATH": path})
    assert result.rc == 1
    (line,) = result.log.splitlines()
    assert line == (
        "::error::No Python 3.11 or later on this runner (python3 is 3.9, python is 2.7): add "
        'actions/setup-python (python-version: "3.13") as a step before this one.'
    )
    empty = ghrunner.run_composite(NATIVE, api.inputs(), env={"PATH": str(tmp_path / "none")})
    assert empty.log == (
        "::error::No Python 3.11 or later on this runner (no python3, python or py -3): add "
        'actions/setup-python (python-version: "3.13") as a step before this one.\n'
    )


def _installed(tool_cache: Path) -> list[Path]:
    return sorted((tool_cache / "xbearer-native").iterdir())


def test_a_cold_start_installs_the_locked_wheels_once_then_starts_warm(
    api: Api, wheels: Path, tmp_path: Path
) -> None:
    env = {**_job_env(wheels, tmp_path / "toolcache")}
    cold = ghrunner.run_composite(NATIVE, api.inputs(), env=env)
    assert cold.rc == 0, cold.log
    assert cold.log.startswith(INSTALLED)
    (folder,) = _installed(tmp_path / "toolcache")
    python = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"
    assert folder.name.endswith(f"-{sys.platform}-{os.uname().machine.lower()}-{python}")
    assert (folder / ".xbearer-complete").is_file()
    assert {p.name for p in folder.glob("*.dist-info")} >= {"requests-2.34.2.dist-info"}
    warm = ghrunner.run_composite(NATIVE, api.inputs(), env=env)
    assert warm.rc == 0 and INSTALLED not in warm.log, warm.log
    assert _installed(tmp_path / "toolcache") == [folder]


def test_without_a_tool_cache_the_packages_go_to_runner_temp(
    api: Api, wheels: Path, tmp_path: Path
) -> None:
    env = {**_job_env(wheels, tmp_path), "RUNNER_TOOL_CACHE": ""}
    result = ghrunner.run_composite(NATIVE, api.inputs(), env=env)
    assert result.rc == 0, result.log
    (line,) = [line for line in result.log.splitlines() if line.startswith(INSTALLED)]
    assert "/runner_temp/xbearer-native/" in line


def test_a_wheel_whose_hash_is_not_locked_is_refused_and_nothing_is_kept(
    api: Api, wheels: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "wheels"
    shutil.copytree(wheels, tampered)
    (idna,) = tampered.glob("idna-*.whl")
    idna.write_bytes(idna.read_bytes() + b"\0")  # still a zip; not the locked bytes
    result = ghrunner.run_composite(
        NATIVE, api.inputs(), env=_job_env(tampered, tmp_path / "toolcache")
    )
    assert result.rc == 1
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.log  # pip's, in the group
    (error,) = result.annotations("error")
    assert error.startswith("pip could not install the action's locked dependencies")
    assert error.endswith("Nothing was output.")
    assert _installed(tmp_path / "toolcache") == []  # no partial folder left
    assert result.outputs == {} and api.fake.requests == []


def test_an_install_killed_midway_is_never_reused(api: Api, wheels: Path, tmp_path: Path) -> None:
    tool_cache = tmp_path / "toolcache"
    env = _job_env(wheels, tool_cache)
    partials: list[Path] = []

    def kill_once_installing(proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 30
        while not partials and time.monotonic() < deadline:
            partials.extend((tool_cache / "xbearer-native").glob("*.partial-*"))
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # as a runner that loses the machine: no clean-up

    killed = ghrunner.run_composite(NATIVE, api.inputs(), env=env, during=kill_once_installing)
    assert killed.rc == -signal.SIGKILL
    (partial,) = partials
    assert _installed(tool_cache) == [partial]  # left behind, and not the folder
    again = ghrunner.run_composite(NATIVE, api.inputs(), env=env)
    assert again.rc == 0 and INSTALLED in again.log, again.log
    folder = next(p for p in _installed(tool_cache) if p != partial)
    assert partial.parent == folder.parent  # beside it: the rename never crosses drives
    assert not (partial / ".xbearer-complete").exists()


@pytest.fixture
def windows_files(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """File-command files at paths as Windows' runner names them (a drive, backslashes),
    which on Linux are names in one folder: the code must pass them through untouched."""
    folder = tmp_path / "D:\\a\\_temp\\_runner_file_commands"
    folder.mkdir()
    files = {kind: folder / f"{kind.lower()}_0c4e" for kind in ghrunner.FILE_COMMANDS}
    for path in files.values():
        path.touch()
    yield files


def test_file_commands_on_windows_never_put_a_carriage_return_in_a_value(
    api: Api, windows_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions_toolkit import core

    from xbearer import action

    monkeypatch.setattr(os, "linesep", "\r\n")  # what the toolkit ends each line with there
    inputs = api.inputs(passphrase=PASS, export_env="TWITTER_BEARER_TOKEN")
    environ = {
        **ghrunner.host_env(),
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
        **{f"GITHUB_{kind}": str(path) for kind, path in windows_files.items()},
        "GITHUB_WORKSPACE": "D:\\a\\repo\\repo",
    }
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.MonkeyPatch.context() as patched:
            for name in list(os.environ):
                patched.delenv(name)
            for name, value in environ.items():
                patched.setenv(name, value)
            assert action.main(core, os.environ) == 0
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    written = {kind: path.read_bytes() for kind, path in windows_files.items()}
    for kind in ("OUTPUT", "ENV"):
        data = written[kind]
        assert b"\r\r" not in data and data.count(b"\n") == data.count(b"\r\n"), kind
    outputs = _windows_file_command(written["OUTPUT"].decode())
    assert outputs["bearer"] == TOKEN and outputs["sealed-bearer"].startswith("v2.")
    assert _windows_file_command(written["ENV"].decode()) == {"TWITTER_BEARER_TOKEN": TOKEN}
    assert written["STEP_SUMMARY"].startswith(b"### X bearer token")


def _windows_file_command(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as Windows' runner reads it: lines end at CRLF (or LF), and a
    heredoc's value is the lines between, so a stray CR would stay in the value."""
    lines = text.replace("\r\n", "\n").split("\n")
    values, i = {}, 0
    while i < len(lines) - 1:
        name, delimiter = lines[i].split("<<")
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        assert "\r" not in values[name], name
        i = end + 1
    return values


def test_the_pinned_ca_copy_is_closed_before_the_revocation_reads_it(tmp_path: Path) -> None:
    """Windows cannot open a file that is open: the CA bytes the post step (and the
    companion) trust are a copy, closed before requests reads it, and removed after."""
    import trustme

    from xbearer import action, config

    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    inputs = config.Inputs({"api-url": "https://127.0.0.1:1", "ca-bundle": "ca.pem"})
    common = config.load(inputs, invalidate=True, workspace=str(tmp_path), environ={})
    seen: list[str] = []

    def revoker(token: str, endpoint: Any) -> str:
        pinned = endpoint.ca_bundle
        assert pinned != str(bundle) and Path(pinned).read_bytes() == bundle.read_bytes()
        fds = Path("/proc/self/fd")
        assert all(os.path.realpath(fds / fd) != os.path.realpath(pinned) for fd in os.listdir(fds))
        seen.append(pinned)
        return "Revoked."

    assert action.revoke(revoker, TOKEN, common) == "Revoked."
    (pinned,) = seen
    assert not Path(pinned).exists()


def _companion_here(inputs: dict[str, str]) -> list[tuple[str, str]]:
    """The companion's function in this process (a recording core): the workflow
    commands it issued, for the cases that differ only in an input's value."""
    from recording_core import RecordingCore

    from xbearer import native

    core = RecordingCore(inputs, {}, ghrunner.FILE_COMMANDS)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert native.invalidate(core, ghrunner.host_env()) == 0
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return ghrunner.commands("\n".join(core.log))


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({"sealed-bearer": "v2.x", "passphrase": PASS}, "Give bearer or sealed-bearer"),
        (
            {"client-id": CLIENT_ID, "access-token": "a" * 20, "access-token-secret": "b" * 20},
            "access-token and access-token-secret are only used",
        ),
        ({"client-id": CLIENT_ID, "api-key": API_KEY}, "or client-id (a user token) to revoke"),
        ({"api-key": API_KEY, "api-secret": API_SECRET, "api-url": "http://x.example"}, "https"),
    ],
)
def test_the_companion_refuses_what_does_not_go_together_as_a_warning(
    api: Api, extra: dict[str, str], refused: str
) -> None:
    found = _companion_here({"bearer": TOKEN, "api-url": api.url, **extra})
    warnings = [data for kind, data in found if kind == "warning"]
    assert len(warnings) == 1 and refused in warnings[0], warnings
    assert ("error", "") not in found and api.fake.requests == []
    assert ("add-mask", TOKEN) in found


def test_the_companion_unseals_in_a_later_job_and_checks_what_it_holds(api: Api) -> None:
    from xbearer.sealing import seal

    sealed = {"sealed-bearer": seal(TOKEN, PASS, "app"), "passphrase": PASS, "api-url": api.url}
    user = _companion_here({**sealed, "client-id": CLIENT_ID})  # an app-only token
    (warning,) = [data for kind, data in user if kind == "warning"]
    assert "holds an app-only token, which client-id cannot revoke" in warning
    found = _companion_here({**sealed, "api-key": API_KEY, "api-secret": API_SECRET})
    assert [kind for kind, _ in found if kind in ("warning", "error")] == []
    assert ("add-mask", TOKEN) in found and TOKEN in api.fake.revoked


def test_a_tool_cache_that_cannot_be_written_fails_in_one_line(
    api: Api, wheels: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "toolcache"
    blocked.write_text("a file, not a folder")
    result = ghrunner.run_composite(NATIVE, api.inputs(), env=_job_env(wheels, blocked))
    assert result.rc == 1
    (line,) = result.log.splitlines()
    assert line.startswith("::error::Could not make a folder for the action's packages in ")
    assert line.endswith(
        "RUNNER_TOOL_CACHE (else RUNNER_TEMP) must be writable. Nothing was output."
    )
