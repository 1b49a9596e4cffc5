"""The callback of `xbearer authorize`: X sends the browser back to
http://127.0.0.1:PORT/callback, served here, or the person pastes the address it landed on.

oauthlib parses each callback (the state checked, X's errors raised); the first that
carries this authorization's state is handed over, one without it is turned away and the
wait goes on. The server listens on 127.0.0.1 only and logs nothing (a request line holds
the code).
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import urlsplit

from oauthlib.oauth2 import AccessDeniedError, MismatchingStateError, OAuth2Error

from .errors import InputError, clean

DEFAULT_PORT = 8788  # the callback registered in the app's settings, as the README says
CALLBACK = "/callback"
_INSECURE = "OAUTHLIB_INSECURE_TRANSPORT"
_ENVIRON = threading.Lock()


@contextlib.contextmanager
def http_allowed(url: str) -> Iterator[None]:
    """Let oauthlib take a plain-http URL, which it refuses unless OAUTHLIB_INSECURE_TRANSPORT
    is set; the callers pass only loopback URLs (RFC 8252, section 8.3, allows http there)."""
    if not url.startswith("http://"):
        yield
        return
    with _ENVIRON:
        before = os.environ.get(_INSECURE)
        os.environ[_INSECURE] = "1"
        try:
            yield
        finally:
            if before is None:
                del os.environ[_INSECURE]
            else:
                os.environ[_INSECURE] = before


@dataclass(frozen=True)
class Outcome:
    """What a callback brought: a code, or the reason there is none; the page that tells
    the browser; and whether it answers this authorization (`mine`), and so ends the wait."""

    code: str | None
    problem: str | None
    status: int
    title: str
    text: str
    mine: bool = True


_FOREIGN = Outcome(
    None,
    None,
    400,
    "Not this authorization",
    "This answer does not belong to the authorization xbearer is waiting for (an old tab, "
    "or another program), so xbearer did not use it and is still waiting.",
    mine=False,
)
_ANSWERED = Outcome(None, None, 409, "Already answered", "xbearer took an answer already.", False)


class Callbacks:
    """Parses callbacks with oauthlib: the first that carries this authorization's state
    is handed over (`outcome`); one without it, or any after, is turned away."""

    def __init__(
        self,
        oauth: Any,
        state: str,
        redirect_uri: str,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.oauth, self.state, self.redirect_uri, self.say = oauth, state, redirect_uri, say
        self.outcome: queue.Queue[Outcome] = queue.Queue()
        self._lock = threading.Lock()
        self._taken = False
        self._foreign = 0

    def take(self, path: str) -> Outcome:
        """The outcome of this callback; if it is `mine`, the caller hands it over."""
        outcome = self._parse(path)
        with self._lock:
            if not outcome.mine:
                self._foreign += 1
                first = self._foreign == 1
            elif self._taken:
                return _ANSWERED
            else:
                self._taken = True
                return outcome
        if first:  # said once: a program that keeps knocking does not flood the terminal
            self.say(
                "turned away an answer without this authorization's state (an old tab, or "
                "another program): still waiting for the browser."
            )
        return outcome

    def _parse(self, path: str) -> Outcome:
        origin = self.redirect_uri[: -len(CALLBACK)]
        again = "Run xbearer authorize again."
        try:
            with http_allowed(origin):
                params = self.oauth.parse_request_uri_response(origin + path, state=self.state)
        except MismatchingStateError:
            return _FOREIGN
        except AccessDeniedError:
            return Outcome(
                None,
                f"The authorization was denied at X (access_denied): nothing was authorized. "
                f"{again}",
                403,
                "Not authorized",
                "The authorization was denied. You can close this tab.",
            )
        except OAuth2Error as exc:
            said = clean(": ".join(filter(None, (exc.error, exc.description))), limit=160)
            return Outcome(
                None,
                f"X sent the browser back without a code ({said or 'no reason given'}): check "
                f"--client-id and --scope, and that {self.redirect_uri} is registered as a "
                f"callback URL in the app's settings. {again}",
                400,
                "Not authorized",
                "X did not authorize xbearer; the terminal says why. You can close this tab.",
            )
        return Outcome(
            str(params["code"]),
            None,
            200,
            "Authorized",
            "xbearer has the authorization and finishes in the terminal. You can close this tab.",
        )

    def pasted(self, stream: IO[str], prompt: bool, *, required: bool) -> None:
        """Read pasted addresses until one answers this authorization, and hand it over.
        Standard input ending is the end of a --paste (`required`); else only of the offer."""
        while True:
            if prompt:
                print("Paste the address here: ", end="", file=sys.stderr, flush=True)
            line = stream.readline()
            if not line:
                if required:
                    self.outcome.put(
                        Outcome(
                            None,
                            "Standard input ended before the address the browser landed on "
                            f"was pasted (it starts with {self.redirect_uri}?), so nothing "
                            "was authorized. Run xbearer authorize again.",
                            0,
                            "",
                            "",
                        )
                    )
                return
            query = urlsplit(line.strip()).query
            if not query:
                if line.strip():
                    self.say(
                        f"that is not the address the browser landed on: it starts with "
                        f"{self.redirect_uri}? and holds state and code."
                    )
                continue
            outcome = self.take(f"{CALLBACK}?{query}")
            if outcome.mine:
                self.outcome.put(outcome)
                return


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Quiet: a request line holds the code."""

    def do_GET(self) -> None:
        """The callback: the first of this authorization is taken, any other turned away."""
        if urlsplit(self.path).path != CALLBACK:
            self._page(404, "Not found", "xbearer serves only its callback here.")
            return
        callbacks = self.server.callbacks
        outcome = callbacks.take(self.path)
        try:
            self._page(outcome.status, outcome.title, outcome.text)
        finally:  # the page answered (or the browser went away): the terminal goes on
            if outcome.mine:
                callbacks.outcome.put(outcome)

    def _page(self, status: int, title: str, text: str) -> None:
        body = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>xbearer: "
            f"{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
            f"<p>{escape(text)}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    """The callback's server, on 127.0.0.1 only."""

    daemon_threads = True

    def __init__(self, port: int, callbacks: Callbacks) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.callbacks = callbacks

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a browser that goes away mid-answer is no traceback on the terminal."""


def listen(port: int, callbacks: Callbacks) -> _Server:
    """The callback's server on 127.0.0.1:port, or why it cannot listen there."""
    try:
        return _Server(port, callbacks)
    except OSError as exc:
        register = f"and register http://127.0.0.1:PORT{CALLBACK} in the app's settings"
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"Port {port} on 127.0.0.1 is in use (another xbearer authorize?): stop what "
                f"uses it, or choose another --port {register}."
            ) from None
        reason = clean(exc.strerror or type(exc).__name__, limit=80)
        raise InputError(
            f"Could not listen on 127.0.0.1:{port} ({reason}): choose another --port {register}."
        ) from None


@contextlib.contextmanager
def serving(port: int, callbacks: Callbacks) -> Iterator[None]:
    """The callback served on 127.0.0.1:port while the caller waits, then stopped (the
    port is free again)."""
    server = listen(port, callbacks)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
