"""The HTTP plumbing the provider doubles share: a threaded server on 127.0.0.1 and an ephemeral
port, serving in a daemon thread until stopped, whose every request is answered by the double's
`respond(method, path, authorization, body)`.

It speaks HTTP/1.1 and keeps a connection open between requests unless the client asks it to
close, as the providers' APIs do: a client that pools its connections (the twilio client's
session does) sends over the same one again, rather than connecting for every request. Stopping
the double closes the connections still open, so a stopped double answers nothing."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

_SHUTDOWN_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Reply:
    """What a double answers: an HTTP status, a JSON payload (None: an empty body) and headers."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiDouble:
    """A provider's API on a local port. Subclasses say how each request is answered."""

    thread_name = "api-double"

    def __init__(self) -> None:
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()

    def respond(self, method: str, path: str, authorization: str, body: bytes) -> Reply | None:
        """The answer to one HTTP request; None drops the connection without one."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving, close the listening socket and the connections still open; safe to
        call more than once."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        self._server.close_connections()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A provider's API takes a worker's sending threads connecting all at once; socketserver's
    # backlog of 5 reset some of 64 such connections, failing their sends on the first try.
    request_queue_size = 128

    def __init__(self, double: ApiDouble) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.double = double
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self) -> None:
        """End every connection still open: its handler's read fails, and its thread ends."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # it closed meanwhile
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Reads each request of a connection, asks the double what to answer, and writes it."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the providers' APIs
    # The head and the body are written apart: without this, on a kept connection the body
    # waits for the client's delayed acknowledgement of the head (40 ms on Linux).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests assert on what the double recorded, not on access logs."""

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # A request sent through a proxy names the whole URL; a server takes it as its path.
        target = urlsplit(self.path)
        path = target.path + (f"?{target.query}" if target.query else "") if target.scheme else self.path
        reply = self.server.double.respond(self.command, path, self.headers.get("Authorization", ""), body)
        if reply is None:
            self.close_connection = True
            return
        data = json.dumps(reply.payload).encode() if reply.payload is not None else b""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
