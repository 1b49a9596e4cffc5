"""A later job: the token unsealed from an earlier job's sealed-bearer, with no request.

The last job of a hand-off also gives what revokes the token in its post step: the
app's key and secret (an app-only token) or the OAuth 2.0 client (a user token).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

from . import app_only, user_context
from .answers import validate_token
from .app_only import AppOnly
from .config import Common, Inputs
from .errors import ActionError, InputError, Terms
from .modes import Obtained, Revoker
from .transport import Endpoint

APP_KEYS = ("api-key", "api-secret")
CLIENT = ("client-id", "client-secret")


def expected(get: Inputs, common: Common) -> bool:
    """Whether this step is a later job's: sealed-bearer given, or expected (a passphrase
    with nothing to mint from, or with invalidate: a last job whose input is missing)."""
    if get("sealed-bearer"):
        return True
    if not common.passphrase or get.any(user_context.SOURCE):
        return False
    return common.invalidate or not get.any(APP_KEYS + CLIENT)


@dataclass(frozen=True)
class Handoff:
    """sealed-bearer and its passphrase, and what revokes the token, if it is to be."""

    kind: ClassVar[str] = "a later job's token (unsealed, no request)"
    common: Common
    sealed: str
    passphrase: str
    revoker: Revoker | None

    @classmethod
    def load(cls, get: Inputs, common: Common, terms: Terms) -> Handoff:
        """Check the later job's inputs."""
        sealed, app, client = get("sealed-bearer"), get.any(APP_KEYS), get.any(CLIENT)
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
        passphrase = common.passphrase
        if not passphrase:
            raise InputError("sealed-bearer needs passphrase: the one the sealing job used.")
        if get.any(user_context.SOURCE):
            raise InputError(
                "Give either sealed-bearer (with passphrase) or refresh-token, not both: one "
                "source of the token per step."
            )
        owner = get.any(app_only.INPUTS[2:])
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
                revoker = AppOnly.load(get, common, terms)
            elif client:
                revoker = user_context.ClientRevoker.load(get, terms)
            else:
                raise InputError(
                    "invalidate with sealed-bearer needs api-key and api-secret (an app-only "
                    "token) or client-id (a user token): the post step revokes the token with them."
                )
        return cls(common, sealed, passphrase, revoker)

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> Obtained:
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
        return Obtained(value, sealed.kind, [done])

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke with the credentials given for it (load requires them with invalidate)."""
        if self.revoker is None:
            raise ActionError("Nothing to revoke with: invalidate is off.")
        return self.revoker.revoke(token, endpoint)
