"""Every retry decision, from tables: a fault classified once from the exception chain
requests and urllib3 raise (transport.classify), and what the policy (retry.py) makes
of it, of an answer, of a broken body, of the count and the budget. No socket is
opened and nothing sleeps: the policy is given the clock and its jitter is 0."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from email.utils import formatdate
from typing import TypeVar

import pytest
import requests
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import SSLError as Urllib3SSLError

from xbearer import github, oauth2
from xbearer.errors import CLI_TERMS
from xbearer.failures import Cause, Fault, MaybeArrived, NotSent, TransportError
from xbearer.retry import RetryPolicy, epoch, retry_after
from xbearer.transport import Endpoint, HandshakeError, classify

NOW = 1_700_000_000.0  # the Unix time the policy is told it is
APP_ONLY = RetryPolicy(jitter=0)  # X's app-only requests and the revocations
REFRESH = replace(oauth2.SINGLE_USE_RETRY, jitter=0)
GITHUB = replace(github.RETRY, jitter=0)
POLICIES = {"app-only": APP_ONLY, "refresh": REFRESH, "github": GITHUB}


@pytest.fixture(autouse=True)
def _no_socket_no_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The decisions are pure: a table row that opened a socket or slept fails."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a table test opened a socket or slept")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(time, "sleep", refuse)
    yield


# --- The chains requests and urllib3 raise, built as they build them -------------------
POOL = HTTPSConnectionPool("api.x.com", 443)
CONN = HTTPSConnection("api.x.com", 443)  # no socket until it connects
URL = "/oauth2/token"
E = TypeVar("E", bound=Exception)


def _from(exc: E, cause: BaseException) -> E:
    """`raise exc from cause`, without raising."""
    exc.__cause__ = cause
    return exc


def _tls(kind: type[ssl.SSLError], reason: str, errno: int = 1) -> ssl.SSLError:
    """A TLS error as _ssl.c raises it: with the OpenSSL reason it names."""
    error = kind(errno, f"[SSL: {reason}] ({reason.lower()})")
    error.reason = reason  # _ssl.c sets it
    return error


def _untrusted() -> ssl.SSLError:
    error = _tls(ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED")
    error.verify_message = "self-signed certificate in certificate chain"  # type: ignore[attr-defined]
    return error


def _retried(reason: Exception, kind: type[requests.RequestException]) -> Exception:
    """requests' adapter: urllib3's MaxRetryError around the reason, as one of its kinds."""
    return kind(MaxRetryError(POOL, URL, reason))


def _refused() -> NewConnectionError:
    refused = ConnectionRefusedError(111, "Connection refused")
    return _from(
        NewConnectionError(CONN, f"Failed to establish a new connection: {refused}"), refused
    )


def _unresolved(errno: int) -> NameResolutionError:
    """urllib3 raises it `from` the resolver's error, which it does not keep otherwise."""
    error = socket.gaierror(errno, "Name not known")
    return _from(NameResolutionError("api.x.com", CONN, error), error)


def _handshake(error: ssl.SSLError) -> Exception:
    """A TLS failure in `_Connection.connect`, as the adapter raises it."""
    return _retried(_from(HandshakeError(error), error), requests.exceptions.SSLError)


def _after_sending(error: ssl.SSLError) -> Exception:
    """A TLS failure past the handshake: urllib3 wraps it in its own SSLError."""
    return _retried(_from(Urllib3SSLError(error), error), requests.exceptions.SSLError)


def _proxy(reason: Exception) -> Exception:
    return _retried(
        Urllib3ProxyError("Unable to connect to proxy", reason), requests.exceptions.ProxyError
    )


def _aborted(error: Exception) -> Exception:
    return requests.ConnectionError(ProtocolError("Connection aborted.", error))


EAI_NONAME, EAI_AGAIN = socket.EAI_NONAME, socket.EAI_AGAIN
RESET = ConnectionResetError(104, "Connection reset by peer")
CUT = "UNEXPECTED_EOF_WHILE_READING"
SENT, UNSENT, TRANSIENT, VERDICT = True, False, True, False
# name: (the exception, its cause, sent, transient, the reason or detail it is told with)
# fmt: off
FAULTS: dict[str, tuple[Exception, Cause, bool, bool, str]] = {
    "connection refused": (
        _retried(_refused(), requests.ConnectionError),
        Cause.UNREACHABLE, UNSENT, TRANSIENT, "Connection refused"),
    "no connection within the timeout": (
        _retried(ConnectTimeoutError(CONN, "timed out"), requests.exceptions.ConnectTimeout),
        Cause.CONNECT_TIMEOUT, UNSENT, TRANSIENT, ""),
    "a name that does not exist": (
        _retried(_unresolved(EAI_NONAME), requests.ConnectionError),
        Cause.UNRESOLVED, UNSENT, VERDICT, "Name not known"),
    "the resolver says try again": (
        _retried(_unresolved(EAI_AGAIN), requests.ConnectionError),
        Cause.UNRESOLVED, UNSENT, TRANSIENT, "Name not known"),
    "the proxy refused": (
        _proxy(_refused()),
        Cause.PROXY, UNSENT, TRANSIENT, "Connection refused"),
    "the proxy's name does not exist": (
        _proxy(_unresolved(EAI_NONAME)),
        Cause.PROXY, UNSENT, VERDICT, "Name not known"),
    "the proxy's resolver says try again": (
        _proxy(_unresolved(EAI_AGAIN)),
        Cause.PROXY, UNSENT, TRANSIENT, "Name not known"),
    "a handshake cut off by the server": (
        _handshake(_tls(ssl.SSLEOFError, CUT, 8)),
        Cause.TLS_CUT, UNSENT, TRANSIENT, CUT),
    "a handshake reset in TLS": (
        _handshake(_from(_tls(ssl.SSLError, "RECORD_LAYER_FAILURE"), RESET)),
        Cause.TLS_CUT, UNSENT, TRANSIENT, "RECORD_LAYER_FAILURE"),
    "no HTTPS server there": (
        _handshake(_tls(ssl.SSLError, "WRONG_VERSION_NUMBER")),
        Cause.TLS, UNSENT, VERDICT, "WRONG_VERSION_NUMBER"),
    "no common protocol": (
        _handshake(_tls(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION")),
        Cause.TLS, UNSENT, VERDICT, "TLSV1_ALERT_PROTOCOL_VERSION"),
    "an untrusted certificate": (
        _handshake(_untrusted()),
        Cause.UNTRUSTED, UNSENT, VERDICT, "self-signed certificate in certificate chain"),
    "TLS cut off after the request was sent": (
        _after_sending(_tls(ssl.SSLEOFError, CUT, 8)),
        Cause.TLS_CUT, SENT, TRANSIENT, CUT),
    "no TLS record where the answer should be": (
        _after_sending(_tls(ssl.SSLError, "WRONG_VERSION_NUMBER")),
        Cause.TLS, SENT, VERDICT, "WRONG_VERSION_NUMBER"),
    "a reset while waiting for the answer": (
        _aborted(RESET),
        Cause.BROKEN, SENT, TRANSIENT, "Connection reset by peer"),
    "closed without an answer": (
        _aborted(http.client.RemoteDisconnected("Remote end closed connection")),
        Cause.BROKEN, SENT, TRANSIENT, "RemoteDisconnected"),
    "more than 100 headers": (
        _aborted(http.client.HTTPException("got more than 100 headers")),
        Cause.BROKEN, SENT, TRANSIENT, "got more than 100 headers"),
    "nothing within the timeout after sending": (
        requests.exceptions.ReadTimeout(ReadTimeoutError(POOL, URL, "Read timed out.")),
        Cause.SILENT, SENT, TRANSIENT, ""),
    "a socket's timeout while reading the body": (
        TimeoutError("timed out"),
        Cause.SILENT, SENT, TRANSIENT, ""),
    "a body cut short": (
        ProtocolError("Connection broken", http.client.IncompleteRead(b"{", 9)),
        Cause.BROKEN, SENT, TRANSIENT, "IncompleteRead"),
    "a chunked body broken off": (
        requests.exceptions.ChunkedEncodingError(ProtocolError("Response ended prematurely")),
        Cause.BROKEN, SENT, TRANSIENT, ""),
    "a body that is not gzip": (
        DecodeError("failed to decode it", zlib.error("incorrect header check")),
        Cause.UNDECODABLE, SENT, TRANSIENT, ""),
    "a malformed header": (
        requests.exceptions.InvalidHeader("Invalid leading whitespace in header"),
        Cause.MALFORMED_HEADER, SENT, VERDICT, ""),
    "anything else": (
        ValueError("unexpected"),
        Cause.OTHER, SENT, VERDICT, ""),
}
# fmt: on


@pytest.mark.parametrize(
    ("exc", "cause", "sent", "transient", "told"), FAULTS.values(), ids=FAULTS.keys()
)
def test_a_fault_is_classified_once_into_its_cause_whether_sent_and_whether_transient(
    exc: BaseException, cause: Cause, sent: bool, transient: bool, told: str
) -> None:
    fault = classify(exc, 2)
    assert (fault.cause, fault.sent, fault.transient, fault.attempts) == (cause, sent, transient, 2)
    if told:
        assert told in (fault.reason, fault.detail)
    assert fault.error == type(exc).__name__


@pytest.mark.parametrize(
    ("exc", "cause", "sent", "transient", "told"), FAULTS.values(), ids=FAULTS.keys()
)
def test_a_refresh_goes_again_only_after_a_transient_fault_before_sending(
    exc: BaseException, cause: Cause, sent: bool, transient: bool, told: str
) -> None:
    """X rotates the refresh token as it acts: a refresh that may have arrived is final,
    where the app-only request and GitHub's go again after any transient fault."""
    fault = classify(exc, 1)
    assert (REFRESH.wait_after_fault(fault, 1) is not None) is (transient and not sent)
    for policy in (APP_ONLY, GITHUB):
        assert (policy.wait_after_fault(fault, 1) is not None) is transient


@pytest.mark.parametrize(
    ("exc", "cause", "sent", "transient", "told"), FAULTS.values(), ids=FAULTS.keys()
)
def test_a_final_fault_is_raised_as_the_kind_that_says_whether_it_may_have_arrived(
    exc: BaseException, cause: Cause, sent: bool, transient: bool, told: str
) -> None:
    error = TransportError.raised(
        classify(exc, 1), Endpoint("https://api.x.com", 5, 0, None, CLI_TERMS)
    )
    assert isinstance(error, MaybeArrived if sent else NotSent)


def test_a_chain_that_wraps_itself_is_walked_once() -> None:
    loop = requests.ConnectionError("loop")
    inner = ProtocolError("Connection aborted.", loop)
    loop.__context__ = inner
    assert classify(loop, 1).cause is Cause.BROKEN


# --- After a fault: the policy, from the facts alone -----------------------------------
# (sent, transient, replayable) -> retried after the backoff
AFTER_FAULT = [
    (False, True, True, True),
    (False, True, False, True),  # nothing left: even a refresh goes again
    (True, True, True, True),
    (True, True, False, False),  # may have arrived: a refresh is final
    (False, False, True, False),  # a verdict comes again
    (False, False, False, False),
    (True, False, True, False),
    (True, False, False, False),
]


@pytest.mark.parametrize(("sent", "transient", "replayable", "retried"), AFTER_FAULT)
def test_a_fault_is_retried_if_transient_and_unsent_or_replayable(
    sent: bool, transient: bool, replayable: bool, retried: bool
) -> None:
    policy = RetryPolicy(replayable=replayable, jitter=0)
    fault = Fault(Cause.OTHER, 1, sent=sent, transient=transient)
    assert policy.wait_after_fault(fault, 1) == (0.5 if retried else None)


TRANSIENT_SENT = Fault(Cause.BROKEN, 1, sent=True, transient=True)
# (policy, status, the fault that broke its body) -> wait, or None: reported as it is
BROKEN_BODIES = [
    ("app-only", 200, TRANSIENT_SENT, 0.5),
    ("github", 200, TRANSIENT_SENT, 0.5),
    ("refresh", 200, TRANSIENT_SENT, None),  # X rotated: the new token is lost, not resent
    ("app-only", 200, replace(TRANSIENT_SENT, transient=False), None),
    ("app-only", 400, TRANSIENT_SENT, None),
    ("app-only", 403, TRANSIENT_SENT, None),
    ("github", 404, TRANSIENT_SENT, None),
]


@pytest.mark.parametrize(("policy", "status", "fault", "wait"), BROKEN_BODIES)
def test_only_a_200_whose_body_broke_off_goes_again(
    policy: str, status: int, fault: Fault, wait: float | None
) -> None:
    assert POLICIES[policy].wait_after_broken_body(status, fault, 1) == wait


# --- After an answer: which statuses, which headers, how long --------------------------
def _at(seconds: float) -> str:
    return formatdate(NOW + seconds, usegmt=True)


def _x_reset(seconds: int) -> dict[str, str]:
    return {"x-rate-limit-reset": str(int(NOW) + seconds)}


def _github(remaining: str, reset: str, **more: str) -> dict[str, str]:
    return {"x-ratelimit-remaining": remaining, "x-ratelimit-reset": reset, **more}


IN_100 = str(int(NOW) + 100)
SECONDARY = b'{"message": "You have exceeded a secondary rate limit."}'
# name: (policy, status, headers, body, attempt) -> the wait, or None: final
# fmt: off
ANSWERS: dict[str, tuple[str, int, dict[str, str], bytes, int, float | None]] = {
    "a 200 is final": ("app-only", 200, {}, b"", 1, None),
    "a 500 waits the backoff": ("app-only", 500, {}, b"", 1, 0.5),
    "a 502 waits the backoff": ("app-only", 502, {}, b"", 1, 0.5),
    "a 503 waits the backoff": ("app-only", 503, {}, b"", 1, 0.5),
    "a 504 waits the backoff": ("app-only", 504, {}, b"", 1, 0.5),
    "a 429 without headers waits the backoff": ("app-only", 429, {}, b"", 1, 0.5),
    "the backoff doubles": ("app-only", 503, {}, b"", 3, 2.0),
    "the backoff stops at 10 s": ("app-only", 503, {}, b"", 9, 10.0),
    "a 400 is final": ("app-only", 400, {}, b"", 1, None),
    "a 401 is final": ("app-only", 401, {}, b"", 1, None),
    "a 403 is final": ("app-only", 403, {}, b"", 1, None),
    "a 404 is final": ("app-only", 404, {}, b"", 1, None),
    "a 413 is final even with Retry-After": ("app-only", 413, {"Retry-After": "1"}, b"", 1, None),
    "a 501 is final": ("app-only", 501, {}, b"", 1, None),
    "Retry-After in seconds": ("app-only", 429, {"Retry-After": "7"}, b"", 1, 7.0),
    "Retry-After on a 503": ("app-only", 503, {"Retry-After": "7"}, b"", 1, 7.0),
    "Retry-After 0": ("app-only", 503, {"Retry-After": "0"}, b"", 1, 0.0),
    "Retry-After as an HTTP-date": ("app-only", 429, {"Retry-After": _at(30)}, b"", 1, 30.0),
    "Retry-After a date past": ("app-only", 429, {"Retry-After": _at(-30)}, b"", 1, 0.0),
    "Retry-After neither: the backoff": ("app-only", 429, {"Retry-After": "soon"}, b"", 1, 0.5),
    "Retry-After negative: the backoff": ("app-only", 429, {"Retry-After": "-5"}, b"", 1, 0.5),
    "X's reset on a 429": ("app-only", 429, _x_reset(42), b"", 1, 42.0),
    "X's reset past: at once": ("app-only", 429, _x_reset(-5), b"", 1, 0.0),
    "Retry-After before X's reset":
        ("app-only", 429, {"Retry-After": "3", **_x_reset(42)}, b"", 1, 3.0),
    "X's reset only for a 429": ("app-only", 503, _x_reset(42), b"", 1, 0.5),
    "X's reset not ASCII digits: the backoff":
        ("app-only", 429, {"x-rate-limit-reset": "１７００００００４２"}, b"", 1, 0.5),
    "X's reset beyond 10 digits: the backoff":
        ("app-only", 429, {"x-rate-limit-reset": "17000000420"}, b"", 1, 0.5),
    "a secondary limit's words mean nothing from X": ("app-only", 403, {}, SECONDARY, 1, None),
    "a refresh's 429: X did not act": ("refresh", 429, {}, b"", 1, 0.5),
    "a refresh's 503: X did not act": ("refresh", 503, {}, b"", 1, 0.5),
    "a refresh's 429 after X's reset": ("refresh", 429, _x_reset(9), b"", 1, 9.0),
    "a refresh's 500 may come after X rotated": ("refresh", 500, {}, b"", 1, None),
    "a refresh's 502 may come after X rotated": ("refresh", 502, {}, b"", 1, None),
    "a refresh's 504 may come after X rotated": ("refresh", 504, {}, b"", 1, None),
    "a refresh's 400 is final": ("refresh", 400, {}, b"", 1, None),
    "GitHub's 5xx waits the backoff": ("github", 502, {}, b"", 2, 1.0),
    "GitHub's plain 403 is a refusal": ("github", 403, {}, b'{"message": "Forbidden"}', 1, None),
    "GitHub's primary limit: until its reset": ("github", 403, _github("0", IN_100), b"", 1, 100.0),
    "GitHub's primary limit as a 429": ("github", 429, _github("0", IN_100), b"", 1, 100.0),
    "GitHub's primary limit past its reset":
        ("github", 403, _github("0", str(int(NOW) - 1)), b"", 1, 0.0),
    "GitHub's primary limit, Retry-After first":
        ("github", 403, _github("0", IN_100, **{"Retry-After": "5"}), b"", 1, 5.0),
    "GitHub's requests left: a refusal": ("github", 403, _github("1", IN_100), b"", 1, None),
    "GitHub's remaining 0 without a reset: a refusal":
        ("github", 403, _github("0", "soon"), b"", 1, None),
    "GitHub's secondary limit: a minute": ("github", 403, {}, SECONDARY, 1, 60.0),
    "GitHub's secondary limit as a 429": ("github", 429, {}, SECONDARY, 1, 60.0),
    "GitHub's secondary limit, Retry-After first":
        ("github", 403, {"Retry-After": "9"}, SECONDARY, 1, 9.0),
    "GitHub's 429 without a limit: the backoff": ("github", 429, {}, b"{}", 1, 0.5),
}
# fmt: on


@pytest.mark.parametrize(
    ("policy", "status", "headers", "body", "attempt", "wait"), ANSWERS.values(), ids=ANSWERS.keys()
)
def test_an_answer_is_retried_after_the_wait_its_status_and_headers_say(
    policy: str, status: int, headers: dict[str, str], body: bytes, attempt: int, wait: float | None
) -> None:
    chosen = POLICIES[policy]
    assert chosen.reads_body(status) is (policy == "github" and status in (403, 429))
    assert chosen.wait_after_answer(status, headers, body, attempt, NOW) == wait


# --- The count and the budget -----------------------------------------------------------
# (wait, attempt, retries, seconds left) -> another attempt
ALLOWS = [
    (1.0, 1, 3, 10.0, True),
    (10.0, 1, 3, 10.0, True),  # exactly what is left
    (10.5, 1, 3, 10.0, False),  # beyond the budget
    (1.0, 3, 3, 10.0, True),  # the last retry
    (1.0, 4, 3, 10.0, False),  # retries used up
    (0.0, 1, 0, 10.0, False),  # retries 0: one attempt
    (0.0, 1, 1, 0.0, True),
    (0.1, 1, 1, -1.0, False),  # the budget already spent
]


@pytest.mark.parametrize(("wait", "attempt", "retries", "left", "allowed"), ALLOWS)
def test_a_retry_needs_a_retry_left_and_a_wait_within_the_budget(
    wait: float, attempt: int, retries: int, left: float, allowed: bool
) -> None:
    assert RetryPolicy.allows(wait, attempt, retries, left) is allowed


@pytest.mark.parametrize(
    ("retries", "timeout", "budget"), [(0, 10, 10), (3, 10, 100), (1, 0.5, 21), (10, 1, 211)]
)
def test_the_budget_is_the_attempts_timeouts_and_twenty_seconds_per_retry(
    retries: int, timeout: float, budget: float
) -> None:
    assert RetryPolicy.budget(retries, timeout) == budget
    assert Endpoint("https://api.x.com", timeout, retries, None, CLI_TERMS).budget == budget


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8])
def test_the_backoff_is_jittered_by_at_most_half_a_second(attempt: int) -> None:
    base = min(10.0, 0.5 * 2 ** (attempt - 1))
    waits = {RetryPolicy().backoff_after(attempt) for _ in range(200)}
    assert all(base <= wait <= base + 0.5 for wait in waits)
    assert len(waits) > 1  # jittered, so runs that failed together come back apart


# --- The headers' values --------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 120 ", 120.0),
        ("9999999999", 9999999999.0),
        ("99999999999", None),
        ("1.5", None),
        ("-1", None),
        ("", None),
        ("٣", None),  # a digit, not an ASCII one
        (_at(60), 60.0),
        (_at(-60), 0.0),
        ("Sun, 31 Dec 9999 23:59:59 GMT", 253402300799.0 - NOW),
        ("Mon, 99 Foo 2024 00:00:00 GMT", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("1700000000", 1700000000),
        (" 42\n", 42),
        ("", None),
        ("1e9", None),
        ("12345678901", None),
        ("١٢", None),
    ],
)
def test_a_reset_is_a_unix_time_in_ascii_digits(value: str, moment: int | None) -> None:
    assert epoch(value) == moment
