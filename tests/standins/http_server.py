"""A local HTTP server whose answers a test scripts, recording every request it gets."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What the stand-in answers; ``delay_s`` makes it wait first (cut short when the server stops)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class StandInServer:
    """A threaded HTTP server on 127.0.0.1 (or another loopback ``host``) answering each request with
    ``respond(request)``.

    Use it as a context manager (or call start and stop): stopping wakes delayed replies at once, so a test
    of a client timeout does not wait for the server's sleep.
    """

    def __init__(self, respond: Callable[[Request], Reply], *, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None):
        self.respond = respond
        self.host = host
        self.tls = tls  # a server context: HTTPS instead of HTTP
        self.requests: list[Request] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> StandInServer:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                stand_in.requests.append(request)
                reply = stand_in.respond(request)
                if reply.delay_s and stand_in._stopping.wait(reply.delay_s):
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timed out) first: expected in timeout tests

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format, *args):  # noqa: A002 - the base class's signature
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="http-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
