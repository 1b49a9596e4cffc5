"""`xbearer authorize`: X's OAuth 2.0 Authorization Code Flow with PKCE, run once on the
account owner's machine, for the refresh token a user-context workflow starts from.

oauthlib makes the PKCE verifier and its S256 challenge, the state and the authorize URL,
and parses the callback (the state checked, X's errors raised). A server on 127.0.0.1
receives exactly one callback; the code is exchanged through the transport (budget, trust
and retries, never replayed: X may have used the code).
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from oauthlib.oauth2 import (
    AccessDeniedError,
    MismatchingStateError,
    OAuth2Error,
    WebApplicationClient,
)

from . import oauth2
from .errors import ActionError, InputError, clean
from .transport import Endpoint, TransportError

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
API_URL = "https://api.x.com"
DEFAULT_SCOPE = "tweet.read users.read offline.access"
DEFAULT_PORT = 8788
DEFAULT_WAIT = "300"
MAX_WAIT = 3600.0
CALLBACK = "/callback"
OFFLINE = "offline.access"  # the scope that brings a refresh token
VERIFIER_LENGTH = 64  # RFC 7636: 43 to 128 characters
_INSECURE = "OAUTHLIB_INSECURE_TRANSPORT"
_ENVIRON = threading.Lock()


@dataclass(frozen=True)
class Request:
    """One authorization: the app's client, the scopes asked for, where the browser goes
    and comes back, and how long to wait for it."""

    client: oauth2.Client
    scopes: tuple[str, ...]
    authorize_url: str
    port: int
    wait: float
    browser: bool

    @property
    def redirect_uri(self) -> str:
        """The loopback callback, registered in the app's settings."""
        return f"http://127.0.0.1:{self.port}{CALLBACK}"


def check_client_id(value: str) -> str:
    """The app's OAuth 2.0 Client ID: one word of printable characters."""
    value = value.strip()
    if not value or not value.isprintable() or " " in value:
        raise InputError(
            "--client-id must be the app's OAuth 2.0 Client ID (its Keys and tokens page): "
            "one word, without spaces or control characters."
        )
    return value


def check_scopes(value: str) -> tuple[str, ...]:
    """The scopes to ask for, space-separated; offline.access among them."""
    scopes = tuple(value.split())
    if not all(scope.isprintable() for scope in scopes):
        raise InputError("--scope must be scopes separated by spaces, such as " + DEFAULT_SCOPE)
    if OFFLINE not in scopes:
        raise InputError(
            f"--scope must include {OFFLINE}: without it X gives no refresh token, such as "
            f'--scope "{DEFAULT_SCOPE}".'
        )
    return scopes


def check_port(value: int) -> int:
    """A TCP port for the callback."""
    if not 0 < value < 65536:
        raise InputError("--port must be a TCP port, from 1 to 65535.")
    return value


def check_wait(value: str) -> float:
    """Seconds to wait for the browser: a positive number up to MAX_WAIT."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_WAIT:
        raise InputError(f"--wait must be a number of seconds above 0 and at most {MAX_WAIT:g}.")
    return seconds


@contextlib.contextmanager
def _loopback_allowed(url: str) -> Iterator[None]:
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
    """What the one callback brought: a code, or the reason there is none; and the page
    that tells the browser."""

    code: str | None
    problem: str | None
    status: int
    title: str
    text: str


class Callbacks:
    """Parses the first callback with oauthlib and hands its outcome over; the rest are
    turned away."""

    def __init__(self, oauth: Any, state: str, redirect_uri: str) -> None:
        self.oauth, self.state, self.redirect_uri = oauth, state, redirect_uri
        self.outcome: queue.Queue[Outcome] = queue.Queue()
        self._lock = threading.Lock()
        self._taken = False

    def take(self, path: str) -> Outcome | None:
        """The outcome of this callback, or None if one was taken already."""
        with self._lock:
            if self._taken:
                return None
            self._taken = True
        return self._parse(path)

    def _parse(self, path: str) -> Outcome:
        origin = self.redirect_uri[: -len(CALLBACK)]
        again = "Run xbearer authorize again."
        try:
            with _loopback_allowed(origin):
                params = self.oauth.parse_request_uri_response(origin + path, state=self.state)
        except MismatchingStateError:
            return Outcome(
                None,
                "The callback did not carry the state of this authorization: it answers "
                f"another one (an old browser tab, or another site), so no code was used. {again}",
                400,
                "Not this authorization",
                "This answer does not belong to the authorization xbearer is waiting for, so "
                "xbearer stopped. Run xbearer authorize again.",
            )
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


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Quiet: a request line holds the code."""

    def do_GET(self) -> None:
        """The callback: the first one is parsed and answered, any other turned away."""
        if urlsplit(self.path).path != CALLBACK:
            self._page(404, "Not found", "xbearer serves only its callback here.")
            return
        callbacks = self.server.callbacks
        outcome = callbacks.take(self.path)
        if outcome is None:
            self._page(409, "Already answered", "xbearer took an answer already.")
            return
        try:
            self._page(outcome.status, outcome.title, outcome.text)
        finally:  # the page answered (or the browser went away): the terminal goes on
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


def _listen(port: int, callbacks: Callbacks) -> _Server:
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


def open_browser(url: str) -> bool:
    """Open the URL in the default browser, if there is one. Whatever the browser's
    launcher prints goes to standard error: standard output carries the token."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        return webbrowser.open(url)
    except (webbrowser.Error, OSError):
        return False
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def obtain(request: Request, endpoint: Endpoint, say: Callable[[str], None]) -> oauth2.UserTokens:
    """Send the account owner to X, take the one callback, exchange its code for tokens."""
    oauth = WebApplicationClient(request.client.client_id)
    verifier = str(oauth.create_code_verifier(VERIFIER_LENGTH))
    challenge = oauth.create_code_challenge(verifier, "S256")
    state = str(oauth.state_generator())
    with _loopback_allowed(request.authorize_url):
        url = str(
            oauth.prepare_request_uri(
                request.authorize_url,
                redirect_uri=request.redirect_uri,
                scope=list(request.scopes),
                state=state,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )
    callbacks = Callbacks(oauth, state, request.redirect_uri)
    server = _listen(request.port, callbacks)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + request.wait
        say("open this URL in a browser that is logged in to X as the account to authorize:")
        print(f"\n  {url}\n", file=sys.stderr, flush=True)
        if request.browser and open_browser(url):
            say("opened it in your browser.")
        say(f"waiting up to {request.wait:g} s for X to send the browser to {request.redirect_uri}")
        try:
            outcome = callbacks.outcome.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise ActionError(
                f"No answer came back within {request.wait:g} s, so nothing was authorized. "
                f"If X showed an error page, check --client-id and that {request.redirect_uri} "
                "is registered as a callback URL in the app's settings; then run xbearer "
                "authorize again (--wait gives more time)."
            ) from None
    finally:
        server.shutdown()
        server.server_close()
    if outcome.code is None:
        raise ActionError(outcome.problem or "No authorization code came back.")
    return _exchange(request, outcome.code, verifier, endpoint)


def _exchange(request: Request, code: str, verifier: str, endpoint: Endpoint) -> oauth2.UserTokens:
    again = "Run xbearer authorize again: an authorization code works once."
    try:
        tokens = oauth2.exchange_code(
            request.client,
            code=code,
            redirect_uri=request.redirect_uri,
            verifier=verifier,
            endpoint=endpoint,
            mask=lambda _: None,  # nothing to mask at a terminal; nothing prints them
        )
    except TransportError as exc:
        raise ActionError(f"{exc.message} {again}") from None
    except ActionError as exc:
        raise ActionError(f"{exc.message} Then run xbearer authorize again.") from None
    if not tokens.refresh_token:
        raise ActionError(
            f"X granted no refresh token (scopes: {tokens.scope or 'none'}): the account must "
            f"grant {OFFLINE}; run xbearer authorize again."
        )
    return tokens
