"""The command line: same request, its own words, key and secret never from argv."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Api
from fake_x import API_KEY, API_SECRET, TOKEN
from ghrunner import ROOT, host_env

# Words that belong to GitHub Actions, not to a terminal.
ACTIONS_WORDS = re.compile(
    r"(?<![-\w])(api-key|api-secret|api-url|ca-bundle)|repository secret|re-run the job|runner"
    r"|workspace|Dependabot|fork"
)


def _cli(
    *args: str, key: str = API_KEY, secret: str = API_SECRET
) -> subprocess.CompletedProcess[str]:
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src"), "X_API_KEY": key, "X_API_SECRET": secret}
    return subprocess.run(
        [sys.executable, "-m", "xbearer", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_prints_the_token_only(api: Api) -> None:
    result = _cli("--api-url", api.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"
    assert result.stderr == ""


def test_json(api: Api) -> None:
    result = _cli("--api-url", api.url, "--json")
    assert json.loads(result.stdout) == {"token_type": "bearer", "access_token": TOKEN}


def test_errors_go_to_stderr_in_the_clis_words_without_secrets(api: Api) -> None:
    result = _cli("--api-url", api.url, "--retries", "0", secret="wrong-secret")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "xbearer: error: Token request failed after 1 attempt(s): HTTP 403, code 99"
    )
    assert "check that X_API_KEY/X_API_SECRET hold the app's API key and secret" in result.stderr
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr
    assert "wrong-secret" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "key", "expected"),
    [
        (
            [],
            "",
            "X_API_KEY is empty: set X_API_KEY and X_API_SECRET in the environment, or run "
            "xbearer in a terminal to be asked for them.",
        ),
        (["--timeout", "0"], API_KEY, "--timeout must be a number of seconds above 0"),
        (["--retries", "x"], API_KEY, "--retries must be a whole number"),
        (
            ["--ca-bundle", "nope.pem"],
            API_KEY,
            "--ca-bundle 'nope.pem': no such file in the current directory.",
        ),
        (["--api-url", "http://example.com"], API_KEY, "--api-url must use https://"),
    ],
    ids=["no key", "timeout", "retries", "ca-bundle", "api-url"],
)
def test_bad_input_is_told_in_the_clis_words(api: Api, args, key, expected) -> None:
    result = _cli("--api-url", api.url, *args, key=key)
    assert result.returncode == 1
    assert result.stderr.startswith(f"xbearer: error: {expected}")
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr
    assert api.fake.requests == []


def test_network_errors_are_told_in_the_clis_words(api: Api) -> None:
    api.server.shutdown()
    api.server.server_close()
    result = _cli("--api-url", api.url, "--retries", "0")
    assert result.returncode == 1
    assert "Could not connect to" in result.stderr
    assert "check --api-url and this machine's network" in result.stderr
    assert not ACTIONS_WORDS.search(result.stderr), result.stderr


def test_the_prompt_asks_for_key_and_secret_without_echo(api: Api) -> None:
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src")}
    env.pop("X_API_KEY", None)
    env.pop("X_API_SECRET", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child, on a real terminal
        argv = [sys.executable, "-m", "xbearer", "--api-url", api.url]
        os.execve(sys.executable, argv, env)  # noqa: S606 - no shell: the terminal's child
    screen = b""
    for answer, prompt in (
        (API_KEY, b"API key (or set X_API_KEY): "),
        (API_SECRET, b"API secret key (or set X_API_SECRET): "),
    ):
        deadline = time.monotonic() + 30
        while prompt not in screen and time.monotonic() < deadline:
            screen += os.read(fd, 1024)
        assert prompt in screen, screen
        os.write(fd, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert TOKEN.encode() in screen
    assert API_KEY.encode() not in screen and API_SECRET.encode() not in screen  # no echo


def test_help_shows_the_variables_and_defaults_and_no_secret_option() -> None:
    help_text = " ".join(_cli("--help").stdout.split())
    assert help_text.startswith("usage: xbearer ")
    assert "$X_API_KEY" in help_text and "$X_API_SECRET" in help_text
    assert "(default: https://api.twitter.com)" in help_text
    assert "(default: 10)" in help_text and "(default: 3)" in help_text
    refused = _cli("--api-key", API_KEY)
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr


def test_the_console_script_is_installed(api: Api) -> None:
    script = Path(sys.executable).parent / "xbearer"
    env = {**host_env(), "X_API_KEY": API_KEY, "X_API_SECRET": API_SECRET}
    result = subprocess.run(
        [str(script), "--api-url", api.url], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"


def test_pip_install_brings_requests_and_nothing_of_the_actions_glue(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert names == {"xbearer", "requests", "urllib3", "idna", "charset-normalizer", "certifi"}


def test_the_cli_loads_none_of_the_actions_glue() -> None:
    code = "import sys, xbearer.cli; print(sorted(m.split('.')[0] for m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        env={**host_env(), "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for package in ("actions_toolkit", "nacl", "oauthlib", "requests_oauthlib", "github"):
        assert f"'{package}'" not in loaded


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--api-url", "https://.example.com"], "--api-url must be an https:// URL such as"),
        (["--api-url", "https://api.twitter.com/oauth2/token"], "use https://api.twitter.com,"),
    ],
    ids=["empty label", "a path"],
)
def test_a_bad_url_is_an_error_not_a_traceback(args, expected) -> None:
    result = _cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("xbearer: error: ") and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_during_the_request_stops_without_a_traceback(api: Api) -> None:
    api.fake.faults = ["slow:30"]
    env = {**host_env(), "PYTHONPATH": str(ROOT / "src"), "X_API_KEY": API_KEY}
    env["X_API_SECRET"] = API_SECRET
    with subprocess.Popen(
        [sys.executable, "-m", "xbearer", "--api-url", api.url, "--timeout", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        deadline = time.monotonic() + 30
        while not api.fake.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert out == "" and err.strip() == "xbearer: cancelled."
