"""A real workflow runner for the native action: act runs tests/workflows/native.yml,
the sealed hand-off across two jobs with the companion revoking, and the user-context
mode storing the rotated refresh token through the fake GitHub. A file of its own, so
that its act run and test_workflow.py's take two workers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import ghrunner
from actrun import PASS, repo_copy, run_act
from conftest import BASE, Api, GitHub
from fakes import API_KEY, API_SECRET, TOKEN


def test_the_native_action_under_act_hands_off_revokes_and_rotates(
    api: Api, github: GitHub, tmp_path: Path
) -> None:
    """No image: act runs the native action's composite steps in the job's container,
    which installs the locked wheels from PyPI into the job's RUNNER_TEMP, once a job,
    as a runner does. Job 3 runs beside jobs 1 and 2, against the fake GitHub."""
    repo = repo_copy(tmp_path / "repo", lambda repo: None)
    origin = f"https://github.com/{github.fake.repository}"  # act's GITHUB_REPOSITORY
    subprocess.run(["git", "remote", "add", "origin", origin], cwd=repo, check=True)
    user = api.user_inputs(github)
    rc, log = run_act(
        repo,
        api,
        BASE,
        workflow="tests/workflows/native.yml",
        secrets={
            "X_CLIENT_SECRET": user["client-secret"],
            "X_REFRESH_TOKEN": user["refresh-token"],
            "X_SECRETS_TOKEN": user["github-token"],
        },
        variables={"X_CLIENT_ID": user["client-id"]},
        env={"GITHUB_API_URL": github.url},
    )
    assert rc == 0, log[-3000:]
    assert "bearer in the log: ***" in log and "GET /2/tweets: 200" in log
    assert "Revoked the bearer token at 127.0.0.1" in log and TOKEN in api.fake.revoked
    app = [r for r in api.fake.requests if not r.path.startswith(("/2/oauth2", "/2/users"))]
    assert [(r.method, r.path.split("?")[0]) for r in app] == [
        ("POST", "/oauth2/token"),  # job 1 only: job 2 unsealed
        ("GET", "/2/tweets"),
        ("POST", "/oauth2/invalidate_token"),  # the companion, signed with OAuth 1.0a
    ]
    assert app[2].headers["Authorization"].startswith("OAuth ")
    rotated = github.fake.secret("X_REFRESH_TOKEN")
    assert rotated not in (None, user["refresh-token"])
    assert api.fake.oauth2.valid_refresh_tokens() == [rotated]
    assert "user token for 7200 s, scopes tweet.read" in log
    secrets = ghrunner.secret_forms(
        {**user, **{"api-key": API_KEY, "api-secret": API_SECRET, "passphrase": PASS}},
        [TOKEN, *api.fake.oauth2.issued(), *github.fake.tokens],
    )
    ghrunner.assert_absent(log, secrets, "the act log")
