"""The newcomer's demo: what it shows is what GitHub's Actions log would show."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import unquote

import ghrunner
from conftest import BASE
from fakes import API_KEY, API_SECRET, TOKEN
from ghrunner import ROOT, host_env


def test_the_demo_shows_masked_logs_the_hand_off_and_the_revocation(image: str) -> None:
    # As scripts/demo runs it: -S, no site-packages, so the demo runs on the standard
    # library alone (it installs nothing) and tests/, the fakes' import root.
    proc = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "demo.py"), BASE],
        env={**host_env(), "PYTHONPATH": str(ROOT / "tests")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "| Authorization: Bearer ***" in out  # a later step echoing the bearer
    assert "[debug, shown only with RUNNER_DEBUG=1] Mode: app-only token; X API at" in out
    assert "| Nothing to revoke" in out  # job 1's post step, before job 2 starts
    assert out.index("Job 1: mint") < out.index("Nothing to revoke") < out.index("Job 2: use")
    assert "| GET /2/tweets: 200" in out
    assert "| Revoked the bearer token" in out
    assert "| GET /2/tweets: 401" in out and '"code": 89' in out
    assert "The first run takes about a minute" in out
    # Not even the runner-internal files show a secret: the token by its length, the
    # sealed value shortened.
    assert f"      bearer = <token: {len(TOKEN)} characters>" in out
    assert re.search(r"      sealed-bearer = v2\.\S{7}…\S{6} \(sealed, \d+ characters\)", out)
    secrets = {"token": TOKEN, "decoded token": unquote(TOKEN), "key": API_KEY}
    ghrunner.assert_absent(out, {**secrets, "secret": API_SECRET}, "the demo's output")
