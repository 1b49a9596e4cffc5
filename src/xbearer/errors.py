"""The one exception type reported to the user, and the words its messages use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


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
    """How a user sets each setting and what to tell them, where the code runs: the
    action's inputs, or the command line's options and variables. One set of words for
    every message, a sealed value's (sealing.py) among them."""

    set_credentials: str
    later: str
    network: str
    workspace: str
    sealed: str  # what the user calls a sealed value
    not_sealed: str  # the subject of "... is not a sealed value"
    sealed_unchanged: str  # what to pass instead of a malformed sealed value
    sealed_whole: str  # what to pass instead of a truncated one
    reader: str  # this program, for a sealed value of a version it cannot read
    versions: str  # how to read a sealed value of another version
    key_hint: str  # which passphrase opens a sealed value
    names: Mapping[str, str] = field(default_factory=dict)
    credentials: str = "api-key and api-secret"  # the app's key and secret, as the user gave them

    def name(self, setting: str) -> str:
        """What the user calls a setting: an input name, an option or a variable."""
        return self.names.get(setting, setting)


ACTION_TERMS = Terms(
    set_credentials="set it from a repository secret. If it is, note that secrets are not "
    "passed to workflows triggered from forks or by Dependabot (use Dependabot secrets for those).",
    later="re-run the job later",
    network="the runner's network",
    workspace="the workspace",
    sealed="sealed-bearer",
    not_sealed="sealed-bearer",
    sealed_unchanged="the sealed-bearer output of the minting job unchanged",
    sealed_whole="the whole sealed-bearer output",
    reader="this version of the action",
    versions="use the same action version in both jobs",
    key_hint="use the one the minting job used",
)
CLI_TERMS = Terms(
    set_credentials="set X_API_KEY and X_API_SECRET in the environment, or run xbearer in a "
    "terminal to be asked for them.",
    later="try again later",
    network="this machine's network",
    workspace="the current directory",
    sealed="the sealed value",
    not_sealed="the value given",
    sealed_unchanged="the value exactly as the action gave it",
    sealed_whole="all of it, exactly as the action gave it",
    reader="this version of xbearer",
    versions="install the xbearer of the action's version",
    key_hint="use the passphrase the workflow sealed it with",
    credentials="X_API_KEY and X_API_SECRET",
    names={
        "api-key": "X_API_KEY",
        "api-secret": "X_API_SECRET",
        "api-url": "--api-url",
        "timeout": "--timeout",
        "retries": "--retries",
        "ca-bundle": "--ca-bundle",
    },
)
