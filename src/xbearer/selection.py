"""Which way of getting the token a step's inputs choose: the one place that decides.

Each mode declares the inputs it reads, which of their values are secrets and whether
its token is sealed for later jobs (modes.Mode); this module says which inputs select
which mode and which may not come with it, in one block, as google-github-actions/auth's
main.ts picks its client. A new way of getting a token is a new module and a line here.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import config, user_context
from .app_only import AppOnly
from .config import CommonSettings, Inputs
from .errors import InputError, Terms
from .handoff import Handoff
from .modes import Mode
from .user_context import ClientRevoker, UserContext

# Each mode and the inputs that choose it, first match first; the last, which no input
# chooses, is the default. A new mode is a line here (and one in EXCLUDED if it has to).
CHOSEN_BY: dict[type[Mode], tuple[str, ...]] = {
    Handoff: ("sealed-bearer",),
    UserContext: UserContext.inputs,
    AppOnly: (),
}
MODES = tuple(CHOSEN_BY)
INPUTS = tuple(dict.fromkeys((*config.INPUTS, *(name for m in MODES for name in m.inputs))))
SECRET_INPUTS = (*config.SECRET_INPUTS, *(name for m in MODES for name in m.secret_inputs))

# What may not come with the chosen mode: one source of the token per step.
EXCLUDED: dict[type[Mode], tuple[tuple[str, ...], str]] = {
    Handoff: (
        user_context.SOURCE,
        "Give either sealed-bearer (with passphrase) or refresh-token, not both: one source "
        "of the token per step.",
    ),
    UserContext: (
        AppOnly.inputs,
        "Give either refresh-token (a user token) or api-key and api-secret (an app-only "
        "token), not both: one source of the token per step. access-token and "
        "access-token-secret belong to app-only tokens.",
    ),
}


def derived_secrets(inputs: Inputs) -> list[str]:
    """The secrets every mode would make from the inputs, masked with them before any
    input is checked, whichever mode is chosen."""
    return [value for mode in MODES for value in mode.derived_secrets(inputs)]


def select(inputs: Inputs, common: CommonSettings) -> type[Mode]:
    """The mode the inputs choose (CHOSEN_BY), before its inputs are checked.

    sealed-bearer needs the passphrase that opens it. A passphrase with nothing to mint
    from, or with invalidate, is a later job's too, whose sealed-bearer did not arrive:
    its mode says so.
    """
    if inputs.get("sealed-bearer") and not common.passphrase:
        raise InputError("sealed-bearer needs passphrase: the one the sealing job used.")
    minting = inputs.any(user_context.SOURCE)
    credentials = inputs.any((*AppOnly.keys, *ClientRevoker.inputs))
    if common.passphrase and not minting and (common.invalidate or not credentials):
        return Handoff
    return next((mode for mode, names in CHOSEN_BY.items() if inputs.any(names)), MODES[-1])


def load(inputs: Inputs, common: CommonSettings, environ: Mapping[str, str], terms: Terms) -> Mode:
    """The chosen mode with its inputs checked; InputError names a refused combination."""
    mode = select(inputs, common)
    if mode in EXCLUDED:
        names, message = EXCLUDED[mode]
        if inputs.any(names):
            raise InputError(message)
    return mode.load(inputs, common, environ, terms)
