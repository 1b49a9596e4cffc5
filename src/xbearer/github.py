"""GitHub's REST API for Actions secrets: the public key of a repository's (or an
environment's) secrets, and a secret stored sealed to it (a libsodium sealed box)."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote

from . import transport
from .answers import json_object
from .config import CommonSettings, check_secret, parse_api_url
from .errors import ActionError, InputError, Terms, clean
from .retry import RetryPolicy
from .transport import Answer, Bearer, Endpoint, Request

API = "https://api.github.com"  # GitHub's API where $GITHUB_API_URL does not say
RETRY = RetryPolicy(rate_limits=True)  # network errors, 5xx, and GitHub's rate limits
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
PERMISSION = (
    'needs the repository permission "Secrets: read and write": a fine-grained personal access '
    "token or a GitHub App installation token. The job's GITHUB_TOKEN can never write secrets."
)
# At a terminal: a person's token, fine-grained or classic (gh's own has the repo scope).
PERMISSION_CLI = (
    'needs the repository permission "Secrets: read and write" (a fine-grained personal '
    "access token) or the repo scope (a classic token, such as gh auth token prints)."
)
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


def check_name(name: str, setting: str) -> None:
    """A secret name GitHub accepts: letters, digits and _, not a digit first, not GITHUB_."""
    if not _SECRET_NAME.fullmatch(name) or name.upper().startswith("GITHUB_"):
        raise InputError(
            f"{setting} must be a secret name: letters, digits and _, not starting with a digit "
            "or GITHUB_ (such as X_REFRESH_TOKEN)."
        )


def check_repository(value: str, setting: str) -> None:
    """OWNER/REPO."""
    if not _REPOSITORY.fullmatch(value):
        raise InputError(f"{setting} must be OWNER/REPO, not {clean(value, limit=80)!r}.")


@dataclass(frozen=True)
class PublicKey:
    """The key that GitHub opens stored secrets with, and its id."""

    key_id: str
    key: bytes


@dataclass(frozen=True)
class WriteCheck:
    """What the write check did: the key that worked, the companion secret it wrote, and
    why that companion could not be deleted again (None: it was)."""

    key: PublicKey
    companion: str
    left_behind: str | None

    @property
    def done(self) -> str:
        """What was done, for the log and the summary."""
        if self.left_behind is None:
            return f"with the companion secret {self.companion}, written and deleted"
        return f"with the companion secret {self.companion}, written but not deleted"

    def warning(self, repository: str) -> str | None:
        """What to tell the user about a companion left behind, if one was."""
        if self.left_behind is None:
            return None
        return (
            f"The write check's companion secret {self.companion} of {repository} could not "
            f"be deleted ({self.left_behind}): delete it in the repository's settings "
            "(Secrets and variables). The write check passed."
        )


@dataclass(frozen=True)
class SecretStore:
    """One secret of one repository (or of one of its environments), and a token that
    may write it."""

    endpoint: Endpoint
    token: str
    repository: str
    name: str
    environment: str | None = None
    permission: str = PERMISSION  # what the token needs, for a refusal's message

    @property
    def where(self) -> str:
        """The secret, for messages."""
        scope = f"environment {self.environment} of " if self.environment else ""
        return f"secret {self.name} of {scope}{self.repository}"

    def _path(self, leaf: str) -> str:
        base = f"/repos/{self.repository}"
        if self.environment:
            return f"{base}/environments/{quote(self.environment, safe='')}/secrets/{leaf}"
        return f"{base}/actions/secrets/{leaf}"

    def _send(self, method: str, leaf: str, body: object = None) -> Answer:
        request = Request(
            method, self._path(leaf), Bearer(self.token), json=body, headers=HEADERS, retry=RETRY
        )
        return transport.send(self.endpoint, request)

    def public_key(self) -> PublicKey:
        """GET …/secrets/public-key."""
        answer = self._send("GET", "public-key")
        if answer.status != 200:
            raise ActionError(self._refusal(answer, "read the public key for"))
        doc = json_object(answer.body)
        key_id, key = doc.get("key_id"), doc.get("key")
        try:
            raw = base64.b64decode(key if isinstance(key, str) else "", validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not isinstance(key_id, str) or not key_id or len(raw) != 32:
            raise ActionError(
                f"GitHub answered 200 without a usable public key for the {self.where}: "
                f"check {self.endpoint.terms.name('GITHUB_API_URL')}."
            )
        return PublicKey(key_id, raw)

    def check_writable(self, key: PublicKey) -> WriteCheck:
        """Prove the secret can be written without touching it: write a companion secret
        whose name is new to this run (so no secret of the user's is ever written or
        deleted), then delete it. A delete that fails is reported, not fatal: the write
        was what mattered. The key that worked is kept, to store with."""
        companion = f"{self.name}_WRITE_CHECK_{secrets.token_hex(6).upper()}"
        where = f"companion secret {companion} (the write check for the {self.where})"
        key = self._put(companion, "write check by xbearer", key, where)
        try:
            answer = self._send("DELETE", companion)
        except ActionError as exc:
            return WriteCheck(key, companion, exc.message)
        said = None if answer.status in (204, 404) else f"GitHub answered HTTP {answer.status}"
        return WriteCheck(key, companion, said)

    def store(self, value: str, key: PublicKey) -> PublicKey:
        """PUT …/secrets/NAME with the value sealed to the key; the key that worked."""
        return self._put(self.name, value, key)

    def _put(self, name: str, value: str, key: PublicKey, where: str = "") -> PublicKey:
        """PUT a secret sealed to the key (201 created, 204 updated). GitHub refuses a
        value sealed to a key it has replaced (422): read the key again, once."""
        from nacl.public import PublicKey as SealingKey
        from nacl.public import SealedBox

        for again in (False, True):
            sealed = SealedBox(SealingKey(key.key)).encrypt(value.encode())
            body = {"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key.key_id}
            answer = self._send("PUT", name, body)
            if answer.status in (201, 204):
                return key
            if answer.status != 422 or again:
                break
            key = self.public_key()
        raise ActionError(self._refusal(answer, "write", where))

    def _refusal(self, answer: Answer, what: str, where: str = "") -> str:
        terms: Terms = self.endpoint.terms
        token = terms.name("github-token")
        message = json_object(answer.body).get("message")
        said = f"HTTP {answer.status}" + (
            f": {clean(message, (self.token,), 120)}" if isinstance(message, str) else ""
        )
        head = f"GitHub refused to {what} the {where or self.where} ({said})"
        limit = RETRY.rate_limit(answer.status, answer.headers, answer.body)
        if answer.wait_asked is not None or limit:
            waited = (
                f"GitHub asked to wait {answer.wait_asked:.0f} s, more than is left of this "
                "step's time budget"
                if answer.wait_asked is not None
                else "retried as often as retries allows"
            )
            limit = limit or "rate"
            return terms.say(
                action=f"{head}: GitHub's {limit} limit; {waited}: re-run the job later.",
                cli=f"{head}: GitHub's {limit} limit; {waited}: try again later.",
            )
        if answer.status == 401:  # GitHub's answer to a token that expired or was revoked
            return (
                f"{head}: {token} is wrong, expired or revoked: renew it and store it again. "
                f"It {self.permission}"
            )
        if answer.status == 403:
            return f"{head}: {token} {self.permission}"
        if answer.status == 404:
            where = (
                f"environment {self.environment} exists in {self.repository} and that "
                if self.environment
                else ""
            )
            return (
                f"{head}: check that {where}{token} may access {self.repository}; it "
                f"{self.permission}"
            )
        if answer.status == 422:
            return f"{head}: check {terms.name('refresh-token-secret-name')}."
        return terms.say(action=f"{head}: re-run the job later.", cli=f"{head}: try again later.")


@dataclass(frozen=True)
class Place:
    """Where a refresh token's secret is, as given, and what the user calls each part."""

    repository: str
    name: str
    environment: str | None
    settings: tuple[str, str, str]  # the names of repository, name and environment


def secret_store(
    place: Place,
    token: str,
    common: CommonSettings,
    environ: Mapping[str, str],
    terms: Terms,
    *,
    permission: str = PERMISSION,
) -> SecretStore:
    """The secret and a token that may write it, checked before any request: the one
    set-up of the action's user-context mode and of `xbearer authorize --repo`.
    GitHub's API is $GITHUB_API_URL (a path under it on GitHub Enterprise Server)."""
    repository, name, environment = place.settings
    check_repository(place.repository, repository)
    check_name(place.name, name)
    if place.environment is not None and not place.environment.isprintable():
        raise InputError(f"{environment} must be an environment's name, one line.")
    check_secret("github-token", token, terms)
    api = parse_api_url(environ.get("GITHUB_API_URL", "").strip(), terms, "GITHUB_API_URL", API)
    endpoint = replace(common.elsewhere(api, "GITHUB_API_URL", environ), terms=terms)
    return SecretStore(endpoint, token, place.repository, place.name, place.environment, permission)
