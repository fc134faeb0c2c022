"""Pulling from an upstream system (the central source system, the provincial radio, the portal): one conditional GET.

The validators of the last full answer go back as ``If-None-Match`` and ``If-Modified-Since``, so an upstream
that has nothing new answers 304 with no body, and a source polled every few minutes costs it next to nothing.
Requests go through broadcast.channels.outbound: only to addresses the policy allows, no proxy, bounded in bytes
and time.

This module knows nothing of the web application or the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from broadcast.channels import outbound

USER_AGENT = "commune-radio-exchange/1"
MAX_BYTES = 5 * 1024 * 1024  # a feed, not the audio (enclosures are downloaded on their own, with their own bound)
_READ_CHUNK = 1 << 16


class UpstreamFailed(Exception):
    """The upstream did not give an answer we can use; ``reason`` says why."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Fetched:
    """An answer: ``body`` is None when the upstream said nothing changed (304)."""

    body: bytes | None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


def fetch(url: str, *, sender: requests.Session, etag: str | None = None, last_modified: str | None = None,
          token: str | None = None, timeout_s: float = 20.0, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET ``url`` with the validators of the last answer; raises UpstreamFailed for anything but 200 or 304.

    ``sender`` is a session from outbound.session(policy). A 304 keeps the validators we had.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/atom+xml, application/rss+xml, "
                                                  "application/cap+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if token:
        headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + timeout_s
    try:
        with sender.get(url, headers=headers, timeout=timeout_s, stream=True, allow_redirects=True) as response:
            if response.status_code == 304:
                return Fetched(None, etag=etag, last_modified=last_modified)
            if response.status_code != 200:
                raise UpstreamFailed(f"HTTP {response.status_code} {response.reason or ''}".rstrip(),
                                     response.status_code)
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise UpstreamFailed(f"answer larger than {max_bytes} bytes")
            chunks, total = [], 0
            while chunk := response.raw.read1(_READ_CHUNK, decode_content=True):
                total += len(chunk)
                if total > max_bytes:
                    raise UpstreamFailed(f"answer larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise UpstreamFailed(f"answer not complete within {timeout_s:g} s")
                chunks.append(chunk)
            return Fetched(b"".join(chunks), response.headers.get("Content-Type", ""),
                           response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except outbound.Refused as exc:
        raise UpstreamFailed(f"not fetched: {exc}") from None
    except requests.Timeout:
        raise UpstreamFailed(f"no answer within {timeout_s:g} s") from None
    except requests.RequestException as exc:
        raise UpstreamFailed(f"cannot connect: {outbound.root_cause(exc)}") from None
