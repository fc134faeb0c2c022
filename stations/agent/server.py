"""The agent's HTTP calls to the central service: every one with a timeout and a bounded retry with backoff.

Paths and bodies follow the station protocol (``/api/v1/stations/<code>/...``, bearer token). All the calls
are safe to repeat: a GET, a receipt for a version, events with their own ids, a heartbeat, an ack.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import requests

from stations.agent import AGENT_VERSION

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
CHUNK = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ServerError(Exception):
    """A request failed; ``status`` is the HTTP status, or None when the server could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ServerClient:
    """The central service as the station sees it. Thread-safe: each thread gets its own HTTP session."""

    def __init__(self, base_url: str, token: str, station: str, *, timeout_s: float = 30.0, retries: int = 3,
                 backoff_s: float = 1.0, sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.station = station
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": f"radio-agent/{AGENT_VERSION}"}
        self._local = threading.local()

    @property
    def manifest_url(self) -> str:
        return f"{self.base_url}/api/v1/stations/{quote(self.station)}/manifest"

    def url_for(self, reference: str) -> str:
        """Resolve an audio URL reference from the manifest against the manifest's own location."""
        return urljoin(self.manifest_url, reference)

    # -- the protocol --------------------------------------------------------------------------------------

    def fetch_manifest(self, etag: str | None) -> tuple[bytes, str | None] | None:
        """The station's manifest body and ETag, or None when it is still ``etag`` (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", self.manifest_url, headers=headers, ok=(200, 304))
        if response.status_code == 304:
            return None
        return response.content, response.headers.get("ETag")

    def post_receipt(self, version: int, etag: str) -> dict[str, Any]:
        return self._post("receipts", {"version": version, "etag": etag})

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return self._post("events", {"events": events})

    def post_heartbeat(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._post("heartbeat", body)

    def poll_commands(self, wait_s: float) -> list[dict[str, Any]]:
        """Commands for the station; the server holds the request up to ``wait_s`` while it has none."""
        url = f"{self._station_url}/commands"
        # One attempt: the caller's loop is the retry, and a long poll that is cut is simply asked again.
        response = self._request("GET", url, params={"wait": f"{wait_s:g}"}, timeout=self.timeout_s + wait_s,
                                 attempts=1)
        commands = _json(response).get("commands")
        if not isinstance(commands, list):
            raise ServerError(f"GET {url}: the answer has no list of commands")
        return commands

    def ack_command(self, command_id: int, ok: bool, detail: str) -> None:
        self._post(f"commands/{command_id}/ack", {"ok": ok, "detail": detail})

    def download(self, url: str, part: Path, size: int | None) -> None:
        """Fetch ``url`` into ``part`` until it holds ``size`` bytes, resuming what is there with a Range request.

        With ``size`` None (a file no manifest describes) the whole file is fetched again at each attempt.
        Does not check the content: the caller verifies the sha256 and renames the file into place.
        """
        for attempt in range(self.retries + 1):
            try:
                if self._download_once(url, part, size):
                    return
                problem = "the transfer ended early"
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                log.info("download of %s interrupted (%s); resuming", url, problem)
                self._sleep(self._backoff(attempt))
        raise ServerError(f"GET {url}: {problem}, after {self.retries + 1} attempts")

    # -- plumbing ------------------------------------------------------------------------------------------

    @property
    def _station_url(self) -> str:
        return f"{self.base_url}/api/v1/stations/{quote(self.station)}"

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
        return session

    def _post(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json(self._request("POST", f"{self._station_url}/{what}", json=body))

    def _request(self, method: str, url: str, *, ok: tuple[int, ...] = (200,), attempts: int | None = None,
                 **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        attempts = self.retries + 1 if attempts is None else attempts
        for attempt in range(attempts):
            try:
                response = self._session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = ServerError(f"{method} {url}: {type(exc).__name__}: {exc}")
            else:
                if response.status_code in ok:
                    return response
                error = ServerError(f"{method} {url}: HTTP {response.status_code} {_message(response)}",
                                    response.status_code)
                if response.status_code not in RETRY_STATUSES:
                    raise error
            if attempt + 1 < attempts:
                self._sleep(self._backoff(attempt))
        raise error

    def _backoff(self, attempt: int) -> float:
        # Equal jitter: half fixed, half random, so stations that lost the link together do not return together.
        delay = min(self.backoff_s * 2**attempt, 60.0)
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret

    def _download_once(self, url: str, part: Path, size: int | None) -> bool:
        have = part.stat().st_size if part.exists() and size is not None else 0
        if size is not None and have > size:
            part.unlink()
            have = 0
        if size is not None and have == size:
            return True
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._session.get(url, headers=headers, stream=True, timeout=self.timeout_s) as response:
            if response.status_code == 416:  # our partial file is not a prefix the server agrees with
                part.unlink(missing_ok=True)
                return False
            if response.status_code == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
                mode = "ab" if match and int(match.group(1)) == have else None
                if mode is None:
                    part.unlink(missing_ok=True)
                    return False
            elif response.status_code == 200:
                mode, have = "wb", 0  # the server sent the whole file
            else:
                raise ServerError(f"GET {url}: HTTP {response.status_code} {_message(response)}",
                                  response.status_code)
            with open(part, mode) as out:
                try:
                    for chunk in response.iter_content(CHUNK):
                        have += len(chunk)
                        if size is not None and have > size:
                            raise ServerError(f"GET {url}: more than the {size} bytes the manifest gives")
                        out.write(chunk)
                finally:
                    out.flush()
                    os.fsync(out.fileno())
        return size is None or have == size


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ServerError(f"{response.request.method} {response.url}: the answer is not JSON",
                          response.status_code) from None
    if not isinstance(body, dict):
        raise ServerError(f"{response.request.method} {response.url}: the answer is not a JSON object",
                          response.status_code)
    return body


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason or ""
