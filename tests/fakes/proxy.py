"""A minimal HTTPS (CONNECT) proxy on loopback that records the tunnels it opens.

It tunnels to loopback only, and to the `routes` it is given (host:port to a loopback
address): a real runner reaches the fake GitHub as api.github.com through it.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from types import TracebackType


class _Tunnel(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        self.server.received.append(f"{method} {target}")
        host, _, port = target.rpartition(":")
        route = self.server.routes.get(target)
        if method != "CONNECT" or not (route or host in ("127.0.0.1", "localhost")):
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.seen.append(target)
        with socket.create_connection(route or (host, int(port)), timeout=10) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            peers = {self.request: upstream, upstream: self.request}
            while True:
                ready, _, _ = select.select(list(peers), [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    seen: list[str]
    received: list[str]
    routes: dict[str, tuple[str, int]]


class ConnectProxy:
    """`with ConnectProxy() as proxy:` proxy.url for HTTPS_PROXY; what it saw and opened."""

    def __init__(self, routes: dict[str, tuple[str, int]] | None = None) -> None:
        self.routes = routes or {}

    def start(self) -> str:
        """Serve in a thread; return the URL for HTTPS_PROXY."""
        self._server = _Server(("127.0.0.1", 0), _Tunnel)
        self._server.seen, self._server.received, self._server.routes = [], [], self.routes
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def __enter__(self) -> ConnectProxy:
        self.start()
        return self

    @property
    def seen(self) -> list[str]:
        """The tunnels opened: host:port."""
        return self._server.seen

    @property
    def received(self) -> list[str]:
        """Every request line's method and target, tunnel or not."""
        return self._server.received

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
