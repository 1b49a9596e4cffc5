"""A failed exchange: its facts, the error that carries them, and their words.

transport.py classifies a failure once into a `Fault` (the kind of cause, whether the
request may have been sent and whether another attempt may go otherwise, the words of
the socket, http.client or the TLS library, the attempts) and holds no wording; it
raises it as a `NotSent` or a `MaybeArrived` (requests' exceptions are the model), so
a caller that must know whether the server may have acted branches with `except`.
This module says the facts in the terms of where the code runs, never quoting an
exception's own text (it may hold URLs), only the parts of it that name what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import ActionError, clean

if TYPE_CHECKING:
    from .transport import Endpoint


class Cause(Enum):
    """What broke an exchange, in the order a failure is told (the first that fits)."""

    UNTRUSTED = auto()  # the server's certificate is not trusted
    TLS_CUT = auto()  # the server cut the TLS connection off
    TLS = auto()  # any other TLS failure: no HTTPS server there, no common protocol
    PROXY = auto()  # the proxy could not be reached or refused the tunnel
    UNRESOLVED = auto()  # the host name does not resolve
    UNREACHABLE = auto()  # the connection was refused or failed
    CONNECT_TIMEOUT = auto()  # no connection within the timeout
    SILENT = auto()  # connected, but nothing came within the timeout
    UNDECODABLE = auto()  # the body could not be decompressed
    BROKEN = auto()  # the connection broke before a complete answer
    MALFORMED_HEADER = auto()  # a header that cannot be parsed
    OTHER = auto()  # none of these: named by the exception's type
    TOO_BIG = auto()  # the body is longer than transport reads
    OVER_BUDGET = auto()  # no complete answer within the time budget


@dataclass(frozen=True)
class Fault:
    """The facts of a failure, gathered by transport.py.

    `reason` is what the socket or http.client said (a strerror, or an HTTPException's
    name); `detail` what the TLS library said (a certificate's verify message, an SSL
    reason); `error` and `innermost` the outermost and innermost exception types;
    `status` and `limit` an answer's status and the bound it broke (bytes of a body,
    or the seconds each retry may add to the budget).

    `sent` is False only if nothing of the request left: the name did not resolve, no
    connection (to the proxy either), no TLS handshake. `transient` says that another
    attempt may go otherwise (the network failed), where a verdict (an untrusted
    certificate, a name that does not exist, no HTTPS server there) would come again.
    """

    cause: Cause
    attempts: int = 0
    reason: str = ""
    detail: str = ""
    error: str = ""
    innermost: str = ""
    status: int = 0
    limit: float = 0
    sent: bool = True
    transient: bool = False


class TransportError(ActionError):
    """No (complete) answer: the facts of what broke it (`fault`), said by `describe`.
    Raised as one of its two kinds (`raised` picks it), which tell a caller what it may
    assume of the server."""

    def __init__(self, fault: Fault, endpoint: Endpoint) -> None:
        super().__init__(describe(fault, endpoint))
        self.fault = fault

    @staticmethod
    def raised(fault: Fault, endpoint: Endpoint) -> TransportError:
        """The error for this fault: NotSent or MaybeArrived, as `fault.sent` says."""
        return MaybeArrived(fault, endpoint) if fault.sent else NotSent(fault, endpoint)


class NotSent(TransportError):
    """Nothing of the request reached the server, so it cannot have acted on it."""


class MaybeArrived(TransportError):
    """The request may have reached the server, which may then have acted on it (a
    refresh: rotated the token) though its answer was lost."""


def short(fault: Fault) -> str:
    """A few words for what broke an attempt, for a retry line or a broken body."""
    return clean(fault.reason, limit=80) or fault.innermost


def retrying(endpoint: Endpoint, what: Fault | int, wait: float, attempt: int) -> str:
    """The line said before a retry: what broke the attempt (or its HTTP status)."""
    said = f"HTTP {what}" if isinstance(what, int) else short(what)
    return (
        f"{said} from {endpoint.host}; retrying in {wait:.1f} s "
        f"(attempt {attempt + 1} of {endpoint.retries + 1})."
    )


def describe(fault: Fault, endpoint: Endpoint) -> str:
    """Say what happened and what to do about it."""
    host, terms = endpoint.host, endpoint.terms
    api_url, timeout = terms.name(endpoint.url_setting), terms.name("timeout")
    tried = f"{fault.attempts} attempt{'s' if fault.attempts > 1 else ''}"
    reason = clean(fault.reason, limit=80)
    detail = f" ({'; '.join(filter(None, [reason, tried]))})"
    tls = f" ({clean(fault.detail, limit=80)}; {tried})" if fault.detail else f" ({tried})"
    cause = fault.cause
    if cause is Cause.UNTRUSTED:
        return (
            f"TLS connection to {host} failed: its certificate is not trusted "
            f"({clean(fault.detail, limit=120)}). Behind a TLS-inspecting proxy or with a "
            f"private CA, set {terms.name('ca-bundle')} to a PEM file of the CA certificates "
            "to trust."
        )
    if cause is Cause.TLS_CUT:
        return terms.say(
            action=f"TLS handshake with {host} was cut off by the server{tls}: re-run the job "
            "later, or check a proxy in between.",
            cli=f"TLS handshake with {host} was cut off by the server{tls}: try again later, "
            "or check a proxy in between.",
        )
    if cause is Cause.TLS:
        return (
            f"TLS handshake with {host} failed{tls}: no HTTPS server answered there; check "
            f"that {api_url} has the right scheme, host and port."
        )
    if cause is Cause.PROXY:
        return (
            f"Could not reach {host} through the proxy{detail}: check the proxy, or list the "
            "host in NO_PROXY."
        )
    if cause is Cause.UNRESOLVED:
        return f"Could not resolve {urlsplit(endpoint.api_url).hostname}{detail}: check {api_url}."
    if cause is Cause.UNREACHABLE:
        return terms.say(
            action=f"Could not connect to {host}{detail}: check {api_url} and the runner's "
            "network.",
            cli=f"Could not connect to {host}{detail}: check {api_url} and this machine's network.",
        )
    if cause is Cause.CONNECT_TIMEOUT:
        seconds = endpoint.timeout
        return terms.say(
            action=f"Could not connect to {host} within {seconds:g} s ({tried}): check "
            f"{api_url} and the runner's network, or raise {timeout}.",
            cli=f"Could not connect to {host} within {seconds:g} s ({tried}): check "
            f"{api_url} and this machine's network, or raise {timeout}.",
        )
    if cause is Cause.SILENT:
        seconds = endpoint.timeout
        return terms.say(
            action=f"{host} sent nothing for {seconds:g} s ({tried}): raise {timeout} or "
            "re-run the job later.",
            cli=f"{host} sent nothing for {seconds:g} s ({tried}): raise {timeout} or try "
            "again later.",
        )
    if cause is Cause.UNDECODABLE:
        return terms.say(
            action=f"The answer from {host} could not be decompressed ({tried}): re-run the "
            "job later.",
            cli=f"The answer from {host} could not be decompressed ({tried}): try again later.",
        )
    if cause is Cause.BROKEN:
        return terms.say(
            action=f"The connection to {host} broke before a complete answer arrived{detail}: "
            "re-run the job later.",
            cli=f"The connection to {host} broke before a complete answer arrived{detail}: "
            "try again later.",
        )
    if cause is Cause.MALFORMED_HEADER:
        return f"{host} answered with a malformed header ({tried}): check {api_url}."
    if cause is Cause.TOO_BIG:
        return (
            f"{host} sent more than {fault.limit // 1024:g} KiB (HTTP {fault.status}): check "
            f"{api_url}."
        )
    if cause is Cause.OVER_BUDGET:
        budget, per_retry = endpoint.budget, fault.limit
        return terms.say(
            action=f"No complete answer from {host} within the time budget of {budget:g} s "
            f"((retries + 1) × timeout + {per_retry:g} s per retry): re-run the job later.",
            cli=f"No complete answer from {host} within the time budget of {budget:g} s "
            f"((retries + 1) × timeout + {per_retry:g} s per retry): try again later.",
        )
    return terms.say(
        action=f"The request to {host} failed ({fault.error}; {tried}): re-run the job later.",
        cli=f"The request to {host} failed ({fault.error}; {tried}): try again later.",
    )
