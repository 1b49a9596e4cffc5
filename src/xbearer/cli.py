"""Command line: an app-only bearer token (`xbearer`), an account's first refresh token
(`xbearer authorize`) and a value the action sealed, opened (`xbearer unseal`).

Secrets come from the environment or a hidden prompt, never from arguments. Results go to
standard output only; messages go to standard error, and errors exit with status 1.
Each command imports only what it needs: oauthlib for authorize, PyNaCl for unseal and
for storing a secret.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import __version__, config
from .app_only import AppOnly
from .client import request_token
from .errors import CLI_TERMS, ActionError, InputError, Terms

if TYPE_CHECKING:
    from .github import SecretStore, WriteCheck

KEY_VAR, SECRET_VAR = "X_API_KEY", "X_API_SECRET"
CLIENT_SECRET_VAR, PASSPHRASE_VAR = "X_CLIENT_SECRET", "X_PASSPHRASE"
GITHUB_TOKEN_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
MAX_SEALED = 64 * 1024  # far more than any sealed token
_PACKAGES = {"nacl": "pynacl", "oauthlib": "oauthlib"}  # what to install for a missing module


def _typed(key: bool, secret: bool) -> Terms:
    """xbearer's words when the API key or secret (or both) was typed at the prompt."""
    names = {
        "api-key": "the API key you typed" if key else KEY_VAR,
        "api-secret": "the API secret key you typed" if secret else SECRET_VAR,
    }
    both = "the API key and API secret key you typed"
    names["api-key and api-secret"] = (
        both if key and secret else f"{names['api-key']} and {names['api-secret']}"
    )
    return CLI_TERMS.renamed(names)


# The words of each command, for each place a secret came from (a variable or a prompt).
TOKEN_TERMS = {
    (key, secret): _typed(key, secret) for key in (False, True) for secret in (False, True)
}
AUTHORIZE_TERMS = CLI_TERMS.renamed(
    {
        "client-id": "--client-id",
        "client-secret": CLIENT_SECRET_VAR,
        "authorize-url": "--authorize-url",
        "refresh-token-secret-name": "--secret",
    }
)
TYPED_CLIENT_SECRET_TERMS = AUTHORIZE_TERMS.renamed(
    {"client-secret": "the client secret you typed"}
)
GITHUB_TOKEN_TERMS = {
    var: AUTHORIZE_TERMS.renamed({"github-token": var}) for var in GITHUB_TOKEN_VARS
}
# What to do about a secret that is unset (or blank), for each command.
API_KEY_HINT = (
    f"set {KEY_VAR} and {SECRET_VAR} in the environment, or run xbearer in a terminal to be "
    "asked for them."
)
CLIENT_HINT = (
    "set it to the app's OAuth 2.0 Client Secret, or, for a public client, leave it unset and "
    "do not give --confidential."
)


def _text(*paragraphs: str) -> str:
    """Paragraphs wrapped for --help, which shows them as they are."""
    return "\n\n".join(textwrap.fill(" ".join(p.split()), 79) for p in paragraphs)


class _Refused(argparse.Action):
    """An option people reach for that names a secret: a usage error (exit 2) naming the
    variable to set instead (`const`), since a secret on the command line shows in `ps`
    and in the shell's history."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        parser.error(
            f"{self.option_strings[0]} is not an option: secrets never come from the command "
            f"line (ps and the shell's history would show them); set {self.const} instead."
        )


def _refuse(parser: argparse.ArgumentParser, refused: dict[str, str]) -> None:
    """Options that name a secret, each refused with the variable to set instead."""
    for option, variable in refused.items():
        parser.add_argument(
            option,
            nargs="?",
            action=_Refused,
            const=variable,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )


def _transport_options(parser: argparse.ArgumentParser, api_url: str) -> None:
    parser.add_argument(
        "--api-url", default=api_url, metavar="URL", help="API base URL (default: %(default)s)"
    )
    parser.add_argument(
        "--timeout",
        default=config.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="seconds to wait for the connection and for each read (default: %(default)s)",
    )
    parser.add_argument(
        "--retries",
        default=config.DEFAULT_RETRIES,
        metavar="N",
        help="retries after the first attempt, for network errors, 5xx and 429 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--ca-bundle",
        default="",
        metavar="FILE",
        help="PEM bundle of CA certificates to trust instead of the default ones",
    )


def version() -> str:
    """What the code is: its version, and whether that is a release (a development
    version, X.Y.Z.devN, until CHANGELOG.md has the release)."""
    development = ".dev" in __version__
    return f"xbearer {__version__}" + (
        " (a development version, not a release)" if development else ""
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xbearer",
        usage="%(prog)s [options]\n       %(prog)s {authorize,unseal} [options]",
        description=_text(
            "Exchange an X app's API key and secret for an app-only bearer token. The key "
            f"and secret come from ${KEY_VAR} and ${SECRET_VAR}, or from a hidden prompt in a "
            "terminal; never from the command line. The token goes to standard output "
            "only; errors go to standard error with exit status 1."
        ),
        epilog="commands:\n"
        "  authorize   authorize an X account once, in a browser, for the refresh token the\n"
        "              action's user-context mode starts from (xbearer authorize --help)\n"
        "  unseal      decrypt a value the action sealed: a sealed-bearer output, or a\n"
        "              refresh token it could not store (xbearer unseal --help)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _transport_options(parser, config.DEFAULT_API_URL)
    parser.add_argument(
        "--json", action="store_true", help="print token_type and access_token as JSON"
    )
    parser.add_argument("--version", action="version", version=version())
    _refuse(parser, {"--api-key": KEY_VAR, "--api-secret": SECRET_VAR})
    parser.set_defaults(run=_token)
    return parser


def _authorize_parser() -> argparse.ArgumentParser:
    from . import authorize

    parser = argparse.ArgumentParser(
        prog="xbearer authorize",
        description=_text(
            "Authorize an X account for the app, once, with OAuth 2.0 (PKCE): open the URL "
            "this prints (in the browser it opens, or yourself) while logged in to X as the "
            "account, approve, and X sends the browser back to "
            f"http://127.0.0.1:PORT{authorize.CALLBACK}, which must be registered as a "
            "callback URL in the app's settings. The refresh token goes to standard output, "
            "or with --repo and --secret straight into a GitHub Actions secret.",
            f"A confidential client's secret comes from ${CLIENT_SECRET_VAR}, or from a "
            "hidden prompt with --confidential; a public client has none. The GitHub token "
            f"for --repo comes from ${GITHUB_TOKEN_VARS[0]} or ${GITHUB_TOKEN_VARS[1]}, and "
            "GitHub's API from $GITHUB_API_URL (else https://api.github.com). None of them "
            "is ever taken from the command line.",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--client-id", required=True, metavar="ID", help="the app's OAuth 2.0 Client ID"
    )
    parser.add_argument(
        "--scope",
        default=authorize.DEFAULT_SCOPE,
        metavar="SCOPES",
        help="scopes to ask for, space-separated, offline.access among them "
        '(default: "%(default)s")',
    )
    parser.add_argument(
        "--port",
        type=int,
        default=authorize.DEFAULT_PORT,
        help="port of the callback on 127.0.0.1 (default: %(default)s)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser; open the printed URL yourself (in a terminal, the "
        "address the browser lands on may also be pasted, as with --paste)",
    )
    parser.add_argument(
        "--paste",
        action="store_true",
        help="for a machine whose 127.0.0.1 the browser cannot reach (SSH, a container, a "
        "phone): do not listen; approve in any browser, then paste the address it lands on "
        "(which fails to load) at the prompt or on standard input",
    )
    parser.add_argument(
        "--wait",
        default=authorize.DEFAULT_WAIT,
        metavar="SECONDS",
        help="how long to wait for the browser to come back (default: %(default)s)",
    )
    parser.add_argument(
        "--confidential",
        action="store_true",
        help=f"ask for the client secret at a hidden prompt if ${CLIENT_SECRET_VAR} is not set",
    )
    parser.add_argument(
        "--authorize-url",
        default=authorize.AUTHORIZE_URL,
        metavar="URL",
        help="X's authorize page (default: %(default)s)",
    )
    _transport_options(parser, config.DEFAULT_API_URL)
    output = parser.add_argument_group(
        "output", "Standard output gets the refresh token alone, unless one of these is given."
    )
    exclusive = output.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--json",
        action="store_true",
        help="print access_token, expires_in, scope and refresh_token as JSON",
    )
    exclusive.add_argument(
        "--repo",
        metavar="OWNER/REPO",
        help="store the refresh token in a secret of this repository instead of printing it",
    )
    output.add_argument("--secret", metavar="NAME", help="the secret's name, with --repo")
    output.add_argument(
        "--environment",
        metavar="ENV",
        help="with --repo: a secret of this deployment environment, not of the repository",
    )
    github_token = f"{GITHUB_TOKEN_VARS[0]} (or {GITHUB_TOKEN_VARS[1]})"
    _refuse(
        parser,
        {
            "--client-secret": CLIENT_SECRET_VAR,
            "--github-token": github_token,
            "--token": github_token,
        },
    )
    parser.set_defaults(run=_authorize)
    return parser


def _unseal_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xbearer unseal",
        description=_text(
            "Decrypt a value the action sealed with its passphrase input (a sealed-bearer "
            "output, or a refresh token it could not store) and print the plaintext alone to "
            "standard output. The sealed value is the argument or, without one, standard "
            f"input; the passphrase comes from ${PASSPHRASE_VAR} or a hidden prompt, never "
            "from the command line."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sealed", nargs="?", metavar="SEALED", help="the sealed value (v2.…); else standard input"
    )
    _refuse(parser, {"--passphrase": PASSPHRASE_VAR})
    parser.set_defaults(run=_unseal)
    return parser


COMMANDS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "authorize": _authorize_parser,
    "unseal": _unseal_parser,
}


def _say(line: str) -> None:
    print(f"xbearer: {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command; errors go to stderr with exit code 1, Ctrl-C gives 130."""
    words = sys.argv[1:] if argv is None else argv
    try:
        if words and words[0] in COMMANDS:
            args = COMMANDS[words[0]]().parse_args(words[1:])
        else:
            args = _parser().parse_args(words)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (KeyboardInterrupt, EOFError):  # Ctrl-C anywhere, Ctrl-D at a prompt
        print(file=sys.stderr)
        _say("cancelled.")
        return 130
    except ActionError as exc:
        _say(f"error: {exc.message}")
        return 1
    except ModuleNotFoundError as exc:  # installed without its dependencies (--no-deps)
        package = _PACKAGES.get((exc.name or "").split(".")[0], exc.name)
        _say(f"error: this command needs {package}, which is not installed: pip install {package}")
        return 1
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        _say(f"error: unexpected internal error ({type(exc).__name__}).")
        return 1


def _terminal() -> bool:
    """Whether a hidden prompt can be shown: this process has a terminal to ask on."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return sys.stdin.isatty()  # no /dev/tty (Windows): getpass asks on the console
    os.close(fd)
    return True


def _secret(var: str, what: str, *, ask: bool, hint: str) -> tuple[str, bool]:
    """$var, or, if it is unset or empty and `ask`, what is typed at a hidden prompt; and
    whether it was typed. A variable that is unset (or empty) with nobody to ask is an error."""
    value = os.environ.get(var)
    if value:
        return value, False
    if ask:
        typed = getpass.getpass(f"{what[:1].upper()}{what[1:]} (or set {var}): ")
        if not typed.strip():
            raise InputError(f"No {what} was typed: type it at the prompt, or set {var}.")
        return typed, True
    raise InputError(f"{var} is {'not set' if value is None else 'empty'}: {hint}")


def _token(args: argparse.Namespace) -> int:
    """The app-only bearer token, as the action gets it."""
    tty = sys.stdin.isatty()
    key, key_typed = _secret(KEY_VAR, "API key", ask=tty, hint=API_KEY_HINT)
    secret, secret_typed = _secret(SECRET_VAR, "API secret key", ask=tty, hint=API_KEY_HINT)
    for var, value in ((KEY_VAR, key), (SECRET_VAR, secret)):
        if not value.strip():  # said here: config.check_secret says it in the action's words
            raise InputError(f"{var} is empty: {API_KEY_HINT}")
    terms = TOKEN_TERMS[key_typed, secret_typed]
    raw = {
        "api-key": key,
        "api-secret": secret,
        "api-url": args.api_url,
        "timeout": args.timeout,
        "retries": args.retries,
        "ca-bundle": args.ca_bundle,
    }
    inputs = config.Inputs(raw)
    common = _common(inputs, terms)
    app = AppOnly.load(inputs, common, os.environ, terms)
    token = request_token(app.credentials, common.endpoint)
    if args.json:
        print(json.dumps({"token_type": "bearer", "access_token": token.value}))
    else:
        print(token.value)
    return 0


def _common(inputs: config.Inputs, terms: Terms) -> config.CommonSettings:
    return config.load(
        inputs,
        invalidate=False,
        workspace=os.getcwd(),
        environ=os.environ,
        terms=terms,
        notify=_say,
    )


def _authorize(args: argparse.Namespace) -> int:
    """The account's first refresh token: printed, or stored in a repository secret."""
    from . import authorize, oauth2

    if args.repo and not args.secret:
        raise InputError("--repo needs --secret NAME: the secret to store the refresh token in.")
    if args.secret and not args.repo:
        raise InputError("--secret needs --repo OWNER/REPO: the repository the secret is in.")
    if args.environment and not args.repo:
        raise InputError("--environment needs --repo OWNER/REPO and --secret NAME.")
    client_id = authorize.check_client_id(args.client_id)
    scopes = authorize.check_scopes(args.scope)
    port, wait = authorize.check_port(args.port), authorize.check_wait(args.wait)
    client_secret = _client_secret(args.confidential)
    terms = AUTHORIZE_TERMS
    inputs = config.Inputs(
        {
            "api-url": args.api_url,
            "timeout": args.timeout,
            "retries": args.retries,
            "ca-bundle": args.ca_bundle,
        }
    )
    common = _common(inputs, terms)
    authorize_url = config.parse_api_url(
        args.authorize_url.strip(), terms, "authorize-url", authorize.AUTHORIZE_URL
    )
    # Before the browser: a token that cannot write the secret fails here, not after.
    destination = _checked_store(args, common) if args.repo else None
    request = authorize.Request(
        oauth2.Client(client_id, client_secret),
        scopes,
        authorize_url,
        port,
        wait,
        browser=not (args.no_browser or args.paste),
        listen=not args.paste,
        paste=args.paste or (args.no_browser and sys.stdin.isatty()),
    )
    tokens = authorize.obtain(request, common.endpoint, _say)
    _say(f"X granted {tokens.scope or ' '.join(scopes)}.")
    for warning in authorize.scope_warnings(scopes, tokens.scope):
        _say(f"warning: {warning}")
    approved = authorize.account(tokens, common.endpoint)
    if isinstance(approved, authorize.Account):
        _say(
            f"approved by @{approved.username} (id {approved.id}): if that is not the account "
            "the workflow should act as, revoke the app in that account's settings."
        )
    else:
        _say(f"warning: {approved}: check which account approved in X's connected apps.")
    if destination is not None:
        store, check = destination
        try:
            store.store(tokens.refresh_token, check.key)
        except ActionError as exc:
            raise ActionError(
                f"{exc.message} The refresh token was neither stored nor shown: fix that, then "
                "run xbearer authorize again (each authorization gives a new refresh token)."
            ) from None
        print(f"Stored the refresh token in the {store.where}.")
    elif args.json:
        expires = int(tokens.expires_in) if tokens.expires_in.isdigit() else None
        doc = {
            "access_token": tokens.access_token,
            "expires_in": expires,
            "scope": tokens.scope,
            "refresh_token": tokens.refresh_token,
            "account": (
                {"id": approved.id, "username": approved.username}
                if isinstance(approved, authorize.Account)
                else None
            ),
        }
        print(json.dumps(doc))
    else:
        print(tokens.refresh_token)
    return 0


def _client_secret(confidential: bool) -> str | None:
    """X_CLIENT_SECRET, or typed with --confidential; None for a public client."""
    value = os.environ.get(CLIENT_SECRET_VAR)
    if value is None and not confidential:
        return None
    secret, typed = _secret(
        CLIENT_SECRET_VAR, "client secret", ask=confidential and _terminal(), hint=CLIENT_HINT
    )
    if not secret.strip():  # said here: config.check_secret says it in the action's words
        raise InputError(f"{CLIENT_SECRET_VAR} is empty: {CLIENT_HINT}")
    terms = TYPED_CLIENT_SECRET_TERMS if typed else AUTHORIZE_TERMS
    config.check_secret("client-secret", secret.strip(), terms)
    return secret.strip()


def _checked_store(
    args: argparse.Namespace, common: config.CommonSettings
) -> tuple[SecretStore, WriteCheck]:
    """The secret to store the refresh token in, proven writable, with the key that worked;
    a companion secret the check left behind is a warning."""
    store = _store(args, common)
    check = store.check_writable(store.public_key())
    if warning := check.warning(store.repository):
        _say(f"warning: {warning}")
    return store, check


def _store(args: argparse.Namespace, common: config.CommonSettings) -> SecretStore:
    """The secret to store the refresh token in, and a GitHub token that may write it."""
    from . import github

    place = github.Place(
        args.repo.strip(),
        args.secret.strip(),
        (args.environment or "").strip() or None,
        ("--repo", "--secret", "--environment"),
    )
    var = next((v for v in GITHUB_TOKEN_VARS if os.environ.get(v, "").strip()), None)
    if var is None:
        states = {v: "not set" if os.environ.get(v) is None else "empty" for v in GITHUB_TOKEN_VARS}
        said = (
            f"Neither {' nor '.join(GITHUB_TOKEN_VARS)} is set"
            if set(states.values()) == {"not set"}
            else " and ".join(f"{v} is {state}" for v, state in states.items())
        )
        raise InputError(
            f"{said}: --repo stores the refresh token with a GitHub token from one of them, "
            f"which {github.PERMISSION_CLI}"
        )
    terms = GITHUB_TOKEN_TERMS[var]
    token = os.environ[var].strip()
    return github.secret_store(
        place, token, common, os.environ, terms, permission=github.PERMISSION_CLI
    )


def _unseal(args: argparse.Namespace) -> int:
    """The plaintext of a sealed value, alone on standard output."""
    from .sealing import check_sealed, unseal

    sealed = args.sealed if args.sealed is not None else _read_sealed()
    if not sealed.strip():
        raise InputError(
            "No sealed value: give it as the argument, or on standard input (such as "
            "xbearer unseal < sealed.txt)."
        )
    check_sealed(sealed, CLI_TERMS)  # before anybody is asked for a passphrase
    passphrase, _ = _secret(
        PASSPHRASE_VAR,
        "passphrase",
        ask=_terminal(),
        hint=f"set {PASSPHRASE_VAR} to the passphrase the workflow sealed it with, or run "
        "xbearer unseal in a terminal to be asked for it.",
    )
    if not passphrase.strip():  # the passphrase rule strips it: nothing would be left
        raise InputError(f"{PASSPHRASE_VAR} is blank: set it to the passphrase itself.")
    print(unseal(sealed, passphrase, CLI_TERMS))
    return 0


def _read_sealed() -> str:
    """The sealed value from standard input: one line typed at a terminal, else all of it."""
    if sys.stdin.isatty():
        print("Sealed value: ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line
    return sys.stdin.read(MAX_SEALED)
