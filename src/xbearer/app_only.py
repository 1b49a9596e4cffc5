"""App-only mode: the app's API key and secret for a bearer token (client credentials)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

from .client import Credentials, invalidate_token, request_token
from .config import Common, Inputs, check_secret
from .errors import ActionError, InputError, Terms
from .modes import Obtained
from .transport import Endpoint

INPUTS = ("api-key", "api-secret", "access-token", "access-token-secret")
SECRETS = INPUTS


@dataclass(frozen=True)
class AppOnly:
    """The app's key and secret, and the owner's access token to sign a revocation."""

    kind: ClassVar[str] = "app-only token"
    revokes: ClassVar[str] = "app"
    common: Common
    credentials: Credentials
    oauth1_token: tuple[str, str] | None

    @classmethod
    def load(cls, get: Inputs, common: Common, terms: Terms) -> AppOnly:
        """Check this mode's inputs."""
        check_secret("api-key", get("api-key"), terms)
        check_secret("api-secret", get("api-secret"), terms)
        token, secret = get("access-token"), get("access-token-secret")
        oauth1 = None
        if token or secret:
            if not (token and secret):
                raise InputError("Give access-token and access-token-secret together, or neither.")
            if not common.invalidate:
                raise InputError(
                    "access-token and access-token-secret are only used with invalidate: true."
                )
            check_secret("access-token", token, terms)
            check_secret("access-token-secret", secret, terms)
            oauth1 = (token, secret)
        return cls(common, Credentials(get("api-key"), get("api-secret")), oauth1)

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> Obtained:
        """POST oauth2/token for the app's bearer token."""
        token = request_token(self.credentials, self.common.endpoint)
        mask(token.value)
        host = self.common.endpoint.host
        done = f"- Obtained a bearer token from {host} in {token.attempts} attempt(s)."
        return Obtained(token.value, "app", [done])

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
