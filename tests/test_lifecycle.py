"""Later jobs and the job's life cycle: seal/unseal, export-env, summary, post-step revocation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

import ghrunner
from conftest import Api
from fakes import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, TOKEN

PASS = "correct horse battery staple"


def _masks(result: ghrunner.Run) -> set[str]:
    return {data for cmd, data in ghrunner.commands(result.log) if cmd == "add-mask"}


def test_seal_then_unseal_in_a_later_job(run, api: Api) -> None:
    minted = run(api.inputs(passphrase=PASS))
    assert minted.rc == 0, minted.log
    sealed = minted.outputs["sealed-bearer"]
    assert sealed.startswith("v2.")
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


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"passphrase": PASS}, "Sealed it"),
        ({"invalidate": "true"}, "revoked at the end of the job"),
    ],
)
def test_summary_says_what_was_done_and_holds_no_secret(run, api: Api, extra, said) -> None:
    inputs = api.inputs(**extra)
    result = run(inputs)
    summary = result.summary
    assert "Obtained a bearer token from 127.0.0.1" in summary and "1 attempt(s)" in summary
    assert said in summary
    ghrunner.assert_absent(summary, ghrunner.secret_forms(inputs, [TOKEN]), "the summary")


def _tweets(api: Api) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.get(f"{api.url}/2/tweets?ids=20", headers=headers, timeout=5).status_code


def test_invalidate_with_basic_auth_in_the_post_step(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true")
    main = run(inputs)
    assert main.state["token"] == TOKEN
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


OAUTH1 = {"access-token": ACCESS_TOKEN, "access-token-secret": ACCESS_TOKEN_SECRET}


@pytest.mark.parametrize("method", ["oauth1", "basic"])
def test_the_last_job_of_a_hand_off_revokes_in_githubs_order(run, api: Api, method) -> None:
    # GitHub: job 1 main, job 1 post, then job 2 (needs: job 1) main, job 2 post.
    mint_inputs = api.inputs(passphrase=PASS)
    mint = run(mint_inputs)
    assert mint.rc == 0, mint.log
    mint_post = run(mint_inputs, post=True, state=mint.state)
    assert "Nothing to revoke" in mint_post.log
    assert _tweets(api) == 200  # still alive for the later job
    last_inputs = {
        "sealed-bearer": mint.outputs["sealed-bearer"],
        "passphrase": PASS,
        "api-key": API_KEY,
        "api-secret": API_SECRET,
        "api-url": api.url,
        "invalidate": "true",
        **(OAUTH1 if method == "oauth1" else {}),
    }
    last = run(last_inputs)
    assert last.rc == 0, last.log
    assert last.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    assert last.state["token"] == TOKEN
    assert len(api.fake.token_requests()) == 1  # unsealed, not requested again
    assert _tweets(api) == 200
    last_post = run(last_inputs, post=True, state=last.state)
    assert last_post.rc == 0 and last_post.annotations("warning") == [], last_post.log
    assert "Revoked the bearer token" in last_post.log
    auth = api.fake.requests[-1].headers["Authorization"]
    assert auth.startswith("OAuth " if method == "oauth1" else "Basic ")
    assert _tweets(api) == 401


def _oauth_param(request, name: str) -> str:
    from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

    return dict(parse_authorization_header(request.headers["Authorization"]))[name]


def test_a_retried_revocation_is_signed_afresh(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true", **{k.replace("-", "_"): v for k, v in OAUTH1.items()})
    state = run(inputs).state
    api.fake.revoke_faults = ["status:503"]  # before X looked at it
    post = run(inputs, post=True, state=state)
    assert post.rc == 0 and post.annotations("warning") == [], post.log
    first, second = [r for r in api.fake.requests if r.path.startswith("/oauth2/invalidate")]
    for param in ("oauth_nonce", "oauth_signature"):
        assert _oauth_param(first, param) != _oauth_param(second, param)
    assert TOKEN in api.fake.revoked


def test_a_revocation_whose_answer_was_lost_is_not_a_false_warning(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true", **{k.replace("-", "_"): v for k, v in OAUTH1.items()})
    state = run(inputs).state
    api.fake.revoke_faults = ["lost-answer"]  # X revoked it, then the connection reset
    post = run(inputs, post=True, state=state)
    assert post.rc == 0 and post.annotations("warning") == [], post.log
    assert "Revoked the bearer token" in post.log and "answer was lost" in post.log
    assert _tweets(api) == 401


def test_an_already_revoked_token_on_the_first_attempt_is_a_warning(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true")
    state = run(inputs).state
    api.fake.revoked.add(TOKEN)
    post = run(inputs, post=True, state=state)
    assert post.rc == 0
    (warning,) = post.annotations("warning")
    assert "HTTP 401, code 89" in warning


def test_an_unprintable_refusal_in_the_post_step_is_still_a_warning(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true")
    state = run(inputs).state
    message = "Could not \ud800 authenticate \u202e you"
    body = json.dumps({"errors": [{"code": 32, "message": message}]}).encode()
    api.fake.custom = (401, {}, body)
    api.fake.revoke_faults = ["custom"]
    post = run(inputs, post=True, state=state)
    assert post.rc == 0 and "Traceback" not in post.log, post.log
    (warning,) = post.annotations("warning")
    assert "HTTP 401, code 32: Could not authenticate you" in warning


def test_a_failed_write_says_what_was_already_output(run, api: Api) -> None:
    result = run(api.inputs(export_env="TWITTER_BEARER_TOKEN"), missing=["ENV"])
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "Could not write the step's results" in error
    assert "Written before the failure: output bearer, output token-type." in error
    assert "Nothing was output" not in error and "nothing was output" not in error
    assert result.outputs == {"bearer": TOKEN, "token-type": "bearer"}


def _tls_run(api: Api, workspace: Path, inputs: dict[str, str], **kwargs) -> ghrunner.Run:
    result = ghrunner.run(inputs, workspace=workspace, **kwargs)
    ghrunner.assert_no_leak(result, [TOKEN], trust_runner=False)
    return result


def test_a_later_steps_proxy_and_ca_cannot_steer_the_revocation(tls_api: Api, tmp_path) -> None:
    # A later step appends HTTPS_PROXY and REQUESTS_CA_BUNDLE to GITHUB_ENV: the post
    # step would send the app's key and secret through a proxy that trusts its own CA.
    import trustme

    from fakes.proxy import ConnectProxy

    trustme.CA().cert_pem.write_to_path(str(tmp_path / "proxy-ca.pem"))
    inputs = tls_api.inputs(invalidate="true")
    main = _tls_run(tls_api, tmp_path, inputs, env={"REQUESTS_CA_BUNDLE": str(tmp_path / "ca.pem")})
    assert main.rc == 0, main.log
    with ConnectProxy() as proxy:
        later = {"REQUESTS_CA_BUNDLE": str(tmp_path / "proxy-ca.pem"), "HTTPS_PROXY": proxy.url}
        post = _tls_run(tls_api, tmp_path, inputs, post=True, state=main.state, env=later)
        assert proxy.seen == []  # not even a tunnel
    assert post.rc == 0, post.log
    (warning,) = post.annotations("warning")
    assert warning.startswith("Did not revoke the bearer token")
    assert "the proxy is now set (by HTTPS_PROXY)" in warning
    assert "the CA bundle changed (from REQUESTS_CA_BUNDLE)" in warning
    assert "The token may still be live" in warning
    assert [r.path for r in tls_api.fake.requests] == ["/oauth2/token"]


def test_a_ca_bundle_rewritten_after_the_main_step_is_not_trusted(tls_api: Api, tmp_path) -> None:
    import trustme

    inputs = tls_api.inputs(invalidate="true", ca_bundle="ca.pem")
    main = _tls_run(tls_api, tmp_path, inputs)
    assert main.rc == 0, main.log
    original = (tmp_path / "ca.pem").read_bytes()
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))  # same path, other CA
    post = _tls_run(tls_api, tmp_path, inputs, post=True, state=main.state)
    (warning,) = post.annotations("warning")
    assert "the CA bundle changed (from ca-bundle)" in warning
    assert TOKEN not in tls_api.fake.revoked
    # Put back, the route is the main step's again: revoked, trusting those same bytes.
    (tmp_path / "ca.pem").write_bytes(original)
    again = _tls_run(tls_api, tmp_path, inputs, post=True, state=main.state)
    assert again.annotations("warning") == [], again.log
    assert TOKEN in tls_api.fake.revoked


def test_the_same_proxy_in_both_steps_revokes_through_it(tls_api: Api, tmp_path) -> None:
    from fakes.proxy import ConnectProxy

    inputs = tls_api.inputs(invalidate="true", ca_bundle="ca.pem")
    with ConnectProxy() as proxy:
        env = {"HTTPS_PROXY": proxy.url, "NO_PROXY": ""}
        main = _tls_run(tls_api, tmp_path, inputs, env=env)
        post = _tls_run(tls_api, tmp_path, inputs, post=True, state=main.state, env=env)
        assert len(proxy.seen) == 2
    assert post.annotations("warning") == [], post.log
    assert TOKEN in tls_api.fake.revoked


def test_a_changed_api_url_or_a_missing_route_is_not_followed(run, api: Api) -> None:
    inputs = api.inputs(invalidate="true")
    state = run(inputs).state
    moved = run({**inputs, "api-url": "http://localhost:9"}, post=True, state=state)
    (warning,) = moved.annotations("warning")
    assert f"api-url is now http://localhost:9, not {api.url}" in warning
    lost = run(inputs, post=True, state={"token": state["token"]})
    assert "the main step recorded no route" in lost.annotations("warning")[0]
    assert TOKEN not in api.fake.revoked and len(api.fake.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"Content-Type": "text/html"}, b"<html><body>Access denied</body></html>"),
        (200, {}, json.dumps({"access_token": "B" * 40}).encode()),
        (200, {}, b"{}"),
    ],
    ids=["HTML block page", "another token", "empty JSON"],
)
def test_revocation_succeeds_only_with_xs_documented_answer(run, api: Api, answer) -> None:
    inputs = api.inputs(invalidate="true")
    state = run(inputs).state
    api.fake.custom = answer
    api.fake.revoke_faults = ["custom"]
    post = run(inputs, post=True, state=state)
    assert post.rc == 0
    assert "Revoked" not in post.log
    (warning,) = post.annotations("warning")
    assert "answered HTTP 200 without X's confirmation" in warning
    assert "the token may still be live" in warning


def test_the_steps_take_their_core_and_environment_and_touch_no_global(api) -> None:
    """main and post read and write only through the core and the mapping they are
    given: the process's environment is left as it was."""
    before = dict(os.environ)
    main = ghrunner.run_in_process({**api.inputs(), "invalidate": "true"})
    assert main.rc == 0, main.log
    assert main.log.splitlines()[-1].startswith("Obtained a bearer token from ")
    post = ghrunner.run_in_process(
        {**api.inputs(), "invalidate": "true"}, post=True, state=main.state
    )
    assert post.rc == 0, post.log
    assert "Revoked the bearer token" in post.log and api.fake.revoked == {main.outputs["bearer"]}
    assert dict(os.environ) == before
