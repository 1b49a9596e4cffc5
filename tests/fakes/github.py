"""A fake GitHub REST API on loopback: the Actions secrets of one repository.

The repository (``owner/repo`` unless told otherwise) and each of its environments hold
their secrets under their own real Curve25519 key pair. The routes:

- ``GET  /repos/{owner}/{repo}/actions/secrets/public-key``
- ``GET  /repos/{owner}/{repo}/environments/{env}/secrets/public-key``
- ``PUT  /repos/{owner}/{repo}/actions/secrets/{name}``
- ``PUT  /repos/{owner}/{repo}/environments/{env}/secrets/{name}``

A PUT's ``{"encrypted_value", "key_id"}`` is opened with the private key
(``SealedBox``), so a test reads back what was stored: `FakeGitHub.secret`, and every
value ever stored: `FakeGitHub.history`. Tokens have a kind (`FakeGitHub.add_token`):
"write" (Secrets: read and write), "read" (Secrets: read-only) and "github_token" (the
job's GITHUB_TOKEN, which may not touch secrets); the answers and their error bodies are
GitHub's. Faults (server.py's, and GitHub's own rate limits ``primary`` and ``secondary``),
one per request of a route: ``FakeGitHub.faults["public-key"]``, ``["put"]``, ``["delete"]``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import InitVar, dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from . import server
from .server import Fake, Seen, Server

REPOSITORY = "owner/repo"
API_VERSIONS = ("2022-11-28",)  # what GitHub serves; a request without the header gets it
DOCS = "https://docs.github.com/rest/actions/secrets"
KINDS = ("write", "read", "github_token")
_MESSAGES = {  # what GitHub says with these statuses on these routes
    401: "Bad credentials",
    403: "Resource not accessible by personal access token",
    404: "Not Found",
}
_REPO_ROUTE = re.compile(r"/repos/([^/]+)/([^/]+)/actions/secrets/([^/]+)")
_ENV_ROUTE = re.compile(r"/repos/([^/]+)/([^/]+)/environments/([^/]+)/secrets/([^/]+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# GitHub's check of encrypted_value, and how its 422 message writes it.
_BASE64_TEXT = (
    r"/^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$/"
)
_BASE64 = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})"
)


def _new_token(kind: str) -> str:
    """A token shaped like GitHub's: a fine-grained PAT, or an installation token (ghs_)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    if kind == "github_token":
        return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
    head = "11" + "".join(secrets.choice(alphabet) for _ in range(20))
    tail = "".join(secrets.choice(alphabet) for _ in range(59))
    return f"github_pat_{head}_{tail}"


@dataclass
class Store:
    """The secrets of the repository or of one environment, under their own key pair."""

    private_key: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = field(default_factory=lambda: str(secrets.randbelow(9 * 10**17) + 10**17))
    secrets: dict[str, str] = field(default_factory=dict)  # NAME -> plaintext
    history: dict[str, list[str]] = field(default_factory=dict)  # NAME -> every value stored

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self.private_key.public_key)).decode()


@dataclass
class FakeGitHub(Fake):
    """GitHub's state: the repository's secrets and its environments', the tokens it
    knows; tests change it between requests. Faults: one per request of a route
    (`faults["public-key"]`, `faults["put"]`, `faults["delete"]`)."""

    repository: str = REPOSITORY
    environments: InitVar[tuple[str, ...]] = ("production",)
    prefix: str = ""  # the API's path, as GitHub Enterprise Server's /api/v3
    stores: dict[str | None, Store] = field(init=False)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> kind
    faults: dict[str, list[str]] = field(
        default_factory=lambda: {"public-key": [], "put": [], "delete": []}
    )

    def __post_init__(self, environments: tuple[str, ...]) -> None:
        self.stores = {None: Store(), **{env.lower(): Store() for env in environments}}

    def add_token(self, kind: str = "write") -> str:
        """Register a new token of that kind ("write", "read" or "github_token")."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        token = _new_token(kind)
        self.tokens[token] = kind
        return token

    def store(self, environment: str | None = None) -> Store:
        return self.stores[environment.lower() if environment else None]

    def secret(self, name: str, environment: str | None = None) -> str | None:
        """The plaintext of a secret now, or None (names are case-insensitive, as GitHub's)."""
        return self.store(environment).secrets.get(name.upper())

    def history(self, name: str, environment: str | None = None) -> list[str]:
        """Every value stored in that secret, oldest first."""
        return list(self.store(environment).history.get(name.upper(), []))

    def set_secret(self, name: str, value: str, environment: str | None = None) -> None:
        """Store a secret as its owner did in the settings page."""
        store = self.store(environment)
        with self.lock:
            store.secrets[name.upper()] = value
            store.history.setdefault(name.upper(), []).append(value)

    def rotate_key(self, environment: str | None = None) -> None:
        """A new key pair and key_id: values sealed to the old one are refused from now on."""
        old = self.store(environment)
        self.stores[environment.lower() if environment else None] = Store(
            secrets=old.secrets, history=old.history
        )

    def put_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "PUT"]

    def key_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/secrets/public-key")]


class Refused(Exception):
    """GitHub's error answer: a status and a message."""

    def __init__(self, status: int, message: str, doc: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.doc = status, message, doc


class Handler(server.Handler):
    """GitHub's Actions secrets API."""

    server: Server[FakeGitHub]

    # -- plumbing -----------------------------------------------------------
    def send(
        self,
        status: int,
        body: bytes,
        ctype: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """As GitHub answers: no Content-Type without a body, and the API version served."""
        version = {"X-GitHub-Api-Version-Selected": API_VERSIONS[0]}
        super().send(status, body, ctype if body else "", {**version, **(headers or {})})

    def _refuse(self, refused: Refused, headers: dict[str, str] | None = None) -> None:
        body = {
            "message": refused.message,
            "documentation_url": refused.doc or "https://docs.github.com/rest",
            "status": str(refused.status),
        }
        self.send(refused.status, json.dumps(body).encode(), headers=headers)

    # -- routes ---------------------------------------------------------------
    def do_GET(self) -> None:
        self._serve(self.record())

    def do_PUT(self) -> None:
        self._serve(self.record())

    def do_DELETE(self) -> None:
        self._serve(self.record())

    def _serve(self, seen: Seen) -> None:
        path = urlsplit(seen.path).path
        prefix = self.server.fake.prefix
        path = path[len(prefix) :] if path.startswith(f"{prefix}/") else "/-"
        repo = _REPO_ROUTE.fullmatch(path)
        env = _ENV_ROUTE.fullmatch(path)
        if repo:
            owner, name, environment, secret = *repo.groups()[:2], None, repo.group(3)
        elif env:
            owner, name, environment, secret = env.groups()
        else:
            self._refuse(Refused(404, "Not Found"))
            return
        getting = seen.method == "GET" and secret == "public-key"
        if not getting and seen.method not in ("PUT", "DELETE"):
            self._refuse(Refused(404, "Not Found"))
            return
        route = "public-key" if getting else seen.method.lower()
        fake = self.server.fake
        fault = fake.next_fault(fake.faults[route])
        if self.act(fault):
            return
        environment = environment and unquote(environment)
        what = "an-environment" if environment else "a-repository"
        anchor = {
            "public-key": f"get-{what}-public-key",
            "put": f"create-or-update-{what}-secret",
            "delete": f"delete-{what}-secret",
        }[route]
        doc = f"{DOCS}#{anchor}"
        body: dict[str, Any] | None
        try:
            store = self._authorize(seen, f"{owner}/{name}", environment, doc)
            if getting:
                status, body = 200, {"key_id": store.key_id, "key": store.public_key}
            elif route == "delete":
                status, body = self._delete(store, unquote(secret), doc)
            else:
                status, body = self._put(seen, store, unquote(secret), doc)
        except Refused as refused:
            self._refuse(refused)
            return
        self.answer(fault, status, json.dumps(body).encode() if body is not None else b"")

    def _authorize(self, seen: Seen, repository: str, environment: str | None, doc: str) -> Store:
        """The store this request may use, checked in GitHub's order; or Refused."""
        fake = self.server.fake
        version = seen.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in API_VERSIONS:
            raise Refused(400, f"API version {version} is not supported.", doc)
        auth = seen.headers.get("Authorization")
        if not auth:
            raise Refused(401, "Requires authentication", doc)
        scheme, _, token = auth.partition(" ")
        kind = fake.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if kind is None:
            raise Refused(401, "Bad credentials")
        if repository.lower() != fake.repository.lower():
            raise Refused(404, "Not Found", doc)
        if kind == "github_token":
            raise Refused(403, "Resource not accessible by integration", doc)
        if kind == "read" and seen.method != "GET":
            raise Refused(403, "Resource not accessible by personal access token", doc)
        key = environment.lower() if environment else None
        if key not in fake.stores:
            raise Refused(404, "Not Found", doc)
        return fake.stores[key]

    def _put(
        self, seen: Seen, store: Store, name: str, doc: str
    ) -> tuple[int, dict[str, Any] | None]:
        """Create or update a secret: 201 created, 204 updated; or Refused (400, 422)."""
        try:
            body = json.loads(seen.body)
        except ValueError:
            raise Refused(400, "Problems parsing JSON", doc) from None
        if not isinstance(body, dict):
            raise Refused(400, "Problems parsing JSON", doc)
        for field_name in ("encrypted_value", "key_id"):
            if not isinstance(body.get(field_name), str):
                raise Refused(422, f'Invalid request.\n\n"{field_name}" wasn\'t supplied.', doc)
        value = body["encrypted_value"]
        if not _BASE64.fullmatch(value):
            raise Refused(422, f"Invalid request.\n\n{value} does not match {_BASE64_TEXT}.", doc)
        if not _NAME.fullmatch(name):
            raise Refused(422, "Failed to add secret. Name is invalid", doc)
        if name.upper().startswith("GITHUB_"):
            raise Refused(
                422, "Failed to add secret. Secret names must not start with GITHUB_.", doc
            )
        try:
            if body["key_id"] != store.key_id:
                raise CryptoError("not the current key")
            plain = SealedBox(store.private_key).decrypt(base64.b64decode(value))
        except (CryptoError, binascii.Error):
            raise Refused(
                422, "Bad request - validation failed due to an improperly encrypted secret", doc
            ) from None
        text = plain.decode("utf-8", "surrogateescape")
        with self.server.fake.lock:
            created = name.upper() not in store.secrets
            store.secrets[name.upper()] = text
            store.history.setdefault(name.upper(), []).append(text)
        return (201, {}) if created else (204, None)

    def _delete(self, store: Store, name: str, doc: str) -> tuple[int, dict[str, Any] | None]:
        """Delete a secret: 204; or Refused (404 for one that does not exist)."""
        with self.server.fake.lock:
            if store.secrets.pop(name.upper(), None) is None:
                raise Refused(404, "Not Found", doc)
        return 204, None

    # -- GitHub's words for the faults every fake has, and its own -------------------------
    def refusal(self, status: int) -> None:
        """GitHub's error body: 401 Bad credentials, 403 Resource not accessible by personal
        access token, 404 Not Found (429 with Retry-After: 1)."""
        headers = {"Retry-After": "1"} if status == 429 else None
        self._refuse(Refused(status, _MESSAGES.get(status, HTTPStatus(status).phrase)), headers)

    def limited(self, status: int = 429, *, wait: str = "", until: int | None = None) -> None:
        """GitHub's secondary rate limit (Retry-After: `wait`, if any), or, with `until`, its
        primary one (x-ratelimit-remaining 0, x-ratelimit-reset, no Retry-After)."""
        doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        if until is None:
            message = (
                "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again."
            )
            self._refuse(Refused(status, message, doc), {"Retry-After": wait} if wait else {})
            return
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(until),
            "x-ratelimit-resource": "core",
        }
        self._refuse(Refused(status, "API rate limit exceeded for user ID 1.", doc), headers)

    def fault_secondary(self, arg: str) -> None:
        """secondary:CODE:S - CODE (403 or 429), secondary rate limit, with Retry-After: S, or
        none if S is empty"""
        code, _, wait = arg.partition(":")
        self.limited(int(code), wait=wait)

    def fault_primary(self, arg: str) -> None:
        """primary:CODE:S - CODE (403 or 429), primary rate limit: x-ratelimit-remaining 0,
        x-ratelimit-reset S seconds from now, no Retry-After"""
        code, _, wait = arg.partition(":")
        self.limited(int(code), until=int(time.time() + float(wait or "1") + 0.999))


FakeGitHub.handler = Handler
