"""The HTTP listener: stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in front of a :class:`Gateway`.

Deliberately thin: it only moves bytes between the socket and :meth:`Gateway.handle`, so that
everything API-Gateway-like is testable without a socket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_stack.apigw import Gateway, HttpRequest, HttpResponse

__all__ = ["GatewayServer"]

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: TCP_NODELAY: headers and body are two writes; with Nagle's algorithm the body waited for
    #: the client's delayed ACK of the headers (~40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True
    server: GatewayServer

    def _read_body(self) -> bytes | None:
        """The request body (``Content-Length`` or chunked), or ``None`` when over the limit."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.send_error(413, "Request Entity Too Large")
            self.close_connection = True
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=tuple(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        static = self.server.static(request) if self.server.static is not None else None
        response = static if static is not None else self.server.gateway.handle(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the gateway logs one line per request itself (without query strings)."""


class GatewayServer(ThreadingHTTPServer):
    """Binds at construction (so port 0 yields a real port before the functions are configured)."""

    daemon_threads = True
    allow_reuse_address = True
    #: listen backlog (socketserver's default, 5, drops connections of a burst of clients: their
    #: SYN is retried after a second)
    request_queue_size = 128

    #: set before :meth:`start` (the port must be known before the gateway can be configured)
    gateway: Gateway
    #: pages served beside the API, not through it (the local stack's ``/demo/``): an answer, or
    #: ``None`` to let the gateway route the request
    static: Callable[[HttpRequest], HttpResponse | None] | None = None

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="gateway-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()
