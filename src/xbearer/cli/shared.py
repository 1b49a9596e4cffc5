"""What every command shares: its messages on standard error, --help's paragraphs, the
options refused because they would name a secret, the transport's options (one list,
built into the settings once), and the secrets read from a variable or a hidden prompt."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import textwrap
from collections.abc import Mapping

from .. import config
from ..errors import InputError, Terms


def say(line: str) -> None:
    """A line for the person at the terminal: on standard error, which carries no result."""
    print(f"xbearer: {line}", file=sys.stderr, flush=True)


def text(*paragraphs: str) -> str:
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


def refuse(parser: argparse.ArgumentParser, refused: Mapping[str, str]) -> None:
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


# The transport's options, as the action's inputs they stand for: added and read here only.
TRANSPORT = {
    "api-url": "api_url",
    "timeout": "timeout",
    "retries": "retries",
    "ca-bundle": "ca_bundle",
}


def transport_options(parser: argparse.ArgumentParser) -> None:
    """--api-url, --timeout, --retries and --ca-bundle, kept as given: config.load checks
    them by the action's rules, in the command line's words."""
    parser.add_argument(
        "--api-url",
        default=config.DEFAULT_API_URL,
        metavar="URL",
        help="API base URL (default: %(default)s)",
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


def inputs(args: argparse.Namespace, secrets: Mapping[str, str] | None = None) -> config.Inputs:
    """The transport's options as the action's inputs, with the command's secrets."""
    given = {name: getattr(args, attribute) for name, attribute in TRANSPORT.items()}
    return config.Inputs({**given, **(secrets or {})})


def settings(given: config.Inputs, terms: Terms) -> config.CommonSettings:
    """The transport's settings, as the action makes them: a relative --ca-bundle is in
    the current directory, and each retry is said on standard error."""
    return config.load(
        given, invalidate=False, workspace=os.getcwd(), environ=os.environ, terms=terms, notify=say
    )


def terminal() -> bool:
    """Whether a hidden prompt can be shown: this process has a terminal to ask on."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return sys.stdin.isatty()  # no /dev/tty (Windows): getpass asks on the console
    os.close(fd)
    return True


def secret(var: str, what: str, *, ask: bool, hint: str) -> tuple[str, bool]:
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


def blank(var: str, value: str, hint: str) -> None:
    """A variable set to spaces is empty: said here, in the command's words, before
    config.check_secret would say it in the action's."""
    if not value.strip():
        raise InputError(f"{var} is empty: {hint}")
