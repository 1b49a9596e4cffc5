"""A later job: the token unsealed from an earlier job's sealed-bearer, with no request.

The last job of a hand-off also gives what revokes the token in its post step: the
app's key and secret (an app-only token) or the OAuth 2.0 client (a user token).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

from .answers import validate_token
from .app_only import AppOnly
from .config import CommonSettings, Inputs
from .errors import ActionError, Terms
from .modes import Revoker, TokenResult
from .transport import Endpoint
from .user_context import ClientRevoker


def load_revoker(
    inputs: Inputs, common: CommonSettings, environ: Mapping[str, str], terms: Terms
) -> Revoker:
    """What revokes a token a step was given (a later job's, or the native action's
    companion's): the app's key and secret (an app-only token), else the OAuth 2.0
    client (a user token). selection.REVOKER_REFUSED has refused the rest."""
    if inputs.any(AppOnly.keys):
        return AppOnly.load(inputs, common, environ, terms)
    return ClientRevoker.load(inputs, terms)


@dataclass(frozen=True)
class Handoff:
    """sealed-bearer and its passphrase, and what revokes the token, if it is to be."""

    kind: ClassVar[str] = "a later job's token (unsealed, no request)"
    inputs: ClassVar[tuple[str, ...]] = ("sealed-bearer",)  # and passphrase (config.INPUTS)
    secret_inputs: ClassVar[tuple[str, ...]] = ()  # passphrase is masked as a shared input
    seals: ClassVar[bool] = False  # it was sealed already
    common: CommonSettings
    sealed: str
    passphrase: str
    revoker: Revoker | None

    @staticmethod
    def derived_secrets(inputs: Inputs) -> list[str]:
        """None: the revokers' credentials are masked as their modes' are."""
        return []

    @classmethod
    def load(
        cls, inputs: Inputs, common: CommonSettings, environ: Mapping[str, str], terms: Terms
    ) -> Handoff:
        """Check what revokes the token, if it is to be (selection has refused every
        combination that does not belong with sealed-bearer)."""
        revoker = load_revoker(inputs, common, environ, terms) if common.invalidate else None
        return cls(common, inputs.get("sealed-bearer"), inputs.get("passphrase"), revoker)

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> TokenResult:
        """Unseal: no request to X."""
        from .sealing import open_sealed

        sealed = open_sealed(self.sealed, self.passphrase)
        if sealed.kind == "refresh":
            raise ActionError(
                "sealed-bearer holds a refresh token (one a failed store showed sealed), not a "
                "bearer token: recover it with xbearer unseal and store it in its secret."
            )
        if self.revoker is not None and self.revoker.revokes != sealed.kind:
            user = sealed.kind == "user"
            given, need = ("api-key and api-secret", "client-id") if user else ("client-id", "")
            raise ActionError(
                f"sealed-bearer holds {'a user' if user else 'an app-only'} token, which "
                f"{given} cannot revoke: give {need or 'api-key and api-secret'} instead."
            )
        value = sealed.value
        validate_token(value, "The unsealed value: ")
        mask(value)
        done = "Unsealed the bearer token from sealed-bearer (no request to X)."
        return TokenResult(value, sealed.kind, [done])

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke with the credentials given for it (load requires them with invalidate)."""
        if self.revoker is None:
            raise ActionError("Nothing to revoke with: invalidate is off.")
        return self.revoker.revoke(token, endpoint)
