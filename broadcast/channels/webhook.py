"""Webhooks: tell another system of an event with one signed HTTP POST.

Every request carries

- ``Content-Type: application/json`` and the JSON body (UTF-8);
- ``X-Radio-Event``: the event name, e.g. ``bulletin.published``;
- ``X-Radio-Event-Id``: stable for the event, so a receiver that gets it twice (we retry until a 2xx) drops the
  repeat;
- ``X-Radio-Timestamp``: when it was signed, in seconds since 1970 (UTC);
- ``X-Radio-Signature``: ``sha256=`` + the hex HMAC-SHA256, keyed with the webhook's secret, of the timestamp,
  a dot, and the exact body bytes.

How a receiver checks a request (Python; any language with HMAC-SHA256 does the same)::

    from broadcast.channels.webhook import verify
    ok = verify(secret, int(headers["X-Radio-Timestamp"]), raw_body, headers["X-Radio-Signature"],
                now=time.time())

Verify the raw bytes as received, before parsing the JSON. ``verify`` compares in constant time and refuses a
timestamp more than five minutes from the receiver's clock, so a captured request cannot be replayed later.

This module knows nothing of the web application or the database.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import requests

from broadcast.channels import outbound

SIGNATURE_PREFIX = "sha256="
TOLERANCE_S = 300
USER_AGENT = "commune-radio-webhook/1"
_ERROR_TEXT_LIMIT = 200


class WebhookFailed(Exception):
    """The receiver did not take the event; ``reason`` says why, ``status`` is its HTTP status if it answered."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Radio-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str, *, now: float | datetime,
           tolerance_s: float = TOLERANCE_S) -> bool:
    """True when ``signature`` is ours over exactly ``body`` and ``timestamp`` is within ``tolerance_s`` of ``now``.

    For receivers. ``now`` is the receiver's clock (seconds since 1970, or an aware datetime).
    """
    moment = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(moment - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), (signature or "").encode())


def _describe(response: requests.Response) -> str:
    # Only the start of the answer is read: a receiver cannot make us take in a large body.
    start = response.raw.read(4 * _ERROR_TEXT_LIMIT, decode_content=True) or b""
    text = " ".join(start.decode(response.encoding or "utf-8", "replace").split())[:_ERROR_TEXT_LIMIT]
    reason = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    if 300 <= response.status_code < 400:
        reason += f" (redirect to {response.headers.get('Location', '?')} not followed)"
    return f"{reason}: {text}" if text else reason


def post(url: str, body: bytes, secret: str, event: str, event_id: str, *, timeout: float,
         now: float | datetime, session: requests.Session | None = None) -> int:
    """POST one signed event; returns the receiver's 2xx status, raises WebhookFailed with the reason otherwise.

    Redirects are not followed: a receiver that moved must be registered again under its new address. Without
    ``session``, requests go to public addresses only (see broadcast.channels.outbound); an address refused
    there fails the delivery like an unreachable one, and nothing is sent.
    """
    timestamp = int(now.timestamp() if isinstance(now, datetime) else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Radio-Event": event,
        "X-Radio-Event-Id": event_id,
        "X-Radio-Timestamp": str(timestamp),
        "X-Radio-Signature": sign(secret, timestamp, body),
    }
    sender = session or outbound.session(outbound.PUBLIC_ONLY)
    try:
        return _send(sender, url, body, headers, timeout)
    finally:
        if session is None:
            sender.close()


def _send(sender: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    try:
        response = sender.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True)
    except outbound.Refused as exc:
        raise WebhookFailed(f"not sent: {exc}") from None
    except requests.Timeout:
        raise WebhookFailed(f"no answer within {timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise WebhookFailed(f"cannot connect: {outbound.root_cause(exc)}") from None
    except requests.RequestException as exc:
        raise WebhookFailed(f"request failed: {outbound.root_cause(exc)}") from None
    with response:
        if 200 <= response.status_code < 300:
            return response.status_code
        raise WebhookFailed(_describe(response), response.status_code)
