"""Validate the action's inputs into settings, before any request is sent."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .errors import InputError

DEFAULT_API_URL = "https://api.twitter.com"
MAX_TIMEOUT = 300.0
MAX_RETRIES = 10
MIN_PASSPHRASE = 12

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names whose value the runner or a later program would execute or trust.
_FORBIDDEN_ENV = frozenset(
    {
        "PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "IFS", "PS4", "CDPATH", "NODE_OPTIONS",
        "PERL5OPT", "PERL5LIB", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
        "CLASSPATH",
    }
)  # fmt: skip
_FORBIDDEN_ENV_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "INPUT_",
    "STATE_",
    "LD_",
    "DYLD_",
    "GIT_",
    "PYTHON",
)
_FORK_HINT = (
    "If it is set from a secret, note that secrets are not passed to workflows "
    "triggered from forks or by Dependabot (use Dependabot secrets for those)."
)


@dataclass(frozen=True)
class Settings:
    """Everything one run of the action needs, validated."""

    api_key: str
    api_secret: str
    api_url: str
    timeout: float
    retries: int
    ca_bundle: str | None
    export_env: str | None
    invalidate: bool
    oauth1_token: tuple[str, str] | None
    passphrase: str | None
    sealed_bearer: str | None


def load(raw: Mapping[str, str], *, invalidate: bool, workspace: str) -> Settings:
    """Build settings from raw input strings (missing names count as empty)."""

    def get(name: str) -> str:
        return raw.get(name, "").strip()

    key, secret, sealed = get("api-key"), get("api-secret"), get("sealed-bearer")
    passphrase = get("passphrase") or None
    if sealed:
        if key or secret:
            raise InputError(
                "Give either sealed-bearer (with passphrase) or api-key and api-secret, not both."
            )
        if not passphrase:
            raise InputError("sealed-bearer needs passphrase: the one the sealing job used.")
        if invalidate:
            raise InputError(
                "invalidate needs api-key and api-secret; revoke in the job that mints the token."
            )
    else:
        for name, value in (("api-key", key), ("api-secret", secret)):
            _check_credential(name, value)
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"passphrase must be at least {MIN_PASSPHRASE} characters long.")
    return Settings(
        api_key=key,
        api_secret=secret,
        api_url=parse_api_url(get("api-url")),
        timeout=parse_timeout(get("timeout")),
        retries=parse_retries(get("retries")),
        ca_bundle=parse_ca_bundle(get("ca-bundle"), workspace),
        export_env=parse_env_name(get("export-env")),
        invalidate=invalidate,
        oauth1_token=_oauth1_token(get("access-token"), get("access-token-secret"), invalidate),
        passphrase=passphrase,
        sealed_bearer=sealed or None,
    )


def _check_credential(name: str, value: str) -> None:
    if not value:
        raise InputError(f"{name} is empty: set it from a repository secret. {_FORK_HINT}")
    if _CONTROL.search(value):
        raise InputError(
            f"{name} contains a control character (a newline?): store the bare value in the secret."
        )


def _oauth1_token(token: str, secret: str, invalidate: bool) -> tuple[str, str] | None:
    if not token and not secret:
        return None
    if not (token and secret):
        raise InputError("Give access-token and access-token-secret together, or neither.")
    if not invalidate:
        raise InputError(
            "access-token and access-token-secret are only used with invalidate: true."
        )
    for name, value in (("access-token", token), ("access-token-secret", secret)):
        _check_credential(name, value)
    return token, secret


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_api_url(value: str) -> str:
    """Return the normalised base URL: https, or http to loopback; no user-info/query/fragment."""
    value = value or DEFAULT_API_URL
    example = f"an https:// URL such as {DEFAULT_API_URL}"
    if _CONTROL.search(value) or " " in value:
        raise InputError(f"api-url must be {example}, without spaces or control characters.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(f"api-url is not a valid URL; it must be {example}.") from None
    if "@" in parts.netloc:
        raise InputError(
            "api-url must not contain user-info (user:password@): pass keys as inputs."
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"api-url must be {example}.")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise InputError("api-url must not have a query (?...) or a fragment (#...).")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InputError(
            "api-url must use https://; plain http:// is allowed only for a loopback host."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def parse_timeout(value: str) -> float:
    """Seconds per HTTP attempt: a positive number up to MAX_TIMEOUT."""
    try:
        seconds = float(value or "10")
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(
            f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}."
        )
    return seconds


def parse_retries(value: str) -> int:
    """Retries after the first attempt: a whole number from 0 to MAX_RETRIES."""
    value = value or "3"
    if not value.isascii() or not value.isdigit() or int(value) > MAX_RETRIES:
        raise InputError(f"retries must be a whole number from 0 to {MAX_RETRIES}.")
    return int(value)


def parse_ca_bundle(value: str, workspace: str) -> str | None:
    """Resolve a PEM bundle path against the workspace and check that it loads."""
    if not value:
        return None
    path = os.path.join(workspace, value)
    if not os.path.isfile(path):
        raise InputError(f"ca-bundle {value!r} is not a file in the workspace.")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        raise InputError(f"ca-bundle {value!r} is not a PEM bundle of CA certificates.") from None
    return path


def parse_env_name(value: str) -> str | None:
    """An environment variable name that is safe to set for later steps."""
    if not value:
        return None
    if not _ENV_NAME.fullmatch(value):
        raise InputError(
            "export-env must be an environment variable name: letters, digits and _, "
            "not starting with a digit."
        )
    upper = value.upper()
    if upper in _FORBIDDEN_ENV or upper.startswith(_FORBIDDEN_ENV_PREFIXES):
        raise InputError(
            f"export-env {value} would change how later steps run; "
            "choose another name, such as TWITTER_BEARER_TOKEN."
        )
    return value
