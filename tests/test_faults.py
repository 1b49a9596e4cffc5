"""Server faults: transient ones end with the token, permanent ones in a clean failure."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pytest
import trustme

import ghrunner
from conftest import Api, GitHub, _serve
from fakes import TOKEN

# (fault queue, retries, expected attempts)
TRANSIENT = [
    (["status:500"], 1, 2),
    (["html:502"], 1, 2),
    (["overcapacity"], 1, 2),
    (["status:504"], 1, 2),
    (["status:503", "status:500", "html:502"], 3, 4),
    (["retry-after:0"], 1, 2),
    (["reset"], 1, 2),
    (["slow:3"], 1, 2),
    (["reset-mid"], 1, 2),
    (["truncated"], 1, 2),
]


@pytest.mark.parametrize(
    ("faults", "retries", "attempts"), TRANSIENT, ids=["+".join(t[0]) for t in TRANSIENT]
)
def test_transient_faults_end_with_the_token(run, api: Api, faults, retries, attempts) -> None:
    api.fake.faults = list(faults)
    result = run(api.inputs(retries=str(retries), timeout="1"))
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN
    assert len(api.fake.token_requests()) == attempts
    assert f"in {attempts} attempt(s)" in result.log


def _gaps(api: Api) -> list[float]:
    times = [r.at for r in api.fake.token_requests()]
    return [b - a for a, b in itertools.pairwise(times)]


def test_retry_after_is_honoured(run, api: Api) -> None:
    api.fake.faults = ["retry-after:2"]
    result = run(api.inputs())
    assert result.rc == 0, result.log
    assert _gaps(api)[0] >= 1.9


def test_x_rate_limit_reset_is_honoured(run, api: Api) -> None:
    api.fake.faults = ["reset-at:2"]
    result = run(api.inputs())
    assert result.rc == 0, result.log
    (gap,) = _gaps(api)
    assert gap >= 0.9  # the reset is a whole second: 1 < wait <= 2


def test_backoff_grows_between_attempts(run, api: Api) -> None:
    api.fake.faults = ["status:500"] * 3
    result = run(api.inputs(retries="3"))
    assert result.rc == 0, result.log
    gaps = _gaps(api)
    # Retry n waits 0.5 * 2**(n-1) s plus up to 0.5 s of jitter, the first one too
    # (upper bounds leave room for a loaded machine).
    assert 0.45 <= gaps[0] < 1.5
    assert 0.95 <= gaps[1] < 2.0
    assert 1.95 <= gaps[2] < 3.2


PERMANENT = [
    (["status:500"] * 2, "HTTP 500, code 131: Internal error — the X API at"),
    (["html:502"] * 2, "HTTP 502 with a non-JSON body (text/html"),
    (["overcapacity"] * 2, "HTTP 503, code 130: Over capacity — X is over capacity"),
    (["status:504"] * 2, "HTTP 504"),
    (["retry-after:0"] * 2, "HTTP 429, code 88: Rate limit exceeded"),
    (
        ["reset"] * 2,
        "broke before a complete answer arrived (Connection reset by peer; 2 attempts)",
    ),
    (["slow:3"] * 2, "sent nothing for 1 s (2 attempts): raise timeout or re-run the job later"),
    (
        ["reset-mid"] * 2,
        "broke before a complete answer arrived (Connection reset by peer; 2 attempts)",
    ),
    (["truncated"] * 2, "broke before a complete answer arrived (IncompleteRead"),
    (["huge"], "more than 64 KiB"),
    (["html:200"], "the body is not JSON"),
    (['json:{"token_type":"bearer"}'], "access_token is missing or empty"),
    (["token:"], "access_token is missing or empty"),
    (['json:{"token_type":"mac","access_token":"AAAA"}'], "token_type is not 'bearer'"),
    (['json:{"access_token":"AAAA"}'], "token_type is not 'bearer'"),
    (['json:["bearer"]'], "not a JSON object"),
    (["json:{not json"], "the body is not JSON"),
    (["redirect:127.0.0.2"], "HTTP 307 — 127.0.0.1"),
]


@pytest.mark.parametrize(("faults", "expected"), PERMANENT, ids=[p[0][0] for p in PERMANENT])
def test_permanent_faults_fail_cleanly_within_the_deadline(run, api: Api, faults, expected) -> None:
    api.fake.faults = list(faults)
    started = time.monotonic()
    result = run(api.inputs(retries="1", timeout="1"))
    elapsed = time.monotonic() - started
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert expected in error
    assert "Traceback" not in result.log
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    assert elapsed < 22  # the budget: 2 attempts of 1 s plus 20 s for the retry's wait


HOSTILE = [
    # (fault, retries): each would hold the step for a minute (the fake's limit);
    # the budget, (retries + 1) x timeout + 20 s per retry, ends it.
    ("trickle:0.4", 0),  # a body byte every 0.4 s: never a read timeout
    ("trickle-headers:0.4", 0),  # a header line every 0.4 s: never a read timeout
    ("deflate-forever", 0),  # a deflate stream of empty blocks: bytes, but no data
]


@pytest.mark.parametrize(("fault", "retries"), HOSTILE, ids=[f"{f}-r{r}" for f, r in HOSTILE])
def test_a_hostile_answer_ends_within_the_budget(run, api: Api, fault, retries) -> None:
    api.fake.faults = [fault] * (retries + 1)
    timeout = 2.0
    budget = (retries + 1) * timeout + 20 * retries
    started = time.monotonic()
    result = run(api.inputs(retries=str(retries), timeout=str(timeout)), timeout=budget + 30)
    elapsed = time.monotonic() - started
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert f"No complete answer from {api.host} within the time budget of {budget:g} s" in error
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    assert budget - 0.5 < elapsed < budget + 3  # the start of the process included


def test_a_retried_error_body_is_not_drained(run, api: Api) -> None:
    # A 503 whose body never ends: the retry must not wait to read it to the end.
    api.fake.faults = ["endless-5xx"]
    started = time.monotonic()
    result = run(api.inputs(retries="1", timeout="2"))
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN
    assert len(api.fake.token_requests()) == 2
    assert time.monotonic() - started < 10  # the budget is 24 s; the fake goes on for 60


def test_an_endless_final_error_body_is_cut_at_64_kib(run, api: Api) -> None:
    api.fake.faults = ["endless-5xx"]
    result = run(api.inputs(retries="0", timeout="2"))
    assert result.rc == 1
    assert f"{api.host} sent more than 64 KiB (HTTP 503)" in result.annotations("error")[0]


def test_first_retry_waits_too(run, api: Api) -> None:
    api.fake.faults = ["status:503"]
    result = run(api.inputs(retries="1"))
    assert result.rc == 0, result.log
    (gap,) = _gaps(api)
    assert gap >= 0.45


def test_413_is_not_retried_even_with_retry_after(run, api: Api) -> None:
    api.fake.custom = (413, {"Retry-After": "1"}, b'{"errors":[{"code":0,"message":"Too large"}]}')
    api.fake.faults = ["custom"]
    result = run(api.inputs(retries="3"))
    assert result.rc == 1
    assert "HTTP 413" in result.annotations("error")[0]
    assert len(api.fake.token_requests()) == 1


def test_a_garbled_answer_is_not_called_a_connection_failure(run, api: Api) -> None:
    # The connection was made; what came back was not HTTP (a ProtocolError in the headers).
    api.fake.faults = ["garbage"]
    result = run(api.inputs(retries="0"))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert f"The connection to {api.host} broke before a complete answer arrived" in error
    assert "Could not connect" not in error


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        ("²", "HTTP 429, code 88: Rate limit exceeded — rate limited by X: re-run"),
        ("9" * 20, "HTTP 429, code 88: Rate limit exceeded — rate limited by X: re-run"),
        ("-5", "HTTP 429, code 88: Rate limit exceeded — rate limited by X: re-run"),
    ],
    ids=["superscript digit", "20 digits", "negative"],
)
def test_odd_rate_limit_resets_are_described(run, api: Api, reset, expected) -> None:
    body = b'{"errors":[{"code":88,"message":"Rate limit exceeded"}]}'
    api.fake.custom = (429, {"x-rate-limit-reset": reset}, body)
    api.fake.faults = ["custom", "custom"]  # the retry's wait, then the final message
    result = run(api.inputs(retries="1"))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert expected in error and "internal error" not in error


def test_redirect_is_not_followed(run, api: Api) -> None:
    api.fake.faults = ["redirect:127.0.0.2"]
    result = run(api.inputs())
    assert result.rc == 1
    assert "redirects to 127.0.0.2" in result.annotations("error")[0]
    assert len(api.fake.requests) == 1


def test_connection_refused(run, api: Api) -> None:
    api.server.shutdown()
    api.server.server_close()
    result = run(api.inputs(retries="1"))
    assert result.rc == 1
    assert "Could not connect to 127.0.0.1" in result.annotations("error")[0]
    assert "Connection refused" in result.annotations("error")[0]


def test_gzip_body_is_decoded(run, api: Api) -> None:
    api.fake.faults = ["gzip"]
    result = run(api.inputs())
    assert result.rc == 0, result.log
    assert result.outputs["bearer"] == TOKEN


def test_rate_limit_beyond_the_budget_fails_fast(run, api: Api) -> None:
    api.fake.faults = ["retry-after:600", "reset-at:900"]
    started = time.monotonic()
    first = run(api.inputs())
    second = run(api.inputs())
    assert time.monotonic() - started < 10
    assert "HTTP 429, code 88" in first.annotations("error")[0]
    assert "until" in second.annotations("error")[0]  # the reset time, in UTC
    assert len(api.fake.token_requests()) == 2


def test_untrusted_certificate_fails_cleanly(tmp_path: Path) -> None:
    import ssl

    other = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("127.0.0.1").configure_cert(context)
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "wrong-ca.pem"))
    for api in _serve(context):
        result = ghrunner.run(api.inputs(ca_bundle="wrong-ca.pem"), workspace=tmp_path)
        ghrunner.assert_no_leak(result, [TOKEN])
        assert result.rc == 1
        assert "TLS connection to 127.0.0.1" in result.annotations("error")[0]
        assert api.fake.requests == []


def test_certificate_for_another_host_fails_cleanly(tmp_path: Path) -> None:
    import ssl

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.twitter.com").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    for api in _serve(context):
        result = ghrunner.run(api.inputs(ca_bundle="ca.pem"), workspace=tmp_path)
        ghrunner.assert_no_leak(result, [TOKEN])
        assert result.rc == 1
        assert "IP address mismatch" in result.annotations("error")[0]


BROKEN_BODIES = {
    "bad chunking": b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n",
    "bad gzip": b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
    b"Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!",
}


@pytest.mark.parametrize("answer", BROKEN_BODIES.values(), ids=BROKEN_BODIES.keys())
def test_a_final_4xx_whose_body_breaks_is_reported_not_retried(run, api: Api, answer) -> None:
    api.fake.raw = answer
    api.fake.faults = ["raw"] * 3
    result = run(api.inputs(retries="2"))
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    status = answer.split(b" ")[1].decode()
    assert f"Token request failed after 1 attempt(s): HTTP {status} whose body broke off (" in error
    assert len(api.fake.token_requests()) == 1


def test_a_tls_handshake_cut_by_the_server_is_retried(tls_api: Api, tmp_path: Path) -> None:
    tls_api.fake.connection_faults = ["tls-eof"]
    result = ghrunner.run(tls_api.inputs(ca_bundle="ca.pem", retries="1"), workspace=tmp_path)
    ghrunner.assert_no_leak(result, [TOKEN])
    assert result.rc == 0, result.log
    assert tls_api.fake.connections == 2
    assert "in 2 attempt(s)" in result.log
    assert len(tls_api.fake.token_requests()) == 1  # the cut handshake sent no request


def test_a_tls_handshake_cut_every_time_says_so(tls_api: Api, tmp_path: Path) -> None:
    tls_api.fake.connection_faults = ["tls-eof"] * 2
    result = ghrunner.run(tls_api.inputs(ca_bundle="ca.pem", retries="1"), workspace=tmp_path)
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert f"TLS handshake with {tls_api.host} was cut off by the server" in error
    assert "2 attempts" in error


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "through-a-proxy"])
def test_a_refresh_whose_tls_handshake_was_cut_is_retried(
    tls_api: Api, github: GitHub, tmp_path: Path, proxied: bool
) -> None:
    # A refresh is never sent twice, but a cut handshake sent nothing: it goes again.
    from fakes.proxy import ConnectProxy

    tls_api.fake.connection_faults = ["tls-eof"]
    inputs = tls_api.user_inputs(github, ca_bundle="ca.pem", retries="1")
    with ConnectProxy() as proxy:
        env = {**github.env(), **({"HTTPS_PROXY": proxy.url, "NO_PROXY": ""} if proxied else {})}
        result = ghrunner.run(inputs, workspace=tmp_path, env=env)
        assert len(proxy.seen) == (2 if proxied else 0)
    ghrunner.assert_no_leak(result)
    assert result.rc == 0, result.annotations("error")
    assert tls_api.fake.connections == 2
    assert len(tls_api.fake.oauth2.token_requests()) == 1


def test_a_refresh_whose_tls_handshake_failed_says_the_token_was_not_used(
    tls_api: Api, github: GitHub, tmp_path: Path
) -> None:
    tls_api.fake.connection_faults = ["tls-eof"]
    inputs = tls_api.user_inputs(github, ca_bundle="ca.pem", retries="0")
    result = ghrunner.run(inputs, workspace=tmp_path, env=github.env())
    ghrunner.assert_no_leak(result)
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert f"TLS handshake with {tls_api.host} was cut off by the server" in error
    assert "refresh-token was not used" in error and "may have reached X" not in error
    assert not tls_api.fake.oauth2.token_requests()


def test_an_untrusted_certificate_is_not_retried(tls_api: Api, tmp_path: Path) -> None:
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    result = ghrunner.run(tls_api.inputs(ca_bundle="other-ca.pem", retries="2"), workspace=tmp_path)
    assert result.rc == 1
    assert "its certificate is not trusted" in result.annotations("error")[0]
    assert tls_api.fake.connections == 1


MALFORMED = {
    "two Content-Length values": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        "answered with a malformed header (1 attempt)",
    ),
    "a Location that is no URL": (
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://[oops\r\nContent-Length: 0\r\n\r\n",
        "HTTP 307 — 127.0.0.1",
    ),
}


@pytest.mark.parametrize(("answer", "said"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_is_described_not_an_internal_error(run, api: Api, answer, said):
    api.fake.raw = answer
    api.fake.faults = ["raw"]
    result = run(api.inputs(retries="0"))
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert said in error and "internal error" not in error
    assert "Traceback" not in result.log


def test_an_api_error_code_of_more_than_ten_digits_is_cut(run, api: Api) -> None:
    api.fake.custom = (403, {}, b'{"errors":[{"code":123456789012345678901234,"message":"No"}]}')
    api.fake.faults = ["custom"]
    result = run(api.inputs(retries="0"))
    (error,) = result.annotations("error")
    assert "HTTP 403, code 1234567890…: No" in error
    assert "12345678901" not in error


def test_a_name_that_does_not_resolve_is_not_retried(run, api: Api) -> None:
    # .invalid never resolves (RFC 6761): the lookup's verdict is final.
    result = run(api.inputs(api_url="https://api.example.invalid", retries="3"))
    assert result.rc == 1
    (error,) = result.annotations("error")
    assert error.startswith("Could not resolve api.example.invalid (")
    assert "1 attempt)" in error and "retrying" not in result.log


def test_each_retry_is_announced_in_one_line(run, api: Api) -> None:
    api.fake.faults = ["status:503", "status:502"]
    result = run(api.inputs(retries="3"))
    assert result.rc == 0, result.log
    lines = [line for line in result.log.splitlines() if "retrying in" in line]
    assert len(lines) == 2
    assert re.fullmatch(
        rf"HTTP 503 from {re.escape(api.host)}; retrying in \d\.\d s \(attempt 2 of 4\)\.", lines[0]
    ), lines[0]
    assert "(attempt 3 of 4)." in lines[1]
