"""X's OAuth 2.0 user-context endpoints, served by the fake X API (fakes/x.py).

- ``GET /i/oauth2/authorize`` checks the request as X does (known client, registered
  redirect URI, scopes, PKCE challenge, state), then approves (302 to
  ``redirect_uri?state=…&code=…``) or denies (302 to
  ``redirect_uri?error=access_denied&state=…``); bad parameters get an error page.
- ``POST /2/oauth2/token``: ``authorization_code`` (single use, 30 s, PKCE S256 or plain)
  and ``refresh_token`` (single use: each refresh rotates it). A confidential client
  authenticates with ``Authorization: Basic``; ``client_id`` goes in the body either way.
- ``POST /2/oauth2/revoke``: ``{"revoked":true}``; a revoked token is refused from then on.
- ``GET /2/users/me``, ``POST /2/tweets`` and ``GET /2/tweets`` with user access tokens.

Error texts are X's own, as its docs and its users' reports show them; with
``OAuth2.rfc_errors`` (``--rfc-errors``) the token endpoint answers in RFC 6749's codes
instead, as a spec-compliant server does (``invalid_grant`` for a used refresh token).
The state and the knobs are `OAuth2`, at ``FakeX.oauth2``. Faults (server.py's:
``OAuth2.faults``, one per token request; ``OAuth2.revoke_faults``, one per revocation)
say whether X rotated: those that come before X reads the request leave the refresh token
as it was; ``lost-answer`` and ``slow`` come after X rotated it (or revoked the token).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

if TYPE_CHECKING:
    from .server import Seen
    from .x import Handler

# Realistic credentials: X's client IDs are base64url of "<20 chars>:1:ci" (confidential)
# or ":1:na" (native, public); secrets are 50 characters of the base64url alphabet.
CLIENT_ID = "QTgwQXl6WUVnTWw0V3RfWFZ6TjQ6MTpjaQ"  # A80AyzYEgMl4Wt_XVzN4:1:ci
CLIENT_SECRET = "K6jYzAz7ghpkML00uC4Bf_hEvKzZ9u7-42a45mX9HcawXGJeCn"
PUBLIC_CLIENT_ID = "RnNBTmJuMlh2QjVLaFBHM3pSRUQ6MTpuYQ"  # FsANbn2XvB5KhPG3zRED:1:na
REDIRECT_URI = "http://127.0.0.1:8788/callback"  # `xbearer authorize`'s default
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access")
# The user of X's docs' examples (GET /2/users/me).
USER = {"id": "2244994945", "name": "Developers", "username": "XDevelopers"}

AUTHORIZE = "/i/oauth2/authorize"
TOKEN = "/2/oauth2/token"
REVOKE = "/2/oauth2/revoke"
SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.read",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "dm.read",
        "dm.write",
        "media.write",
    }
)
READ = ("tweet.read", "users.read")  # what GET /2/users/me and GET /2/tweets need
WRITE = ("tweet.read", "tweet.write", "users.read")  # what POST /2/tweets needs

INVALID_TOKEN = "Value passed for the token was invalid."
INVALID_CODE = "Value passed for the authorization code was invalid."
REDIRECT_MISMATCH = (
    "Value passed for the redirect uri did not match the uri of the authorization code."
)
VERIFIER_MISMATCH = "Value passed for the code verifier did not match the code challenge."
BAD_GRANT_TYPE = (
    "Value passed for the grant type was invalid. "
    "Grant type should be one of [authorization_code, refresh_token]."
)
NO_AUTH_HEADER = "Missing valid authorization header"
UNSUPPORTED_AUTH = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
)
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>X</title></head><body><h1>Something went wrong</h1>"
    b"<p>You weren't able to give access to the App. Go back and try logging in again.</p>"
    b"</body></html>"
)


def make_token(kind: str) -> str:
    """A token shaped like X's: base64url, no padding, of ``<random>:<ms>:1:0:<kind>:1``."""
    raw = f"{secrets.token_urlsafe(34)[:45]}:{int(time.time() * 1000)}:1:0:{kind}:1"
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Client:
    """A registered OAuth 2.0 client: confidential with a secret, public without."""

    client_id: str
    secret: str | None
    redirect_uris: list[str]


@dataclass
class Token:
    """An access or refresh token X issued, and what became of it."""

    value: str
    kind: str  # "access" or "refresh"
    client_id: str
    scopes: tuple[str, ...]
    expires: float | None  # time.monotonic() deadline of an access token
    used: bool = False  # a refresh token that was exchanged: rotated, dead
    revoked: bool = False

    def usable(self) -> bool:
        alive = self.expires is None or time.monotonic() < self.expires
        return alive and not self.used and not self.revoked


@dataclass
class Code:
    """An authorization code and the request it answers."""

    value: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str
    method: str  # "S256" or "plain", as the client sent it
    expires: float
    used: bool = False


def _default_clients() -> dict[str, Client]:
    return {
        CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI]),
        PUBLIC_CLIENT_ID: Client(PUBLIC_CLIENT_ID, None, [REDIRECT_URI]),
    }


@dataclass
class OAuth2:
    """X's OAuth 2.0 state, shared by the handler threads; tests change it between runs."""

    clients: dict[str, Client] = field(default_factory=_default_clients)
    decision: str = "approve"  # what the account owner answers at authorize: or "deny"
    rfc_errors: bool = False  # answer in RFC 6749's error codes (RFC_WORDS), not X's words
    granted: tuple[str, ...] | None = None  # the scopes a code grants, if not those asked for
    user: dict[str, str] = field(default_factory=lambda: dict(USER))
    access_lifetime: int = 7200
    code_lifetime: float = 30.0  # X: "a time limit of 30 seconds"
    faults: list[str] = field(default_factory=list)  # one per token request
    revoke_faults: list[str] = field(default_factory=list)  # one per revocation
    # the values the next refresh tokens take, as X sends them (else make_token's)
    refresh_values: list[str] = field(default_factory=list)
    tokens: dict[str, Token] = field(default_factory=dict)  # every token ever issued
    codes: dict[str, Code] = field(default_factory=dict)
    tweets: list[dict[str, str]] = field(default_factory=list)  # what POST /2/tweets posted
    requests: list[Seen] = field(default_factory=list)  # authorize, token and revoke requests
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1445880548472328192))

    # -- knobs for tests --------------------------------------------------------
    def register(
        self, client_id: str, secret: str | None, redirect_uris: tuple[str, ...] = (REDIRECT_URI,)
    ) -> Client:
        """Register a client (secret None: a public client); replaces one of that id."""
        client = Client(client_id, secret, list(redirect_uris))
        self.clients[client_id] = client
        return client

    def issue_refresh_token(
        self, client_id: str = CLIENT_ID, scopes: tuple[str, ...] = DEFAULT_SCOPES
    ) -> str:
        """A refresh token as if the account had authorized the client: a test's first one."""
        with self.lock:
            return self._new("refresh", client_id, tuple(scopes)).value

    def issue_access_token(
        self, client_id: str = CLIENT_ID, scopes: tuple[str, ...] = DEFAULT_SCOPES
    ) -> str:
        """A live user access token, as a refresh gives one (for a post step to revoke)."""
        with self.lock:
            return self._new("access", client_id, tuple(scopes)).value

    def _all(self) -> list[Token]:
        with self.lock:  # handler threads may be issuing
            return list(self.tokens.values())

    def valid_refresh_tokens(self) -> list[str]:
        """The refresh tokens X would accept now, oldest first."""
        return [t.value for t in self._all() if t.kind == "refresh" and t.usable()]

    def valid_access_tokens(self) -> list[str]:
        return [t.value for t in self._all() if t.kind == "access" and t.usable()]

    def issued(self) -> list[str]:
        """Every access and refresh token ever issued (the leak scanner looks for each)."""
        return [t.value for t in self._all()]

    def revoked(self) -> set[str]:
        return {t.value for t in self._all() if t.revoked}

    def expire(self, value: str) -> None:
        """Make an access token expired, as two hours later."""
        self.tokens[value].expires = time.monotonic() - 1

    def token_requests(self) -> list[Seen]:
        return [r for r in self.requests if urlsplit(r.path).path == TOKEN]

    def revoke_requests(self) -> list[Seen]:
        return [r for r in self.requests if urlsplit(r.path).path == REVOKE]

    # -- X's side ----------------------------------------------------------------
    def _new(self, kind: str, client_id: str, scopes: tuple[str, ...]) -> Token:
        """Issue a token (the caller holds the lock)."""
        expires = time.monotonic() + self.access_lifetime if kind == "access" else None
        if kind == "refresh" and self.refresh_values:
            value = self.refresh_values.pop(0)
        else:
            value = make_token("at" if kind == "access" else "rt")
        token = Token(value, kind, client_id, scopes, expires)
        self.tokens[token.value] = token
        return token

    def _grant(self, client_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        """X's token answer; a refresh token only with offline.access (caller holds the lock)."""
        access = self._new("access", client_id, scopes)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": self.access_lifetime,
            "access_token": access.value,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            body["refresh_token"] = self._new("refresh", client_id, scopes).value
        return body


# -- HTTP plumbing -----------------------------------------------------------------------
Answer = tuple[int, dict[str, Any]]  # status and JSON body of a token or revoke answer


def _error(status: int, error: str, description: str | None = None) -> Answer:
    """An OAuth error body as X writes it."""
    body = {"error": error}
    if description:
        body["error_description"] = description
    return status, body


# What a spec-compliant server answers (RFC 6749, section 5.2) where X says it in words.
RFC_WORDS = {
    INVALID_TOKEN: ("invalid_grant", "The refresh token is invalid, expired or revoked."),
    INVALID_CODE: ("invalid_grant", "The authorization code is invalid or expired."),
    REDIRECT_MISMATCH: ("invalid_grant", "The redirect_uri does not match the authorization's."),
    VERIFIER_MISMATCH: ("invalid_grant", "The code_verifier does not match the code_challenge."),
    BAD_GRANT_TYPE: ("unsupported_grant_type", "Only authorization_code and refresh_token."),
    NO_AUTH_HEADER: ("invalid_client", "Client authentication failed."),
}


def _in_rfc_words(answer: Answer) -> Answer:
    """X's error answer as a spec-compliant server words it."""
    status, body = answer
    said = RFC_WORDS.get(body.get("error_description", ""))
    return answer if said is None else _error(status, *said)


def _missing(name: str) -> Answer:
    return _error(400, "invalid_request", f"Missing required parameter [{name}].")


def problem(
    handler: Handler,
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    kind: str = "about:blank",
    headers: dict[str, str] | None = None,
) -> None:
    """An API error as X's v2 API writes it (RFC 7807)."""
    phrase = HTTPStatus(status).phrase
    body = {"title": title or phrase, "detail": detail or phrase, "type": kind, "status": status}
    handler.send(status, json.dumps(body).encode(), "application/problem+json", headers)


def _form(seen: Seen) -> dict[str, str]:
    return dict(parse_qsl(seen.body.decode("utf-8", "replace"), keep_blank_values=True))


def _bearer(seen: Seen) -> str:
    scheme, _, value = seen.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" else ""


def _caller(handler: Handler, seen: Seen) -> Token | str | None:
    """Who calls: "app" (the app-only token), a user's access Token, or None (refused)."""
    fake = handler.server.fake
    value = _bearer(seen)
    if value and value == fake.token and fake.token not in fake.revoked:
        return "app"
    token = fake.oauth2.tokens.get(value)
    return token if token is not None and token.kind == "access" and token.usable() else None


# -- the OAuth 2.0 endpoints ------------------------------------------------------------------
def _authenticate(
    oauth2: OAuth2, seen: Seen, form: dict[str, str], body_id: bool
) -> Client | Answer:
    """The client, authenticated as X does; or the error answer.

    A confidential client sends Basic base64(client_id:client_secret); a public client only
    `client_id` in the body. `body_id`: the body must name the client even with Basic (X's
    token endpoint insists; its revoke endpoint, per X's docs, does not).
    """
    named = form.get("client_id", "")
    scheme, _, credential = seen.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, colon, password = (
                base64.b64decode(credential, validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return _error(401, "unauthorized_client", NO_AUTH_HEADER)
        client = oauth2.clients.get(unquote_plus(user))
        if (
            not colon
            or client is None
            or unquote_plus(password) != client.secret
            or (named and named != client.client_id)
        ):
            return _error(401, "unauthorized_client", NO_AUTH_HEADER)
        if body_id and not named:
            return _missing("client_id")
        return client
    if not named:
        return _missing("client_id")
    client = oauth2.clients.get(named)
    if client is None:
        return _error(401, "invalid_client")
    if client.secret is not None:  # a confidential client must authenticate
        return _error(401, "unauthorized_client", NO_AUTH_HEADER)
    return client


def _exchange(oauth2: OAuth2, seen: Seen) -> Answer:
    """POST /2/oauth2/token as X answers it."""
    form = _form(seen)
    client = _authenticate(oauth2, seen, form, body_id=True)
    if not isinstance(client, Client):
        return client
    grant_type = form.get("grant_type")
    if not grant_type:
        return _missing("grant_type")
    with oauth2.lock:  # one refresh at a time: two runs with one refresh token, one wins
        if grant_type == "authorization_code":
            return _code_grant(oauth2, client, form)
        if grant_type == "refresh_token":
            return _refresh_grant(oauth2, client, form)
    return _error(400, "invalid_request", BAD_GRANT_TYPE)


def _code_grant(oauth2: OAuth2, client: Client, form: dict[str, str]) -> Answer:
    for name in ("code", "redirect_uri", "code_verifier"):
        if not form.get(name):
            return _missing(name)
    code = oauth2.codes.get(form["code"])
    if (
        code is None
        or code.used
        or code.client_id != client.client_id
        or time.monotonic() >= code.expires
    ):
        return _error(400, "invalid_request", INVALID_CODE)
    code.used = True  # single use, whatever comes next
    if form["redirect_uri"] != code.redirect_uri:
        return _error(400, "invalid_request", REDIRECT_MISMATCH)
    verifier = form["code_verifier"]
    if (s256(verifier) if code.method == "S256" else verifier) != code.challenge:
        return _error(400, "invalid_request", VERIFIER_MISMATCH)
    return 200, oauth2._grant(client.client_id, code.scopes)


def _refresh_grant(oauth2: OAuth2, client: Client, form: dict[str, str]) -> Answer:
    value = form.get("refresh_token")
    if not value:
        return _missing("refresh_token")
    token = oauth2.tokens.get(value)
    if (
        token is None
        or token.kind != "refresh"
        or not token.usable()
        or token.client_id != client.client_id
    ):
        return _error(400, "invalid_request", INVALID_TOKEN)
    token.used = True  # rotated: the old refresh token stops working
    return 200, oauth2._grant(client.client_id, token.scopes)


def _revocation(oauth2: OAuth2, seen: Seen) -> Answer:
    """POST /2/oauth2/revoke: the named token of this client is dead from now on."""
    form = _form(seen)
    client = _authenticate(oauth2, seen, form, body_id=False)
    if not isinstance(client, Client):
        return client
    value = form.get("token")
    if not value:
        return _missing("token")
    with oauth2.lock:
        token = oauth2.tokens.get(value)
        if token is not None and token.client_id == client.client_id:
            token.revoked = True
    return 200, {"revoked": True}  # an unknown token too, as RFC 7009 says


def _authorize(handler: Handler, seen: Seen) -> None:
    """GET /i/oauth2/authorize: the account owner approves or denies at once."""
    oauth2: OAuth2 = handler.server.fake.oauth2
    query = dict(parse_qsl(urlsplit(seen.path).query, keep_blank_values=True))
    client = oauth2.clients.get(query.get("client_id", ""))
    redirect = query.get("redirect_uri", "")
    scopes = tuple(query.get("scope", "").split())
    method = {"s256": "S256", "plain": "plain"}.get(
        query.get("code_challenge_method", "plain").lower()
    )
    state = query.get("state", "")
    if (
        query.get("response_type") != "code"
        or client is None
        or redirect not in client.redirect_uris  # exact match, as X's docs say
        or not scopes
        or not set(scopes) <= SCOPES
        or not query.get("code_challenge")
        or method is None
        or not 0 < len(state) <= 500
    ):
        handler.send(400, ERROR_PAGE, "text/html; charset=utf-8")  # X shows a page: no redirect
        return
    if oauth2.decision == "deny":
        params = {"error": "access_denied", "state": state}
    elif oauth2.decision == "approve":
        deadline = time.monotonic() + oauth2.code_lifetime
        code = Code(
            make_token("ac"),
            client.client_id,
            redirect,
            scopes if oauth2.granted is None else oauth2.granted,
            query["code_challenge"],
            method,
            deadline,
        )
        with oauth2.lock:
            oauth2.codes[code.value] = code
        params = {"state": state, "code": code.value}
    else:
        raise ValueError(f"decision must be approve or deny, not {oauth2.decision!r}")
    joiner = "&" if urlsplit(redirect).query else "?"
    handler.send(
        302, b"", "text/html; charset=utf-8", {"Location": redirect + joiner + urlencode(params)}
    )


# -- the API with user tokens -----------------------------------------------------------
def _refused(
    handler: Handler, caller: Token | str | None, scopes: tuple[str, ...], app: bool
) -> bool:
    """Answer 401/403 as X does when the caller may not do this; False: it may."""
    if caller is None:
        problem(handler, 401)
    elif isinstance(caller, str):
        if app:
            return False
        problem(
            handler,
            403,
            UNSUPPORTED_AUTH,
            title="Unsupported Authentication",
            kind="https://api.twitter.com/2/problems/unsupported-authentication",
        )
    elif not set(scopes) <= set(caller.scopes):
        problem(handler, 403)
    else:
        return False
    return True


def _users_me(handler: Handler, seen: Seen) -> None:
    if not _refused(handler, _caller(handler, seen), READ, app=False):
        handler.send(200, json.dumps({"data": handler.server.fake.oauth2.user}).encode())


def _get_tweets(handler: Handler, seen: Seen) -> None:
    if not _refused(handler, _caller(handler, seen), READ, app=True):
        ids = dict(parse_qsl(urlsplit(seen.path).query)).get("ids", "20")
        body = {"data": [{"id": ids, "text": "just setting up my twttr"}]}
        handler.send(200, json.dumps(body).encode())


def _post_tweet(handler: Handler, seen: Seen) -> None:
    if _refused(handler, _caller(handler, seen), WRITE, app=False):
        return
    try:
        text = json.loads(seen.body)["text"]
        if not isinstance(text, str):
            raise TypeError(text)
    except (ValueError, KeyError, TypeError):
        problem(
            handler,
            400,
            "One or more parameters to your request was invalid.",
            title="Invalid Request",
            kind="https://api.twitter.com/2/problems/invalid-request",
        )
        return
    oauth2: OAuth2 = handler.server.fake.oauth2
    with oauth2.lock:
        tweet_id = str(next(oauth2._ids))
        oauth2.tweets.append({"id": tweet_id, "text": text, "username": oauth2.user["username"]})
    body = {"data": {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": text}}
    handler.send(201, json.dumps(body).encode())


# -- dispatch from x.Handler -----------------------------------------------------------------------
def handle_get(handler: Handler, seen: Seen) -> bool:
    """Answer a GET that is X's OAuth 2.0 or user-context business; False: not ours."""
    oauth2: OAuth2 = handler.server.fake.oauth2
    path = urlsplit(seen.path).path
    if path == AUTHORIZE:
        oauth2.requests.append(seen)
        _authorize(handler, seen)
    elif path == "/2/users/me":
        _users_me(handler, seen)
    elif path == "/2/tweets" and _bearer(seen) in oauth2.tokens:
        _get_tweets(handler, seen)
    else:
        return False
    return True


def handle_post(handler: Handler, seen: Seen) -> bool:
    """Answer a POST that is X's OAuth 2.0 or user-context business; False: not ours."""
    oauth2: OAuth2 = handler.server.fake.oauth2
    path = urlsplit(seen.path).path
    if path in (TOKEN, REVOKE):
        oauth2.requests.append(seen)
        queue = oauth2.faults if path == TOKEN else oauth2.revoke_faults
        fault = handler.server.fake.next_fault(queue)
        if not handler.act(fault):
            answer = (_exchange if path == TOKEN else _revocation)(oauth2, seen)
            status, body = _in_rfc_words(answer) if oauth2.rfc_errors else answer
            handler.answer(fault, status, json.dumps(body).encode())
    elif path == "/2/tweets":
        _post_tweet(handler, seen)
    else:
        return False
    return True


# -- the command line (python -m fakes --help) -----------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fake's OAuth 2.0 options."""
    group = parser.add_argument_group(
        "OAuth 2.0 user context",
        f"Always registered: a confidential client, {CLIENT_ID},\n"
        f"and a public one, {PUBLIC_CLIENT_ID}. At start the fake prints\n"
        "a client and a refresh token it accepts (once: each refresh rotates it).",
    )
    group.add_argument("--client-id", help="register this OAuth 2.0 client too")
    group.add_argument(
        "--client-secret", help="its client secret: a confidential client (without: public)"
    )
    group.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help=f"callback URL registered for every client (default {REDIRECT_URI}); repeatable",
    )
    group.add_argument(
        "--scope",
        default=" ".join(DEFAULT_SCOPES),
        help="scopes of the refresh token printed at start (default: %(default)s)",
    )
    group.add_argument(
        "--deny", action="store_true", help="authorize answers access_denied instead of a code"
    )
    group.add_argument(
        "--rfc-errors",
        action="store_true",
        help="word token errors in RFC 6749's codes (invalid_grant, ...), not X's words",
    )
    group.add_argument(
        "--oauth2-fault",
        action="append",
        default=[],
        help="queue a fault for /2/oauth2/token, e.g. --oauth2-fault lost-answer",
    )
    group.add_argument(
        "--oauth2-revoke-fault", action="append", default=[], help="likewise for /2/oauth2/revoke"
    )


def configure(oauth2: OAuth2, args: argparse.Namespace) -> str:
    """Apply the OAuth 2.0 options; return what to print: the client and a refresh token."""
    if args.client_secret and not args.client_id:
        raise SystemExit("python -m fakes: --client-secret needs --client-id")
    uris = tuple(args.redirect_uri) or (REDIRECT_URI,)
    for client in oauth2.clients.values():
        client.redirect_uris = list(uris)
    client_id, secret = CLIENT_ID, CLIENT_SECRET
    if args.client_id:
        client_id, secret = args.client_id, args.client_secret
        oauth2.register(client_id, secret, uris)
    oauth2.decision = "deny" if args.deny else "approve"
    oauth2.rfc_errors = args.rfc_errors
    oauth2.faults, oauth2.revoke_faults = list(args.oauth2_fault), list(args.oauth2_revoke_fault)
    refresh = oauth2.issue_refresh_token(client_id, tuple(args.scope.split()))
    lines = [
        f"OAuth 2.0 user context (callback {' '.join(uris)}):",
        f"  client id {client_id}" + (f", X_CLIENT_SECRET={secret}" if secret else " (public)"),
        f"  a refresh token it accepts once: {refresh}",
    ]
    return "\n".join(lines)
