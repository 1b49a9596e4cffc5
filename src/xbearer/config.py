"""Validate the inputs (and what the environment may say) into settings, before any request."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .client import Credentials
from .errors import ACTION_TERMS, InputError, Terms, clean
from .transport import Endpoint

DEFAULT_API_URL = "https://api.twitter.com"
DEFAULT_TIMEOUT = "10"
DEFAULT_RETRIES = "3"
MAX_TIMEOUT = 300.0
MAX_RETRIES = 10
MIN_PASSPHRASE = 12
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # requests' order of precedence

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names whose value a later step's shell, runtime, resolver, TLS stack or package
# manager would execute, load or trust: export-env refuses them (any case).
_REFUSED_ENV = frozenset(
    {
        "PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "IFS", "PS4",
        "CDPATH", "PROMPT_COMMAND", "TMPDIR", "LANG", "LANGUAGE", "GCONV_PATH", "HOSTALIASES",
        "LOCALDOMAIN", "RES_OPTIONS", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "OPENSSL_CONF",
        "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PERL5OPT", "PERL5LIB", "RUBYOPT", "RUBYLIB",
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH",
    }
)  # fmt: skip
_REFUSED_ENV_PREFIXES = (
    "GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_", "LD_", "DYLD_", "GIT_", "PYTHON",
    "LC_", "SSL_CERT_", "BASH_FUNC_", "DOCKER_", "PIP_", "NPM_CONFIG_",
)  # fmt: skip
_REFUSED_ENV_SUFFIXES = ("_PROXY",)


@dataclass(frozen=True)
class Settings:
    """Everything one run needs, validated."""

    api_key: str
    api_secret: str
    endpoint: Endpoint
    ca_from_env: str | None  # the variable the CA bundle came from, if not from the input
    export_env: str | None
    invalidate: bool
    oauth1_token: tuple[str, str] | None
    passphrase: str | None
    sealed_bearer: str | None

    @property
    def credentials(self) -> Credentials:
        """The app's key and secret."""
        return Credentials(self.api_key, self.api_secret)


def load(
    raw: Mapping[str, str],
    *,
    invalidate: bool,
    workspace: str,
    environ: Mapping[str, str],
    terms: Terms = ACTION_TERMS,
) -> Settings:
    """Build settings from raw input strings (missing names count as empty)."""

    def get(name: str) -> str:
        return raw.get(name, "").strip()

    key, secret, sealed = get("api-key"), get("api-secret"), get("sealed-bearer")
    passphrase = get("passphrase") or None
    if sealed or (passphrase and not key and not secret):
        _check_unsealing(sealed, passphrase, key, secret, invalidate=invalidate, terms=terms)
    else:
        _check_credential("api-key", key, terms)
        _check_credential("api-secret", secret, terms)
        if passphrase and invalidate:
            raise InputError(
                "passphrase (sealing the token for later jobs) with invalidate: true would "
                "revoke the token when this job ends, before any later job can use it. Revoke "
                "in the last job instead: give it sealed-bearer, passphrase, api-key, api-secret "
                "and invalidate: true."
            )
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"passphrase must be at least {MIN_PASSPHRASE} characters long.")
    ca_bundle, ca_from_env = parse_ca_bundle(get("ca-bundle"), workspace, environ, terms)
    endpoint = Endpoint(
        api_url=parse_api_url(get("api-url"), terms),
        timeout=parse_timeout(get("timeout"), terms),
        retries=parse_retries(get("retries"), terms),
        ca_bundle=ca_bundle,
        terms=terms,
    )
    return Settings(
        api_key=key,
        api_secret=secret,
        endpoint=endpoint,
        ca_from_env=ca_from_env,
        export_env=parse_env_name(get("export-env")),
        invalidate=invalidate,
        oauth1_token=_oauth1_token(
            get("access-token"), get("access-token-secret"), invalidate, terms
        ),
        passphrase=passphrase,
        sealed_bearer=sealed or None,
    )


def _check_unsealing(
    sealed: str, passphrase: str | None, key: str, secret: str, *, invalidate: bool, terms: Terms
) -> None:
    """The later-job form: sealed-bearer + passphrase, with the keys only to revoke."""
    if not sealed:
        raise InputError(
            "sealed-bearer is empty, with passphrase set: the earlier job's output did not "
            "arrive. Check that the minting job lists sealed-bearer under its outputs: and "
            "that this job needs: that job."
        )
    if not passphrase:
        raise InputError("sealed-bearer needs passphrase: the one the sealing job used.")
    if (key or secret) and not invalidate:
        raise InputError(
            "Give either sealed-bearer (with passphrase) or api-key and api-secret, not both: "
            "with sealed-bearer, the keys are only for invalidate: true (the last job revokes)."
        )
    if invalidate:
        if not (key or secret):
            raise InputError(
                "invalidate with sealed-bearer needs api-key and api-secret: the post step "
                "revokes the token with them."
            )
        _check_credential("api-key", key, terms)
        _check_credential("api-secret", secret, terms)


def _check_credential(name: str, value: str, terms: Terms) -> None:
    if not value:
        raise InputError(f"{terms.name(name)} is empty: {terms.set_credentials}")
    if _CONTROL.search(value):
        raise InputError(
            f"{terms.name(name)} contains a control character (a newline?): store the bare value."
        )


def _oauth1_token(
    token: str, secret: str, invalidate: bool, terms: Terms
) -> tuple[str, str] | None:
    if not token and not secret:
        return None
    if not (token and secret):
        raise InputError("Give access-token and access-token-secret together, or neither.")
    if not invalidate:
        raise InputError(
            "access-token and access-token-secret are only used with invalidate: true."
        )
    for name, value in (("access-token", token), ("access-token-secret", secret)):
        _check_credential(name, value, terms)
    return token, secret


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_api_url(value: str, terms: Terms) -> str:
    """Return the normalised base URL: https, or http to loopback; no user-info/query/fragment."""
    value = value or DEFAULT_API_URL
    name = terms.name("api-url")
    example = f"an https:// URL such as {DEFAULT_API_URL}"
    if _CONTROL.search(value) or " " in value:
        raise InputError(f"{name} must be {example}, without spaces or control characters.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(f"{name} is not a valid URL; it must be {example}.") from None
    if "@" in parts.netloc:
        keys = f"{terms.name('api-key')} and {terms.name('api-secret')}"
        raise InputError(f"{name} must not contain user-info (user:password@): use {keys}.")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"{name} must be {example}.")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise InputError(f"{name} must not have a query (?...) or a fragment (#...).")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InputError(
            f"{name} must use https://; plain http:// is allowed only for a loopback host."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def parse_timeout(value: str, terms: Terms) -> float:
    """Seconds for connecting and for each read: a positive number up to MAX_TIMEOUT."""
    try:
        seconds = float(value or DEFAULT_TIMEOUT)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(
            f"{terms.name('timeout')} must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT:g}."
        )
    return seconds


def parse_retries(value: str, terms: Terms) -> int:
    """Retries after the first attempt: a whole number from 0 to MAX_RETRIES."""
    value = value or DEFAULT_RETRIES
    if not value.isascii() or not value.isdigit() or int(value) > MAX_RETRIES:
        raise InputError(f"{terms.name('retries')} must be a whole number from 0 to {MAX_RETRIES}.")
    return int(value)


def _loads_as_ca_bundle(path: str) -> bool:
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        return False
    return True


def parse_ca_bundle(
    value: str, workspace: str, environ: Mapping[str, str], terms: Terms
) -> tuple[str | None, str | None]:
    """The PEM bundle to trust and, if it came from the environment, the variable's name.

    The input wins; else REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, which must name a
    bundle this process can read; else None (the default CAs).
    """
    name = terms.name("ca-bundle")
    if value:
        path = os.path.join(workspace, value)
        if not os.path.isfile(path):
            raise InputError(f"{name} {value!r} is not a file in {terms.workspace}.")
        if not _loads_as_ca_bundle(path):
            raise InputError(f"{name} {value!r} is not a PEM bundle of CA certificates.")
        return path, None
    for variable in CA_VARIABLES:
        path = environ.get(variable, "")
        if path:
            if not (os.path.isfile(path) and _loads_as_ca_bundle(path)):
                raise InputError(
                    f"{variable} names {clean(path, limit=120)!r}, which is not a PEM bundle of CA "
                    f"certificates that can be read here: unset {variable}, or set {name} to "
                    "such a bundle."
                )
            return path, variable
    return None, None


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
    if (
        upper in _REFUSED_ENV
        or upper.startswith(_REFUSED_ENV_PREFIXES)
        or upper.endswith(_REFUSED_ENV_SUFFIXES)
    ):
        raise InputError(
            f"export-env {value} would change how later steps run; "
            "choose another name, such as TWITTER_BEARER_TOKEN."
        )
    return value
