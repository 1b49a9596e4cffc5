"""Command line: an app-only bearer token (`xbearer`), an account's first refresh token
(`xbearer authorize`) and a value the action sealed, opened (`xbearer unseal`).

Each command is a module of this package with its parser beside it (`bearer`,
`authorize`, `unseal`; `shared` holds what they share); `main` imports only the one it
runs, so each loads only what it needs: oauthlib for authorize, PyNaCl for unseal and
for storing a secret. Secrets come from the environment or a hidden prompt, never from
arguments. Results go to standard output only; messages go to standard error, and
errors exit with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..errors import ActionError
from .shared import say

COMMANDS = ("authorize", "unseal")  # the first word; anything else is xbearer's own options
_PACKAGES = {"nacl": "pynacl", "oauthlib": "oauthlib"}  # what to install for a missing module


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of a command (None: `xbearer` itself), importing only its module."""
    if command == "authorize":
        from . import authorize

        return authorize.parser()
    if command == "unseal":
        from . import unseal

        return unseal.parser()
    from . import bearer

    return bearer.parser()


def main(argv: list[str] | None = None) -> int:
    """Run the command; errors go to stderr with exit code 1, Ctrl-C gives 130."""
    words = sys.argv[1:] if argv is None else argv
    try:
        command = words[0] if words and words[0] in COMMANDS else None
        args = _parser(command).parse_args(words[1:] if command else words)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (KeyboardInterrupt, EOFError):  # Ctrl-C anywhere, Ctrl-D at a prompt
        print(file=sys.stderr)
        say("cancelled.")
        return 130
    except ActionError as exc:  # a type= validator's too: it raises InputError, not ValueError
        say(f"error: {exc.message}")
        return 1
    except ModuleNotFoundError as exc:  # installed without its dependencies (--no-deps)
        package = _PACKAGES.get((exc.name or "").split(".")[0], exc.name)
        say(f"error: this command needs {package}, which is not installed: pip install {package}")
        return 1
    except Exception as exc:  # noqa: BLE001 - never a traceback: its text may hold secrets
        say(f"error: unexpected internal error ({type(exc).__name__}).")
        return 1
