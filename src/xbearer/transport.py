"""HTTP transport: one request, attempted as its `RetryPolicy` decides, within a hard
time budget.

Each attempt is a new request, prepared (and, for OAuth 1.0a, signed) afresh; a
retried answer's body is not read, unless it decides the retry (GitHub's secondary
rate limit says so only in its message). A failed attempt is classified once, from its
exception chain, into a `failures.Fault` (what broke it, whether the request may have
been sent, whether it is transient): the policy decides on it, and it is raised as a
`NotSent` or a `MaybeArrived`, which failures.py words. The exchange runs in a worker
thread that the caller waits for no longer than the budget, so nothing that blocks in
C (a name lookup that never answers, a proxy's host name) can stretch it.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
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

from . import __version__, failures, retry
from .errors import Terms
from .failures import Cause, Fault

# Re-exported: what every caller of send catches, where it is sent from.
from .failures import TransportError as TransportError  # noqa: PLC0414
from .retry import RetryPolicy

USER_AGENT = f"x-bearer-token-action/{__version__} python-requests/{requests.__version__}"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
MAX_BODY = 64 * 1024
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
        """Seconds the whole exchange may take (the policy's rule)."""
        return RetryPolicy.budget(self.retries, self.timeout)


@dataclass(frozen=True)
class Request:
    """One request, and what of it may be retried (`retry`: its kind's policy)."""

    method: str
    path: str
    auth: AuthBase | None = None
    form: str | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


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
    """Send the request, retrying what its policy retries, within the budget however the
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
        fault = Fault(Cause.OVER_BUDGET, limit=retry.WAIT_PER_RETRY)
        raise TransportError.raised(fault, endpoint)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


@dataclass(frozen=True)
class _Again:
    """Another attempt, as the policy decided: after what (a fault, or an answer's
    status), in how many seconds."""

    what: Fault | int
    wait: float


def _attempts(endpoint: Endpoint, request: Request) -> Answer:
    """Attempt after attempt until one is final: the one place a retry is announced and
    waited for."""
    with requests.Session() as session:
        # Nothing from the environment: no ~/.netrc credential, no CA bundle or proxy
        # variable (config decided whom to trust and which proxy to use).
        session.trust_env = False
        session.mount("https://", _Adapter())
        exchange = _Exchange(endpoint, request, session, time.monotonic() + endpoint.budget)
        attempt = 1
        while True:
            outcome = exchange.attempt(attempt)
            if isinstance(outcome, Answer):
                return outcome
            if endpoint.notify is not None:
                endpoint.notify(failures.retrying(endpoint, outcome.what, outcome.wait, attempt))
            time.sleep(outcome.wait)
            attempt += 1


@dataclass(frozen=True)
class _Exchange:
    """One request's attempts: the session they share, and the moment the budget ends."""

    endpoint: Endpoint
    request: Request
    session: requests.Session
    deadline: float

    def attempt(self, number: int) -> Answer | _Again:
        """One attempt: its final answer, or the retry its policy decided (the answer
        then unread); a final failure is raised."""
        policy = self.request.retry
        try:
            response = self._response()
        except _FAILURES as exc:
            fault = classify(exc, number)
            if again := self._again(fault, policy.wait_after_fault(fault, number), number):
                return again
            raise TransportError.raised(fault, self.endpoint) from None
        with response:
            status, headers = response.status_code, response.headers
            try:
                peek = _read(response, self.endpoint) if policy.reads_body(status) else None
            except _FAILURES as exc:
                broken = failures.short(classify(exc, number))
                return Answer(status, headers, b"", number, broken)
            asked = policy.wait_after_answer(status, headers, peek or b"", number, time.time())
            if again := self._again(status, asked, number):
                return again
            left = self.deadline - time.monotonic()
            unmet = asked if asked is not None and asked > left else None
            if peek is not None:
                return Answer(status, headers, peek, number, wait_asked=unmet)
            try:
                body = _read(response, self.endpoint)
            except _FAILURES as exc:
                fault = classify(exc, number)
                wait = policy.wait_after_broken_body(status, fault, number)
                if again := self._again(fault, wait, number):
                    return again
                if status == 200:  # a 200 broken off is no answer: it may have arrived
                    raise TransportError.raised(fault, self.endpoint) from None
                return Answer(status, headers, b"", number, failures.short(fault))
            return Answer(status, headers, body, number, wait_asked=unmet)

    def _again(self, what: Fault | int, wait: float | None, number: int) -> _Again | None:
        """The retry after attempt `number`, if the policy decided a wait and allows it
        (retries left, within the budget)."""
        left = self.deadline - time.monotonic()
        if wait is not None and self.request.retry.allows(
            wait, number, self.endpoint.retries, left
        ):
            return _Again(what, wait)
        return None

    def _response(self) -> requests.Response:
        """Send one attempt: prepared (and signed) afresh, and sent by the adapter itself,
        so no redirect is followed, nor its Location parsed."""
        endpoint, request = self.endpoint, self.request
        url = endpoint.api_url + request.path
        headers = {"User-Agent": USER_AGENT, **request.headers}
        if request.form is not None:
            headers.setdefault("Content-Type", FORM)
        proxies = {"http": endpoint.proxy, "https": endpoint.proxy} if endpoint.proxy else {}
        prepared = self.session.prepare_request(
            requests.Request(
                request.method,
                url,
                data=request.form,
                json=request.json,
                headers=headers,
                auth=request.auth,
            )
        )
        return self.session.get_adapter(url).send(
            prepared,
            stream=True,
            timeout=(endpoint.timeout, endpoint.timeout),
            verify=endpoint.ca_bundle or True,
            proxies=proxies,
        )


def _read(response: requests.Response, endpoint: Endpoint) -> bytes:
    """The decoded body, at most MAX_BODY bytes; the budget bounds the time."""
    body: bytes = response.raw.read(MAX_BODY + 1, decode_content=True)
    if len(body) > MAX_BODY:
        fault = Fault(Cause.TOO_BIG, status=response.status_code, limit=MAX_BODY)
        raise TransportError.raised(fault, endpoint)
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


# What broke an attempt, after TLS and the proxy, in the order a failure is told.
_KINDS: list[tuple[Cause, tuple[type[BaseException], ...]]] = [
    (Cause.UNRESOLVED, (NameResolutionError, socket.gaierror)),
    (Cause.UNREACHABLE, (NewConnectionError,)),
    (Cause.CONNECT_TIMEOUT, (ConnectTimeoutError,)),
    (Cause.SILENT, (ReadTimeoutError, TimeoutError)),
    (Cause.UNDECODABLE, (DecodeError,)),
    (Cause.BROKEN, (ProtocolError, ConnectionError, requests.ConnectionError)),
    (Cause.MALFORMED_HEADER, (requests.exceptions.InvalidHeader,)),
]
# The network failed, so another attempt may go otherwise (a name that does not resolve
# depends on the resolver's answer: only its "try again" is transient).
_TRANSIENT = frozenset(
    {
        Cause.TLS_CUT,
        Cause.PROXY,
        Cause.UNREACHABLE,
        Cause.CONNECT_TIMEOUT,
        Cause.SILENT,
        Cause.UNDECODABLE,
        Cause.BROKEN,
    }
)


def classify(exc: BaseException, attempts: int) -> Fault:
    """The facts of a failed attempt, from the exception and what it wraps, walked once:
    what broke it, whether the request may have been sent, and whether another attempt
    may go otherwise. From exception types only: their own text may hold URLs."""
    causes = list(_causes(exc))

    def has(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    facts = Fault(
        Cause.OTHER,
        attempts,
        reason=_reason(causes),
        error=type(exc).__name__,
        innermost=type(causes[-1]).__name__,
        # Nothing left before these: resolving a name, connecting (to the proxy too),
        # the TLS handshake (urllib3 raises the same SSLError after it: `_Connection`).
        sent=not (
            isinstance(exc, requests.exceptions.ProxyError)
            or has(NewConnectionError, ConnectTimeoutError, socket.gaierror, HandshakeError)
        ),
    )
    if has(*_TLS):
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return replace(facts, cause=Cause.UNTRUSTED, detail=cause.verify_message or "")
        said = (getattr(c, "reason", None) for c in causes if isinstance(c, ssl.SSLError))
        reasons = [str(reason) for reason in said if reason]
        # Cut off by the server (EOF, reset) is the network's fault; any other TLS failure
        # (no HTTPS server there, no common protocol) will happen again.
        eof = "UNEXPECTED_EOF_WHILE_READING" in reasons
        tls = Cause.TLS_CUT if eof or has(ssl.SSLEOFError, ConnectionResetError) else Cause.TLS
        facts = replace(facts, cause=tls, detail=reasons[0] if reasons else "")
    elif isinstance(exc, requests.exceptions.ProxyError):
        facts = replace(facts, cause=Cause.PROXY)
    else:
        kind = next((cause for cause, types in _KINDS if has(*types)), Cause.OTHER)
        facts = replace(facts, cause=kind)
    errnos = [c.errno for c in causes if isinstance(c, socket.gaierror)]
    if errnos or has(NameResolutionError):  # the proxy's name, or the API's
        return replace(facts, transient=socket.EAI_AGAIN in errnos)
    return replace(facts, transient=facts.cause in _TRANSIENT)
