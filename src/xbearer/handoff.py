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
from .errors import ActionError, InputError, Terms
from .modes import Revoker, TokenResult
from .transport import Endpoint
from .user_context import ClientRevoker


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
        """Check the later job's inputs (selection has checked that sealed-bearer comes with
        its passphrase, and without another source of the token)."""
        sealed = inputs.get("sealed-bearer")
        app, client = inputs.any(AppOnly.keys), inputs.any(ClientRevoker.inputs)
        if not sealed:
            arrive = (
                "the earlier job's output did not arrive. The minting job must list it under "
                "outputs: (sealed: ${{ steps.token.outputs.sealed-bearer }}), and this job must "
                "need: that job and pass sealed-bearer: ${{ needs.mint.outputs.sealed }}."
            )
            if app or client:
                raise InputError(
                    "passphrase with invalidate: true: a step that mints and seals the token "
                    "would revoke it when this job ends, before any later job can use it. Drop "
                    "invalidate here and revoke in the last job, which gives sealed-bearer, "
                    "passphrase, invalidate: true and the credentials to revoke with. If this is "
                    f"that last job, its sealed-bearer is empty: {arrive}"
                )
            raise InputError(f"sealed-bearer is empty, with passphrase set: {arrive}")
        owner = inputs.any(AppOnly.owner)
        if app and not common.invalidate:
            raise InputError(
                "Give either sealed-bearer (with passphrase) or api-key and api-secret, not both: "
                "with sealed-bearer, the keys are only for invalidate: true (the last job revokes)."
            )
        if client and not common.invalidate:
            raise InputError(
                "With sealed-bearer, client-id and client-secret are only for invalidate: true "
                "(the last job revokes a user token)."
            )
        if owner and not (app and common.invalidate):
            raise InputError(
                "access-token and access-token-secret are only used with invalidate: true, to "
                "revoke an app-only token with api-key and api-secret."
            )
        revoker: Revoker | None = None
        if common.invalidate:
            if app and client:
                raise InputError(
                    "Give api-key and api-secret (an app-only token) or client-id (a user token) "
                    "to revoke with, not both."
                )
            if app:
                revoker = AppOnly.load(inputs, common, environ, terms)
            elif client:
                revoker = ClientRevoker.load(inputs, terms)
            else:
                raise InputError(
                    "invalidate with sealed-bearer needs api-key and api-secret (an app-only "
                    "token) or client-id (a user token): the post step revokes the token with them."
                )
        return cls(common, sealed, inputs.get("passphrase"), revoker)

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
        done = "- Unsealed the bearer token from sealed-bearer (no request to X)."
        return TokenResult(value, sealed.kind, [done])

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke with the credentials given for it (load requires them with invalidate)."""
        if self.revoker is None:
            raise ActionError("Nothing to revoke with: invalidate is off.")
        return self.revoker.revoke(token, endpoint)
