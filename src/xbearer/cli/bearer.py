"""`xbearer`: the app's API key and secret exchanged for an app-only bearer token, as the
action's app-only mode gets it; the key and secret from the environment or a prompt."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .. import __version__
from ..app_only import AppOnly
from ..client import request_token
from ..errors import CLI_TERMS, Terms
from . import shared

KEY_VAR, SECRET_VAR = "X_API_KEY", "X_API_SECRET"
# What to do about a key or secret that is unset (or blank).
UNSET = (
    f"set {KEY_VAR} and {SECRET_VAR} in the environment, or run xbearer in a terminal to be "
    "asked for them."
)


def version() -> str:
    """What the code is: its version, and whether that is a release (a development
    version, X.Y.Z.devN, until CHANGELOG.md has the release)."""
    development = ".dev" in __version__
    return f"xbearer {__version__}" + (
        " (a development version, not a release)" if development else ""
    )


def parser() -> argparse.ArgumentParser:
    """`xbearer [options]`, which names the other commands in its --help."""
    parser = argparse.ArgumentParser(
        prog="xbearer",
        usage="%(prog)s [options]\n       %(prog)s {authorize,unseal} [options]",
        description=shared.text(
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
    shared.transport_options(parser)
    parser.add_argument(
        "--json", action="store_true", help="print token_type and access_token as JSON"
    )
    parser.add_argument("--version", action="version", version=version())
    shared.refuse(parser, {"--api-key": KEY_VAR, "--api-secret": SECRET_VAR})
    parser.set_defaults(run=run)
    return parser


def _terms(key_typed: bool, secret_typed: bool) -> Terms:
    """The command's words: a key or secret typed at the prompt is called so, not by the
    variable that was unset."""
    key = "the API key you typed" if key_typed else KEY_VAR
    secret = "the API secret key you typed" if secret_typed else SECRET_VAR
    both = (
        "the API key and API secret key you typed"
        if key_typed and secret_typed
        else f"{key} and {secret}"
    )
    return CLI_TERMS.renamed({"api-key": key, "api-secret": secret, "api-key and api-secret": both})


def run(args: argparse.Namespace) -> int:
    """The app-only bearer token, as the action gets it."""
    tty = sys.stdin.isatty()
    key, key_typed = shared.secret(KEY_VAR, "API key", ask=tty, hint=UNSET)
    secret, secret_typed = shared.secret(SECRET_VAR, "API secret key", ask=tty, hint=UNSET)
    shared.blank(KEY_VAR, key, UNSET)
    shared.blank(SECRET_VAR, secret, UNSET)
    terms = _terms(key_typed, secret_typed)
    inputs = shared.inputs(args, {"api-key": key, "api-secret": secret})
    common = shared.settings(inputs, terms)
    app = AppOnly.load(inputs, common, os.environ, terms)
    token = request_token(app.credentials, common.endpoint)
    if args.json:
        print(json.dumps({"token_type": "bearer", "access_token": token.value}))
    else:
        print(token.value)
    return 0
