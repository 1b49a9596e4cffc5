"""`xbearer authorize`: X's OAuth 2.0 Authorization Code Flow with PKCE, run once on the
account owner's machine, for the refresh token a user-context workflow starts from.

oauthlib makes the PKCE verifier and its S256 challenge, the state and the authorize URL,
and parses the callback (the state checked, X's errors raised). The callback arrives at a
server on 127.0.0.1, or is pasted (the address the browser landed on), or whichever comes
first; one that lacks this authorization's state is turned away, and the wait goes on.
The code is exchanged through the transport (budget, trust and retries, never replayed:
X may have used the code), and the new access token asks X which account approved.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import urlsplit

from oauthlib.oauth2 import (
    AccessDeniedError,
    MismatchingStateError,
    OAuth2Error,
    WebApplicationClient,
)

from . import oauth2, transport
from .answers import json_object
from .errors import ActionError, InputError, clean
from .transport import Endpoint, TransportError

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
DEFAULT_PORT = 8788
CALLBACK = "/callback"
OFFLINE = "offline.access"  # the scope that brings a refresh token
VERIFIER_LENGTH = 64  # RFC 7636: 43 to 128 characters
CODE_LIFETIME = 30  # seconds: X's authorization codes have "a time limit of 30 seconds"
USERS_ME = "/2/users/me"
USERS_READ = "users.read"  # what GET /2/users/me needs, with tweet.read
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")  # X's rule for a username
_USER_ID = re.compile(r"[0-9]{1,20}")
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
    listen: bool = True  # serve the callback on 127.0.0.1 (False with --paste)
    paste: bool = False  # take the address the browser landed on from standard input

    @property
    def redirect_uri(self) -> str:
        """The loopback callback, registered in the app's settings."""
        return f"http://127.0.0.1:{self.port}{CALLBACK}"


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
            with _loopback_allowed(origin):
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
    """Send the account owner to X, take the callback of this authorization (served,
    pasted, or whichever comes first), exchange its code for tokens."""
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
    callbacks = Callbacks(oauth, state, request.redirect_uri, say)
    server = _listen(request.port, callbacks) if request.listen else None
    with contextlib.ExitStack() as stack:
        if server is not None:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
        outcome = _wait(request, url, callbacks, say)
    if outcome.code is None:
        raise ActionError(outcome.problem or "No authorization code came back.")
    return _exchange(request, outcome.code, verifier, endpoint)


def _wait(request: Request, url: str, callbacks: Callbacks, say: Callable[[str], None]) -> Outcome:
    """Show the URL, and wait up to --wait for the callback of this authorization."""
    deadline = time.monotonic() + request.wait
    say("open this URL in a browser that is logged in to X as the account to authorize:")
    print(f"\n  {url}\n", file=sys.stderr, flush=True)
    if request.browser and open_browser(url):
        say("opened it in your browser.")
    reader = None
    if request.paste:
        where = "there" if request.listen else "where X sends the browser after you approve"
        say(
            f"{where}, the address {request.redirect_uri}?… may fail to load: copy it from the "
            f"address bar and paste it here at once (X's codes live {CODE_LIFETIME} seconds)."
        )
        reader = threading.Thread(
            target=callbacks.pasted,
            args=(sys.stdin, sys.stdin.isatty()),
            kwargs={"required": not request.listen},
            daemon=True,  # left blocked on the terminal when the browser comes back first
        )
    if request.listen:
        say(f"waiting up to {request.wait:g} s for X to send the browser to {request.redirect_uri}")
    if reader is not None:
        reader.start()
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
        if request.paste and request.listen and sys.stdin.isatty():
            print(file=sys.stderr, flush=True)  # end the paste prompt's line
    return outcome


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


@dataclass(frozen=True)
class Account:
    """The X account that approved, as GET /2/users/me names it."""

    id: str
    username: str


def account(tokens: oauth2.UserTokens, endpoint: Endpoint) -> Account | str:
    """Who approved: the account the new access token acts as, or why X did not say.
    Another local program may have delivered its own approval first (it can read the
    authorize URL), so the person must see whose grant this is before it is stored."""
    request = transport.Request(
        "GET", USERS_ME, headers={"Authorization": f"Bearer {tokens.access_token}"}
    )
    try:
        answer = transport.send(endpoint, request)
    except TransportError as exc:
        return exc.message.rstrip(".")
    if answer.status != 200:
        needs = f", which needs {USERS_READ}" if USERS_READ not in tokens.scope.split() else ""
        return f"X answered GET {USERS_ME} with HTTP {answer.status}{needs}"
    data = json_object(answer.body).get("data")
    user_id = data.get("id") if isinstance(data, dict) else None
    username = data.get("username") if isinstance(data, dict) else None
    if not (
        isinstance(user_id, str)
        and _USER_ID.fullmatch(user_id)
        and isinstance(username, str)
        and _USERNAME.fullmatch(username)
    ):
        return f"X's answer to GET {USERS_ME} names no account"
    return Account(user_id, username)


def scope_warnings(asked: tuple[str, ...], granted: str) -> list[str]:
    """What X granted other than what was asked for: each scope withheld, and any beyond."""
    given = granted.split()
    if not given:  # RFC 6749, section 5.1: no scope in the answer means those asked for
        return []
    missing = [scope for scope in asked if scope not in given]
    beyond = [scope for scope in given if scope not in asked]
    lines = [f"X did not grant {scope}, which was asked for." for scope in missing]
    lines += [f"X granted {scope}, which was not asked for." for scope in beyond]
    return lines
