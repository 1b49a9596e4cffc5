"""A failed exchange, in-process: the facts transport.py raises, and their words
(failures.py) in the action's and the command line's terms."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xbearer import retry
from xbearer.client import Credentials, request_token
from xbearer.errors import CLI_TERMS
from xbearer.failures import Cause, Fault, MaybeArrived, NotSent, describe, retrying, short
from xbearer.transport import Endpoint, TransportError

from conftest import Api, endpoint
from fakes import API_KEY, API_SECRET

CREDS = Credentials(API_KEY, API_SECRET)


def _failure(endpoint: Endpoint) -> TransportError:
    with pytest.raises(TransportError) as caught:
        request_token(CREDS, endpoint)
    return caught.value


def test_a_refused_connection_is_raised_as_its_facts(api: Api) -> None:
    api.server.shutdown()
    api.server.server_close()
    error = _failure(endpoint(api.url))
    assert (error.fault.cause, error.fault.attempts) == (Cause.UNREACHABLE, 1)
    assert isinstance(error, NotSent)
    assert error.fault.reason == "Connection refused"
    assert error.message.startswith("Could not connect to 127.0.0.1:")


def test_tls_to_a_plain_http_server_is_a_handshake_failure_before_sending(api: Api) -> None:
    error = _failure(endpoint(api.url.replace("http://", "https://")))
    assert error.fault.cause is Cause.TLS and isinstance(error, NotSent)
    assert error.message.startswith(f"TLS handshake with {api.host} failed (")
    assert not api.fake.requests


def test_an_untrusted_certificate_is_raised_with_the_verify_message(tls_api: Api) -> None:
    error = _failure(endpoint(tls_api.url))  # the system's CAs do not trust the test CA
    assert error.fault.cause is Cause.UNTRUSTED and isinstance(error, NotSent)
    assert "certificate" in error.fault.detail


def test_a_silent_server_after_the_request_is_raised_as_arrived(api: Api) -> None:
    api.fake.faults = ["slow:2"] * 2  # retries=1: a budget (21 s) well past both timeouts
    error = _failure(endpoint(api.url, timeout=0.5, retries=1))
    assert error.fault.cause is Cause.SILENT and isinstance(error, MaybeArrived)
    assert (
        error.message
        == f"{api.host} sent nothing for 0.5 s (2 attempts): raise timeout or re-run the job later."
    )


def test_a_handshake_failure_through_the_cli_names_the_cli_setting(api: Api) -> None:
    cli = Endpoint(api.url.replace("http://", "https://"), 5, 0, None, CLI_TERMS)
    assert "check that --api-url has the right scheme" in _failure(cli).message


def test_the_budget_message_gives_the_wait_per_retry_it_was_computed_with(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "WAIT_PER_RETRY", 0.5)
    api.fake.faults = ["trickle:0.2"] * 2  # bytes in time, never the whole answer
    error = _failure(endpoint(api.url, timeout=0.5, retries=1))
    assert error.fault.cause is Cause.OVER_BUDGET and isinstance(error, MaybeArrived)
    assert error.message == (
        f"No complete answer from {api.host} within the time budget of 1.5 s "
        "((retries + 1) × timeout + 0.5 s per retry): re-run the job later."
    )


ENDPOINT = Endpoint("https://api.x.com", 10, 2, None, CLI_TERMS)
FAULT = Fault(Cause.OTHER, 2, error="RuntimeError", innermost="KeyError")
SAID = {
    Cause.TLS_CUT: "TLS handshake with api.x.com was cut off by the server (EOF; 2 attempts): "
    "try again later, or check a proxy in between.",
    Cause.PROXY: "Could not reach api.x.com through the proxy (Connection reset; 2 attempts): "
    "check the proxy, or list the host in NO_PROXY.",
    Cause.UNRESOLVED: "Could not resolve api.x.com (Connection reset; 2 attempts): check "
    "--api-url.",
    Cause.CONNECT_TIMEOUT: "Could not connect to api.x.com within 10 s (2 attempts): check "
    "--api-url and this machine's network, or raise --timeout.",
    Cause.UNDECODABLE: "The answer from api.x.com could not be decompressed (2 attempts): try "
    "again later.",
    Cause.BROKEN: "The connection to api.x.com broke before a complete answer arrived "
    "(Connection reset; 2 attempts): try again later.",
    Cause.MALFORMED_HEADER: "api.x.com answered with a malformed header (2 attempts): check "
    "--api-url.",
    Cause.OTHER: "The request to api.x.com failed (RuntimeError; 2 attempts): try again later.",
}


@pytest.mark.parametrize("cause", SAID, ids=[c.name for c in SAID])
def test_each_cause_is_said_in_the_terms_of_where_the_code_runs(cause: Cause) -> None:
    fault = replace(FAULT, cause=cause, reason="Connection reset", detail="EOF")
    assert describe(fault, ENDPOINT) == SAID[cause]


def test_a_body_too_big_names_the_limit_and_the_status() -> None:
    fault = Fault(Cause.TOO_BIG, status=200, limit=64 * 1024)
    assert (
        describe(fault, ENDPOINT) == "api.x.com sent more than 64 KiB (HTTP 200): check --api-url."
    )


def test_the_words_of_the_socket_are_made_one_short_line() -> None:
    fault = replace(FAULT, reason="reset\nby\x1b[31m peer " + "x" * 100)
    assert short(fault).startswith("reset by [31m peer x") and len(short(fault)) == 80
    assert short(FAULT) == "KeyError"  # no words: the innermost exception's name


def test_a_retry_is_announced_with_what_broke_the_attempt_or_its_status() -> None:
    fault = replace(FAULT, reason="Connection reset by peer")
    assert retrying(ENDPOINT, fault, 1.25, 1) == (
        "Connection reset by peer from api.x.com; retrying in 1.2 s (attempt 2 of 3)."
    )
    assert retrying(ENDPOINT, 503, 20, 2) == (
        "HTTP 503 from api.x.com; retrying in 20.0 s (attempt 3 of 3)."
    )


def test_an_untrusted_certificate_says_which_option_sets_a_ca_bundle() -> None:
    fault = Fault(Cause.UNTRUSTED, 1, detail="self-signed certificate in certificate chain")
    assert describe(fault, ENDPOINT) == (
        "TLS connection to api.x.com failed: its certificate is not trusted (self-signed "
        "certificate in certificate chain). Behind a TLS-inspecting proxy or with a private "
        "CA, set --ca-bundle to a PEM file of the CA certificates to trust."
    )
