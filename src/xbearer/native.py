"""The native action's two steps (native/action.yml and native/invalidate/action.yml),
which native/bootstrap.py runs on the runner itself: the container's code, with what
a composite action cannot do said plainly.

A composite action has no post step, so the native action refuses `invalidate: true`,
and its companion revokes instead: the job's last step, run with `if: always()`, given
the token (`bearer`, or `sealed-bearer` and `passphrase`) and what revokes it. It runs
the post step's code path (action.mask_inputs, action.run_revocation): a revocation that
fails is a warning, never a failure; only a `bearer` that is no bearer token is an
error, as it is never sent to X.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from . import action, answers, config, entry, selection
from .action import Core
from .app_only import AppOnly
from .errors import ACTION_TERMS, ActionError, InputError
from .handoff import load_revoker
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
BAD_BEARER = (
    f"bearer is not a bearer token ({answers.MIN_TOKEN} to {answers.MAX_TOKEN} characters of "
    "the RFC 6750 alphabet): pass the token step's bearer output "
    "(${{ steps.token.outputs.bearer }}). Nothing was sent to X."
)
REFUSED_INVALIDATE = (
    "invalidate: true needs a post step, which this native (composite) action does not "
    "have: drop it, and revoke in the job's last step with the companion action "
    "native/invalidate beside this one, under if: always(), given this step's bearer "
    "output (or sealed-bearer and passphrase) and the credentials to revoke with "
    "(docs/native.md). Nothing was output."
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
        return action.read_invalidate(core)
    except InputError:
        return False


def invalidate(core: Core, environ: Mapping[str, str]) -> int:
    """The companion: revoke the token it is given; warn, never fail, but for a bearer
    that is no bearer token (an error: it is never sent)."""
    return action.run_revocation(core, environ, lambda hold: _revocation(core, environ, hold))


def _revocation(core: Core, environ: Mapping[str, str], hold: action.Hold) -> str | None:
    """What the companion was given, checked, then revoked; None if it was given none."""
    inputs = action.mask_inputs(core, COMPANION_INPUTS)
    bearer = inputs.get("bearer")
    action.mask_token(core, bearer)  # whole, before it is checked
    if not bearer and not inputs.get("sealed-bearer"):
        core.info(
            "Nothing to revoke: bearer and sealed-bearer are empty (the step that gets the "
            "token failed or was skipped, or its output is not passed here)."
        )
        return None
    if bearer:
        try:
            answers.validate_token(bearer)
        except ActionError:
            raise action.RefusedToken(BAD_BEARER) from None
    common = config.load(
        inputs,
        invalidate=True,
        workspace=environ.get("GITHUB_WORKSPACE") or ".",
        environ=environ,
        notify=core.info,
    )
    selection.refuse(selection.COMPANION_REFUSED, inputs, common)
    if bearer:
        selection.refuse(selection.REVOKER_REFUSED, inputs, common)
        revoker = load_revoker(inputs, common, environ, ACTION_TERMS)
        return action.revoke(revoker.revoke, bearer, common)
    # unsealed as a later job's main step would, its kind checked against the revoker
    mode = selection.load(inputs, common, environ, ACTION_TERMS)
    obtained = mode.obtain(lambda token: action.mask_token(core, token), hold)
    return action.revoke(mode.revoke, obtained.token, common)
