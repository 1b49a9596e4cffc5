"""The native action's two steps (native/action.yml and native/invalidate/action.yml),
which native/bootstrap.py runs on the runner itself: the container's code, with what
a composite action cannot do said plainly.

A composite action has no post step, so the native action refuses `invalidate: true`,
and its companion revokes instead: the job's last step, run with `if: always()`, given
the token (`bearer`, or `sealed-bearer` and `passphrase`) and what revokes it. As the
Docker action's post step, a revocation that fails is a warning, never a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Literal

from . import action, config, entry, selection
from .action import Core
from .app_only import AppOnly
from .config import Inputs
from .errors import ACTION_TERMS, ActionError, InputError
from .handoff import load_revoker
from .transport import Endpoint
from .user_context import ClientRevoker

# The companion's inputs: the token, what revokes it, and the route to X.
COMPANION_INPUTS = (
    "bearer",
    "sealed-bearer",
    "passphrase",
    *AppOnly.inputs,
    *ClientRevoker.inputs,
    "api-url",
    "timeout",
    "retries",
    "ca-bundle",
)
REFUSED_INVALIDATE = (
    "invalidate: true needs a post step, which this native (composite) action does not "
    "have: drop it, and revoke in the job's last step with the companion action "
    "native/invalidate beside this one, under if: always(), given this step's bearer "
    "output (or sealed-bearer and passphrase) and the credentials to revoke with "
    "(docs/native.md). Nothing was output."
)
NO_CREDENTIALS = (
    "The companion needs api-key and api-secret (an app-only token) or client-id (a user "
    "token) to revoke the token with."
)


def run(step: Literal["main", "invalidate"]) -> int:
    """Run the native action's main step, or its companion's; the exit status."""
    from actions_toolkit import core

    if step == "invalidate":
        return invalidate(core, os.environ)
    if _invalidate_requested(core):
        core.error(REFUSED_INVALIDATE)
        return 1
    return entry.run("main")


def _invalidate_requested(core: Core) -> bool:
    """invalidate is true; a value that is no boolean the main step refuses in its words."""
    try:
        return action._invalidate(core)
    except InputError:
        return False


def invalidate(core: Core, environ: Mapping[str, str]) -> int:
    """The companion: revoke the token it is given; warn, never fail."""
    cancellation = action._Cancellation()
    raw = {name: core.get_input(name, trim_whitespace=False) for name in COMPANION_INPUTS}
    for name in COMPANION_INPUTS:
        if name in selection.SECRET_INPUTS:
            action._mask(core, raw[name])
    inputs = Inputs(raw)
    bearer = inputs.get("bearer")
    if bearer:
        action._mask_token(core, bearer)
    for secret in selection.derived_secrets(inputs):
        action._mask(core, secret)
    if not bearer and not inputs.get("sealed-bearer"):
        core.info(
            "Nothing to revoke: bearer and sealed-bearer are empty (the step that gets the "
            "token failed or was skipped, or its output is not passed here)."
        )
        return 0
    try:
        if bearer and inputs.get("sealed-bearer"):
            raise InputError("Give bearer or sealed-bearer (with passphrase), not both.")
        if not inputs.any((*AppOnly.keys, *ClientRevoker.inputs)):
            raise InputError(NO_CREDENTIALS)
        common = config.load(
            inputs,
            invalidate=True,
            workspace=environ.get("GITHUB_WORKSPACE") or ".",
            environ=environ,
            notify=core.info,
        )
        revoke: Callable[[str, Endpoint], str]
        if bearer:
            for refuses, message in selection.REVOKER_REFUSED:
                if refuses(inputs, common):
                    raise InputError(message)
            token, revoke = bearer, load_revoker(inputs, common, environ, ACTION_TERMS).revoke
        else:  # unsealed as a later job's main step would, its kind checked against the revoker
            mode = selection.load(inputs, common, environ, ACTION_TERMS)
            obtained = mode.obtain(lambda value: action._mask_token(core, value), cancellation.held)
            token, revoke = obtained.token, mode.revoke
        done = action.revoke(revoke, token, common)
        cancellation.armed = False
        core.info(done)
        action._summary(environ, [done])
    except action._Cancelled as exc:
        return action._Cancellation.log_and_exit_status(core, exc, "the token was not revoked.")
    except ActionError as exc:
        core.warning(f"Could not revoke the bearer token: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        core.warning(f"Could not revoke the bearer token: internal error ({type(exc).__name__}).")
    return 0
