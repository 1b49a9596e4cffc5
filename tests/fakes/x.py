"""A fake X API on loopback: oauth2/token, oauth2/invalidate_token, GET /2/tweets, and
X's OAuth 2.0 user-context endpoints (x_oauth2.py, state in FakeX.oauth2).

It checks requests as X does (Basic credential, grant_type, OAuth 1.0a
signatures and nonces), answers with X's real error bodies, and can be told to
misbehave with a queue of faults (server.py's, and X's own below): one per token request
(`faults`), one per revocation (`revoke_faults`). Hostile faults keep going for at most a
minute.

Run it by hand: ``python -m fakes --help`` (__main__.py).
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import server, x_oauth2
from .server import Fake, Seen, Server
from .x_oauth2 import OAuth2

API_KEY = "xvz1evFS4wEEPTGEFPHBog"
API_SECRET = "L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg"
ACCESS_TOKEN = "6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY"
ACCESS_TOKEN_SECRET = "2EEfA6BG3ly3sR3RjE0IBSnlQu4ZrUzPiYKmrkVU"
# X's documented example token: percent-encoded, with %2B, %2F and %3D in it.
TOKEN = (
    "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3D"
    "EUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
)

ERR_99 = (403, 99, "Unable to verify your credentials", "authenticity_token_error")
ERR_170 = (403, 170, "Missing required parameter: grant_type", "forbidden_missing_parameter")
ERR_32 = (401, 32, "Could not authenticate you.", None)
ERR_89 = (401, 89, "Invalid or expired token.", None)
ERR_88 = (429, 88, "Rate limit exceeded", None)
ERR_130 = (503, 130, "Over capacity", None)
MINUTE = 60.0  # how long a hostile fault keeps going: far past any budget a test uses


def _answer(err: tuple[int, int, str, str | None]) -> tuple[int, bytes]:
    """The status and body of one of X's errors (ERR_*)."""
    status, code, message, label = err
    return status, x_error(code, message, label)


def x_error(code: int, message: str, label: str | None = None) -> bytes:
    """An error body as X writes it."""
    item: dict[str, Any] = {"code": code, "message": message}
    if label:
        item["label"] = label
    return json.dumps({"errors": [item]}).encode()


@dataclass
class FakeX(Fake):
    """X's state: its app, its app-only token and what became of it; `oauth2` holds the
    user context's. Faults: one per token request (`faults`), one per revocation
    (`revoke_faults`)."""

    key: str = API_KEY
    secret: str = API_SECRET
    token: str = TOKEN
    faults: list[str] = field(default_factory=list)
    revoke_faults: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)
    custom: tuple[int, dict[str, str], bytes] = (200, {}, b"")  # the "custom" fault's answer
    raw: bytes = b""  # the "raw" fault's answer, bytes on the wire as they are
    oauth2: OAuth2 = field(default_factory=OAuth2)  # user context: clients, tokens, faults

    def token_requests(self) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith("/oauth2/token")]


class Handler(server.Handler):
    """X's API: app-only (here) and user context (x_oauth2)."""

    server: Server[FakeX]
    json_type = "application/json;charset=utf-8"  # as X writes it

    # -- plumbing -----------------------------------------------------------

    def _error(
        self, err: tuple[int, int, str, str | None], headers: dict[str, str] | None = None
    ) -> None:
        self.send(*_answer(err), headers=headers)

    def _basic_ok(self, headers: dict[str, str]) -> bool:
        fake = self.server.fake
        auth = headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            key, _, secret = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except ValueError:
            return False
        return (unquote(key), unquote(secret)) == (fake.key, fake.secret)

    # -- endpoints ----------------------------------------------------------
    def do_POST(self) -> None:
        seen = self.record()
        if x_oauth2.handle_post(self, seen):
            return
        path = urlsplit(self.path).path
        if path == "/oauth2/token":
            self._token(seen)
        elif path == "/oauth2/invalidate_token":
            self._invalidate(seen)
        else:
            self.send(404, x_error(34, "Sorry, that page does not exist"))

    def do_GET(self) -> None:
        if x_oauth2.handle_get(self, self.record()):
            return
        parts = urlsplit(self.path)
        if parts.path != "/2/tweets":
            self.send(404, x_error(34, "Sorry, that page does not exist"))
            return
        auth = self.headers.get("Authorization", "")
        fake = self.server.fake
        if auth != f"Bearer {fake.token}" or fake.token in fake.revoked:
            self._error(ERR_89)
            return
        ids = parse_qs(parts.query).get("ids", ["20"])[0]
        self.send(
            200, json.dumps({"data": [{"id": ids, "text": "just setting up my twttr"}]}).encode()
        )

    def _token(self, seen: Seen) -> None:
        """POST oauth2/token: the app-only token for the app's Basic credential."""
        fake = self.server.fake
        fault = fake.next_fault(fake.faults)
        if self.act(fault):
            return
        if not self._basic_ok(seen.headers):
            self.answer(fault, *_answer(ERR_99))
        elif parse_qs(seen.body.decode("utf-8", "replace")).get("grant_type") != [
            "client_credentials"
        ]:
            self.answer(fault, *_answer(ERR_170))
        else:
            self.answer(fault, 200, self._token_body())

    def _invalidate(self, seen: Seen) -> None:
        """POST oauth2/invalidate_token: the app-only token revoked, for the app's Basic
        credential or its owner's OAuth 1.0a signature."""
        fake = self.server.fake
        fault = fake.next_fault(fake.revoke_faults)
        if self.act(fault):
            return
        if seen.headers.get("Authorization", "").startswith("OAuth "):
            ok = _oauth1_valid(self, seen)
            token = parse_qs(urlsplit(self.path).query).get("access_token", [""])[0]
        else:
            ok = self._basic_ok(seen.headers)
            token = parse_qs(seen.body.decode("utf-8", "replace")).get("access_token", [""])[0]
        if not ok:
            self.answer(fault, *_answer(ERR_32))
        elif token != unquote(fake.token) or fake.token in fake.revoked:
            self.answer(fault, *_answer(ERR_89))
        else:
            fake.revoked.add(fake.token)
            self.answer(fault, 200, json.dumps({"access_token": fake.token}).encode())

    # -- X's words for the faults every fake has ------------------------------------------
    def refusal(self, status: int) -> None:
        """Under /2/, v2's problem document; else v1.1's errors, code 131."""
        if self._v2():
            x_oauth2.problem(self, status)
        else:
            self.send(status, x_error(131, "Internal error"))

    def limited(self, status: int = 429, *, wait: str = "", until: int | None = None) -> None:
        """429 with Retry-After, or with only x-rate-limit-reset; under /2/, v2's problem
        document, else v1.1's code 88."""
        headers = {"Retry-After": wait} if wait else {}
        if until is not None:
            headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(until)}
        if self._v2():
            x_oauth2.problem(self, status, headers=headers)
        else:
            self._error(ERR_88, headers)

    def _v2(self) -> bool:
        return urlsplit(self.path).path.startswith("/2/")

    # -- X's own faults (one method each, its docstring its documentation) -----------------
    def _token_body(self) -> bytes:
        return json.dumps({"token_type": "bearer", "access_token": self.server.fake.token}).encode()

    def fault_overcapacity(self, _arg: str) -> None:
        """overcapacity - 503, code 130 Over capacity"""
        self._error(ERR_130)

    def fault_reset_mid(self, _arg: str) -> None:
        """reset-mid - headers and part of the body, then a reset"""
        body = self._token_body()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:10])
        self.wfile.flush()
        self.reset()

    def fault_truncated(self, _arg: str) -> None:
        """truncated - Content-Length promises 50 bytes more than are sent"""
        body = self._token_body()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + 50))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_WR)

    def fault_trickle(self, arg: str) -> None:
        """trickle:S - the token's body one byte every S seconds (default 0.5)"""
        body = self._token_body()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(float(arg or "0.5"))

    def _for_a_minute(self, head: bytes, chunk: bytes, pause: float) -> None:
        """Raw bytes: `head`, then `chunk` every `pause` s for a minute or until the client goes."""
        self.wfile.write(head)
        ends = time.monotonic() + MINUTE
        while time.monotonic() < ends:
            self.wfile.write(chunk)
            time.sleep(pause)
        self.close_connection = True

    def fault_trickle_headers(self, arg: str) -> None:
        """trickle-headers:S - a status line, then a header line every S seconds for a minute"""
        self._for_a_minute(b"HTTP/1.1 200 OK\r\n", b"X-Filler: x\r\n", float(arg or "0.5"))

    def fault_endless_5xx(self, _arg: str) -> None:
        """endless-5xx - a 503 whose chunked body goes on for a minute"""
        head = (
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        self._for_a_minute(head, b"400\r\n" + b"x" * 1024 + b"\r\n", 0.005)

    def fault_deflate_forever(self, _arg: str) -> None:
        """deflate-forever - 200, a deflate stream of empty blocks for a minute: no data"""
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: deflate\r\nConnection: close\r\n\r\n\x78\x01"
        )
        self._for_a_minute(head, b"\x00\x00\x00\xff\xff" * 20, 0.01)

    def fault_garbage(self, _arg: str) -> None:
        """garbage - a line that is not HTTP"""
        self.wfile.write(b"garbage\r\n\r\n")
        self.close_connection = True

    def fault_gzip(self, _arg: str) -> None:
        """gzip - the token's body, gzip-encoded"""
        self.send(200, gzip.compress(self._token_body()), headers={"Content-Encoding": "gzip"})

    def fault_huge(self, _arg: str) -> None:
        """huge - 200 with an 8 MiB body"""
        self.send(200, b'{"token_type":"bearer","access_token":"' + b"A" * (8 << 20) + b'"}')

    def fault_json(self, arg: str) -> None:
        """json:DOC - 200 with that JSON document"""
        self.send(200, arg.encode())

    def fault_token(self, arg: str) -> None:
        """token:VALUE - 200 with that access_token"""
        self.send(200, json.dumps({"token_type": "bearer", "access_token": arg}).encode())

    def fault_redirect(self, arg: str) -> None:
        """redirect:HOST - 307 to another host (default 127.0.0.2)"""
        self.send(307, b"", headers={"Location": f"http://{arg or '127.0.0.2'}/oauth2/token"})

    def fault_echo_auth(self, _arg: str) -> None:
        """echo-auth - 400 with an error message that quotes the Authorization header"""
        echoed = self.headers.get("Authorization", "")
        self.send(400, x_error(214, f"Bad request from {echoed}"))

    def fault_custom(self, _arg: str) -> None:
        """custom - the answer a test put in FakeX.custom: (status, headers, body)"""
        status, headers, body = self.server.fake.custom
        headers = dict(headers)
        self.send(status, body, headers.pop("Content-Type", "application/json"), headers)

    def fault_raw(self, _arg: str) -> None:
        """raw - the bytes a test put in FakeX.raw, as they are, then close"""
        self.wfile.write(self.server.fake.raw)
        self.close_connection = True


FakeX.handler = Handler


def _oauth1_valid(handler: Handler, seen: Seen) -> bool:
    """Verify an OAuth 1.0a HMAC-SHA1 signature as X would, with oauthlib."""
    from oauthlib.common import Request
    from oauthlib.oauth1.rfc5849 import signature
    from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

    fake = handler.server.fake
    scheme = "https" if handler.server.tls else "http"
    host = seen.headers.get("Host", "")
    uri = f"{scheme}://{host}{seen.path}"
    params = dict(parse_authorization_header(seen.headers["Authorization"]))
    nonce = f"{params.get('oauth_timestamp')}:{params.get('oauth_nonce')}"
    with fake.lock:
        replayed = nonce in fake.nonces
        fake.nonces.add(nonce)
    if replayed:  # X refuses a nonce it has seen: a replayed request
        return False
    if (params.get("oauth_consumer_key"), params.get("oauth_token")) != (
        fake.key,
        ACCESS_TOKEN,
    ):
        return False
    if params.get("oauth_signature_method") != "HMAC-SHA1":
        return False
    request = Request(uri, "POST", seen.body or None, seen.headers)
    request.params = signature.collect_parameters(
        uri_query=urlsplit(uri).query, headers=seen.headers, exclude_oauth_signature=True
    )
    request.signature = unquote(params.get("oauth_signature", ""))
    return signature.verify_hmac_sha1(request, fake.secret, ACCESS_TOKEN_SECRET)
