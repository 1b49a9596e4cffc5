"""`xbearer authorize`: an account's first refresh token, printed or stored in a GitHub
Actions secret; its options are checked as they are parsed (each validator is the
option's `type`); the flow itself is xbearer/authorize.py."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from .. import config, oauth2
from ..authorize import AUTHORIZE_URL, OFFLINE, Request, obtain, scope_warnings
from ..errors import CLI_TERMS, ActionError, InputError
from ..loopback import CALLBACK, DEFAULT_PORT
from . import shared

if TYPE_CHECKING:
    from ..github import SecretStore, WriteCheck

CLIENT_SECRET_VAR = "X_CLIENT_SECRET"  # noqa: S105 - the name of a variable
GITHUB_TOKEN_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
DEFAULT_SCOPE = "tweet.read users.read offline.access"
DEFAULT_WAIT = "300"
MAX_WAIT = 3600.0
TERMS = CLI_TERMS.renamed(
    {
        "client-id": "--client-id",
        "client-secret": CLIENT_SECRET_VAR,
        "authorize-url": "--authorize-url",
        "refresh-token-secret-name": "--secret",
    }
)
# What to do about a client secret that is unset (or blank).
UNSET = (
    "set it to the app's OAuth 2.0 Client Secret, or, for a public client, leave it unset and "
    "do not give --confidential."
)


def client_id(value: str) -> str:
    """--client-id: the app's OAuth 2.0 Client ID, one word of printable characters."""
    value = value.strip()
    if not value or not value.isprintable() or " " in value:
        raise InputError(
            "--client-id must be the app's OAuth 2.0 Client ID (its Keys and tokens page): "
            "one word, without spaces or control characters."
        )
    return value


def scopes(value: str) -> tuple[str, ...]:
    """--scope: the scopes to ask for, space-separated; offline.access among them."""
    asked = tuple(value.split())
    if not all(scope.isprintable() for scope in asked):
        raise InputError("--scope must be scopes separated by spaces, such as " + DEFAULT_SCOPE)
    if OFFLINE not in asked:
        raise InputError(
            f"--scope must include {OFFLINE}: without it X gives no refresh token, such as "
            f'--scope "{DEFAULT_SCOPE}".'
        )
    return asked


def port(value: str) -> int:
    """--port: a TCP port for the callback (not a number at all: argparse's usage error)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {value!r}") from None
    if not 0 < number < 65536:
        raise InputError("--port must be a TCP port, from 1 to 65535.")
    return number


def wait(value: str) -> float:
    """--wait: seconds to wait for the browser, a positive number up to MAX_WAIT."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_WAIT:
        raise InputError(f"--wait must be a number of seconds above 0 and at most {MAX_WAIT:g}.")
    return seconds


def authorize_url(value: str) -> str:
    """--authorize-url: X's authorize page, by the rules of an API's URL (a path kept)."""
    return config.parse_api_url(value.strip(), TERMS, "authorize-url", AUTHORIZE_URL)


def parser() -> argparse.ArgumentParser:
    """`xbearer authorize --client-id ID [options]`."""
    parser = argparse.ArgumentParser(
        prog="xbearer authorize",
        description=shared.text(
            "Authorize an X account for the app, once, with OAuth 2.0 (PKCE): open the URL "
            "this prints (in the browser it opens, or yourself) while logged in to X as the "
            "account, approve, and X sends the browser back to "
            f"http://127.0.0.1:PORT{CALLBACK}, which must be registered as a "
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
        "--client-id",
        required=True,
        type=client_id,
        metavar="ID",
        help="the app's OAuth 2.0 Client ID",
    )
    parser.add_argument(
        "--scope",
        default=DEFAULT_SCOPE,
        type=scopes,
        metavar="SCOPES",
        help="scopes to ask for, space-separated, offline.access among them "
        '(default: "%(default)s")',
    )
    parser.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
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
        default=DEFAULT_WAIT,
        type=wait,
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
        default=AUTHORIZE_URL,
        type=authorize_url,
        metavar="URL",
        help="X's authorize page (default: %(default)s)",
    )
    shared.transport_options(parser)
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
    shared.refuse(
        parser,
        {
            "--client-secret": CLIENT_SECRET_VAR,
            "--github-token": github_token,
            "--token": github_token,
        },
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """The account's first refresh token: printed, or stored in a repository secret."""
    if args.repo and not args.secret:
        raise InputError("--repo needs --secret NAME: the secret to store the refresh token in.")
    if args.secret and not args.repo:
        raise InputError("--secret needs --repo OWNER/REPO: the repository the secret is in.")
    if args.environment and not args.repo:
        raise InputError("--environment needs --repo OWNER/REPO and --secret NAME.")
    client_secret = _client_secret(args.confidential)
    common = shared.settings(shared.inputs(args), TERMS)
    # Before the browser: a token that cannot write the secret fails here, not after.
    destination = _checked_store(args, common) if args.repo else None
    request = Request(
        oauth2.Client(args.client_id, client_secret),
        args.scope,
        args.authorize_url,
        args.port,
        args.wait,
        browser=not (args.no_browser or args.paste),
        listen=not args.paste,
        paste=args.paste or (args.no_browser and sys.stdin.isatty()),
    )
    tokens = obtain(request, common.endpoint, shared.say)
    shared.say(f"X granted {tokens.scope or ' '.join(args.scope)}.")
    for warning in scope_warnings(args.scope, tokens.scope):
        shared.say(f"warning: {warning}")
    approved = oauth2.account(tokens, common.endpoint)
    if isinstance(approved, oauth2.Account):
        shared.say(
            f"approved by @{approved.username} (id {approved.id}): if that is not the account "
            "the workflow should act as, revoke the app in that account's settings."
        )
    else:
        shared.say(f"warning: {approved}: check which account approved in X's connected apps.")
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
                if isinstance(approved, oauth2.Account)
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
    secret, typed = shared.secret(
        CLIENT_SECRET_VAR, "client secret", ask=confidential and shared.terminal(), hint=UNSET
    )
    shared.blank(CLIENT_SECRET_VAR, secret, UNSET)
    terms = TERMS.renamed({"client-secret": "the client secret you typed"}) if typed else TERMS
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
        shared.say(f"warning: {warning}")
    return store, check


def _store(args: argparse.Namespace, common: config.CommonSettings) -> SecretStore:
    """The secret to store the refresh token in, and a GitHub token that may write it."""
    from .. import github

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
    token = os.environ[var].strip()
    terms = TERMS.renamed({"github-token": var})
    return github.secret_store(
        place, token, common, os.environ, terms, permission=github.PERMISSION_CLI
    )
