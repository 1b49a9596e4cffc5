"""`xbearer authorize`: X's OAuth 2.0 Authorization Code Flow with PKCE, run once on the
account owner's machine, for the refresh token a user-context workflow starts from.

oauthlib makes the PKCE verifier and its S256 challenge, the state and the authorize URL.
The callback (loopback.py) arrives at a server on 127.0.0.1, or is pasted (the address
the browser landed on), or whichever comes first. The code is exchanged through the
transport (budget, trust and retries, never replayed: X may have used the code), and
the new access token asks X which account approved.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass

from oauthlib.oauth2 import WebApplicationClient

from . import oauth2
from .errors import ActionError
from .loopback import CALLBACK, Callbacks, Outcome, http_allowed, serving
from .transport import Endpoint, TransportError

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
OFFLINE = "offline.access"  # the scope that brings a refresh token
VERIFIER_LENGTH = 64  # RFC 7636: 43 to 128 characters
CODE_LIFETIME = 30  # seconds: X's authorization codes have "a time limit of 30 seconds"


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
    with http_allowed(request.authorize_url):
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
    with serving(request.port, callbacks) if request.listen else contextlib.nullcontext():
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
