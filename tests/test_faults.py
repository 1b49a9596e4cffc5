"""Server faults: transient ones end with the token, permanent ones in a clean failure."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
import trustme

import ghrunner
from conftest import Api, _serve
from fake_x import TOKEN

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
    # urllib3: no wait before the first retry, then 0.5 * 2**(n-1) s, plus up to 0.5 s jitter
    # (upper bounds leave room for a loaded machine).
    assert gaps[0] < 0.9
    assert 0.9 <= gaps[1] < 2.0
    assert 1.9 <= gaps[2] < 3.2


PERMANENT = [
    (["status:500"] * 3, "HTTP 500, code 131: Internal error — the X API at"),
    (["html:502"] * 3, "HTTP 502 with a non-JSON body (text/html"),
    (["overcapacity"] * 3, "HTTP 503, code 130: Over capacity — X is over capacity"),
    (["status:504"] * 3, "HTTP 504"),
    (["retry-after:0"] * 3, "HTTP 429, code 88: Rate limit exceeded"),
    (["reset"] * 3, "Could not connect to 127.0.0.1"),
    (["slow:3"] * 3, "No answer from 127.0.0.1"),
    (["reset-mid"], "connection to 127.0.0.1"),
    (["truncated"], "connection to 127.0.0.1"),
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
    result = run(api.inputs(retries="2", timeout="1"))
    elapsed = time.monotonic() - started
    assert result.rc == 1, result.log
    (error,) = result.annotations("error")
    assert expected in error
    assert "Traceback" not in result.log
    assert result.files == {"OUTPUT": "", "ENV": "", "STATE": "", "STEP_SUMMARY": ""}
    # Budget: 3 attempts of 1 s plus up to 20 s of waits per retry.
    assert elapsed < 15


def test_a_trickling_answer_is_cut_at_the_time_budget(run, api: Api) -> None:
    # Each byte arrives within the read timeout, yet the whole answer would take ~60 s;
    # the budget with no retries is one timeout.
    api.fake.faults = ["trickle:0.4"]
    started = time.monotonic()
    result = run(api.inputs(retries="0", timeout="2"))
    assert result.rc == 1
    assert "still arriving after the time budget" in result.annotations("error")[0]
    assert time.monotonic() - started < 15


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
