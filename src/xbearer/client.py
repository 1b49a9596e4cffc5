"""Client for X's OAuth 2 app-only endpoints: the token request and its revocation."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode, urlsplit

from requests.auth import HTTPBasicAuth

from . import retry, transport
from .answers import describe_refusal, json_object, validate_token, x_error
from .errors import ActionError, clean
from .transport import Answer, Endpoint


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

    def auth(self) -> HTTPBasicAuth:
        """requests' Basic auth of the RFC 1738-encoded key and secret: `basic` on the wire."""
        return HTTPBasicAuth(quote(self.key, safe=""), quote(self.secret, safe=""))


@dataclass(frozen=True)
class Token:
    """A bearer token exactly as X sent it, and how many attempts it took."""

    value: str
    attempts: int


def request_token(creds: Credentials, endpoint: Endpoint) -> Token:
    """POST oauth2/token with grant_type=client_credentials; return the validated token."""
    answer = transport.post(
        endpoint, "/oauth2/token", creds.auth(), form="grant_type=client_credentials"
    )
    if answer.status != 200:
        raise ActionError(
            f"Token request failed after {answer.attempts} attempt(s): "
            + refusal(answer, (creds.key, creds.secret, creds.basic), endpoint)
        )
    return Token(_parse_token(answer.body, endpoint), answer.attempts)


def invalidate_token(
    creds: Credentials, token: str, endpoint: Endpoint, oauth1_token: tuple[str, str] | None
) -> str:
    """POST oauth2/invalidate_token (OAuth 1.0a-signed, else Basic); say what happened."""
    query = urlencode({"access_token": unquote(token)})
    secrets: tuple[str, ...] = (creds.key, creds.secret, creds.basic, token, unquote(token))
    if oauth1_token is not None:
        from requests_oauthlib import OAuth1  # only this mode needs oauthlib

        secrets += oauth1_token
        signed = OAuth1(creds.key, creds.secret, *oauth1_token)  # signs each attempt afresh
        answer = transport.post(endpoint, f"/oauth2/invalidate_token?{query}", signed)
    else:
        answer = transport.post(endpoint, "/oauth2/invalidate_token", creds.auth(), form=query)
    if answer.status == 200 and _echoes(answer.body, token):
        return f"Revoked the bearer token at {endpoint.host}."
    if answer.attempts > 1 and answer.status == 401 and x_error(answer.body, ())[0] == 89:
        # An earlier attempt reached X but its answer was lost: the token is gone.
        return (
            f"Revoked the bearer token at {endpoint.host} (an earlier attempt's answer was "
            "lost; X now reports the token invalid)."
        )
    if answer.status == 200:
        raise ActionError(
            f"{endpoint.host} answered HTTP 200 without X's confirmation (the token echoed as "
            "access_token): the token may still be live; check "
            f"{endpoint.terms.name('api-url')}."
        )
    raise ActionError("X refused to revoke the token: " + refusal(answer, secrets, endpoint))


def _echoes(body: bytes, token: str) -> bool:
    """X's answer to a revocation: 200 with {"access_token": <the token>}."""
    echoed = json_object(body).get("access_token")
    return isinstance(echoed, str) and echoed in (token, unquote(token))


def _parse_token(body: bytes, endpoint: Endpoint) -> str:
    """Validate a 200 body; the error never quotes the token."""
    problem = "X API answered 200 without a usable bearer token: "
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        api_url = endpoint.terms.name("api-url")
        raise ActionError(f"{problem}the body is not JSON; check {api_url}.") from None
    if not isinstance(doc, dict):
        raise ActionError(problem + "the body is not a JSON object.")
    token_type, token = doc.get("token_type"), doc.get("access_token")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ActionError(problem + "token_type is not 'bearer'.")
    if not isinstance(token, str) or not token:
        raise ActionError(problem + "access_token is missing or empty.")
    validate_token(token, problem)
    return token


def _hint(status: int, code: int | None, answer: Answer, endpoint: Endpoint) -> str:
    """What to do about a refusal, in the words of where the code runs."""
    terms = endpoint.terms
    api_url, credentials = terms.name("api-url"), terms.name("api-key and api-secret")
    if status == 429:
        reset = _reset_time(answer)
        return terms.say(
            action=f"rate limited by X{reset}: re-run the job later.",
            cli=f"rate limited by X{reset}: try again later.",
        )
    hints = {
        32: "X could not authenticate the request: check the key, secret and access token.",
        89: "the token is invalid or expired: request a new one.",
        99: f"check that {credentials} are the app's API key and API secret key, not an "
        "access token (X also answers 99 when tokens are requested too often).",
        130: terms.say(
            action="X is over capacity: re-run the job later.",
            cli="X is over capacity: try again later.",
        ),
        170: "the request lacked grant_type=client_credentials: a proxy may have dropped the body.",
    }
    if code in hints:
        return hints[code]
    if 300 <= status < 400:
        location = answer.headers.get("Location", "")
        with contextlib.suppress(ValueError):  # not a URL (an unclosed "["): shown cleaned
            location = urlsplit(location).netloc
        target = clean(location, limit=80) or "elsewhere"
        return f"{endpoint.host} redirects to {target}: set {api_url} to the API's own address."
    if status in (400, 401, 403):
        return f"check that {credentials} are the app's API key and API secret key."
    if status >= 500:
        return terms.say(
            action=f"the X API at {endpoint.host} is unavailable: re-run the job later.",
            cli=f"the X API at {endpoint.host} is unavailable: try again later.",
        )
    return f"check {api_url}."


def refusal(answer: Answer, secrets: Sequence[str], endpoint: Endpoint) -> str:
    """X's refusal of an app-only request, with what to do about it."""
    code, _ = x_error(answer.body, secrets)
    return describe_refusal(answer, secrets, _hint(answer.status, code, answer, endpoint))


def _reset_time(answer: Answer) -> str:
    reset = retry.epoch(answer.headers.get("x-rate-limit-reset", ""))
    return "" if reset is None else time.strftime(" until %H:%M:%S UTC", time.gmtime(reset))
