"""The Actions glue: inputs, masks, outputs, state and annotations via actions-toolkit."""

from __future__ import annotations

import os
from urllib.parse import unquote

from actions_toolkit import core
from actions_toolkit.file_command import issue_file_command

from . import config
from .client import Credentials, Endpoint, invalidate_token, request_token, validate_token
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


def _read_settings() -> config.Settings:
    """Read the inputs, mask the secret ones first, then validate them."""
    raw = {name: core.get_input(name, trim_whitespace=False) for name in INPUTS}
    for name in SECRET_INPUTS:
        _mask(raw[name])
    if raw["api-key"].strip() and raw["api-secret"].strip():
        _mask(Credentials(raw["api-key"].strip(), raw["api-secret"].strip()).basic)
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
    return config.load(raw, invalidate=invalidate, workspace=workspace)


def _endpoint(settings: config.Settings) -> Endpoint:
    return Endpoint(settings.api_url, settings.timeout, settings.retries, settings.ca_bundle)


def _mask_token(token: str) -> None:
    _mask(token)
    _mask(unquote(token))


def _summary(lines: list[str]) -> None:
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        issue_file_command("STEP_SUMMARY", "### X bearer token\n\n" + "\n".join(lines) + "\n")


def _run() -> None:
    settings = _read_settings()
    endpoint = _endpoint(settings)
    if settings.sealed_bearer and settings.passphrase:
        from .sealing import unseal

        value = unseal(settings.sealed_bearer, settings.passphrase)
        _mask_token(value)
        validate_token(value, "The unsealed value: ")
        done = ["- Unsealed the bearer token from sealed-bearer (no request to X)."]
    else:
        core.debug(
            f"POST {endpoint.api_url}/oauth2/token (timeout {endpoint.timeout:g} s, "
            f"retries {endpoint.retries})"
        )
        token = request_token(Credentials(settings.api_key, settings.api_secret), endpoint)
        _mask_token(token.value)
        core.debug(f"Bearer token of {len(token.value)} characters; both forms masked.")
        value = token.value
        done = [f"- Obtained a bearer token from {endpoint.host} in {token.attempts} attempt(s)."]
    outputs = {"bearer": value, "token-type": "bearer"}
    if settings.passphrase and not settings.sealed_bearer:
        from .sealing import seal

        outputs["sealed-bearer"] = seal(value, settings.passphrase)
        done.append("- Sealed it as sealed-bearer for later jobs.")
    for name, output in outputs.items():
        core.set_output(name, output)
    if settings.export_env:
        core.export_variable(settings.export_env, value)
        done.append(f"- Exported it to later steps as {settings.export_env}.")
    if settings.invalidate:
        core.save_state("token", value)
        done.append("- It will be revoked at the end of the job.")
    core.info(" ".join(line[2:] for line in done) + " Outputs: " + ", ".join(outputs) + ".")
    _summary(done)


def main() -> int:
    """The main step: obtain or unseal the token and set the outputs; 1 on failure."""
    try:
        _run()
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
        endpoint = _endpoint(settings)
        creds = Credentials(settings.api_key, settings.api_secret)
        invalidate_token(creds, value, endpoint, settings.oauth1_token)
    except ActionError as exc:
        core.warning(f"Could not revoke the bearer token: {exc.message} X also accepts {other}.")
        return 0
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        core.warning(f"Could not revoke the bearer token: internal error ({type(exc).__name__}).")
        return 0
    core.info(f"Revoked the bearer token at {endpoint.host}.")
    _summary([f"- Revoked the bearer token at {endpoint.host}."])
    return 0
