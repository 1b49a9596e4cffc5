"""The one exception type reported to the user, and where its messages are said."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


class ActionError(Exception):
    """A failure with a message that is safe to show: no secret, no traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(ActionError):
    """An input is missing or malformed; raised before any request is sent."""


def clean(text: str, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """Untrusted text made safe to show: secrets redacted, printable, one line, truncated.

    Printable excludes control and format characters and lone surrogates, so the
    result is one line that any UTF-8 stream can write.
    """
    secrets = [s for s in secrets if s]
    for secret in secrets:
        text = text.replace(secret, "***")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    for secret in secrets:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Terms:
    """Where the code runs (the action, or the command line) and what the user calls
    each setting there: an input, an option, a variable, "the API key you typed".

    A message is written whole for each place (`say`); only the names of settings are
    filled in, since one command may call a setting otherwise (a secret typed at the
    prompt is not the variable that was unset)."""

    cli: bool
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, setting: str) -> str:
        """What the user calls a setting: an input name, an option or a variable."""
        return self.names.get(setting, setting)

    def say(self, *, action: str, cli: str) -> str:
        """The message as it is said where the code runs."""
        return cli if self.cli else action

    def renamed(self, names: Mapping[str, str]) -> Terms:
        """The same place, with some settings called otherwise."""
        return replace(self, names={**self.names, **names})


ACTION_TERMS = Terms(cli=False)
CLI_TERMS = Terms(
    cli=True,
    names={
        "api-key": "X_API_KEY",
        "api-secret": "X_API_SECRET",
        "api-key and api-secret": "X_API_KEY and X_API_SECRET",  # the app's key and secret
        "api-url": "--api-url",
        "timeout": "--timeout",
        "retries": "--retries",
        "ca-bundle": "--ca-bundle",
        "sealed-bearer": "the sealed value",
    },
)
