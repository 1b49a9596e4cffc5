"""HTTP transport: one POST with retries, backoff and a hard time budget.

Each attempt is a new request, prepared (and, for OAuth 1.0a, signed) afresh; a
retried answer's body is never read, and the whole exchange, waits included,
ends within the budget however the server behaves.
"""

from __future__ import annotations

import http.client
import random
import re
import signal
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import FrameType
from urllib.parse import urlsplit

import requests
import urllib3
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from . import __version__
from .errors import ActionError, Terms, clean

USER_AGENT = f"x-bearer-token-action/{__version__} python-requests/{requests.__version__}"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
MAX_BODY = 64 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WAIT_PER_RETRY = 20.0  # seconds of backoff or server-asked wait that each retry may add
BACKOFF, BACKOFF_MAX, JITTER = 0.5, 10.0, 0.5
_EPOCH = re.compile(r"[0-9]{1,10}")  # ASCII digits only; 10 digits reach the year 2286
_RETRYABLE = (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError)
_TLS = (requests.exceptions.SSLError, urllib3.exceptions.SSLError)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect, and the words for telling the user what went wrong."""

    api_url: str
    timeout: float
    retries: int
    ca_bundle: str | None
    terms: Terms

    @property
    def host(self) -> str:
        """The API host, for messages."""
        return urlsplit(self.api_url).netloc

    @property
    def budget(self) -> float:
        """Seconds the whole exchange may take: (retries + 1) x timeout + 20 s per retry."""
        return (self.retries + 1) * self.timeout + self.retries * WAIT_PER_RETRY


@dataclass(frozen=True)
class Answer:
    """The final answer: status, headers, body (at most MAX_BODY), attempts made."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    attempts: int


class _Expired(BaseException):
    """The budget ran out; a BaseException so that no library handler swallows it."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Expired in the main thread after `seconds`, wherever it is blocked.

    Where there is no SIGALRM (Windows, for the command line), only the socket
    timeouts and the retry loop's own clock bound the exchange.
    """

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise _Expired

    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def post(endpoint: Endpoint, path: str, auth: AuthBase, form: str | None = None) -> Answer:
    """POST to the API, retrying network errors, 5xx and 429 within the budget."""
    try:
        with _deadline(endpoint.budget):
            return _attempts(endpoint, path, auth, form)
    except _Expired:
        raise ActionError(
            f"No complete answer from {endpoint.host} within the time budget of "
            f"{endpoint.budget:g} s ((retries + 1) × timeout + 20 s per retry): "
            f"{endpoint.terms.later}."
        ) from None


def _attempts(endpoint: Endpoint, path: str, auth: AuthBase, form: str | None) -> Answer:
    url = endpoint.api_url + path
    give_up = time.monotonic() + endpoint.budget
    headers = {"User-Agent": USER_AGENT, **({"Content-Type": FORM} if form else {})}
    with requests.Session() as session:
        # Nothing from the environment but the proxy: no ~/.netrc credential, no CA
        # bundle variable (config decides whom to trust).
        session.trust_env = False
        attempt = 0
        while True:
            attempt += 1
            last = attempt > endpoint.retries
            try:
                with session.post(
                    url,
                    data=form,
                    headers=headers,
                    auth=auth,
                    timeout=(endpoint.timeout, endpoint.timeout),
                    verify=endpoint.ca_bundle or True,
                    proxies=_proxies(url),
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    wait = None if last else _retry_wait(response, attempt)
                    if wait is None or time.monotonic() + wait > give_up:
                        body = _read(response, endpoint)
                        return Answer(response.status_code, response.headers, body, attempt)
            except _RETRYABLE as exc:
                wait = _backoff(attempt)
                if last or isinstance(exc, _TLS) or time.monotonic() + wait > give_up:
                    raise ActionError(_describe(exc, endpoint, attempt)) from None
            time.sleep(wait)


def _proxies(url: str) -> dict[str, str]:
    """HTTPS_PROXY/NO_PROXY for https; plain http (loopback only) never uses a proxy."""
    return {} if url.startswith("http://") else get_environ_proxies(url)


def _backoff(attempt: int) -> float:
    """Wait after a failed attempt n: 0.5 s x 2^(n-1), at most 10 s, plus up to 0.5 s."""
    return min(BACKOFF_MAX, BACKOFF * 2.0 ** (attempt - 1)) + random.uniform(0, JITTER)  # noqa: S311


def _retry_wait(response: requests.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying this answer, or None if it is final."""
    if response.status_code not in RETRY_STATUSES:
        return None
    asked = retry_after(response.headers.get("Retry-After", ""))
    if asked is None and response.status_code == 429:
        reset = epoch(response.headers.get("x-rate-limit-reset", ""))
        asked = None if reset is None else max(0.0, reset - time.time())
    return _backoff(attempt) if asked is None else asked


def epoch(value: str) -> int | None:
    """A Unix time in ASCII digits within range (x-rate-limit-reset), or None."""
    value = value.strip()
    return int(value) if _EPOCH.fullmatch(value) else None


def retry_after(value: str) -> float | None:
    """Retry-After in seconds: delay-seconds or an HTTP-date; None if neither."""
    value = value.strip()
    if _EPOCH.fullmatch(value):
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _read(response: requests.Response, endpoint: Endpoint) -> bytes:
    """The decoded body, at most MAX_BODY bytes; the deadline bounds the time."""
    body: bytes = response.raw.read(MAX_BODY + 1, decode_content=True)
    if len(body) > MAX_BODY:
        raise ActionError(
            f"{endpoint.host} sent more than {MAX_BODY // 1024} KiB (HTTP "
            f"{response.status_code}): check {endpoint.terms.name('api-url')}."
        )
    return body


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: requests -> urllib3 -> socket/ssl errors."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__]
        nested += list(current.args)
        todo += [n for n in nested if isinstance(n, BaseException)]


def _reason(causes: list[BaseException]) -> str:
    """What broke a connection, from the socket or http.client (never a URL)."""
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return clean(cause.strerror, limit=80)
        if isinstance(cause, http.client.HTTPException):
            # Subclasses can carry the server's own bytes (a status line): name them only.
            exact = type(cause) is http.client.HTTPException  # "got more than 100 headers"
            return clean(str(cause), limit=80) if exact else type(cause).__name__
    return ""


def _describe(exc: Exception, endpoint: Endpoint, attempts: int) -> str:
    """Say what happened, from exception types: their own text may hold URLs."""
    host, terms = endpoint.host, endpoint.terms
    api_url, timeout = terms.name("api-url"), terms.name("timeout")
    causes = list(_causes(exc))
    tried = f"{attempts} attempt{'s' if attempts > 1 else ''}"
    detail = f" ({'; '.join(filter(None, [_reason(causes), tried]))})"
    if isinstance(exc, _TLS):
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return (
                    f"TLS connection to {host} failed: its certificate is not trusted "
                    f"({clean(cause.verify_message, limit=120)}). Behind a TLS-inspecting proxy "
                    f"or with a private CA, set {terms.name('ca-bundle')} to a PEM file of the "
                    "CA certificates to trust."
                )
        reasons = [str(c.reason) for c in causes if isinstance(c, ssl.SSLError) and c.reason]
        shown = f" ({clean(reasons[0], limit=80)})" if reasons else ""
        return (
            f"TLS handshake with {host} failed{shown}: no HTTPS server answered there; check "
            f"that {api_url} has the right scheme, host and port."
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return (
            f"Could not reach {host} through the proxy in HTTPS_PROXY{detail}: check the proxy, "
            "or list the host in NO_PROXY."
        )
    if any(isinstance(c, NewConnectionError) for c in causes):
        return f"Could not connect to {host}{detail}: check {api_url} and {terms.network}."
    if any(isinstance(c, ConnectTimeoutError) for c in causes):
        return (
            f"Could not connect to {host} within {endpoint.timeout:g} s ({tried}): check "
            f"{api_url} and {terms.network}, or raise {timeout}."
        )
    if any(isinstance(c, (ReadTimeoutError, TimeoutError)) for c in causes):
        return (
            f"{host} sent nothing for {endpoint.timeout:g} s ({tried}): raise {timeout} or "
            f"{terms.later}."
        )
    if any(isinstance(c, DecodeError) for c in causes):
        return f"The answer from {host} could not be decompressed ({tried}): {terms.later}."
    if any(isinstance(c, ProtocolError) for c in causes):
        return (
            f"The connection to {host} broke before a complete answer arrived{detail}: "
            f"{terms.later}."
        )
    return f"The request to {host} failed ({type(exc).__name__}; {tried}): {terms.later}."
