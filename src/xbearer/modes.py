"""What every way of getting the token offers the Actions glue, which picks one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from .config import Common
from .transport import Endpoint


@dataclass
class Obtained:
    """A token, what was done to get it (summary lines), and outputs beside `bearer`."""

    token: str
    done: list[str]
    outputs: dict[str, str] = field(default_factory=dict)


class Revoker(Protocol):
    """Revokes a token at the end of the job (the post step)."""

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke it at X through `endpoint`; say what was done, or raise ActionError."""
        ...


class Mode(Revoker, Protocol):
    """One way of getting the token: app-only, user context, or unsealed in a later job.

    `obtain` calls `mask` on every new secret the moment it is known, before
    anything else can print it.
    """

    kind: ClassVar[str]  # the mode, for the debug log

    @property
    def common(self) -> Common:
        """The settings every mode shares."""
        ...

    def obtain(self, mask: Callable[[str], None]) -> Obtained:
        """Get the token; raise ActionError with a message safe to show."""
        ...
