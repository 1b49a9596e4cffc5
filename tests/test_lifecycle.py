"""Later jobs and the job's life cycle: seal/unseal, export-env, summary, post-step revocation."""

from __future__ import annotations

from urllib.parse import unquote

import requests

import ghrunner
from conftest import Api
from fake_x import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, TOKEN

PASS = "correct horse battery staple"


def _masks(result: ghrunner.Run) -> set[str]:
    return {data for cmd, data in ghrunner.commands(result.log) if cmd == "add-mask"}


def test_seal_then_unseal_in_a_later_job(run, api: Api) -> None:
    minted = run(api.inputs(passphrase=PASS))
    assert minted.rc == 0, minted.log
    sealed = minted.outputs["sealed-bearer"]
    assert sealed.startswith("v1.")
    # The runner would drop a job output that contains any masked value.
    assert not any(mask in sealed for mask in _masks(minted))
    assert PASS in _masks(minted)
    requests_before = len(api.fake.requests)
    used = run({"sealed-bearer": sealed, "passphrase": PASS})
    assert used.rc == 0, used.log
    assert used.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    assert {TOKEN, unquote(TOKEN)} <= _masks(used)
    assert len(api.fake.requests) == requests_before  # no HTTP request to unseal
    assert "Unsealed the bearer token" in used.summary


def test_unseal_with_the_wrong_passphrase_fails_cleanly(run, api: Api) -> None:
    sealed = run(api.inputs(passphrase=PASS)).outputs["sealed-bearer"]
    result = run({"sealed-bearer": sealed, "passphrase": PASS + "?"})
    assert result.rc == 1
    assert "Wrong passphrase" in result.annotations("error")[0]
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}


def test_unseal_a_tampered_value_fails_cleanly(run, api: Api) -> None:
    sealed = run(api.inputs(passphrase=PASS)).outputs["sealed-bearer"]
    tampered = sealed[:40] + ("A" if sealed[40] != "A" else "B") + sealed[41:]
    result = run({"sealed-bearer": tampered, "passphrase": PASS})
    assert result.rc == 1
    assert "altered" in result.annotations("error")[0]
    assert result.outputs == {}


def test_export_env(run, api: Api) -> None:
    result = run(api.inputs(export_env="TWITTER_BEARER_TOKEN"))
    assert result.rc == 0, result.log
    assert result.env == {"TWITTER_BEARER_TOKEN": TOKEN}
    assert "Exported it to later steps as TWITTER_BEARER_TOKEN" in result.summary


def test_summary_says_what_was_done_and_holds_no_secret(run, api: Api) -> None:
    inputs = api.inputs(passphrase=PASS, invalidate="true")
    result = run(inputs)
    summary = result.summary
    assert "Obtained a bearer token from 127.0.0.1" in summary and "1 attempt(s)" in summary
    assert "Sealed it" in summary and "revoked at the end of the job" in summary
    for name, value in ghrunner.secret_forms(inputs, [TOKEN]).items():
        assert value not in summary, name


def _tweets(api: Api) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.get(f"{api.url}/2/tweets?ids=20", headers=headers, timeout=5).status_code


def test_invalidate_with_basic_auth_in_the_post_step(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true")
    main = run(inputs)
    assert main.state == {"token": TOKEN}
    assert _tweets(api) == 200
    post = run(inputs, post=True, state=main.state)
    assert post.rc == 0, post.log
    assert "Revoked the bearer token at 127.0.0.1" in post.log
    request = api.fake.requests[-1]
    assert request.path == "/oauth2/invalidate_token"
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.body.decode() == "access_token=" + TOKEN
    assert _tweets(api) == 401  # refused after revocation: code 89


def test_invalidate_signed_with_oauth1(run, api: Api) -> None:
    inputs = api.inputs(
        invalidate="true", access_token=ACCESS_TOKEN, access_token_secret=ACCESS_TOKEN_SECRET
    )
    main = run(inputs)
    post = run(inputs, post=True, state=main.state)
    assert post.rc == 0, post.log
    assert post.annotations("warning") == []
    request = api.fake.requests[-1]
    assert request.path == f"/oauth2/invalidate_token?access_token={TOKEN}"
    auth = request.headers["Authorization"]
    assert auth.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in auth
    assert _tweets(api) == 401


def test_a_bad_oauth1_signature_is_a_warning_naming_basic(run, api: Api) -> None:
    inputs = api.inputs(
        invalidate="true", access_token=ACCESS_TOKEN, access_token_secret="not-the-secret"
    )
    post = run(inputs, post=True, state=run(inputs).state)
    assert post.rc == 0
    (warning,) = post.annotations("warning")
    assert "HTTP 401, code 32" in warning and "X also accepts Basic auth" in warning
    assert _tweets(api) == 200


def test_an_unreachable_api_in_the_post_step_is_a_warning_naming_oauth1(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true", retries="0")
    state = run(inputs).state
    api.server.shutdown()
    api.server.server_close()
    post = run(inputs, post=True, state=state)
    assert post.rc == 0
    (warning,) = post.annotations("warning")
    assert "Could not revoke" in warning and "X also accepts OAuth 1.0a" in warning


def test_post_step_without_invalidate_does_nothing_and_says_so(run, api: Api) -> None:
    main = run(api.inputs())
    assert main.state == {}
    post = run(api.inputs(), post=True, state=main.state)
    assert post.rc == 0
    assert "Nothing to revoke: invalidate is off" in post.log
    assert len(api.fake.requests) == 1
