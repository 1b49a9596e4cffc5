"""What every way of getting the token offers the Actions glue; `selection` picks one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from .config import CommonSettings, Inputs
from .errors import Terms
from .transport import Endpoint


@dataclass
class TokenResult:
    """A token, its kind, what was done to get it (summary lines), outputs beside
    `bearer`, and warnings for the user (things left to do that did not stop the run)."""

    token: str
    kind: str  # "app" or "user" (sealing.KINDS)
    done: list[str]
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Revoker(Protocol):
    """Revokes a token at the end of the job (the post step)."""

    revokes: ClassVar[str]  # the kind of token it revokes: "app" or "user" (sealing.KINDS)

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke it at X through `endpoint`; say what was done, or raise ActionError."""
        ...


class Mode(Protocol):
    """One way of getting the token: app-only, user context, or unsealed in a later job.

    `obtain` calls `mask` on every new secret the moment it is known, before
    anything else can print it, and holds cancellation off (`hold`) where stopping
    would lose something.
    """

    kind: ClassVar[str]  # the mode, for the debug log
    # The inputs it adds to config.INPUTS (a later job also reads those of what revokes).
    inputs: ClassVar[tuple[str, ...]]
    secret_inputs: ClassVar[tuple[str, ...]]  # those whose values are secrets, masked first
    seals: ClassVar[bool]  # whether its token is sealed (with passphrase) for later jobs

    @staticmethod
    def derived_secrets(inputs: Inputs) -> list[str]:
        """Secrets made from its inputs (a Basic credential), masked with them."""
        ...

    @classmethod
    def load(
        cls,
        inputs: Inputs,
        common: CommonSettings,
        environ: Mapping[str, str],
        terms: Terms,
    ) -> Mode:
        """Check its inputs (and the runner's variables) before any request."""
        ...

    @property
    def common(self) -> CommonSettings:
        """The settings every mode shares."""
        ...

    def obtain(
        self, mask: Callable[[str], None], hold: Callable[[], AbstractContextManager[None]]
    ) -> TokenResult:
        """Get the token; raise ActionError with a message safe to show. Within
        `hold()`, cancellation waits until the block ends."""
        ...

    def revoke(self, token: str, endpoint: Endpoint) -> str:
        """Revoke it at X through `endpoint`; say what was done, or raise ActionError."""
        ...
