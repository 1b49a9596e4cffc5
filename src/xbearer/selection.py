"""Which way of getting the token a step's inputs choose, and which inputs may not come
with it: the one place that decides, as google-github-actions/auth's main.ts picks its
client.

Each mode declares the inputs it reads, which of their values are secrets and whether
its token is sealed for later jobs (modes.Mode), and checks only the values it reads.
A new way of getting a token is a new module, a line in CHOICES, and its lines in REFUSED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import config, user_context
from .app_only import AppOnly
from .config import CommonSettings, Inputs
from .errors import InputError, Terms
from .handoff import Handoff
from .modes import Mode
from .user_context import ClientRevoker, UserContext

Test = Callable[[Inputs, CommonSettings], bool]


def _minting(inputs: Inputs, common: CommonSettings) -> bool:
    """A source of a new user token is given."""
    return inputs.any(user_context.SOURCE)


def _keys(inputs: Inputs, common: CommonSettings) -> bool:
    """api-key or api-secret: the app's keys (to mint, or to revoke an app-only token)."""
    return inputs.any(AppOnly.keys)


def _client(inputs: Inputs, common: CommonSettings) -> bool:
    """client-id or client-secret: the OAuth 2.0 client (to revoke a user token)."""
    return inputs.any(ClientRevoker.inputs)


def _owner(inputs: Inputs, common: CommonSettings) -> bool:
    """access-token or access-token-secret: the app owner's, to sign a revocation."""
    return inputs.any(AppOnly.owner)


def _later_job(inputs: Inputs, common: CommonSettings) -> bool:
    """sealed-bearer, or a passphrase with nothing to mint from (or with invalidate): a
    later job's, whose sealed-bearer may not have arrived (its refusals say so)."""
    if inputs.get("sealed-bearer"):
        return True
    revoking = common.invalidate or not (_keys(inputs, common) or _client(inputs, common))
    return bool(common.passphrase) and not _minting(inputs, common) and revoking


# Each mode and what chooses it, first match first; the last chooses when no other does.
CHOICES: dict[type[Mode], Test] = {
    Handoff: _later_job,
    UserContext: lambda inputs, _: inputs.any(UserContext.inputs),
    AppOnly: lambda inputs, _: True,
}
MODES = tuple(CHOICES)
INPUTS = tuple(dict.fromkeys((*config.INPUTS, *(name for m in MODES for name in m.inputs))))
SECRET_INPUTS = (*config.SECRET_INPUTS, *(name for m in MODES for name in m.secret_inputs))

ARRIVE = (
    "the earlier job's output did not arrive. The minting job must list it under outputs: "
    "(sealed: ${{ steps.token.outputs.sealed-bearer }}), and this job must need: that job and "
    "pass sealed-bearer: ${{ needs.mint.outputs.sealed }}."
)
OWNER_TOGETHER: tuple[Test, str] = (
    lambda inputs, common: (
        _owner(inputs, common)
        and not (inputs.get("access-token") and inputs.get("access-token-secret"))
    ),
    "Give access-token and access-token-secret together, or neither.",
)

# What may not come with the credentials that revoke a token a step is given (a later
# job's post step, or the native action's companion: handoff.load_revoker).
REVOKER_REFUSED: tuple[tuple[Test, str], ...] = (
    (
        lambda inputs, common: _owner(inputs, common) and not _keys(inputs, common),
        "access-token and access-token-secret are only used with invalidate: true, to "
        "revoke an app-only token with api-key and api-secret.",
    ),
    OWNER_TOGETHER,
    (
        lambda inputs, common: _keys(inputs, common) and _client(inputs, common),
        "Give api-key and api-secret (an app-only token) or client-id (a user token) to "
        "revoke with, not both.",
    ),
)

# What each chosen mode refuses, in the order asked, before it reads a value: the first
# that holds is the error. Every "not with" rule of every mode is here.
REFUSED: dict[type[Mode], tuple[tuple[Test, str], ...]] = {
    Handoff: (
        (
            lambda _, common: not common.passphrase,
            "sealed-bearer needs passphrase: the one the sealing job used.",
        ),
        (
            _minting,
            "Give either sealed-bearer (with passphrase) or refresh-token, not both: one source "
            "of the token per step.",
        ),
        (
            lambda inputs, common: (
                not inputs.get("sealed-bearer")
                and (_keys(inputs, common) or _client(inputs, common))
            ),
            "passphrase with invalidate: true: a step that mints and seals the token would "
            "revoke it when this job ends, before any later job can use it. Drop invalidate "
            "here and revoke in the last job, which gives sealed-bearer, passphrase, invalidate: "
            "true and the credentials to revoke with. If this is that last job, its "
            f"sealed-bearer is empty: {ARRIVE}",
        ),
        (
            lambda inputs, _: not inputs.get("sealed-bearer"),
            f"sealed-bearer is empty, with passphrase set: {ARRIVE}",
        ),
        (
            lambda inputs, common: _keys(inputs, common) and not common.invalidate,
            "Give either sealed-bearer (with passphrase) or api-key and api-secret, not both: "
            "with sealed-bearer, the keys are only for invalidate: true (the last job revokes).",
        ),
        (
            lambda inputs, common: _client(inputs, common) and not common.invalidate,
            "With sealed-bearer, client-id and client-secret are only for invalidate: true "
            "(the last job revokes a user token).",
        ),
        *REVOKER_REFUSED,
        (
            lambda inputs, common: (
                common.invalidate and not (_keys(inputs, common) or _client(inputs, common))
            ),
            "invalidate with sealed-bearer needs api-key and api-secret (an app-only token) or "
            "client-id (a user token): the post step revokes the token with them.",
        ),
    ),
    UserContext: (
        (
            lambda inputs, common: inputs.any(AppOnly.inputs),
            "Give either refresh-token (a user token) or api-key and api-secret (an app-only "
            "token), not both: one source of the token per step. access-token and "
            "access-token-secret belong to app-only tokens.",
        ),
        (
            lambda _, common: bool(common.passphrase and common.invalidate),
            "passphrase (sealing the token for later jobs) with invalidate: true would revoke "
            "the token when this job ends, before any later job can use it. Revoke in the last "
            "job instead: give it sealed-bearer, passphrase, client-id (and client-secret) and "
            "invalidate: true.",
        ),
    ),
    AppOnly: (
        OWNER_TOGETHER,
        (
            lambda inputs, common: _owner(inputs, common) and not common.invalidate,
            "access-token and access-token-secret are only used with invalidate: true.",
        ),
    ),
}


def derived_secrets(inputs: Inputs) -> list[str]:
    """The secrets every mode would make from the inputs, masked with them before any
    input is checked, whichever mode is chosen."""
    return [value for mode in MODES for value in mode.derived_secrets(inputs)]


def select(inputs: Inputs, common: CommonSettings) -> type[Mode]:
    """The mode the inputs choose (CHOICES), before its inputs are checked."""
    return next(mode for mode, chooses in CHOICES.items() if chooses(inputs, common))


def load(inputs: Inputs, common: CommonSettings, environ: Mapping[str, str], terms: Terms) -> Mode:
    """The chosen mode with its inputs checked; InputError names a refused combination."""
    mode = select(inputs, common)
    for refuses, message in REFUSED[mode]:
        if refuses(inputs, common):
            raise InputError(message)
    return mode.load(inputs, common, environ, terms)
