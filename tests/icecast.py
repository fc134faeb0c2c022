"""A real Icecast 2 server on 127.0.0.1, for the stream relay and live announcement tests.

`Icecast` writes a configuration into a temporary folder of its own (its own port, source and admin passwords,
logs there) and runs ``icecast2 -c`` in the foreground. Use it as a context manager; leaving the block stops the
server and removes the folder. Icecast refuses to run as root: started by root it switches to the Debian
package's ``icecast2`` user (``<changeowner>``), which then owns the folder (made directly under the system's
temporary folder, so that user can reach it).

Sources connect to `source_url(mount)` (what ``ffmpeg -f mp3 icecast://...`` takes), listeners to
`listen_url(mount)`. Pytest code calls `icecast_or_skip`, which skips (or fails under REQUIRE_SERVICES=1) when
icecast2 is not installed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import requests

from broadcast.services import icecast_config
from tests.services import free_port, need_tool

ICECAST = os.environ.get("ICECAST", "/usr/bin/icecast2")

class Icecast:
    """One Icecast server on a free port of 127.0.0.1, configured and logging in ``folder``."""

    def __init__(self, *, burst_bytes: int = 262_144):
        self.folder = Path(tempfile.mkdtemp(prefix="icecast-"))
        self.port = free_port()
        self.source_password = secrets.token_hex(8)
        self.admin_password = secrets.token_hex(8)
        self.burst_bytes = burst_bytes  # what a listener gets at once on connecting: the start of a short test
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def source_base(self) -> str:
        """Where sources connect, with the password: ``icecast://source:<password>@127.0.0.1:<port>``."""
        return f"icecast://source:{self.source_password}@127.0.0.1:{self.port}"

    def source_url(self, mount: str) -> str:
        return f"{self.source_base}/{mount.lstrip('/')}"

    def listen_url(self, mount: str) -> str:
        return f"{self.base_url}/{mount.lstrip('/')}"

    def mounts(self) -> list[str]:
        """The mounts a source feeds now, from Icecast's admin interface (2.4's status-json.xsl is not valid JSON
        on an idle server)."""
        answer = requests.get(f"{self.base_url}/admin/listmounts", auth=("admin", self.admin_password), timeout=5)
        answer.raise_for_status()
        found = ElementTree.fromstring(answer.content)  # noqa: S314 - our own server on 127.0.0.1
        return sorted(source.get("mount") for source in found.iter("source"))

    def start(self) -> Icecast:
        config = icecast_config.write(self.folder, port=self.port, source_password=self.source_password,
                                      admin_password=self.admin_password, burst_bytes=self.burst_bytes,
                                      clients=50, location="test")
        self.process = subprocess.Popen([ICECAST, "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                why = f"{self.process.stderr.read().decode(errors='replace')} {self.error_log()}"
                self.stop()
                raise RuntimeError(f"icecast2 exited at start: {why}")
            try:
                if requests.get(f"{self.base_url}/admin/listmounts", auth=("admin", self.admin_password),
                                timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        why = self.error_log()
        self.stop()
        raise RuntimeError(f"icecast2 did not answer on port {self.port}: {why}")

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Icecast:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def icecast_or_skip() -> Icecast:
    """An unstarted `Icecast`, after skipping (failing under REQUIRE_SERVICES=1) if icecast2 is not installed."""
    need_tool(ICECAST)
    return Icecast()
