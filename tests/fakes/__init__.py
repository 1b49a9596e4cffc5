"""The fakes the tests run the action against, over real sockets on loopback: X's API
(`x`: app-only; `x_oauth2`: user context) and GitHub's Actions secrets API (`github`),
each on one server base with one way of queueing faults (`server`).

``url = Server(FakeX()).start()`` serves X; ``Server(FakeGitHub())`` GitHub. X's names
are here; GitHub's fake needs PyNaCl, so it is imported from `fakes.github`: the demo and
the release's smoke test run this package on the standard library alone.
"""

from .server import Seen, Server
from .x import ACCESS_TOKEN, ACCESS_TOKEN_SECRET, API_KEY, API_SECRET, TOKEN, FakeX
from .x_oauth2 import CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, USER

__all__ = [
    "ACCESS_TOKEN",
    "ACCESS_TOKEN_SECRET",
    "API_KEY",
    "API_SECRET",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "PUBLIC_CLIENT_ID",
    "TOKEN",
    "USER",
    "FakeX",
    "Seen",
    "Server",
]
