"""Every retry decision, in one immutable policy (urllib3's `util/retry.py` is the model).

What is retried (which faults, which answers, whether a request may be sent twice),
how long to wait (the backoff, or what the server asked for, from which headers), how
many times and within which budget. The policy is given the facts (a `Fault` that
transport.py classified once, or an answer's status, headers and body, the attempt's
number, the clock) and answers with a wait, or None for final; transport.py does what it
decides, so the tests read it from tables, with no socket and no sleep.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from .failures import Fault

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WAIT_PER_RETRY = 20.0  # seconds of backoff or server-asked wait that each retry may add
SECONDARY_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute
BACKOFF, BACKOFF_MAX, JITTER = 0.5, 10.0, 0.5
_EPOCH = re.compile(r"[0-9]{1,10}")  # ASCII digits only; 10 digits reach the year 2286


@dataclass(frozen=True)
class RetryPolicy:
    """One decision for X's and GitHub's requests: after which fault or answer another
    attempt is made, and after how long.

    A fault is retried if it is `transient` and, unless the request is `replayable`,
    only if it was not `sent`: a request that is not replayable (a refresh, which
    rotates a token) may have been acted on even when its answer was lost. A 200 whose
    body broke off is retried like such a fault.

    `statuses` are retried (the server said it did not act): after Retry-After (seconds
    or an HTTP-date), else, for a 429, X's x-rate-limit-reset, else the backoff.
    `rate_limits` adds GitHub's, which may come as 403 too: a primary limit
    (x-ratelimit-remaining 0, wait until x-ratelimit-reset), a secondary one (its
    message says so; Retry-After, else at least a minute). Any other 403 is final.

    The backoff after attempt n is `backoff` x 2^(n-1) s, at most `backoff_max`, plus
    up to `jitter`. There are at most `retries` retries (a setting), each within the
    budget: (retries + 1) x timeout + WAIT_PER_RETRY per retry.
    """

    statuses: frozenset[int] = RETRY_STATUSES
    rate_limits: bool = False
    replayable: bool = True
    backoff: float = BACKOFF
    backoff_max: float = BACKOFF_MAX
    jitter: float = JITTER

    @staticmethod
    def budget(retries: int, timeout: float) -> float:
        """Seconds a whole exchange may take, however the server (or the resolver) behaves."""
        return (retries + 1) * timeout + retries * WAIT_PER_RETRY

    @staticmethod
    def allows(wait: float, attempt: int, retries: int, left: float) -> bool:
        """Whether attempt `attempt` may be followed by another after `wait` s: a retry
        of the `retries` remains, and the wait fits in the `left` s of the budget."""
        return attempt <= retries and wait <= left

    def wait_after_fault(self, fault: Fault, attempt: int) -> float | None:
        """Seconds to wait before retrying after this fault, or None if it is final."""
        if fault.transient and (self.replayable or not fault.sent):
            return self.backoff_after(attempt)
        return None

    def wait_after_broken_body(self, status: int, fault: Fault, attempt: int) -> float | None:
        """A final answer whose body broke off: a 200 is retried as a fault is (another
        attempt may bring it whole); any other status is reported as it is."""
        return self.wait_after_fault(fault, attempt) if status == 200 else None

    def reads_body(self, status: int) -> bool:
        """Whether the body decides: only GitHub's message tells a secondary limit."""
        return self.rate_limits and status in (403, 429)

    def rate_limit(self, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        """Which of GitHub's rate limits this answer is ("primary", "secondary"), if any."""
        if not self.reads_body(status):
            return None
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        if remaining == "0" and epoch(headers.get("x-ratelimit-reset", "")) is not None:
            return "primary"
        return "secondary" if b"secondary rate limit" in body else None

    def wait_after_answer(
        self, status: int, headers: Mapping[str, str], body: bytes, attempt: int, now: float
    ) -> float | None:
        """Seconds to wait before retrying this answer, or None if it is final (`now`: the
        Unix time, for the headers that name a moment)."""
        asked = retry_after(headers.get("Retry-After", ""), now)
        limit = self.rate_limit(status, headers, body)
        if limit == "primary":
            until = epoch(headers.get("x-ratelimit-reset", "")) or 0
            return max(0.0, until - now) if asked is None else asked
        if limit == "secondary":
            return SECONDARY_WAIT if asked is None else asked
        if status not in self.statuses:
            return None
        if asked is None and status == 429:
            reset = epoch(headers.get("x-rate-limit-reset", ""))
            asked = None if reset is None else max(0.0, reset - now)
        return self.backoff_after(attempt) if asked is None else asked

    def backoff_after(self, attempt: int) -> float:
        """The wait after failed attempt n, growing with n, jittered so that runs that
        failed together do not come back together."""
        grown = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        return grown + random.uniform(0, self.jitter)  # noqa: S311 - not a secret


def epoch(value: str) -> int | None:
    """A Unix time in ASCII digits within range (x-rate-limit-reset), or None."""
    value = value.strip()
    return int(value) if _EPOCH.fullmatch(value) else None


def retry_after(value: str, now: float) -> float | None:
    """Retry-After in seconds: delay-seconds or an HTTP-date; None if neither."""
    value = value.strip()
    if _EPOCH.fullmatch(value):
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
