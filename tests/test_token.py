"""The core: the request exactly as X documents it, the outputs, the masks, the errors."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from xbearer.client import Credentials, request_token
from xbearer.transport import USER_AGENT

import ghrunner
from conftest import Api, endpoint
from fakes import API_KEY, API_SECRET, TOKEN, FakeX, Server


def test_request_matches_the_documented_curl_command(api: Api) -> None:
    # The seed's own command, run for real against the fake, then ours.
    subprocess.run(
        [
            "curl",
            "-sS",
            "-u",
            f"{API_KEY}:{API_SECRET}",
            "--data",
            "grant_type=client_credentials",
            f"{api.url}/oauth2/token",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    token = request_token(Credentials(API_KEY, API_SECRET), endpoint(api.url))
    assert token.value == TOKEN
    theirs, ours = api.fake.requests
    assert (ours.method, ours.path, ours.body) == (theirs.method, theirs.path, theirs.body)
    assert ours.headers["Authorization"] == theirs.headers["Authorization"]
    media = ours.headers["Content-Type"].split(";")
    assert media[0] == theirs.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert media[1:] == ["charset=UTF-8"]
    assert ours.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("x-bearer-token-action/")


def test_key_and_secret_are_rfc1738_encoded_before_base64() -> None:
    creds = Credentials("key with/slash", "sec:ret+é")
    decoded = base64.b64decode(creds.basic).decode()
    assert decoded == "key%20with%2Fslash:sec%3Aret%2B%C3%A9"


def test_special_characters_in_credentials_reach_the_api_intact(api: Api) -> None:
    api.fake.key, api.fake.secret = "k:ey/1", "s e+cret"
    token = request_token(Credentials("k:ey/1", "s e+cret"), endpoint(api.url))
    assert token.value == TOKEN


def test_action_outputs_the_token_exactly_as_received_and_masks_both_forms(run, api: Api) -> None:
    result = run(api.inputs())
    assert result.rc == 0, result.log
    assert result.outputs == {"bearer": TOKEN, "token-type": "bearer"}
    masks = [data for cmd, data in ghrunner.commands(result.log) if cmd == "add-mask"]
    assert TOKEN in masks and unquote(TOKEN) in masks
    # Every input secret is masked before the first request is even logged.
    assert masks.index(API_KEY) < masks.index(TOKEN)
    assert "Obtained a bearer token from 127.0.0.1" in result.log
    assert len(api.fake.token_requests()) == 1


def test_token_type_is_matched_case_insensitively(run, api: Api) -> None:
    token = "A" * 32 + "%2Fb"
    api.fake.faults = ["json:" + json.dumps({"token_type": "Bearer", "access_token": token})]
    result = run(api.inputs())
    assert result.rc == 0, result.log
    assert result.outputs == {"bearer": token, "token-type": "bearer"}


def test_https_with_ca_bundle(tls_api: Api, tmp_path: Path) -> None:
    result = ghrunner.run(tls_api.inputs(ca_bundle="ca.pem"), workspace=tmp_path)
    ghrunner.assert_no_leak(result, [TOKEN])
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN


def test_https_without_the_ca_fails_with_a_ca_bundle_hint(tls_api: Api, tmp_path: Path) -> None:
    result = ghrunner.run(tls_api.inputs(), workspace=tmp_path)
    ghrunner.assert_no_leak(result, [TOKEN])
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert "TLS connection to 127.0.0.1" in error and "unable to get local issuer" in error
    assert "ca-bundle" in error
    assert result.outputs == {}
    assert tls_api.fake.requests == []


def test_ipv6_loopback(ca) -> None:
    fake = FakeX()
    server = Server(fake, host="::1")
    url = server.start()
    try:
        token = request_token(Credentials(API_KEY, API_SECRET), endpoint(url))
    finally:
        server.shutdown()
    assert url.startswith("http://[::1]:") and token.value == TOKEN


@pytest.mark.parametrize(
    ("secret", "fault", "expected"),
    [
        (
            "wrong",
            None,
            "HTTP 403, code 99: Unable to verify your credentials — check that "
            "api-key and api-secret are the app's API key and API secret key, not an access "
            "token",
        ),
        (API_SECRET, "status:401", "HTTP 401, code 131: Internal error — check that api-key"),
        (
            API_SECRET,
            "html:404",
            "HTTP 404 with a non-JSON body (text/html, 46 bytes) — check api-url",
        ),
    ],
)
def test_api_refusals_are_one_clear_error(run, api: Api, secret, fault, expected) -> None:
    api.fake.faults = [fault] if fault else []
    result = run(api.inputs(api_secret=secret))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert expected in error
    assert "Traceback" not in result.log
    assert result.outputs == {} and result.env == {} and result.state == {}
    assert len(api.fake.token_requests()) == 1  # 4xx is never retried


def test_missing_grant_type_is_explained(api: Api) -> None:
    import requests

    response = requests.post(f"{api.url}/oauth2/token", auth=(API_KEY, API_SECRET), timeout=5)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == 170
    from xbearer.client import refusal
    from xbearer.transport import Answer

    answer = Answer(403, response.headers, response.content, 1)
    text = refusal(answer, (), endpoint(api.url))
    assert "code 170" in text and "grant_type" in text


def test_a_refusal_read_for_another_caller_gives_only_that_callers_advice(api: Api) -> None:
    # X's code 99 on the app-only endpoint; read for another caller (OAuth 2.0, GitHub),
    # the line says what that caller needs, never the app-only advice about API keys.
    import requests

    from xbearer.answers import describe_refusal
    from xbearer.transport import Answer

    response = requests.post(f"{api.url}/oauth2/token", auth=("a", "b"), timeout=5)
    answer = Answer(response.status_code, response.headers, response.content, 1)
    text = describe_refusal(answer, (), "check client-id.")
    assert text.startswith(f"HTTP {response.status_code}, code ")
    assert text.endswith(" — check client-id.") and "API key" not in text


def test_proxy_variables_are_honoured(tls_api: Api, tmp_path: Path) -> None:
    from fakes.proxy import ConnectProxy

    inputs = tls_api.inputs(ca_bundle="ca.pem")
    with ConnectProxy() as proxy:
        env = {"HTTPS_PROXY": proxy.url, "NO_PROXY": ""}
        result = ghrunner.run(inputs, env=env, workspace=tmp_path)
        assert result.rc == 0, result.log
        assert proxy.seen == [tls_api.url.removeprefix("https://")]
        bypass = ghrunner.run(inputs, env={**env, "NO_PROXY": "127.0.0.1"}, workspace=tmp_path)
        assert bypass.rc == 0, bypass.log
        assert len(proxy.seen) == 1
    assert len(tls_api.fake.token_requests()) == 2


def test_plain_http_to_loopback_never_goes_through_a_proxy(api: Api) -> None:
    from fakes.proxy import ConnectProxy

    with ConnectProxy() as proxy:
        env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url}
        result = ghrunner.run(api.inputs(), env=env)
        assert result.rc == 0, result.log
        assert proxy.received == []  # the Basic credential never reached the proxy
    assert len(api.fake.token_requests()) == 1


def test_a_netrc_cannot_replace_the_apps_credential(api: Api, tmp_path: Path) -> None:
    # HOME is /github/home in the container, the job's own; a .netrc there is the job's.
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone-else password not-the-secret\n")
    netrc.chmod(0o600)
    result = ghrunner.run(api.inputs(), env={"HOME": str(tmp_path), "NETRC": str(netrc)})
    assert result.rc == 0, result.log
    (request,) = api.fake.token_requests()
    assert request.headers["Authorization"] == f"Basic {Credentials(API_KEY, API_SECRET).basic}"


def test_a_readable_ca_variable_is_honoured_and_said(tls_api: Api, tmp_path: Path) -> None:
    env = {"REQUESTS_CA_BUNDLE": str(tmp_path / "ca.pem")}
    result = ghrunner.run(tls_api.inputs(), env=env, workspace=tmp_path)
    ghrunner.assert_no_leak(result, [TOKEN])
    assert result.rc == 0, result.log
    assert "Trusting the CA certificates named by REQUESTS_CA_BUNDLE." in result.log


def test_the_ca_bundle_input_wins_over_the_environment(tls_api: Api, tmp_path: Path) -> None:
    import trustme

    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    env = {"REQUESTS_CA_BUNDLE": str(tmp_path / "other-ca.pem")}
    result = ghrunner.run(tls_api.inputs(ca_bundle="ca.pem"), env=env, workspace=tmp_path)
    assert result.rc == 0, result.log
    assert "Trusting the CA certificates named by" not in result.log


def test_https_to_a_plain_http_server_says_so(api: Api) -> None:
    result = ghrunner.run(api.inputs(api_url=api.url.replace("http://", "https://")))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert f"TLS handshake with {api.host} failed" in error
    assert "no HTTPS server answered there; check that api-url has the right scheme" in error
    assert "ca-bundle" not in error
