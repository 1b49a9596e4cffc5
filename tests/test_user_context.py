"""User-context mode: refresh at X, the rotated refresh token stored back into the
repository secret before anything is output, and never lost.

Runs go through the runner emulation against the fake X API (OAuth 2.0 side) and the
fake GitHub REST API, which opens what is stored with a real Curve25519 key pair.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests

from xbearer.sealing import unseal

import ghrunner
from conftest import Api, GitHub, lower_case_sentences
from fakes.x_oauth2 import CLIENT_ID, PUBLIC_CLIENT_ID, TOKEN

PASS = "correct horse battery staple"
NAME = "X_REFRESH_TOKEN"
NOTHING = {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


def test_expires_at_is_when_the_access_token_expires_from_x_expires_in(
    run, api: Api, github: GitHub
) -> None:
    api.fake.oauth2.access_lifetime = 5400  # not the usual 7200: computed, not assumed
    before = datetime.now(UTC).replace(microsecond=0)
    result = run(api.user_inputs(github))
    after = datetime.now(UTC)
    assert result.rc == 0, result.log
    value = result.outputs["expires-at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value), value
    moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(seconds=5400) <= moment <= after + timedelta(seconds=5400)
    assert result.outputs["expires-in"] == "5400"


def _me(api: Api, bearer: str) -> int:
    headers = {"Authorization": f"Bearer {bearer}"}
    return requests.get(f"{api.url}/2/users/me", headers=headers, timeout=5).status_code


def _paths(api: Api, github: GitHub) -> list[str]:
    """Every request to either fake, in the order they arrived."""
    seen = [(r.at, f"{r.method} {r.path.split('?')[0]}") for r in api.fake.requests]
    seen += [(r.at, f"{r.method} {r.path}") for r in github.fake.requests]
    return [path for _, path in sorted(seen)]


def test_a_refresh_stores_the_rotated_token_before_it_outputs(run, api: Api, github: GitHub):
    inputs = api.user_inputs(github)
    old = inputs["refresh-token"]
    result = run(inputs)
    assert result.rc == 0, result.log
    new = github.fake.secret(NAME)
    assert new and new != old
    assert api.fake.oauth2.valid_refresh_tokens() == [new]  # the old one is used up
    # Set by its owner, then rotated: the write check used a companion secret, so a
    # stale run can never put a used token back (it is deleted again).
    assert github.fake.history(NAME) == [old, new]
    secrets = "/repos/owner/repo/actions/secrets"
    paths = _paths(api, github)
    companion = paths[1].rpartition("/")[2]
    assert re.fullmatch(f"{NAME}_WRITE_CHECK_[0-9A-F]{{12}}", companion), companion
    assert github.fake.secret(companion) is None
    assert paths == [
        f"GET {secrets}/public-key",
        f"PUT {secrets}/{companion}",
        f"DELETE {secrets}/{companion}",
        f"POST {TOKEN}",
        f"PUT {secrets}/{NAME}",
    ]
    assert f"with the companion secret {companion}, written and deleted" in result.summary
    outputs = result.outputs
    assert set(outputs) == {"bearer", "token-type", "expires-in", "expires-at", "scope"}
    assert outputs["token-type"] == "bearer" and outputs["expires-in"] == "7200"
    assert outputs["scope"] == "tweet.read tweet.write users.read offline.access"
    assert _me(api, outputs["bearer"]) == 200
    masks = ghrunner.mask_values(result.log)
    assert {outputs["bearer"], new, old, inputs["client-secret"], inputs["github-token"]} <= masks
    assert "Stored the rotated refresh token in the secret X_REFRESH_TOKEN" in result.summary
    (request,) = api.fake.oauth2.token_requests()
    form = parse_qs(request.body.decode())
    assert form == {
        "refresh_token": [old],
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
    }
    assert request.headers["Authorization"].startswith("Basic ")


def test_two_consecutive_runs_each_get_a_working_token(run, api: Api, github: GitHub) -> None:
    first_inputs = api.user_inputs(github)
    first = run(first_inputs)
    assert first.rc == 0, first.log
    # The next run gets the secret as the first run left it.
    second = run({**first_inputs, "refresh-token": github.fake.secret(NAME)})
    assert second.rc == 0, second.log
    assert second.outputs["bearer"] != first.outputs["bearer"]
    assert _me(api, first.outputs["bearer"]) == 200
    assert _me(api, second.outputs["bearer"]) == 200
    assert len(set(github.fake.history(NAME))) == 3


def test_a_public_client_sends_its_id_in_the_body_and_no_basic_auth(run, api: Api, github) -> None:
    inputs = api.user_inputs(github, client_secret="")
    inputs["refresh-token"] = api.fake.oauth2.issue_refresh_token(PUBLIC_CLIENT_ID)
    inputs["client-id"] = PUBLIC_CLIENT_ID
    result = run(inputs)
    assert result.rc == 0, result.log
    (request,) = api.fake.oauth2.token_requests()
    assert "Authorization" not in request.headers
    assert parse_qs(request.body.decode())["client_id"] == [PUBLIC_CLIENT_ID]


def test_an_environment_secret(run, api: Api, github: GitHub) -> None:
    result = run(api.user_inputs(github, secret_environment="production"))
    assert result.rc == 0, result.log
    assert github.fake.secret(NAME, "production") in api.fake.oauth2.valid_refresh_tokens()
    assert "environments/production/secrets/public-key" in github.fake.requests[0].path


BAD_INPUTS = [
    ("with api-key", {"api-key": "k" * 20}, "not both: one source of the token per step"),
    ("no client-id", {"client-id": ""}, "client-id is empty: give the app's OAuth 2.0 Client ID"),
    ("no refresh-token", {"refresh-token": ""}, "forks or by Dependabot"),
    ("no secret name", {"refresh-token-secret-name": ""}, "refresh-token-secret-name is empty"),
    ("bad secret name", {"refresh-token-secret-name": "X-TOKEN"}, "must be a secret name"),
    ("GITHUB_ name", {"refresh-token-secret-name": "GITHUB_X"}, "not starting with a digit or"),
    ("no github-token", {"github-token": ""}, '"Secrets: read and write"'),
    (
        "passphrase with invalidate",
        {"passphrase": PASS, "invalidate": "true"},
        "Revoke in the last job instead: give it sealed-bearer, passphrase, client-id",
    ),
    ("newline in refresh-token", {"refresh-token": "a\nb"}, "contains a control character"),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_refused_before_any_request(run, api: Api, github: GitHub, changes, expected):
    inputs = {**api.user_inputs(github), **changes}
    result = run(inputs)
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert expected in error
    assert lower_case_sentences(error) == [], error
    assert api.fake.requests == [] and github.fake.requests == []
    assert result.files == NOTHING


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_API_URL": ""}, "GITHUB_API_URL is not set"),
        ({"GITHUB_REPOSITORY": "no-slash"}, "GITHUB_REPOSITORY must be OWNER/REPO"),
        ({"GITHUB_API_URL": "http://github.example"}, "only for a loopback host"),
    ],
    ids=["no API URL", "bad repository", "plain http"],
)
def test_the_runners_variables_are_checked(run, api: Api, github: GitHub, env, expected) -> None:
    result = run(api.user_inputs(github), env=env)
    assert result.rc == 1
    assert expected in result.annotations("error")[0]
    assert api.fake.requests == [] and github.fake.requests == []


@pytest.mark.parametrize(
    ("kind", "env", "said"),
    [
        ("unknown", {}, "(HTTP 401: Bad credentials)"),
        ("read", {}, "(HTTP 403: Resource not accessible by personal access token)"),
        ("github_token", {}, "(HTTP 403: Resource not accessible by integration)"),
        ("write", {"GITHUB_REPOSITORY": "owner/other"}, "(HTTP 404: Not Found)"),
    ],
    ids=["bad token", "read-only", "GITHUB_TOKEN", "wrong repository"],
)
def test_github_refusals_fail_before_x_with_the_refresh_token_untouched(
    run, api: Api, github: GitHub, kind, env, said
) -> None:
    inputs = api.user_inputs(github)
    token = github.fake.add_token(kind) if kind != "unknown" else "github_pat_" + "x" * 82
    result = run({**inputs, "github-token": token}, env=env)
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert said in error
    assert ("is wrong, expired or revoked: renew it" in error) == (kind == "unknown")
    assert 'needs the repository permission "Secrets: read and write"' in error
    assert "The job's GITHUB_TOKEN can never write secrets." in error
    assert api.fake.requests == []  # X never asked: the refresh token is as it was
    assert api.fake.oauth2.valid_refresh_tokens() == [inputs["refresh-token"]]
    assert github.fake.secret(NAME) == inputs["refresh-token"]
    assert result.files == NOTHING


def test_an_unknown_environment_is_refused_before_x(run, api: Api, github: GitHub) -> None:
    result = run(api.user_inputs(github, secret_environment="staging"))
    (error,) = result.annotations("error")
    assert "(HTTP 404: Not Found)" in error and "environment staging exists" in error
    assert api.fake.requests == []


def test_githubs_5xx_is_retried(run, api: Api, github: GitHub) -> None:
    github.fake.faults["public-key"] = ["status:502"]
    github.fake.faults["put"] = ["status:503", "ok", "status:500"]
    result = run(api.user_inputs(github))
    assert result.rc == 0, result.log
    assert len(github.fake.put_requests()) == 4
    assert github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()


def test_a_used_refresh_token_names_concurrency(run, api: Api, github: GitHub) -> None:
    inputs = api.user_inputs(github)
    assert run(inputs).rc == 0
    again = run(inputs)  # the refresh token of the first run, which rotated it
    assert again.rc == 1
    (error,) = again.annotations("error")
    assert "HTTP 400: invalid_request: Value passed for the token was invalid." in error
    assert "give the job a concurrency: group" in error
    assert again.files == NOTHING


def test_two_runs_at_once_one_wins_and_the_other_names_concurrency(
    run, api: Api, github: GitHub
) -> None:
    inputs = api.user_inputs(github)
    results: list[ghrunner.Run] = []
    threads = [threading.Thread(target=lambda: results.append(run(inputs))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.rc for r in results) == [0, 1]
    (loser,) = [r for r in results if r.rc == 1]
    assert "concurrency: group" in loser.annotations("error")[0]


def test_a_wrong_client_secret(run, api: Api, github: GitHub) -> None:
    inputs = api.user_inputs(github, client_secret="W" * 50)
    result = run(inputs)
    (error,) = result.annotations("error")
    assert "HTTP 401: unauthorized_client" in error
    assert "check client-id and client-secret" in error and "refresh-token was not used" in error
    assert api.fake.oauth2.valid_refresh_tokens() == [inputs["refresh-token"]]


def test_xs_5xx_is_retried_because_x_did_not_rotate(run, api: Api, github: GitHub) -> None:
    api.fake.oauth2.faults = ["status:503", "retry-after:0"]
    result = run(api.user_inputs(github))
    assert result.rc == 0, result.log
    assert len(api.fake.oauth2.token_requests()) == 3


def test_xs_5xx_to_the_end_says_the_refresh_token_was_not_used(run, api: Api, github) -> None:
    api.fake.oauth2.faults = ["status:503"] * 2
    inputs = api.user_inputs(github, retries="1")
    result = run(inputs)
    (error,) = result.annotations("error")
    assert "HTTP 503" in error and "so refresh-token was not used" in error
    assert "non-JSON body" not in error  # X's problem+json is read: its title and detail
    assert api.fake.oauth2.valid_refresh_tokens() == [inputs["refresh-token"]]


@pytest.mark.parametrize("fault", ["lost-answer", "slow:5"])
def test_a_lost_answer_is_never_retried_and_says_so(run, api: Api, github, fault) -> None:
    api.fake.oauth2.faults = [fault]
    result = run(api.user_inputs(github, timeout="2"))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "The refresh may have reached X, which then rotated refresh-token" in error
    assert len(api.fake.oauth2.token_requests()) == 1  # never sent twice
    assert result.files == NOTHING


def test_a_refresh_that_never_connected_says_it_was_not_used(run, api: Api, github) -> None:
    api.server.shutdown()
    api.server.server_close()
    result = run(api.user_inputs(github, retries="0"))
    (error,) = result.annotations("error")
    assert "Could not connect" in error and "refresh-token was not used." in error


def test_storing_fails_after_x_rotated_without_a_passphrase(run, api: Api, github) -> None:
    github.fake.faults["put"] = ["ok", "status:401"]
    result = run(api.user_inputs(github))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert error.startswith("X rotated the refresh token, but storing the new one failed:")
    assert "The new refresh token is lost: authorize the account again" in error
    # The command to run, whole: the client, the scopes granted, where the secret is.
    scopes = "'tweet.read tweet.write users.read offline.access'"
    assert (
        f"(`xbearer authorize --client-id {CLIENT_ID} --scope {scopes} --secret {NAME} "
        "--repo owner/repo`)" in error
    )
    assert result.files == NOTHING


def test_storing_fails_after_x_rotated_with_a_passphrase_shows_it_sealed(
    run, api: Api, github: GitHub
) -> None:
    github.fake.faults["put"] = ["ok", "status:500", "status:500", "status:500"]
    inputs = api.user_inputs(github, passphrase=PASS, retries="2")
    result = run(inputs)
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "Here it is, sealed with passphrase: v2." in error
    assert "`xbearer unseal`" in error and f"gh secret set {NAME} --repo owner/repo" in error
    sealed = error.split("sealed with passphrase: ", 1)[1].split(" ", 1)[0]
    rescued = unseal(sealed, PASS)
    assert api.fake.oauth2.valid_refresh_tokens() == [rescued]  # the one X holds
    # Stored by hand, the next run works with it.
    github.fake.set_secret(NAME, rescued)
    again = run({**inputs, "refresh-token": rescued})
    assert again.rc == 0, again.log
    assert result.files == NOTHING


def test_seal_for_later_jobs_then_the_last_job_revokes(run, api: Api, github: GitHub) -> None:
    mint = run(api.user_inputs(github, passphrase=PASS))
    assert mint.rc == 0, mint.log
    bearer, sealed = mint.outputs["bearer"], mint.outputs["sealed-bearer"]
    later = {"sealed-bearer": sealed, "passphrase": PASS}
    assert run(later).outputs["bearer"] == bearer
    last_inputs = {
        **later,
        "client-id": CLIENT_ID,
        "client-secret": mint.inputs["client-secret"],
        "invalidate": "true",
        "api-url": api.url,
    }
    last = run(last_inputs)
    assert last.rc == 0, last.log
    assert _me(api, bearer) == 200
    post = run(last_inputs, post=True, state=last.state)
    assert post.rc == 0 and post.annotations("warning") == [], post.log
    assert f"Revoked the user access token at {api.host}" in post.log
    (revocation,) = api.fake.oauth2.revoke_requests()
    assert parse_qs(revocation.body.decode())["token_type_hint"] == ["access_token"]
    assert _me(api, bearer) == 401


def test_invalidate_in_the_same_job(run, api: Api, github: GitHub) -> None:
    inputs = api.user_inputs(github, invalidate="true")
    main = run(inputs)
    assert main.rc == 0, main.log
    post = run(inputs, post=True, state=main.state)
    assert "Revoked the user access token" in post.log, post.log
    assert _me(api, main.outputs["bearer"]) == 401


def test_a_github_timeout_before_x_fails_with_the_refresh_token_untouched(run, api, github):
    github.fake.faults["public-key"] = ["slow:3", "slow:3"]
    inputs = api.user_inputs(github, timeout="1", retries="1")
    result = run(inputs)
    (error,) = result.annotations("error")
    assert f"{github.url.split('://')[1]} sent nothing for 1 s (2 attempts)" in error
    assert api.fake.requests == []
    assert api.fake.oauth2.valid_refresh_tokens() == [inputs["refresh-token"]]


@pytest.mark.parametrize("fault", ["slow:3", "lost-answer", "lost-answer:502"])
def test_storing_after_rotation_survives_a_timeout_or_a_lost_answer(run, api, github, fault):
    # Storing a secret is idempotent: a PUT whose answer never came is sent again.
    github.fake.faults["put"] = ["ok", fault]
    result = run(api.user_inputs(github, timeout="1", retries="1"))
    assert result.rc == 0, result.log
    assert github.fake.secret(NAME) == api.fake.oauth2.valid_refresh_tokens()[0]
    assert len(github.fake.put_requests()) == 3


def test_a_github_timeout_after_rotation_to_the_end_is_rescued(run, api, github) -> None:
    github.fake.faults["put"] = ["ok", "slow:3", "slow:3"]
    result = run(api.user_inputs(github, timeout="1", retries="1", passphrase=PASS))
    (error,) = result.annotations("error")
    assert "X rotated the refresh token, but storing the new one failed" in error
    sealed = error.split("sealed with passphrase: ", 1)[1].split(" ", 1)[0]
    assert api.fake.oauth2.valid_refresh_tokens() == [unseal(sealed, PASS)]


# X's answer may hold a refresh token whose percent-decoded form breaks a line.
ODD_REFRESH = "AAAAAAAAAAAAAAAAAAAA%0Ae"


def test_a_refresh_token_with_an_encoded_line_break_is_masked_whole_and_stored_as_sent(
    run, api: Api, github: GitHub
) -> None:
    inputs = api.user_inputs(github)
    api.fake.oauth2.refresh_values.append(ODD_REFRESH)
    result = run(inputs)
    assert result.rc == 0, result.log
    assert github.fake.secret(NAME) == ODD_REFRESH  # X's bytes, not decoded or trimmed
    masks = ghrunner.mask_values(result.log)
    assert ODD_REFRESH in masks
    assert not [m for m in masks if len(m) < 8], masks
    shown = "\n".join(ghrunner.shown(result.log, inputs))
    assert "Stored the rotated refresh token in the secret X_REFRESH_TOKEN" in shown


def test_a_sealed_rescue_of_such_a_refresh_token_shows_intact_and_unseals_to_xs_bytes(
    run, api: Api, github: GitHub
) -> None:
    github.fake.faults["put"] = ["ok", "status:500", "status:500", "status:500"]
    inputs = api.user_inputs(github, passphrase=PASS, retries="2")
    api.fake.oauth2.refresh_values.append(ODD_REFRESH)
    result = run(inputs)
    assert result.rc == 1
    assert not [m for m in ghrunner.mask_values(result.log) if len(m) < 8]
    (error,) = [line for line in ghrunner.shown(result.log, inputs) if "sealed with" in line]
    sealed = error.split("sealed with passphrase: ", 1)[1].split(" ", 1)[0]
    assert "***" not in sealed
    assert unseal(sealed, PASS) == ODD_REFRESH


def _companions(github: GitHub) -> list[str]:
    """The companion secrets the write checks wrote, in order."""
    return [
        r.path.rpartition("/")[2]
        for r in github.fake.requests
        if r.method == "PUT" and "_WRITE_CHECK_" in r.path
    ]


def test_the_write_check_never_touches_a_secret_of_the_users(run, api: Api, github: GitHub) -> None:
    github.fake.set_secret(f"{NAME}_WRITE_CHECK", "the user's own")
    first = run(api.user_inputs(github))
    second = run(api.user_inputs(github))
    assert first.rc == 0 and second.rc == 0, first.log + second.log
    assert github.fake.history(f"{NAME}_WRITE_CHECK") == ["the user's own"]
    one, two = _companions(github)
    assert one != two  # new to each run
    touched = {r.path.rpartition("/")[2] for r in github.fake.requests if r.method != "GET"}
    assert touched == {NAME, one, two}


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("status:403", "GitHub answered HTTP 403"),
        ("status:500", "GitHub answered HTTP 500"),
        ("reset", "connection"),
    ],
    ids=["refused", "server error", "connection broken"],
)
def test_a_companion_that_cannot_be_deleted_is_a_warning_and_the_run_goes_on(
    run, api: Api, github: GitHub, fault: str, said: str
) -> None:
    github.fake.faults["delete"] = [fault] * 4
    result = run(api.user_inputs(github, retries="0"))
    assert result.rc == 0, result.log
    (companion,) = _companions(github)
    (warning,) = result.annotations("warning")
    assert f"companion secret {companion} of owner/repo could not be deleted" in warning
    assert said in warning and "The write check passed." in warning
    assert github.fake.secret(companion) == "write check by xbearer"
    assert f"{companion}, written but not deleted" in result.summary
    assert "written and deleted" not in result.log + result.summary
    assert github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()
    assert "bearer" in result.outputs


def test_a_refused_companion_write_names_the_companion_not_the_refresh_tokens_secret(
    run, api: Api, github: GitHub
) -> None:
    inputs = api.user_inputs(github)
    github.fake.faults["put"] = ["status:403"]
    result = run(inputs)
    assert result.rc == 1
    (error,) = result.annotations("error")
    (companion,) = _companions(github)
    assert error.startswith(
        f"GitHub refused to write the companion secret {companion} (the write check for the "
        f"secret {NAME} of owner/repo) (HTTP 403"
    ), error
    assert api.fake.requests == []  # X never asked
    assert github.fake.secret(NAME) == inputs["refresh-token"]


def test_github_enterprise_servers_api_path_is_kept(run, api: Api, github: GitHub) -> None:
    github.fake.prefix = "/api/v3"
    result = run(api.user_inputs(github), env={"GITHUB_API_URL": f"{github.url}/api/v3"})
    assert result.rc == 0, result.log
    assert github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()
    assert github.fake.requests
    assert all(r.path.startswith("/api/v3/repos/owner/repo/") for r in github.fake.requests)


@pytest.mark.parametrize(
    "fault",
    ["secondary:403:1", "secondary:429:1", "primary:403:1", "primary:429:1"],
    ids=["secondary 403", "secondary 429", "primary 403", "primary 429"],
)
def test_githubs_rate_limits_on_the_rotated_tokens_store_are_waited_out(
    run, api: Api, github: GitHub, fault: str
) -> None:
    github.fake.faults["put"] = ["ok", fault]  # the companion, then the rotated token
    started = time.monotonic()
    result = run(api.user_inputs(github))
    took = time.monotonic() - started
    assert result.rc == 0, result.log
    assert github.fake.secret(NAME) in api.fake.oauth2.valid_refresh_tokens()
    puts = [r for r in github.fake.requests if r.method == "PUT" and r.path.endswith(f"/{NAME}")]
    assert len(puts) == 2
    assert 0.5 <= took < 15  # waited as GitHub asked (about a second), not the backoff alone


def test_a_rate_limit_on_the_public_key_is_waited_out_too(run, api: Api, github: GitHub) -> None:
    github.fake.faults["public-key"] = ["secondary:403:1"]
    result = run(api.user_inputs(github))
    assert result.rc == 0, result.log


def test_a_secondary_limit_without_retry_after_waits_a_minute_so_beyond_the_budget_it_is_rescued(
    run, api: Api, github: GitHub
) -> None:
    github.fake.faults["put"] = ["ok", "secondary:403:"]
    started = time.monotonic()
    result = run(api.user_inputs(github, passphrase=PASS, retries="1"))  # a 24 s budget
    assert time.monotonic() - started < 30  # the minute did not fit: not waited
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "GitHub's secondary limit; GitHub asked to wait 60 s, more than is left" in error
    assert "needs the repository permission" not in error
    sealed = re.search(r"v2\.[A-Za-z0-9_-]+", error)
    assert sealed, error
    assert api.fake.oauth2.valid_refresh_tokens() == [unseal(sealed.group(0), PASS)]


def test_a_permission_refusal_403_is_still_final(run, api: Api, github: GitHub) -> None:
    github.fake.faults["put"] = ["ok", "status:403", "ok"]
    result = run(api.user_inputs(github, passphrase=PASS))
    assert result.rc == 1
    assert 'needs the repository permission "Secrets: read and write"' in result.log
    puts = [r for r in github.fake.requests if r.method == "PUT" and r.path.endswith(f"/{NAME}")]
    assert len(puts) == 1
