"""Which values the runner is asked to mask: whole secrets, never fragments of them.

The runner replaces each registered value wherever it appears in the log, so a short
fragment (the `e` after a line break in an answer's token) would star out every `e`.
"""

from __future__ import annotations

from urllib.parse import unquote

MIN_ANSWERED = 8  # no value from an answer shorter than this is registered


def given(value: str) -> set[str]:
    """A secret input: the value, trimmed and line by line, as the runner masks the
    `secrets.*` it passes (each line of a multi-line secret)."""
    return {part for part in {value, value.strip(), *value.splitlines()} if part.strip()}


def answered(value: str) -> set[str]:
    """A secret an answer held (a token): the whole value as sent, and its percent-decoded
    form as a whole (a bearer token is percent-encoded, and may be shown decoded).

    A form with a line break is never registered: a log line cannot hold it, and a
    runner splitting it by lines would mask the fragments. Nor is one shorter than
    MIN_ANSWERED: a token is far longer, and a short mask stars out common text.
    """
    forms = {value, unquote(value)}
    return {f for f in forms if len(f) >= MIN_ANSWERED and f.splitlines() == [f]}
