"""What every fake shares: its state's base (the requests received, a lock, the fault
queues), the handler's plumbing (each request recorded, one way to answer, a reset), the
faults every service can suffer, and the HTTP(S) server on loopback that a test starts
and stops.

The faults, one vocabulary for every fake and every queue: a fault that comes before the
service reads the request changes nothing (a retry finds all as it was); one that comes
after it did the work (``slow``, ``lost-answer``) leaves it done: a refresh token rotated,
a secret stored, a token revoked. Each fake says the errors in its service's words
(`Handler.refusal`, `Handler.limited`) and may add faults of its own (``fault_*``).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, TypeVar


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Fake:
    """State shared by a fake's handler threads; tests change it between runs.

    A fault queue is a plain list of fault names that a test sets (``fake.faults =
    ["status:503"]``): each request of its route takes the next one, then answers
    normally. `connection_faults` act on connections instead (``tls-eof``)."""

    handler: ClassVar[type[Handler]]  # what answers this fake's requests
    requests: list[Seen] = field(default_factory=list)
    connection_faults: list[str] = field(default_factory=list)  # one per connection: tls-eof
    connections: int = 0  # connections accepted
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, queue: list[str]) -> str:
        """The queue's next fault, or "ok" once it is empty."""
        with self.lock:
            return queue.pop(0) if queue else "ok"


F = TypeVar("F", bound=Fake)


PROXY_PAGE = b"<html><body><h1>Bad Gateway</h1></body></html>"
GATEWAY_PAGE = b"<html><body><h1>Gateway Timeout</h1></body></html>"
AFTER = {  # the faults that come after the service did the work, acted out by `answer`
    "slow": "slow:S - the service does the work, then answers after S seconds (default 3)",
    "lost-answer": "lost-answer[:CODE] - the service does the work, then the connection is "
    "reset (or a proxy answers CODE instead)",
}


class Handler(BaseHTTPRequestHandler):
    """What every fake's handler shares: quiet, HTTP/1.1, each request recorded in
    `server.fake.requests`, one way to answer, a connection that can be reset, and the
    faults (one ``fault_NAME`` method each, its docstring its documentation)."""

    server: Server[Any]
    protocol_version = "HTTP/1.1"
    json_type: ClassVar[str] = "application/json; charset=utf-8"  # how the service labels JSON

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Quiet: tests read the fake's record instead."""

    def record(self) -> Seen:
        """Read the request's body and keep the request in the fake's record."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, dict(self.headers.items()), body, time.monotonic())
        self.server.fake.requests.append(seen)
        return seen

    def send(
        self,
        status: int,
        body: bytes,
        ctype: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer: `status`, `body` of type `ctype` (JSON by default; "": no type), `headers`."""
        self.send_response(status)
        ctype = self.json_type if ctype is None else ctype
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        """Close with RST instead of FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # -- the service's words: each fake says these ----------------------------------------
    def refusal(self, status: int) -> None:
        """The service's error answer with this status."""
        raise NotImplementedError

    def limited(self, status: int = 429, *, wait: str = "", until: int | None = None) -> None:
        """The service's rate-limit answer: wait `wait` seconds (Retry-After), or until the
        time `until` (epoch seconds; no Retry-After), or, with neither, it does not say."""
        raise NotImplementedError

    # -- faults -----------------------------------------------------------------------------
    def act(self, fault: str) -> bool:
        """Act out a fault (``name`` or ``name:arg``) that comes before the service reads
        the request; False: `answer`, for "ok" and for the faults that come after."""
        name, _, arg = fault.partition(":")
        if name == "ok" or name in AFTER:
            return False
        act = getattr(self, "fault_" + name.replace("-", "_"), None)
        if act is None:
            raise ValueError(f"unknown fault {fault!r}")
        act(arg)
        return True

    def answer(
        self,
        fault: str,
        status: int,
        body: bytes,
        ctype: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send the service's answer, or act out a fault that comes after it did the work."""
        name, _, arg = fault.partition(":")
        if name == "lost-answer":
            if arg:
                self.send(int(arg), GATEWAY_PAGE, "text/html")
            else:
                self.reset()
            return
        if name == "slow":
            time.sleep(float(arg or "3"))
        self.send(status, body, ctype, headers)

    def fault_status(self, arg: str) -> None:
        """status:CODE - that status with the service's error body"""
        self.refusal(int(arg))

    def fault_retry_after(self, arg: str) -> None:
        """retry-after:S - 429, rate limited, with Retry-After: S (default 1)"""
        self.limited(wait=arg or "1")

    def fault_reset_at(self, arg: str) -> None:
        """reset-at:S - 429, rate limited until S seconds from now, and no Retry-After"""
        self.limited(until=int(time.time()) + int(arg or "1"))

    def fault_html(self, arg: str) -> None:
        """html:CODE - that status with an HTML page, as a proxy sends"""
        self.send(int(arg), PROXY_PAGE, "text/html")

    def fault_reset(self, _arg: str) -> None:
        """reset - the connection reset before the service reads the request"""
        self.reset()

    def fault_stall(self, arg: str) -> None:
        """stall:S - S seconds of silence (default 3), then a reset: the service never saw it"""
        time.sleep(float(arg or "3"))
        self.reset()

    @classmethod
    def vocabulary(cls) -> str:
        """Every fault this handler acts out, from the methods' docstrings, for --help."""
        lines = [
            (getattr(cls, name).__doc__ or "").strip()
            for name in sorted(dir(cls))
            if name.startswith("fault_")
        ]
        return "\n".join(f"  {line}" for line in (*lines, *AFTER.values()))


class Server(ThreadingHTTPServer, Generic[F]):
    """A fake's HTTP(S) server on loopback: `fake` holds the state, `fake.handler` answers.

    ``url = Server(fake).start()`` serves in a thread; ``shutdown()`` and
    ``server_close()`` stop it."""

    daemon_threads = True

    def __init__(
        self, fake: F, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), fake.handler)
        self.fake = fake
        self.context = tls
        self.tls = tls is not None
        self._dropped: set[Any] = set()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept; the TLS handshake happens in the handler's thread, on first read.

        A `tls-eof` connection fault reads the client's hello and closes the connection
        before any answer: a handshake cut off by the server."""
        sock, addr = self.socket.accept()
        self.fake.connections += 1
        if self.fake.next_fault(self.fake.connection_faults) == "tls-eof":
            sock.settimeout(5)
            with contextlib.suppress(OSError):
                sock.recv(4096)
            self._dropped.add(sock)
            return sock, addr
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Serve every connection but those a connection fault ended."""
        if request in self._dropped:
            self._dropped.discard(request)
            return False
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Faults break connections on purpose: stay quiet."""

    @property
    def url(self) -> str:
        """The base URL: what a test passes as api-url, or as GITHUB_API_URL."""
        host, port = str(self.server_address[0]), self.server_address[1]
        host_text = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host_text}:{port}"

    def start(self) -> str:
        """Serve in a thread; return the base URL."""
        # A short poll: shutdown() waits for it, once per test.
        threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True).start()
        return self.url
