"""Client for X's OAuth 2.0 user-context endpoints: refresh, code exchange, revocation,
and the account a user access token acts as (GET /2/users/me).

X's tokens here act as an account: an access token lives 2 hours, and each refresh
rotates the refresh token (the old one stops working), so a refresh is never sent
twice unless X's answer says it did not act on it (429, 503: SINGLE_USE_RETRY).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from requests.auth import HTTPBasicAuth

from . import transport
from .answers import describe_refusal, json_object, oauth_hint, validate_token
from .errors import ActionError, clean
from .failures import MaybeArrived, NotSent, TransportError
from .retry import RetryPolicy
from .transport import Answer, Bearer, Endpoint, Request

TOKEN_PATH, REVOKE_PATH = "/2/oauth2/token", "/2/oauth2/revoke"
USERS_ME = "/2/users/me"
USERS_READ = "users.read"  # what GET /2/users/me needs, with tweet.read
# X's words, under invalid_request, for what RFC 6749 calls invalid_grant: a refresh
# token, or an authorization code, that was used, expired, or is not this client's.
INVALID_TOKEN = "Value passed for the token was invalid."  # noqa: S105 - X's words
INVALID_CODE = "Value passed for the authorization code was invalid."
REDIRECT_MISMATCH = (
    "Value passed for the redirect uri did not match the uri of the authorization code."
)
VERIFIER_MISMATCH = "Value passed for the code verifier did not match the code challenge."
# A grant that works once (a refresh token, which X rotates; an authorization code) is
# not replayable: it goes again only if it was not sent, or if X's answer says X did
# not act on it (429, 503). A gateway's 500, 502 or 504 may come after X used it, so
# they are final.
SINGLE_USE_RETRY = RetryPolicy(frozenset({429, 503}), replayable=False)
# What a refresh token may be to be stored (a secret holds any text): printable, no
# spaces, of a sane length. It is never output, so it need not be a bearer token.
_REFRESH_TOKEN = re.compile(r"[\x21-\x7e]{16,4096}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")  # X's rule for a username
_USER_ID = re.compile(r"[0-9]{1,20}")


class Rotated(ActionError):
    """X answered a refresh with 200, so it rotated the refresh token, but the answer
    is unusable beyond the new refresh token, which must be stored all the same."""

    def __init__(self, message: str, refresh_token: str) -> None:
        super().__init__(message)
        self.refresh_token = refresh_token


@dataclass(frozen=True)
class Client:
    """An app's OAuth 2.0 client: confidential with a secret (Basic auth), else public."""

    client_id: str
    client_secret: str | None = None

    @property
    def basic(self) -> str | None:
        """The Basic credential of a confidential client, to mask."""
        if not self.client_secret:
            return None
        return base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()

    def request(self, path: str, fields: Mapping[str, str], *, single_use: bool) -> Request:
        """A form POST as X documents it: client_id in the body, Basic auth if confidential.
        One that spends a `single_use` grant is sent again only when X says it did not act."""
        auth = HTTPBasicAuth(self.client_id, self.client_secret) if self.client_secret else None
        form = urlencode({**fields, "client_id": self.client_id})
        if single_use:
            return Request("POST", path, auth, form=form, retry=SINGLE_USE_RETRY)
        return Request("POST", path, auth, form=form)

    def secrets(self, *more: str) -> tuple[str, ...]:
        """What an error message must never quote."""
        return tuple(s for s in (self.client_secret, self.basic, *more) if s)


@dataclass(frozen=True)
class UserTokens:
    """X's answer to a refresh or a code exchange, validated and masked."""

    access_token: str
    refresh_token: str
    expires_in: str  # seconds, as X sent them
    expires_at: str  # when the access token expires (UTC, RFC 3339), from the answer's arrival
    scope: str  # the granted scopes, space-separated
    attempts: int


def stamp(seconds_from_now: int = 0) -> str:
    """A moment from now, in UTC as RFC 3339 (to the second), as outputs and summaries
    give times."""
    moment = datetime.now(UTC) + timedelta(seconds=min(seconds_from_now, 10**9))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expiry(expires_in: int) -> str:
    """When the access token expires: called as X's answer arrives, so that a later job
    can tell whether the token still lives."""
    return stamp(expires_in)


def refresh(
    client: Client, refresh_token: str, endpoint: Endpoint, mask: Callable[[str], None]
) -> UserTokens:
    """POST 2/oauth2/token with grant_type=refresh_token; X rotates the refresh token."""
    terms = endpoint.terms
    name = terms.name("refresh-token")
    fields = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
    try:
        answer = transport.send(endpoint, client.request(TOKEN_PATH, fields, single_use=True))
    except NotSent as exc:
        raise ActionError(f"{exc.message} {name} was not used.") from None
    except MaybeArrived as exc:
        raise ActionError(
            f"{exc.message} The refresh may have reached X, which then rotated {name}: the "
            "one stored may no longer work. If the next run says it is invalid, authorize the "
            "account again (xbearer authorize)."
        ) from None
    if answer.status != 200:
        raise ActionError(
            "The refresh failed: "
            + describe_refusal(
                answer,
                client.secrets(refresh_token),
                refresh_hint(answer, endpoint),
            )
        )
    return _parse(answer, endpoint, mask, client, rotated=name)


def exchange_code(
    client: Client,
    *,
    code: str,
    redirect_uri: str,
    verifier: str,
    endpoint: Endpoint,
    mask: Callable[[str], None],
) -> UserTokens:
    """POST 2/oauth2/token with grant_type=authorization_code and the PKCE verifier."""
    fields = {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    answer = transport.send(endpoint, client.request(TOKEN_PATH, fields, single_use=True))
    if answer.status != 200:
        raise ActionError(
            "X did not exchange the authorization code: "
            + describe_refusal(
                answer, client.secrets(code, verifier), exchange_hint(answer, endpoint)
            )
        )
    return _parse(answer, endpoint, mask, client)


def revoke(client: Client, token: str, endpoint: Endpoint) -> str:
    """POST 2/oauth2/revoke for a user access token; say what happened."""
    fields = {"token": token, "token_type_hint": "access_token"}
    answer = transport.send(endpoint, client.request(REVOKE_PATH, fields, single_use=False))
    if answer.status == 200 and json_object(answer.body).get("revoked") is True:
        return f"Revoked the user access token at {endpoint.host}."
    if answer.status == 200:
        raise ActionError(
            f"{endpoint.host} answered HTTP 200 without X's confirmation (revoked: true): the "
            f"token may still be live; check {endpoint.terms.name('api-url')}."
        )
    hint = f"check {endpoint.terms.name('client-id')} and {endpoint.terms.name('client-secret')}."
    raise ActionError(
        "X refused to revoke the token: " + describe_refusal(answer, client.secrets(token), hint)
    )


@dataclass(frozen=True)
class Account:
    """The X account that approved, as GET /2/users/me names it."""

    id: str
    username: str


def account(tokens: UserTokens, endpoint: Endpoint) -> Account | str:
    """Who approved: the account the new access token acts as, or why X did not say.
    Another local program may have delivered its own approval first (it can read the
    authorize URL), so the person must see whose grant this is before it is stored."""
    request = Request("GET", USERS_ME, Bearer(tokens.access_token))
    try:
        answer = transport.send(endpoint, request)
    except TransportError as exc:
        return exc.message.rstrip(".")
    if answer.status != 200:
        needs = f", which needs {USERS_READ}" if USERS_READ not in tokens.scope.split() else ""
        return f"X answered GET {USERS_ME} with HTTP {answer.status}{needs}"
    data = json_object(answer.body).get("data")
    user_id = data.get("id") if isinstance(data, dict) else None
    username = data.get("username") if isinstance(data, dict) else None
    if not (
        isinstance(user_id, str)
        and _USER_ID.fullmatch(user_id)
        and isinstance(username, str)
        and _USERNAME.fullmatch(username)
    ):
        return f"X's answer to GET {USERS_ME} names no account"
    return Account(user_id, username)


def refresh_hint(answer: Answer, endpoint: Endpoint) -> str:
    """What to do about a refused refresh: from the OAuth 2.0 error, else the status."""
    terms = endpoint.terms
    name = terms.name("refresh-token")
    used = (
        f"{name} was used already, most likely by another run of this workflow at the same "
        "time: give the job a concurrency: group so that runs refresh one at a time. If no "
        "other run used it, it was revoked: authorize the account again (xbearer authorize)."
    )
    credentials = (
        f"check {terms.name('client-id')} and {terms.name('client-secret')}: the app's OAuth "
        f"2.0 Client ID and, for a confidential client, its Client Secret ({name} was not used)."
    )
    hint = oauth_hint(
        answer,
        {
            ("invalid_grant", ""): used,  # RFC 6749: used, revoked, expired, another client's
            ("invalid_request", INVALID_TOKEN): used,  # X's words for it
            ("invalid_client", ""): credentials,
            ("unauthorized_client", ""): credentials,  # X's answer to a wrong Client Secret
            ("unsupported_grant_type", ""): (
                f"{endpoint.host} does not refresh tokens: check {terms.name('api-url')}."
            ),
            ("invalid_scope", ""): (
                "the app may no longer have a scope the account granted: check its permissions "
                "in the developer portal, then authorize the account again (xbearer authorize)."
            ),
            ("invalid_request", ""): f"check {terms.name('client-id')} and {name}.",
        },
    )
    if hint is not None:
        return hint
    if answer.status in (401, 403):
        return credentials
    if answer.status in SINGLE_USE_RETRY.statuses:
        return terms.say(
            action=f"X did not act on it, so {name} was not used: re-run the job later.",
            cli=f"X did not act on it, so {name} was not used: try again later.",
        )
    if answer.status >= 500:
        return (
            f"the refresh may have reached X, which then rotated {name}: the one stored may no "
            "longer work. If the next run says it is invalid, authorize the account again "
            "(xbearer authorize)."
        )
    return f"check {terms.name('client-id')} and {name}."


def exchange_hint(answer: Answer, endpoint: Endpoint) -> str:
    """What to do about a refused code exchange: from the OAuth 2.0 error, else one hint."""
    terms = endpoint.terms
    credentials = (
        f"check {terms.name('client-id')} and {terms.name('client-secret')} (given for a "
        "confidential client, not for a public one)"
    )
    code = (
        "the authorization code was used already or expired (X's live 30 seconds), or it was "
        "given for another client, callback URL or code verifier."
    )
    return (
        oauth_hint(
            answer,
            {
                ("invalid_grant", ""): code,
                ("invalid_request", INVALID_CODE): code,  # X's words for invalid_grant
                ("invalid_request", REDIRECT_MISMATCH): code,
                ("invalid_request", VERIFIER_MISMATCH): code,
                ("invalid_client", ""): f"{credentials}.",
                ("unauthorized_client", ""): f"{credentials}.",
                ("unsupported_grant_type", ""): (
                    f"{endpoint.host} does not exchange authorization codes: check "
                    f"{terms.name('api-url')}."
                ),
                ("invalid_scope", ""): (
                    "X refused the scopes asked for: check them against the app's permissions."
                ),
            },
        )
        or f"{credentials}, and that the callback URL is registered in the app's settings."
    )


def _parse(
    answer: Answer,
    endpoint: Endpoint,
    mask: Callable[[str], None],
    client: Client,
    rotated: str = "",
) -> UserTokens:
    """Validate X's token answer; mask both tokens the moment they are known good.

    With `rotated` (the setting that held the refresh token), the answer is to a
    refresh: X has rotated it, so a new refresh token is kept (masked, and raised
    with Rotated) even when the rest of the answer is unusable.
    """
    problem = "X answered 200 without usable tokens: "
    doc = json_object(answer.body)
    token_type, access, refresh_token = (
        doc.get("token_type"),
        doc.get("access_token"),
        doc.get("refresh_token"),
    )
    if rotated:
        if not (isinstance(refresh_token, str) and _REFRESH_TOKEN.fullmatch(refresh_token)):
            raise ActionError(
                f"X answered the refresh with 200, so it rotated {rotated}, but its answer held "
                "no usable refresh token: the one stored no longer works. Authorize the account "
                "again (xbearer authorize)."
            )
        mask(refresh_token)
    try:
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise ActionError(
                problem + f"token_type is not 'bearer'; check {endpoint.terms.name('api-url')}."
            )
        if not isinstance(access, str) or not access:
            raise ActionError(problem + "access_token is missing or empty.")
        validate_token(access, problem)
        if not rotated and isinstance(refresh_token, str) and refresh_token:
            validate_token(refresh_token, problem.replace("tokens", "tokens (refresh_token)"))
    except ActionError as exc:
        if rotated and isinstance(refresh_token, str):
            raise Rotated(exc.message, refresh_token) from None
        raise
    if not isinstance(refresh_token, str):
        refresh_token = ""
    mask(access)
    if refresh_token and not rotated:
        mask(refresh_token)
    expires, scope = doc.get("expires_in"), doc.get("scope")
    if not isinstance(expires, int) or isinstance(expires, bool):
        expires = None
    secrets = client.secrets(access, refresh_token)
    return UserTokens(
        access,
        refresh_token,
        "" if expires is None else str(expires),
        "" if expires is None else _expiry(expires),
        clean(scope, secrets, limit=500) if isinstance(scope, str) else "",
        answer.attempts,
    )
