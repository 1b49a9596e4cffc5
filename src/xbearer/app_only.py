"""App-only mode: the app's API key and secret for a bearer token (client credentials)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

from .client import Credentials, invalidate_token, request_token
from .config import CommonSettings, Inputs, check_secret
from .errors import ActionError, Terms
from .modes import TokenResult
from .transport import Endpoint


@dataclass(frozen=True)
class AppOnly:
    """The app's key and secret, and the owner's access token to sign a revocation."""

    kind: ClassVar[str] = "app-only token"
    keys: ClassVar[tuple[str, str]] = ("api-key", "api-secret")  # to get the token
    owner: ClassVar[tuple[str, str]] = ("access-token", "access-token-secret")  # to sign revoking
    inputs: ClassVar[tuple[str, ...]] = (*keys, *owner)
    secret_inputs: ClassVar[tuple[str, ...]] = inputs
    seals: ClassVar[bool] = True
    revokes: ClassVar[str] = "app"
    common: CommonSettings
    credentials: Credentials
    oauth1_token: tuple[str, str] | None

    @staticmethod
    def derived_secrets(inputs: Inputs) -> list[str]:
        """The Basic credential of the key and secret, sent to X's oauth2 endpoints."""
        key, secret = inputs.get("api-key"), inputs.get("api-secret")
        return [Credentials(key, secret).basic] if key and secret else []

    @classmethod
    def load(
        cls,
        inputs: Inputs,
        common: CommonSettings,
        environ: Mapping[str, str],
        terms: Terms,
    ) -> AppOnly:
        """Check this mode's values (selection has refused what may not come with them;
        the runner's variables are not among them)."""
        check_secret("api-key", inputs.get("api-key"), terms)
        check_secret("api-secret", inputs.get("api-secret"), terms)
        token, secret = inputs.get("access-token"), inputs.get("access-token-secret")
        oauth1 = None
        if token:
            check_secret("access-token", token, terms)
            check_secret("access-token-secret", secret, terms)
            oauth1 = (token, secret)
        return cls(common, Credentials(inputs.get("api-key"), inputs.get("api-secret")), oauth1)

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> TokenResult:
        """POST oauth2/token for the app's bearer token."""
        token = request_token(self.credentials, self.common.endpoint)
        mask(token.value)
        host = self.common.endpoint.host
        done = f"Obtained a bearer token from {host} in {token.attempts} attempt(s)."
        return TokenResult(token.value, "app", [done])

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """POST oauth2/invalidate_token, OAuth 1.0a-signed with the owner's token, else Basic."""
        try:
            return invalidate_token(self.credentials, token, endpoint, self.oauth1_token)
        except ActionError as exc:
            other = (
                "Basic auth (leave access-token and access-token-secret unset)"
                if self.oauth1_token
                else "OAuth 1.0a (set access-token and access-token-secret of the app owner)"
            )
            raise ActionError(f"{exc.message} X also accepts {other}.") from None
