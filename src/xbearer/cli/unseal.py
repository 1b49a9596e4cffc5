"""`xbearer unseal`: the plaintext of a value the action sealed (a sealed-bearer output,
or a refresh token it could not store), with the passphrase from the environment or a
prompt. PyNaCl is loaded only once there is a value to open."""

from __future__ import annotations

import argparse
import sys

from ..errors import CLI_TERMS, InputError
from . import shared

PASSPHRASE_VAR = "X_PASSPHRASE"  # noqa: S105 - the name of a variable
MAX_SEALED = 64 * 1024  # far more than any sealed token


def parser() -> argparse.ArgumentParser:
    """`xbearer unseal [SEALED]`."""
    parser = argparse.ArgumentParser(
        prog="xbearer unseal",
        description=shared.text(
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
    shared.refuse(parser, {"--passphrase": PASSPHRASE_VAR})
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """The plaintext of a sealed value, alone on standard output."""
    from ..sealing import check_sealed, unseal

    sealed = args.sealed if args.sealed is not None else _read_sealed()
    if not sealed.strip():
        raise InputError(
            "No sealed value: give it as the argument, or on standard input (such as "
            "xbearer unseal < sealed.txt)."
        )
    check_sealed(sealed, CLI_TERMS)  # before anybody is asked for a passphrase
    passphrase, _ = shared.secret(
        PASSPHRASE_VAR,
        "passphrase",
        ask=shared.terminal(),
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
