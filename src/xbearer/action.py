"""The Actions glue: inputs, masks, outputs, state and annotations via actions-toolkit."""

from __future__ import annotations

import os
from urllib.parse import unquote

from actions_toolkit import core
from actions_toolkit.file_command import issue_file_command

from . import config
from .client import Credentials, invalidate_token, request_token, validate_token
from .errors import ActionError, InputError

INPUTS = (
    "api-key",
    "api-secret",
    "api-url",
    "timeout",
    "retries",
    "ca-bundle",
    "export-env",
    "access-token",
    "access-token-secret",
    "passphrase",
    "sealed-bearer",
)
SECRET_INPUTS = ("api-key", "api-secret", "access-token", "access-token-secret", "passphrase")


def _mask(value: str) -> None:
    """Register a value, and each of its lines, as a secret with the runner."""
    for part in {value, value.strip(), *value.splitlines()}:
        if part.strip():
            core.set_secret(part)


def _mask_token(token: str) -> None:
    _mask(token)
    _mask(unquote(token))


def _read_settings() -> config.Settings:
    """Read the inputs, mask the secret ones first, then validate them."""
    raw = {name: core.get_input(name, trim_whitespace=False) for name in INPUTS}
    for name in SECRET_INPUTS:
        _mask(raw[name])
    key, secret = raw["api-key"].strip(), raw["api-secret"].strip()
    if key and secret:
        _mask(Credentials(key, secret).basic)
    invalidate = False
    if core.get_input("invalidate"):
        try:
            invalidate = core.get_boolean_input("invalidate")
        except TypeError:
            raise InputError(
                "invalidate must be true or false "
                "(YAML 1.2: true, True, TRUE, false, False, FALSE)."
            ) from None
    workspace = os.environ.get("GITHUB_WORKSPACE") or "."
    settings = config.load(raw, invalidate=invalidate, workspace=workspace, environ=os.environ)
    if settings.ca_from_env:
        core.info(f"Trusting the CA certificates named by {settings.ca_from_env}.")
    return settings


def _obtain(settings: config.Settings) -> tuple[str, list[str]]:
    """The token (masked the moment it exists) and what was done, as summary lines."""
    if settings.sealed_bearer and settings.passphrase:
        from .sealing import unseal

        value = unseal(settings.sealed_bearer, settings.passphrase)
        _mask_token(value)
        validate_token(value, "The unsealed value: ")
        return value, ["- Unsealed the bearer token from sealed-bearer (no request to X)."]
    endpoint = settings.endpoint
    core.debug(
        f"POST {endpoint.api_url}/oauth2/token (timeout {endpoint.timeout:g} s, "
        f"retries {endpoint.retries})"
    )
    token = request_token(settings.credentials, endpoint)
    _mask_token(token.value)
    core.debug(f"Bearer token of {len(token.value)} characters; both forms masked.")
    return token.value, [
        f"- Obtained a bearer token from {endpoint.host} in {token.attempts} attempt(s)."
    ]


class _WriteError(ActionError):
    """Writing the results failed part-way: the message says what was written."""


def _write(settings: config.Settings, value: str, done: list[str]) -> None:
    """Write outputs, variable, state and summary; a failure says what was written."""
    outputs = {"bearer": value, "token-type": "bearer"}
    if settings.passphrase and not settings.sealed_bearer:
        from .sealing import seal

        outputs["sealed-bearer"] = seal(value, settings.passphrase)
        done.append("- Sealed it as sealed-bearer for later jobs.")
    if settings.export_env:
        done.append(f"- Exported it to later steps as {settings.export_env}.")
    if settings.invalidate:
        done.append("- It will be revoked at the end of the job.")
    written: list[str] = []
    try:
        for name, output in outputs.items():
            core.set_output(name, output)
            written.append(f"output {name}")
        if settings.export_env:
            core.export_variable(settings.export_env, value)
            written.append(f"variable {settings.export_env}")
        if settings.invalidate:
            core.save_state("token", value)
            written.append("state for the post step")
        _summary(done)
    except Exception as exc:  # noqa: BLE001 - the toolkit raises bare Exception; text unused
        raise _WriteError(
            f"Could not write the step's results ({type(exc).__name__}: a file command "
            f"file is missing or unwritable). Written before the failure: "
            f"{', '.join(written) or 'nothing'}."
        ) from None
    core.info(" ".join(line[2:] for line in done) + " Outputs: " + ", ".join(outputs) + ".")


def _summary(lines: list[str]) -> None:
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        issue_file_command("STEP_SUMMARY", "### X bearer token\n\n" + "\n".join(lines) + "\n")


def main() -> int:
    """The main step: obtain or unseal the token and set the outputs; 1 on failure."""
    try:
        settings = _read_settings()
        value, done = _obtain(settings)
        _write(settings, value, done)
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


def post() -> int:
    """The post step: revoke the token when invalidate was on; warn, never fail."""
    value = core.get_state("token")
    if not value:
        core.info("Nothing to revoke: invalidate is off, or the main step obtained no token.")
        return 0
    _mask_token(value)
    other = (
        "Basic auth (leave access-token and access-token-secret unset)"
        if core.get_input("access-token")
        else "OAuth 1.0a (set access-token and access-token-secret of the app owner)"
    )
    try:
        settings = _read_settings()
        done = invalidate_token(
            settings.credentials, value, settings.endpoint, settings.oauth1_token
        )
        core.info(done)
        _summary([f"- {done}"])
    except ActionError as exc:
        core.warning(f"Could not revoke the bearer token: {exc.message} X also accepts {other}.")
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        core.warning(f"Could not revoke the bearer token: internal error ({type(exc).__name__}).")
    return 0
