"""Command line: the same token request outside GitHub Actions."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from . import __version__, config
from .app_only import AppOnly
from .client import request_token
from .errors import CLI_TERMS, ActionError

KEY_VAR, SECRET_VAR = "X_API_KEY", "X_API_SECRET"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xbearer",
        description="Exchange an X app's API key and secret for an app-only bearer token. "
        f"The key and secret come from ${KEY_VAR} and ${SECRET_VAR}, or from a hidden prompt "
        "in a terminal; never from the command line. The token goes to standard output "
        "only; errors go to standard error with exit status 1.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--api-url", default=config.DEFAULT_API_URL, help="API base URL")
    parser.add_argument(
        "--timeout",
        default=config.DEFAULT_TIMEOUT,
        help="seconds to wait for the connection and for each read",
    )
    parser.add_argument(
        "--retries",
        default=config.DEFAULT_RETRIES,
        help="retries after the first attempt, for network errors, 5xx and 429",
    )
    parser.add_argument(
        "--ca-bundle",
        default="",
        help="PEM bundle of CA certificates to trust instead of the default ones",
    )
    parser.add_argument(
        "--json", action="store_true", help="print token_type and access_token as JSON"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _secret(var: str, prompt: str) -> str:
    value = os.environ.get(var, "")
    if not value and sys.stdin.isatty():
        value = getpass.getpass(f"{prompt} (or set {var}): ")
    return value


def _say(line: str) -> None:
    print(f"xbearer: {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Print the bearer token (or JSON); errors go to stderr with exit code 1."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        _say("cancelled.")
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        _say(f"error: unexpected internal error ({type(exc).__name__}).")
        return 1


def _run(args: argparse.Namespace) -> int:
    try:
        key, secret = _secret(KEY_VAR, "API key"), _secret(SECRET_VAR, "API secret key")
    except EOFError:
        print(file=sys.stderr)
        return 130
    raw = {
        "api-key": key,
        "api-secret": secret,
        "api-url": args.api_url,
        "timeout": args.timeout,
        "retries": args.retries,
        "ca-bundle": args.ca_bundle,
    }
    try:
        get = config.Inputs(raw)
        common = config.load(
            get,
            invalidate=False,
            workspace=os.getcwd(),
            environ=os.environ,
            terms=CLI_TERMS,
            notify=_say,
        )
        app = AppOnly.load(get, common, CLI_TERMS)
        token = request_token(app.credentials, common.endpoint)
    except ActionError as exc:
        _say(f"error: {exc.message}")
        return 1
    if args.json:
        print(json.dumps({"token_type": "bearer", "access_token": token.value}))
    else:
        print(token.value)
    return 0
