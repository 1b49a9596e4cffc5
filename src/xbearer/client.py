"""HTTP client for X's OAuth 2 app-only endpoints: token request and revocation."""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from . import __version__
from .errors import ActionError

USER_AGENT = f"x-bearer-token-action/{__version__} python-requests/{requests.__version__}"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
MAX_BODY = 64 * 1024
MAX_TOKEN = 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WAIT_PER_RETRY = 20.0  # seconds of back-off or Retry-After wait that each retry may add

# The b64token alphabet of RFC 6750, checked on the percent-decoded token (X's
# tokens carry '=' inside, so anywhere); the token as sent may also carry %XX
# escapes. Nothing else: no whitespace, no ':' of workflow commands.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/=]+")
_ENCODED = re.compile(r"(?:[A-Za-z0-9\-._~+/=]|%[0-9A-Fa-f]{2})+")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]+")

_HINTS = {
    32: "X could not authenticate the request: check the key, secret and access token.",
    89: "the token is invalid or expired: request a new one.",
    99: "check that api-key/api-secret hold the app's API key and secret, not an access "
    "token (X also answers 99 when tokens are requested too often).",
    130: "X is over capacity: re-run the job later.",
    170: "the request lacked grant_type=client_credentials: a proxy may have dropped the body.",
}


@dataclass(frozen=True)
class Credentials:
    """An app's API key and secret."""

    key: str
    secret: str

    @property
    def basic(self) -> str:
        """The Basic credential X asks for: base64 of RFC 1738-encoded key ':' secret."""
        pair = f"{quote(self.key, safe='')}:{quote(self.secret, safe='')}"
        return base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True)
class Token:
    """A bearer token exactly as X sent it, and how many attempts it took."""

    value: str
    attempts: int


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: base URL, per-attempt timeout, retries, CA bundle."""

    api_url: str
    timeout: float
    retries: int
    ca_bundle: str | None = None

    @property
    def host(self) -> str:
        """The API host, for messages."""
        return urlsplit(self.api_url).netloc


class PatientRetry(Retry):
    """urllib3 retries that also honour x-rate-limit-reset and stop at a deadline."""

    def __init__(self, *args: Any, deadline: float = float("inf"), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def new(self, **kw: Any) -> PatientRetry:
        kw.setdefault("deadline", self.deadline)
        return super().new(**kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            after = super().get_retry_after(response)
        except InvalidHeader:
            after = None
        reset = response.headers.get("x-rate-limit-reset", "")
        if after is None and response.status == 429 and reset.isdigit():
            after = max(0.0, int(reset) - time.time())
        return after

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> PatientRetry:
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = new.get_retry_after(response) if response is not None else None
        if time.monotonic() + (new.get_backoff_time() if wait is None else wait) > self.deadline:
            reason = error or ResponseError("time budget exhausted")
            raise MaxRetryError(_pool, url, reason)  # type: ignore[arg-type]  # as urllib3 does
        return new


def _session(endpoint: Endpoint, deadline: float) -> requests.Session:
    retry = PatientRetry(
        total=endpoint.retries,
        redirect=0,
        raise_on_redirect=False,
        raise_on_status=False,
        allowed_methods=None,  # POST too: asking twice yields the same token
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.5,
        backoff_jitter=0.5,
        backoff_max=10,
        deadline=deadline,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def request_token(creds: Credentials, endpoint: Endpoint) -> Token:
    """POST oauth2/token with grant_type=client_credentials; return the validated token."""
    secrets = (creds.key, creds.secret, creds.basic)
    status, body, attempts, headers = _post(
        endpoint,
        "/oauth2/token",
        secrets,
        headers={"Authorization": f"Basic {creds.basic}", "Content-Type": FORM},
        data="grant_type=client_credentials",
    )
    if status != 200:
        raise ActionError(
            f"Token request failed after {attempts} attempt(s): "
            + _describe_refusal(status, body, headers, secrets, endpoint)
        )
    return Token(_parse_token(body), attempts)


def invalidate_token(
    creds: Credentials, token: str, endpoint: Endpoint, oauth1_token: tuple[str, str] | None
) -> None:
    """POST oauth2/invalidate_token: OAuth 1.0a-signed with an access token, else Basic."""
    decoded = unquote(token)
    secrets: tuple[str, ...] = (creds.key, creds.secret, creds.basic, token, decoded)
    query = urlencode({"access_token": decoded})
    if oauth1_token is not None:
        from requests_oauthlib import OAuth1  # only this mode needs oauthlib

        secrets += oauth1_token
        auth = OAuth1(creds.key, creds.secret, *oauth1_token)
        status, body, _, headers = _post(
            endpoint, f"/oauth2/invalidate_token?{query}", secrets, auth=auth
        )
    else:
        status, body, _, headers = _post(
            endpoint,
            "/oauth2/invalidate_token",
            secrets,
            headers={"Authorization": f"Basic {creds.basic}", "Content-Type": FORM},
            data=query,
        )
    if status != 200:
        raise ActionError(
            "X refused to revoke the token: "
            + _describe_refusal(status, body, headers, secrets, endpoint)
        )


def _post(
    endpoint: Endpoint, path: str, secrets: Sequence[str], **kwargs: Any
) -> tuple[int, bytes, int, requests.structures.CaseInsensitiveDict[str]]:
    """POST with retries; return status, body (bounded in size and time), attempts, headers."""
    budget = (endpoint.retries + 1) * endpoint.timeout + endpoint.retries * WAIT_PER_RETRY
    deadline = time.monotonic() + budget
    session = _session(endpoint, deadline)
    try:
        with session.post(
            endpoint.api_url + path,
            timeout=(endpoint.timeout, endpoint.timeout),
            verify=endpoint.ca_bundle or True,
            allow_redirects=False,
            stream=True,
            **kwargs,
        ) as response:
            body = _read_bounded(response, deadline)
            retries = getattr(response.raw, "retries", None)
            attempts = 1 + len(retries.history) if retries is not None else 1
            return response.status_code, body, attempts, response.headers
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise ActionError(_describe_network_error(exc, endpoint)) from None
    finally:
        session.close()


def _read_bounded(response: requests.Response, deadline: float) -> bytes:
    """Read the body as it arrives (at most one recv a call), bounded in size and time."""
    body = bytearray()
    while chunk := response.raw.read1(8192, decode_content=True):
        body += chunk
        if len(body) > MAX_BODY:
            raise ActionError(
                f"The X API sent more than {MAX_BODY // 1024} KiB (HTTP {response.status_code}); "
                "check api-url."
            )
        if time.monotonic() > deadline:
            raise ActionError(
                f"The X API's answer (HTTP {response.status_code}) is still arriving after the "
                "time budget of (retries + 1) x timeout + 20 s per retry: re-run the job later."
            )
    return bytes(body)


def _parse_token(body: bytes) -> str:
    """Validate a 200 body; the error never quotes the token."""
    problem = "X API answered 200 without a usable bearer token: "
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise ActionError(problem + "the body is not JSON; check api-url.") from None
    if not isinstance(doc, dict):
        raise ActionError(problem + "the body is not a JSON object.")
    token_type, token = doc.get("token_type"), doc.get("access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ActionError(problem + "token_type is not 'bearer'.")
    if not isinstance(token, str) or not token:
        raise ActionError(problem + "access_token is missing or empty.")
    validate_token(token, problem)
    return token


def validate_token(token: str, problem: str = "") -> None:
    """Refuse anything but a percent-encoded RFC 6750 b64token of sane length."""
    if (
        len(token) > MAX_TOKEN
        or not _ENCODED.fullmatch(token)
        or not _B64TOKEN.fullmatch(unquote(token))
    ):
        raise ActionError(
            problem + f"the access token is not a bearer token (printable, at most {MAX_TOKEN} "
            "characters of the RFC 6750 alphabet); it was not output."
        )


def _clean(text: str, secrets: Sequence[str], limit: int = 200) -> str:
    """Show untrusted text safely: secrets redacted, one printable line, truncated."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _UNPRINTABLE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _x_error(body: bytes, secrets: Sequence[str]) -> tuple[int | None, str]:
    """X's error code and message, from {"errors":[{"code":..,"message":..}]}."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None, ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else doc
    if not isinstance(first, dict):
        return None, ""
    code = first.get("code")
    message = first.get("message") or first.get("error_description") or first.get("error")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        _clean(message, secrets) if isinstance(message, str) else "",
    )


def _describe_refusal(
    status: int,
    body: bytes,
    headers: requests.structures.CaseInsensitiveDict[str],
    secrets: Sequence[str],
    endpoint: Endpoint,
) -> str:
    code, message = _x_error(body, secrets)
    what = f"HTTP {status}"
    if code is not None:
        what += f", code {code}"
    if message:
        what += f": {message}"
    elif body:
        kind = _clean(headers.get("Content-Type", "unknown type"), secrets, 60)
        what += f" with a non-JSON body ({kind}, {len(body)} bytes)"
    if status == 429:
        hint = "rate limited by X" + _reset_time(headers) + ": re-run the job later."
    elif code in _HINTS:
        hint = _HINTS[code]
    elif 300 <= status < 400:
        target = _clean(urlsplit(headers.get("Location", "")).netloc, secrets, 80) or "elsewhere"
        hint = f"{endpoint.host} redirects to {target}: set api-url to the API's own address."
    elif status in (400, 401, 403):
        hint = "check that api-key and api-secret hold the app's API key and API secret key."
    elif status >= 500:
        hint = f"the X API at {endpoint.host} is unavailable: re-run the job later."
    else:
        hint = "check api-url."
    return f"{what} — {hint}"


def _reset_time(headers: requests.structures.CaseInsensitiveDict[str]) -> str:
    reset = headers.get("x-rate-limit-reset", "")
    if not reset.isdigit():
        return ""
    return time.strftime(" until %H:%M:%S UTC", time.gmtime(int(reset)))


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


def _is_timeout(exc: BaseException) -> bool:
    # urllib3's NewConnectionError (refused, unreachable) subclasses ConnectTimeoutError.
    if isinstance(exc, NewConnectionError):
        return False
    return isinstance(
        exc, (requests.exceptions.Timeout, ReadTimeoutError, ConnectTimeoutError, TimeoutError)
    )


def _describe_network_error(exc: Exception, endpoint: Endpoint) -> str:
    """Describe a transport failure from exception types only: their text may hold URLs."""
    host = endpoint.host
    causes = list(_causes(exc))
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        details = [
            e.verify_message if isinstance(e, ssl.SSLCertVerificationError) else str(e.reason)
            for e in causes
            if isinstance(e, ssl.SSLError)
            and (e.reason or isinstance(e, ssl.SSLCertVerificationError))
        ]
        detail = f" ({_clean(details[0], (), 120)})" if details else ""
        return (
            f"TLS connection to {host} failed{detail}. Behind a TLS-inspecting proxy or with a "
            "private CA, set ca-bundle to a PEM file of the CA certificates to trust."
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"Could not reach {host} through the proxy set in HTTPS_PROXY; check the proxy."
    if any(_is_timeout(e) for e in causes):
        return (
            f"No answer from {host} within timeout ({endpoint.timeout:g} s), "
            f"with up to {endpoint.retries} retries: raise timeout or re-run later."
        )
    # Raised by urllib3 itself while the body is read (a reset, a short body, bad gzip).
    if isinstance(exc, (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError)):
        return f"The connection to {host} broke while reading the response: re-run the job."
    if isinstance(exc, requests.exceptions.ConnectionError):
        reasons = [e.strerror for e in causes if isinstance(e, OSError) and e.strerror]
        reason = f" ({_clean(reasons[0], (), 80)})" if reasons else ""
        return (
            f"Could not connect to {host}{reason}, with up to {endpoint.retries} retries: "
            "check api-url and the runner's network."
        )
    return f"Request to {host} failed ({type(exc).__name__})."
