"""HTTP transport: one request with retries, backoff and a hard time budget.

Each attempt is a new request, prepared (and, for OAuth 1.0a, signed) afresh; a
retried answer's body is not read, unless it decides the retry (GitHub's secondary
rate limit says so only in its message). The exchange runs in a worker thread that
the caller waits for no longer than the budget, so nothing that blocks in C (a
name lookup that never answers, a proxy's host name) can stretch it. A failure is
raised as its facts (a `failures.Fault`); failures.py words it.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.ssl_match_hostname import CertificateError

from . import __version__, failures
from .errors import ActionError, Terms
from .failures import Cause, Fault

USER_AGENT = f"x-bearer-token-action/{__version__} python-requests/{requests.__version__}"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
MAX_BODY = 64 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SECONDARY_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute
WAIT_PER_RETRY = 20.0  # seconds of backoff or server-asked wait that each retry may add
BACKOFF, BACKOFF_MAX, JITTER = 0.5, 10.0, 0.5
_EPOCH = re.compile(r"[0-9]{1,10}")  # ASCII digits only; 10 digits reach the year 2286
# Everything a request or a read can raise that says something about the server or
# the network: described, never shown as a traceback.
_FAILURES = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,
)
_TLS = (requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError)


class TransportError(ActionError):
    """No (complete) answer: the facts of what broke it (`fault`, worded by failures.py),
    and whether the request may have reached the server (`arrived`), which may then
    have acted on it."""

    def __init__(self, fault: Fault, endpoint: Endpoint, *, arrived: bool) -> None:
        super().__init__(failures.describe(fault, endpoint))
        self.fault = fault
        self.arrived = arrived


class HandshakeError(urllib3.exceptions.SSLError):
    """A TLS failure while connecting (the handshake, with the server or an HTTPS proxy),
    so before anything of the request was sent. urllib3 raises the same SSLError for
    this and for a TLS failure while reading the answer: `_Connection` tells them apart."""


class _Connection(HTTPSConnection):
    """urllib3's HTTPS connection, raising HandshakeError for a TLS failure in `connect`
    (TCP, a proxy's tunnel, the handshakes: the request is sent only after it)."""

    def connect(self) -> None:
        try:
            super().connect()
        except (ssl.SSLError, CertificateError) as exc:
            raise HandshakeError(exc) from exc  # wrapped as urllib3's pool wraps it


class _Pool(HTTPSConnectionPool):
    ConnectionCls = _Connection


class _Adapter(HTTPAdapter):
    """requests' adapter whose HTTPS pools (direct or through a proxy) use `_Connection`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "https": _Pool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {**manager.pool_classes_by_scheme, "https": _Pool}
        return manager


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect, and the words for telling the user what went wrong.

    `proxy` is the proxy URL decided from the environment (None: connect directly);
    `url_setting` names the setting that holds `api_url`, for messages; `notify`
    hears one line before each retry.
    """

    api_url: str
    timeout: float
    retries: int
    ca_bundle: str | None
    terms: Terms
    proxy: str | None = None
    url_setting: str = "api-url"
    notify: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def host(self) -> str:
        """The API host, for messages."""
        return urlsplit(self.api_url).netloc

    @property
    def budget(self) -> float:
        """Seconds the whole exchange may take: (retries + 1) x timeout + WAIT_PER_RETRY per
        retry."""
        return (self.retries + 1) * self.timeout + self.retries * WAIT_PER_RETRY


@dataclass(frozen=True)
class RetryPolicy:
    """What answer is worth another attempt, and how long to wait for it, from which
    headers (urllib3's `Retry` is the model): one decision for X's and GitHub's requests.

    `statuses` are retried: after Retry-After (seconds or an HTTP-date), else, for a 429,
    X's x-rate-limit-reset, else the backoff. `rate_limits` adds GitHub's rate limits,
    which may come as 403 too: a primary limit (x-ratelimit-remaining 0, wait until
    x-ratelimit-reset), a secondary one (its message says so; Retry-After, else at least
    a minute). Any other 403 is a refusal, and final.
    """

    statuses: frozenset[int] = RETRY_STATUSES
    rate_limits: bool = False

    def reads_body(self, status: int) -> bool:
        """Whether the body decides: only GitHub's message tells a secondary limit."""
        return self.rate_limits and status in (403, 429)

    def rate_limit(self, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        """Which of GitHub's rate limits this answer is ("primary", "secondary"), if any."""
        if not self.reads_body(status):
            return None
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        if remaining == "0" and epoch(headers.get("x-ratelimit-reset", "")) is not None:
            return "primary"
        return "secondary" if b"secondary rate limit" in body else None

    def wait(
        self, status: int, headers: Mapping[str, str], body: bytes, attempt: int
    ) -> float | None:
        """Seconds to wait before retrying this answer, or None if it is final."""
        asked = retry_after(headers.get("Retry-After", ""))
        limit = self.rate_limit(status, headers, body)
        if limit == "primary":
            until = epoch(headers.get("x-ratelimit-reset", "")) or 0
            return max(0.0, until - time.time()) if asked is None else asked
        if limit == "secondary":
            return SECONDARY_WAIT if asked is None else asked
        if status not in self.statuses:
            return None
        if asked is None and status == 429:
            reset = epoch(headers.get("x-rate-limit-reset", ""))
            asked = None if reset is None else max(0.0, reset - time.time())
        return _backoff(attempt) if asked is None else asked


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Request:
    """One request: `replayable` False means the server may act on it even if its
    answer is lost (a refresh that rotates a token), so only a connection never made,
    or an answer in `retry_statuses` that says the server did not act, is retried."""

    method: str
    path: str
    auth: AuthBase | None = None
    form: str | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    replayable: bool = True
    retry: RetryPolicy = DEFAULT_RETRY


@dataclass(frozen=True)
class Answer:
    """The final answer: status, headers, body (at most MAX_BODY), attempts made.

    `broken` names what broke the body off (its bytes are then empty), if it did.
    """

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    attempts: int
    broken: str | None = None
    wait_asked: float | None = None  # a wait the server asked for that the budget could not fit


class Bearer(AuthBase):
    """A bearer token in the Authorization header (RFC 6750): GitHub's token, or an X user
    access token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def post(endpoint: Endpoint, path: str, auth: AuthBase, form: str | None = None) -> Answer:
    """POST a form to the API (see `send`)."""
    return send(endpoint, Request("POST", path, auth, form=form))


def send(endpoint: Endpoint, request: Request) -> Answer:
    """Send the request, retrying what may be retried, within the budget however the
    server (or the resolver) behaves."""
    outcome: list[Answer | BaseException] = []

    def work() -> None:
        try:
            outcome.append(_attempts(endpoint, request))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=work, name="xbearer-http", daemon=True)
    worker.start()
    worker.join(endpoint.budget)
    if not outcome:  # the worker is abandoned; as a daemon it ends with the process
        fault = Fault(Cause.OVER_BUDGET, limit=WAIT_PER_RETRY)
        raise TransportError(fault, endpoint, arrived=True)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _attempts(endpoint: Endpoint, request: Request) -> Answer:
    url = endpoint.api_url + request.path
    give_up = time.monotonic() + endpoint.budget
    headers = {"User-Agent": USER_AGENT, **request.headers}
    if request.form is not None:
        headers.setdefault("Content-Type", FORM)
    proxies = {"http": endpoint.proxy, "https": endpoint.proxy} if endpoint.proxy else {}
    with requests.Session() as session:
        # Nothing from the environment: no ~/.netrc credential, no CA bundle or proxy
        # variable (config decided whom to trust and which proxy to use).
        session.trust_env = False
        session.mount("https://", _Adapter())
        attempt = 0
        while True:
            attempt += 1
            last = attempt > endpoint.retries
            try:
                # Prepared (and signed) afresh for each attempt, and sent by the adapter
                # itself: no redirect is followed, nor its Location parsed.
                prepared = session.prepare_request(
                    requests.Request(
                        request.method,
                        url,
                        data=request.form,
                        json=request.json,
                        headers=headers,
                        auth=request.auth,
                    )
                )
                response = session.get_adapter(url).send(
                    prepared,
                    stream=True,
                    timeout=(endpoint.timeout, endpoint.timeout),
                    verify=endpoint.ca_bundle or True,
                    proxies=proxies,
                )
            except _FAILURES as exc:
                fault, wait = _fault(exc, attempt), _backoff(attempt)
                if last or not _may_retry(exc, request) or time.monotonic() + wait > give_up:
                    raise TransportError(fault, endpoint, arrived=not _connecting(exc)) from None
                _retrying(endpoint, fault, wait, attempt)
                time.sleep(wait)
                continue
            with response:
                status = response.status_code
                try:
                    peek = _read(response, endpoint) if request.retry.reads_body(status) else None
                except _FAILURES as exc:
                    broken = failures.short(_fault(exc, attempt))
                    return Answer(status, response.headers, b"", attempt, broken)
                asked = request.retry.wait(status, response.headers, peek or b"", attempt)
                fits = asked is not None and time.monotonic() + asked <= give_up
                if asked is not None and fits and not last:
                    _retrying(endpoint, status, asked, attempt)
                    time.sleep(asked)
                    continue
                unmet = asked if asked is not None and not fits else None
                if peek is not None:
                    return Answer(status, response.headers, peek, attempt, wait_asked=unmet)
                try:
                    body = _read(response, endpoint)
                except _FAILURES as exc:
                    # A final answer whose body broke off: a 200 is worth another try if
                    # the request is replayable; any other status is reported as it is.
                    fault, wait = _fault(exc, attempt), _backoff(attempt)
                    retry = status == 200 and request.replayable and not last
                    if retry and time.monotonic() + wait <= give_up:
                        _retrying(endpoint, fault, wait, attempt)
                        time.sleep(wait)
                        continue
                    if status == 200:
                        raise TransportError(fault, endpoint, arrived=True) from None
                    return Answer(status, response.headers, b"", attempt, failures.short(fault))
                return Answer(status, response.headers, body, attempt, wait_asked=unmet)


def _retrying(endpoint: Endpoint, what: Fault | int, wait: float, attempt: int) -> None:
    if endpoint.notify is not None:
        endpoint.notify(failures.retrying(endpoint, what, wait, attempt))


def _handshake(causes: list[BaseException]) -> bool:
    """Whether a TLS error came from connecting (before anything was sent); a TLS error
    on sending or reading the answer did not."""
    return any(isinstance(cause, HandshakeError) for cause in causes)


def _connecting(exc: BaseException) -> bool:
    """Whether the attempt failed before the request was sent: resolving a name,
    connecting (to the proxy too) or the TLS handshake."""
    causes = list(_causes(exc))
    return (
        isinstance(exc, requests.exceptions.ProxyError)
        or any(
            isinstance(c, (NewConnectionError, ConnectTimeoutError, socket.gaierror))
            for c in causes
        )
        or _handshake(causes)
    )


def _may_retry(exc: BaseException, request: Request) -> bool:
    """Whether a failed attempt is worth another: never a verdict (a certificate, a
    name that does not exist), and, unless replayable, only if nothing was sent."""
    causes = list(_causes(exc))
    if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
        return False
    gai = [c for c in causes if isinstance(c, socket.gaierror)]
    if gai or any(isinstance(c, NameResolutionError) for c in causes):
        return any(c.errno == socket.EAI_AGAIN for c in gai)  # a resolver's "try again"
    if any(isinstance(c, _TLS) for c in causes):
        # A handshake the server cut off (EOF, reset) is a network fault; any other TLS
        # failure (no HTTPS server there, no common protocol) will happen again. Past the
        # handshake the request was sent: only a replayable one goes again.
        cut = any(
            isinstance(c, (ssl.SSLEOFError, ConnectionResetError))
            or getattr(c, "reason", None) == "UNEXPECTED_EOF_WHILE_READING"
            for c in causes
        )
        return cut and (request.replayable or _handshake(causes))
    if _connecting(exc):
        return True
    # Sent, and then the network failed: only a replayable request is sent again. A
    # malformed answer (a header that cannot be parsed) would come back the same.
    after_sending = (ProtocolError, ReadTimeoutError, DecodeError, TimeoutError, ConnectionError)
    in_flight = isinstance(exc, requests.ConnectionError) or any(
        isinstance(c, after_sending) for c in causes
    )
    return in_flight and request.replayable


def _backoff(attempt: int) -> float:
    """Wait after a failed attempt n: 0.5 s x 2^(n-1), at most 10 s, plus up to 0.5 s."""
    return min(BACKOFF_MAX, BACKOFF * 2.0 ** (attempt - 1)) + random.uniform(0, JITTER)  # noqa: S311


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
    """The decoded body, at most MAX_BODY bytes; the budget bounds the time."""
    body: bytes = response.raw.read(MAX_BODY + 1, decode_content=True)
    if len(body) > MAX_BODY:
        fault = Fault(Cause.TOO_BIG, status=response.status_code, limit=MAX_BODY)
        raise TransportError(fault, endpoint, arrived=True)
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
            return cause.strerror
        if isinstance(cause, http.client.HTTPException):
            # Subclasses can carry the server's own bytes (a status line): name them only.
            exact = type(cause) is http.client.HTTPException  # "got more than 100 headers"
            return str(cause) if exact else type(cause).__name__
    return ""


def _fault(exc: BaseException, attempts: int) -> Fault:
    """The facts of a failed attempt, from exception types: their own text may hold URLs."""
    causes = list(_causes(exc))
    facts = Fault(
        Cause.OTHER,
        attempts,
        reason=_reason(causes),
        error=type(exc).__name__,
        innermost=type(causes[-1]).__name__,
    )
    if any(isinstance(c, _TLS) for c in causes):
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return replace(facts, cause=Cause.UNTRUSTED, detail=cause.verify_message or "")
        reasons = [str(c.reason) for c in causes if isinstance(c, ssl.SSLError) and c.reason]
        cut = any(r == "UNEXPECTED_EOF_WHILE_READING" for r in reasons)
        tls = Cause.TLS_CUT if cut else Cause.TLS
        return replace(facts, cause=tls, detail=reasons[0] if reasons else "")
    kinds: list[tuple[Cause, type[BaseException] | tuple[type[BaseException], ...]]] = [
        (Cause.UNRESOLVED, (NameResolutionError, socket.gaierror)),
        (Cause.UNREACHABLE, NewConnectionError),
        (Cause.CONNECT_TIMEOUT, ConnectTimeoutError),
        (Cause.SILENT, (ReadTimeoutError, TimeoutError)),
        (Cause.UNDECODABLE, DecodeError),
        (Cause.BROKEN, (ProtocolError, ConnectionError)),
    ]
    if isinstance(exc, requests.exceptions.ProxyError):
        return replace(facts, cause=Cause.PROXY)
    for cause_kind, types in kinds:
        if any(isinstance(c, types) for c in causes):
            return replace(facts, cause=cause_kind)
    if isinstance(exc, requests.ConnectionError):
        return replace(facts, cause=Cause.BROKEN)
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return replace(facts, cause=Cause.MALFORMED_HEADER)
    return facts
