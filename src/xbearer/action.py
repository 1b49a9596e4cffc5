"""The Actions glue: inputs, masks, outputs, state and annotations via actions-toolkit.

`main` and `post` are given the toolkit's `core` and the environment (entry.py passes
the real ones), as create-github-app-token's lib/main.js is: tests pass a recording
core and a mapping instead of patching globals.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Protocol

from actions_toolkit.file_command import issue_file_command

from . import config, masks, selection
from .errors import ACTION_TERMS, ActionError, InputError
from .modes import Mode, TokenResult
from .transport import Endpoint


class Core(Protocol):
    """What the steps use of actions-toolkit's `core` module."""

    def get_input(self, name: str, *, trim_whitespace: bool = True) -> str: ...
    def get_boolean_input(self, name: str) -> bool: ...
    def get_state(self, name: str) -> str: ...
    def set_secret(self, secret: str) -> None: ...
    def set_output(self, name: str, value: str) -> None: ...
    def export_variable(self, name: str, val: str) -> None: ...
    def save_state(self, name: str, value: str) -> None: ...
    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


class _Cancelled(BaseException):
    """SIGINT or SIGTERM arrived: the run was cancelled (`after` what, if anything)."""

    def __init__(self, signum: int, after: str = "") -> None:
        super().__init__(signum)
        self.signum, self.after = signum, after


class _Cancellation:
    """SIGINT and SIGTERM end the step at once, until its results start being written.

    In a container Python is PID 1, which ignores SIGTERM unless it handles it.
    """

    def __init__(self) -> None:
        self.armed = True
        self.holding = False
        self.pending: int | None = None  # a signal that came while held
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.holding:
            self.pending = self.pending or signum
        elif self.armed:
            raise _Cancelled(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Within the block a signal waits: the caller checks `pending` afterwards."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    @staticmethod
    def log_and_exit_status(core: Core, exc: _Cancelled, what: str) -> int:
        """Log the cancellation in one line; return the exit status of a process ended by
        that signal."""
        after = f" {exc.after}" if exc.after else ""
        core.info(f"The step was cancelled ({signal.Signals(exc.signum).name}){after}: {what}")
        return 128 + exc.signum


def _mask(core: Core, value: str) -> None:
    """Register a secret input with the runner (masks.given)."""
    for part in masks.given(value):
        core.set_secret(part)


def _mask_token(core: Core, token: str) -> None:
    """Register a token from an answer with the runner: whole values only (masks.answered)."""
    for form in masks.answered(token):
        core.set_secret(form)


def _invalidate(core: Core) -> bool:
    """The invalidate input: YAML 1.2 core booleans, anything else an input error."""
    if not core.get_input("invalidate"):
        return False
    try:
        return bool(core.get_boolean_input("invalidate"))
    except TypeError:
        raise InputError(
            "invalidate must be true or false (YAML 1.2: true, True, TRUE, false, False, FALSE)."
        ) from None


def _read_mode(core: Core, environ: Mapping[str, str]) -> Mode:
    """Read the inputs, mask the secret ones first, validate them, and pick the mode:
    a later job's (sealed-bearer), user context (refresh-token), or app-only."""
    raw = {name: core.get_input(name, trim_whitespace=False) for name in selection.INPUTS}
    for name in selection.SECRET_INPUTS:
        _mask(core, raw[name])
    inputs = config.Inputs(raw)
    for secret in selection.derived_secrets(inputs):
        _mask(core, secret)
    workspace = environ.get("GITHUB_WORKSPACE") or "."
    common = config.load(
        inputs, invalidate=_invalidate(core), workspace=workspace, environ=environ, notify=core.info
    )
    if common.ca and common.ca.source != "ca-bundle":
        core.info(f"Trusting the CA certificates named by {common.ca.source}.")
    return selection.load(inputs, common, environ, ACTION_TERMS)


def _obtain(core: Core, mode: Mode, cancellation: _Cancellation) -> TokenResult:
    """The token, masked (both forms) the moment it is known."""
    endpoint = mode.common.endpoint
    core.debug(
        f"Mode: {mode.kind}; X API at {endpoint.api_url} (timeout {endpoint.timeout:g} s, "
        f"retries {endpoint.retries})"
    )
    obtained = mode.obtain(lambda token: _mask_token(core, token), cancellation.held)
    core.debug(f"Bearer token of {len(obtained.token)} characters; both forms masked.")
    return obtained


def _route(common: config.CommonSettings) -> dict[str, str]:
    """Where the credential goes and whom it trusts, as the main step decided: the
    post step sends the credential only along the same route. Digests, not values:
    a proxy URL can hold a password."""
    proxy = common.endpoint.proxy
    return {
        "api-url": common.endpoint.api_url,
        "proxy": f"{common.proxy_from}:{hashlib.sha256(proxy.encode()).hexdigest()}"
        if proxy
        else "",
        "ca": f"{common.ca.source}:{common.ca.sha256}" if common.ca else "",
    }


def _route_changes(saved: str, now: dict[str, str]) -> list[str]:
    """What differs from the route the main step recorded, in words."""
    try:
        before = json.loads(saved)
    except ValueError:
        before = None
    if not isinstance(before, dict):
        return ["the main step recorded no route"]
    changes = []
    if before.get("api-url") != now["api-url"]:
        changes.append(f"api-url is now {now['api-url']}, not {before.get('api-url')}")
    for key, what in (("proxy", "the proxy"), ("ca", "the CA bundle")):
        old, new = str(before.get(key, "")), now[key]
        if old == new:
            continue
        source = (new or old).partition(":")[0]
        if not old:
            changes.append(f"{what} is now set (by {source})")
        elif not new:
            changes.append(f"{what} (from {source}) is no longer used")
        else:
            changes.append(f"{what} changed (from {source})")
    return changes


class _WriteError(ActionError):
    """Writing the results failed part-way: the message says what was written."""


def _write(core: Core, environ: Mapping[str, str], mode: Mode, obtained: TokenResult) -> None:
    """Write outputs, variable, state and summary; a failure says what was written."""
    common, value, done = mode.common, obtained.token, obtained.done
    for warning in obtained.warnings:
        core.warning(warning)
    outputs = {"bearer": value, "token-type": "bearer", **obtained.outputs}
    if common.passphrase and mode.seals:
        from .sealing import seal

        outputs["sealed-bearer"] = seal(value, common.passphrase, obtained.kind)
        done.append("Sealed it as sealed-bearer for later jobs.")
    if common.export_env:
        done.append(f"Exported it to later steps as {common.export_env}.")
    if common.invalidate:
        done.append("It will be revoked at the end of the job.")
    written: list[str] = []
    try:
        for name, output in outputs.items():
            core.set_output(name, output)
            written.append(f"output {name}")
        if common.export_env:
            core.export_variable(common.export_env, value)
            written.append(f"variable {common.export_env}")
        if common.invalidate:
            core.save_state("token", value)
            core.save_state("route", json.dumps(_route(common)))
            written.append("state for the post step")
        _summary(environ, done)
    except Exception as exc:  # noqa: BLE001 - the toolkit raises bare Exception; text unused
        raise _WriteError(
            f"Could not write the step's results ({type(exc).__name__}: a file command "
            f"file is missing or unwritable). Written before the failure: "
            f"{', '.join(written) or 'nothing'}."
        ) from None
    core.info(" ".join(done) + " Outputs: " + ", ".join(outputs) + ".")


def _summary(environ: Mapping[str, str], done: list[str]) -> None:
    """The job summary: a heading and what was done, one sentence a bullet."""
    if environ.get("GITHUB_STEP_SUMMARY"):
        bullets = "".join(f"- {sentence}\n" for sentence in done)
        issue_file_command("STEP_SUMMARY", f"### X bearer token\n\n{bullets}")


def main(core: Core, environ: Mapping[str, str]) -> int:
    """The main step: obtain or unseal the token and set the outputs; 1 on failure."""
    if not (environ.get("GITHUB_OUTPUT") and environ.get("GITHUB_STATE")):
        # Without the file commands the toolkit would print outputs, the token among
        # them, as workflow commands in the log.
        core.error(
            "GITHUB_OUTPUT and GITHUB_STATE are not set: this is a GitHub Action's entry "
            "point, which runs only as a workflow step. From a terminal, use the xbearer "
            "command."
        )
        return 1
    cancellation = _Cancellation()
    try:
        mode = _read_mode(core, environ)
        obtained = _obtain(core, mode, cancellation)
        if cancellation.pending:  # cancelled while held: what was done is safe; say it
            done = " ".join(obtained.done)
            raise _Cancelled(cancellation.pending, f"after it had done this: {done}")
        cancellation.armed = False
        _write(core, environ, mode, obtained)
    except _Cancelled as exc:
        return _Cancellation.log_and_exit_status(core, exc, "nothing was output.")
    except _WriteError as exc:
        core.error(exc.message)
        return 1
    except ActionError as exc:
        core.error(exc.message + " Nothing was output.")
        return 1
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        core.error(f"Unexpected internal error ({type(exc).__name__}); nothing was output.")
        return 1
    return 0


def revoke(
    revoker: Callable[[str, Endpoint], str], value: str, common: config.CommonSettings
) -> str:
    """Revoke the token along the route the settings chose, trusting exactly the CA bytes
    whose digest was checked (a copy, not the file again, which a later step may have
    rewritten); what was done. The copy is closed before it is read: Windows cannot open
    a file that is open."""
    if not common.ca:
        return revoker(value, common.endpoint)
    handle, pinned = tempfile.mkstemp(prefix="ca-", suffix=".pem")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(common.ca.data)
        return revoker(value, replace(common.endpoint, ca_bundle=pinned))
    finally:
        os.unlink(pinned)


def post(core: Core, environ: Mapping[str, str]) -> int:
    """The post step: revoke the token when invalidate was on; warn, never fail."""
    cancellation = _Cancellation()
    value = core.get_state("token")
    try:
        invalidating = _invalidate(core)
    except InputError:  # the main step refused it, so saved no state: nothing of ours
        invalidating = False
    if not value or not invalidating:
        # Without invalidate the main step saved no state: a token here was put in the
        # environment by a later step (GITHUB_ENV), and is not the action's to revoke.
        core.info("Nothing to revoke: invalidate is off, or the main step obtained no token.")
        return 0
    _mask_token(core, value)
    try:
        mode = _read_mode(core, environ)
        changes = _route_changes(core.get_state("route"), _route(mode.common))
        if changes:
            core.warning(
                "Did not revoke the bearer token, so as not to send the credentials "
                f"along a route the main step did not choose: since it ran, {'; '.join(changes)} "
                "(a later step can set variables through GITHUB_ENV). The token may still be "
                "live: revoke it from a job you trust, or regenerate it in the developer portal."
            )
            return 0
        done = revoke(mode.revoke, value, mode.common)
        cancellation.armed = False
        core.info(done)
        _summary(environ, [done])
    except _Cancelled as exc:
        return _Cancellation.log_and_exit_status(core, exc, "the token was not revoked.")
    except ActionError as exc:
        core.warning(f"Could not revoke the bearer token: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        core.warning(f"Could not revoke the bearer token: internal error ({type(exc).__name__}).")
    return 0
