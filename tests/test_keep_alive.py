"""examples/keep-alive.yml: a weekly refresh that stores the rotated token, its step run
as written against the fake X API and the fake GitHub, and the summary it leaves."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from conftest import Api, GitHub

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "keep-alive.yml"
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _workflow() -> dict:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true
    return doc


def test_the_keep_alive_runs_weekly_one_run_at_a_time_with_the_posting_workflows_group() -> None:
    workflow = _workflow()
    (schedule,) = workflow["on"]["schedule"]
    *_, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), schedule  # once a week
    assert "workflow_dispatch" in workflow["on"]  # a first run by hand, to check the set-up
    (job,) = workflow["jobs"].values()
    posting = yaml.safe_load((EXAMPLE.parent / "post-as-account.yml").read_text())
    (post,) = posting["jobs"].values()
    assert job["concurrency"] == post["concurrency"]
    (step,) = job["steps"]  # the refresh is the whole job: nothing uses the token
    assert step["uses"].startswith("OWNER/REPO@")


def test_the_keep_alive_step_as_written_rotates_and_its_summary_says_when(
    run, api: Api, github: GitHub
) -> None:
    (job,) = _workflow()["jobs"].values()
    given = job["steps"][0]["with"]
    fake = api.user_inputs(github, passphrase="p" * 16)
    assert set(given) <= set(fake), set(given) - set(fake)
    old = fake["refresh-token"]
    before = datetime.now(UTC).replace(microsecond=0)
    result = run({name: fake[name] for name in (*given, "api-url", "timeout")})
    after = datetime.now(UTC)
    assert result.rc == 0, result.log
    assert github.fake.secret("X_REFRESH_TOKEN") not in (None, old)
    rotated = re.search(
        r"Stored the rotated refresh token in the secret X_REFRESH_TOKEN [^.]*at (\S+)\.$",
        result.summary,
        re.M,
    )
    assert rotated, result.summary
    assert before <= datetime.strptime(rotated[1], STAMP).replace(tzinfo=UTC) <= after
    expires = result.outputs["expires-at"]
    assert f"valid for 7200 s (until {expires})" in result.summary
