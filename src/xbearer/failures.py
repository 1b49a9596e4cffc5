"""The words for a failed exchange: what broke it, a retry, the time budget.

transport.py gathers the facts (a `Fault`: the kind of cause, the words of the socket,
http.client or the TLS library, the attempts) and holds no wording; this module says
them in the terms of where the code runs, never quoting an exception's own text (it
may hold URLs), only the parts of it that name what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import clean

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
    """

    cause: Cause
    attempts: int = 0
    reason: str = ""
    detail: str = ""
    error: str = ""
    innermost: str = ""
    status: int = 0
    limit: float = 0


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
