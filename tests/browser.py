"""A tiny simulated browser for the OAuth 2.0 authorize step.

`follow(authorize_url)` does what the account owner's browser does: it opens the
authorize page (the fake X API approves or denies at once, with a 302), then opens the
Location it was sent to, which is the command line's loopback callback. Only loopback
addresses are ever opened.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Visit:
    """What the browser saw: the authorize answer, where it was sent, the callback's answer."""

    authorize: requests.Response
    location: str
    callback: requests.Response

    @property
    def query(self) -> dict[str, str]:
        """The callback's query: state and code, or error and state."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def _loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise AssertionError(f"the test browser only opens loopback addresses, not {host!r}")


def follow(authorize_url: str, timeout: float = 10) -> Visit:
    """Open the authorize URL, then the callback it redirects to; fail on anything else."""
    _loopback(authorize_url)
    with requests.Session() as session:
        session.trust_env = False  # no proxy, no .netrc: straight to loopback
        answer = session.get(authorize_url, allow_redirects=False, timeout=timeout)
        location = answer.headers.get("Location", "")
        assert answer.status_code in (302, 303) and location, (
            f"the authorize page answered {answer.status_code} without a redirect"
        )
        _loopback(location)
        callback = session.get(location, allow_redirects=False, timeout=timeout)
    return Visit(answer, location, callback)
