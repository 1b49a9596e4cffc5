"""The newcomer's demo: what it shows is what GitHub's Actions log would show."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import unquote

from conftest import BASE
from fake_x import API_KEY, API_SECRET, TOKEN
from ghrunner import ROOT, host_env


def test_the_demo_shows_masked_logs_the_hand_off_and_the_revocation(image: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), BASE],
        env=host_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "| Authorization: Bearer ***" in out  # a later step echoing the bearer
    assert "[debug, shown only with RUNNER_DEBUG=1] POST" in out
    assert "| Nothing to revoke" in out  # job 1's post step, before job 2 starts
    assert out.index("Job 1: mint") < out.index("Nothing to revoke") < out.index("Job 2: use")
    assert "| GET /2/tweets: 200" in out
    assert "| Revoked the bearer token" in out
    assert "| GET /2/tweets: 401" in out and '"code": 89' in out
    # The token shows only in the runner-internal files, never in a log line.
    for line in out.splitlines():
        if TOKEN in line or unquote(TOKEN) in line:
            assert line.startswith("      ") and " = " in line, line
        assert API_KEY not in line and API_SECRET not in line
