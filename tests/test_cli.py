"""The command line: same request, key and secret never from argv, token only on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import Api
from fake_x import API_KEY, API_SECRET, TOKEN
from ghrunner import ROOT


def _cli(
    *args: str, key: str = API_KEY, secret: str = API_SECRET
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "X_API_KEY": key, "X_API_SECRET": secret}
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


def test_errors_go_to_stderr_without_secrets(api: Api) -> None:
    result = _cli("--api-url", api.url, "--retries", "0", secret="wrong-secret")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: Token request failed after 1 attempt(s): HTTP 403, code 99"
    )
    assert "wrong-secret" not in result.stderr and "Traceback" not in result.stderr


def test_missing_key_without_a_terminal(api: Api) -> None:
    result = _cli("--api-url", api.url, key="")
    assert result.returncode == 1 and "api-key is empty" in result.stderr
    assert api.fake.requests == []


def test_help_names_the_variables_and_no_secret_option_exists() -> None:
    help_text = _cli("--help").stdout
    assert "$X_API_KEY" in help_text and "$X_API_SECRET" in help_text
    refused = _cli("--api-key", API_KEY)
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr
