"""User-context mode: an OAuth 2.0 user access token, refreshed at X, with the rotated
refresh token stored back into the repository secret before anything is output.

The order of a run, so that the refresh token is never lost: prove the secret can be
written, refresh once, mask both new tokens, store the new refresh token, and only then
output. If storing fails for good, the new refresh token is shown sealed with the
passphrase, or said to be lost.

The proof writes (and deletes) a companion secret new to each run
(NAME_WRITE_CHECK_ and a random suffix), where storing the current refresh token again
would do harm: a run that started before another run stored
its rotated token would otherwise put the used one back, and lose both.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

from . import github, oauth2
from .config import EMPTY_INPUT, CommonSettings, Inputs, check_secret
from .errors import ActionError, InputError, Terms
from .github import SecretStore
from .modes import TokenResult
from .transport import Endpoint

# What makes a step a user-context one (client-id too, unless it only revokes a
# sealed token in a later job).
STORE = ("refresh-token-secret-name", "secret-environment", "github-token")  # where it goes
SOURCE = ("refresh-token", *STORE)


def _client(inputs: Inputs, terms: Terms) -> oauth2.Client:
    client_id = inputs.get("client-id")
    if not client_id:
        raise InputError(
            f"{terms.name('client-id')} is empty: give the app's OAuth 2.0 Client ID (the app's "
            "Keys and tokens page)."
        )
    secret = inputs.get("client-secret")
    for name, value in (("client-id", client_id), ("client-secret", secret)):
        if value:
            check_secret(name, value, terms)
            if not value.isascii():
                raise InputError(
                    f"{terms.name(name)} must be ASCII, as X's client IDs and secrets are: "
                    "copy it again from the app's Keys and tokens page."
                )
    return oauth2.Client(client_id, secret or None)


@dataclass(frozen=True)
class ClientRevoker:
    """The OAuth 2.0 client that revokes a user access token (a later job's)."""

    revokes: ClassVar[str] = "user"
    inputs: ClassVar[tuple[str, str]] = ("client-id", "client-secret")
    client: oauth2.Client

    @classmethod
    def load(cls, inputs: Inputs, terms: Terms) -> ClientRevoker:
        """client-id, and client-secret for a confidential client."""
        return cls(_client(inputs, terms))

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """POST 2/oauth2/revoke."""
        return oauth2.revoke(self.client, token, endpoint)


@dataclass(frozen=True)
class UserContext:
    """The refresh token, the client it belongs to, and the secret it is kept in."""

    kind: ClassVar[str] = "user token (OAuth 2.0 refresh)"
    inputs: ClassVar[tuple[str, ...]] = ("refresh-token", *ClientRevoker.inputs, *STORE)
    secret_inputs: ClassVar[tuple[str, ...]] = ("refresh-token", "client-secret", "github-token")
    seals: ClassVar[bool] = True
    revokes: ClassVar[str] = "user"
    common: CommonSettings
    client: oauth2.Client
    refresh_token: str
    store: SecretStore

    @staticmethod
    def derived_secrets(inputs: Inputs) -> list[str]:
        """The client's Basic credential (a confidential client's), sent to X."""
        basic = oauth2.Client(inputs.get("client-id"), inputs.get("client-secret")).basic
        return [basic] if basic else []

    @classmethod
    def load(
        cls, inputs: Inputs, common: CommonSettings, environ: Mapping[str, str], terms: Terms
    ) -> UserContext:
        """Check this mode's values and the runner's variables, before any request
        (selection has refused what may not come with them)."""
        client = _client(inputs, terms)
        check_secret("refresh-token", inputs.get("refresh-token"), terms)
        name = inputs.get("refresh-token-secret-name")
        if not name:
            raise InputError(
                "refresh-token-secret-name is empty: name the secret that refresh-token comes "
                "from, so that the rotated refresh token is stored back into it."
            )
        if not inputs.get("github-token"):
            raise InputError(f"github-token is empty: {EMPTY_INPUT} It {github.PERMISSION}")
        if not environ.get("GITHUB_API_URL", "").strip():
            raise InputError(
                "GITHUB_API_URL is not set: GitHub's runner sets it for every step; this mode "
                "runs only in a workflow."
            )
        place = github.Place(
            environ.get("GITHUB_REPOSITORY", "").strip(),
            name,
            inputs.get("secret-environment") or None,
            ("GITHUB_REPOSITORY", "refresh-token-secret-name", "secret-environment"),
        )
        store = github.secret_store(place, inputs.get("github-token"), common, environ, terms)
        return cls(common, client, inputs.get("refresh-token"), store)

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> TokenResult:
        """Prove the secret can be written, refresh once, store the new refresh token.

        From the refresh until the new token is stored, cancellation waits (`hold`):
        once X may have rotated, stopping would lose the new one."""
        store = self.store
        check = store.check_writable(store.public_key())
        key = check.key
        with hold():
            try:
                tokens = oauth2.refresh(self.client, self.refresh_token, self.common.endpoint, mask)
            except oauth2.Rotated as exc:
                self._keep(exc.refresh_token, key)
                raise ActionError(
                    f"{exc.message} The rotated refresh token was stored in the {store.where}."
                ) from None
            self._keep(tokens.refresh_token, key, tokens.scope)
        rotated = oauth2.stamp()  # a keep-alive schedule's summary says when, each run
        host = self.common.endpoint.host
        scopes = f" for {tokens.scope}" if tokens.scope else ""
        lasting = (
            f", valid for {tokens.expires_in} s (until {tokens.expires_at})"
            if tokens.expires_in
            else ""
        )
        return TokenResult(
            tokens.access_token,
            "user",
            [
                f"Checked that the {store.where} can be written ({check.done}).",
                f"Refreshed a user access token at {host}{scopes}{lasting}.",
                f"Stored the rotated refresh token in the {store.where} at {rotated}.",
            ],
            {
                "expires-in": tokens.expires_in,
                "expires-at": tokens.expires_at,
                "scope": tokens.scope,
            },
            [warning] if (warning := check.warning(store.repository)) else [],
        )

    def _keep(self, refresh_token: str, key: github.PublicKey, scope: str = "") -> None:
        """Store the rotated refresh token; if that fails for good, the rescue."""
        try:
            self.store.store(refresh_token, key)
        except ActionError as exc:
            raise ActionError(self._rescue(exc, refresh_token, scope)) from None

    def _rescue(self, failure: ActionError, refresh_token: str, scope: str) -> str:
        """The error when X rotated the refresh token but GitHub would not store it."""
        said = (
            f"X rotated the refresh token, but storing the new one failed: {failure.message} "
            f"The {self.store.where} still holds the old one, which X no longer accepts."
        )
        store = self.store
        where = f" --repo {store.repository}"
        where += f" --env {shlex.quote(store.environment)}" if store.environment else ""
        if not self.common.passphrase:
            scopes = shlex.quote(scope) if scope else '"<the scopes it had>"'
            command = (
                f"xbearer authorize --client-id {shlex.quote(self.client.client_id)} --scope "
                f"{scopes} --secret {store.name}{where.replace(' --env ', ' --environment ')}"
            )
            return (
                f"{said} The new refresh token is lost: authorize the account again "
                f"(`{command}`). Set passphrase to have it shown sealed next time."
            )
        from .sealing import seal

        sealed = seal(refresh_token, self.common.passphrase, "refresh")
        command = f"gh secret set {store.name}{where}"
        return (
            f"{said} Here it is, sealed with passphrase: {sealed} — recover it with "
            f"`xbearer unseal` (the passphrase from X_PASSPHRASE or a prompt) and store it with "
            f"`{command}`."
        )

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """POST 2/oauth2/revoke for the access token."""
        return oauth2.revoke(self.client, token, endpoint)
