"""A real S3-compatible server for the object-store tests: moto's server in a process of its own on 127.0.0.1.

`MotoServer` starts ``python -m moto.server`` on a free port and stops it when its block ends. moto is a pip
package of requirements-dev.txt, so it is always there when the test tools are; without it the tests fail under
REQUIRE_SERVICES=1 and skip otherwise, as for every service.

`RecordingProxy` is a plain HTTP proxy to put in front of it, noting each request's method, path and headers:
the way to see what a station really sends to the object store (no Authorization header, a Range to resume).
"""

from __future__ import annotations

import http.client
import importlib.util
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.services import free_port, port_open, unavailable

# Not copied from the object store's answer: the proxy sends the body it read whole, with its own length.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class MotoServer:
    """moto's S3 (and every other service it mocks) at ``url``, its log in ``workdir/moto.log``."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port = 0
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> MotoServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = (self.workdir / "moto.log").open("wb")
        self._proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 60  # importing moto takes a few seconds on a slow machine
        while not port_open(self.host, self.port, timeout=0.2):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"moto server did not start: {(self.workdir / 'moto.log').read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None


@contextmanager
def moto_or_skip(workdir: Path):
    """A started MotoServer; skips (fails under REQUIRE_SERVICES=1) when moto[server] is not installed."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask_cors") is None:
        unavailable("moto[server] is not installed (pip install -r requirements-dev.txt)")
    with MotoServer(workdir) as server:
        yield server


class RecordingProxy:
    """HTTP on 127.0.0.1 forwarding every request to ``upstream`` (host, port), Host header and all."""

    def __init__(self, upstream_host: str, upstream_port: int):
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                headers = {name: value for name, value in self.headers.items()}
                proxy.requests.append((self.command, self.path, headers))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(upstream_host, upstream_port, timeout=30)
                try:
                    # The Host header goes through unchanged: a presigned link is signed for the proxy's address.
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", answer.getheader("Content-Length", "0")
                                     if self.command == "HEAD" else str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

            def log_message(self, *args) -> None:  # quiet: the test reads self.requests
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def gets(self, fragment: str) -> list[dict[str, str]]:
        """Headers of each GET whose path contains ``fragment``, in order."""
        return [headers for method, path, headers in self.requests if method == "GET" and fragment in path]
