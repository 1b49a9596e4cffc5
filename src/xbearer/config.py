"""Validate the inputs (and what the environment may say) into settings, before any request."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import re
import ssl
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed

import idna
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import ACTION_TERMS, InputError, Terms, clean
from .transport import Endpoint

DEFAULT_API_URL = "https://api.x.com"  # X's own host; https://api.twitter.com works too
DEFAULT_TIMEOUT = "10"
DEFAULT_RETRIES = "3"
MAX_TIMEOUT = 300.0
MAX_RETRIES = 10
MIN_PASSPHRASE = 12
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # requests' order of precedence
# Where an https:// request finds its proxy, first match first (lower case wins, as in
# urllib and curl); NO_PROXY/no_proxy exempts hosts.
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")

# The inputs every mode shares (invalidate is read apart: the post step reads it alone).
INPUTS = ("api-url", "timeout", "retries", "ca-bundle", "export-env", "passphrase")
SECRET_INPUTS = ("passphrase",)
# What to do about a secret input that is empty (the command line, which reads its secrets
# from variables or a prompt, says so itself before they get here).
EMPTY_INPUT = (
    "set it from a repository secret. If it is, note that secrets are not passed to workflows "
    "triggered from forks or by Dependabot (use Dependabot secrets for those)."
)

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
class CaBundle:
    """A PEM bundle to trust instead of the default CAs, read once."""

    source: str  # "ca-bundle", or the variable that named it
    path: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The digest of the bytes that were checked, and are the ones trusted."""
        return hashlib.sha256(self.data).hexdigest()


class Inputs:
    """The raw input strings of a step (missing names count as empty), stripped."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def get(self, name: str) -> str:
        """The input's value, stripped; empty if it was not given."""
        return self.raw.get(name, "").strip()

    def any(self, names: Iterable[str]) -> bool:
        """Whether any of these inputs is given."""
        return any(self.get(name) for name in names)


@dataclass(frozen=True)
class CommonSettings:
    """What every mode shares: where X is and whom to trust there, and what to do
    with the token once it is had."""

    endpoint: Endpoint
    ca: CaBundle | None  # None: the default CAs
    proxy_from: str | None  # the variable the proxy came from, if one is used
    export_env: str | None
    invalidate: bool
    passphrase: str | None

    def elsewhere(self, url: str, setting: str, environ: Mapping[str, str]) -> Endpoint:
        """Another service (GitHub's API), with the same trust, timeout and retries."""
        proxy, _ = parse_proxy(url, environ)
        return replace(self.endpoint, api_url=url, proxy=proxy, url_setting=setting)


def load(
    inputs: Inputs,
    *,
    invalidate: bool,
    workspace: str,
    environ: Mapping[str, str],
    terms: Terms = ACTION_TERMS,
    notify: Callable[[str], None] | None = None,
) -> CommonSettings:
    """The shared settings from the inputs and the environment; `notify` hears a line
    before each retry."""
    passphrase = inputs.get("passphrase") or None
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"passphrase must be at least {MIN_PASSPHRASE} characters long.")
    ca = parse_ca_bundle(inputs.get("ca-bundle"), workspace, environ, terms)
    api_url = parse_api_url(inputs.get("api-url"), terms)
    proxy, proxy_from = parse_proxy(api_url, environ)
    endpoint = Endpoint(
        api_url=api_url,
        timeout=parse_timeout(inputs.get("timeout"), terms),
        retries=parse_retries(inputs.get("retries"), terms),
        ca_bundle=ca.path if ca else None,
        terms=terms,
        proxy=proxy,
        notify=notify,
    )
    return CommonSettings(
        endpoint=endpoint,
        ca=ca,
        proxy_from=proxy_from,
        export_env=parse_env_name(inputs.get("export-env")),
        invalidate=invalidate,
        passphrase=passphrase,
    )


def check_secret(name: str, value: str, terms: Terms) -> None:
    """A secret input is given, and is one line."""
    if not value:
        raise InputError(f"{terms.name(name)} is empty: {EMPTY_INPUT}")
    if _CONTROL.search(value):
        raise InputError(
            f"{terms.name(name)} contains a control character (a newline?): store the bare value."
        )


def _host_problem(host: str) -> str | None:
    """Why a host name cannot be connected to, or None: an IP address, or a DNS name
    (internationalised names included) of letters, digits and hyphens."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    try:
        idna.encode(host, uts46=True, std3_rules=True)
        parse_url(f"https://{host}/")  # as strict as the connection will be (IDNA 2008)
    except (idna.IDNAError, LocationParseError):
        return (
            "its host is not a valid name (an empty label, a character such as * or _, or "
            "full-width letters)"
        )
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_api_url(
    value: str, terms: Terms, setting: str = "api-url", default: str = DEFAULT_API_URL
) -> str:
    """Return the normalised base URL: https, or http to loopback; no user-info, query or
    fragment. X's API has no path; another API's may (GitHub Enterprise: /api/v3)."""
    value = value or default
    name = terms.name(setting)
    example = f"an https:// URL such as {default}"
    if not value.isprintable() or " " in value:
        raise InputError(
            f"{name} must be {example}, without spaces, control or invisible characters."
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(f"{name} is not a valid URL; it must be {example}.") from None
    if "@" in parts.netloc:
        raise InputError(
            f"{name} must not contain user-info (user:password@): credentials have inputs "
            "of their own."
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"{name} must be {example}.")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise InputError(f"{name} must not have a query (after ?) or a fragment (after #).")
    problem = _host_problem(parts.hostname)
    if problem:
        raise InputError(f"{name} must be {example}: {problem}.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InputError(
            f"{name} must use https://; plain http:// is allowed only for a loopback host."
        )
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    if setting != "api-url":
        return base + parts.path.rstrip("/")
    if parts.path.strip("/"):
        raise InputError(
            f"{name} is the API's base URL, without a path: use {base}, not {clean(value)}."
        )
    return base


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


def _read_ca_bundle(path: str) -> bytes | None:
    """The file's bytes if it is a regular file holding a PEM bundle of CA
    certificates, else None. Opened without blocking: a FIFO would wait forever."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with open(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return None
            data = file.read(16 * 1024 * 1024)
        ssl.create_default_context(cadata=data.decode("ascii"))
    except (ssl.SSLError, OSError, ValueError):
        return None
    return data


def parse_ca_bundle(
    value: str, workspace: str, environ: Mapping[str, str], terms: Terms
) -> CaBundle | None:
    """The PEM bundle to trust, read once; None for the default CAs.

    The input wins; else REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, which must name a
    bundle this process can read.
    """
    name = terms.name("ca-bundle")
    if value:
        path = os.path.join(workspace, value)
        if not os.path.isfile(path):
            given = f"{name} {clean(value, limit=120)!r}"
            if os.path.isabs(value):
                raise InputError(f"{given}: no such file.")
            raise InputError(
                terms.say(
                    action=f"{given}: no such file in the workspace.",
                    cli=f"{given}: no such file in the current directory.",
                )
            )
        data = _read_ca_bundle(path)
        if data is None:
            raise InputError(
                f"{name} {clean(value, limit=120)!r} is not a PEM bundle of CA certificates."
            )
        return CaBundle(name, path, data)
    for variable in CA_VARIABLES:
        path = environ.get(variable, "")
        if path:
            data = _read_ca_bundle(path)
            if data is None:
                raise InputError(
                    f"{variable} names {clean(path, limit=120)!r}, which is not a PEM bundle of CA "
                    f"certificates that can be read here: unset {variable}, or set {name} to "
                    "such a bundle."
                )
            return CaBundle(variable, path, data)
    return None


def parse_proxy(api_url: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The proxy for api_url from the environment, and the variable it came from.

    Only https:// goes through a proxy (plain http is for loopback), and only an
    http:// or https:// proxy with a host.
    """
    if not api_url.startswith("https://"):
        return None, None
    for variable in PROXY_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            break
    else:
        return None, None
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    if no_proxy and proxy_bypass_environment(urlsplit(api_url).netloc, {"no": no_proxy}):
        return None, None
    refusal = (
        f"{variable} must be the URL of an HTTP proxy, such as http://proxy.example:3128 "
        "(http:// or https://, with a host; SOCKS is not supported): fix it, or list the "
        "API's host in NO_PROXY."
    )
    if not value.isprintable() or " " in value:
        raise InputError(refusal)
    try:
        parts = urlsplit(value if "://" in value else "http://" + value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError(refusal) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or _host_problem(parts.hostname):
        raise InputError(refusal)
    return parts.geturl(), variable


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
