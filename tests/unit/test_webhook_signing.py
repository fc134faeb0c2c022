"""Webhook signatures: HMAC-SHA256 over "<timestamp>." + body, checked in constant time with a freshness window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from broadcast.channels.webhook import sign, verify

SECRET = "k9V3-secret-of-the-receiver"
BODY = '{"event":"bulletin.published","data":{"title":"Tin lũ quét"}}'.encode()
T = 1_795_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == "sha256=" + expected


@pytest.mark.parametrize(
    ("case", "secret", "timestamp", "body", "signature", "now", "ok"),
    [
        ("genuine", SECRET, T, BODY, sign(SECRET, T, BODY), T + 1, True),
        ("genuine, receiver's clock a little behind", SECRET, T, BODY, sign(SECRET, T, BODY), T - 120, True),
        ("at the edge of the window", SECRET, T, BODY, sign(SECRET, T, BODY), T + 300, True),
        ("stale timestamp (replayed later)", SECRET, T, BODY, sign(SECRET, T, BODY), T + 301, False),
        ("timestamp from the future", SECRET, T, BODY, sign(SECRET, T, BODY), T - 301, False),
        ("wrong secret", "another-secret", T, BODY, sign(SECRET, T, BODY), T, False),
        ("tampered body", SECRET, T, BODY.replace("lũ".encode(), "bão".encode()), sign(SECRET, T, BODY), T, False),
        ("one byte more", SECRET, T, BODY + b" ", sign(SECRET, T, BODY), T, False),
        ("timestamp changed, signature kept", SECRET, T + 5, BODY, sign(SECRET, T, BODY), T, False),
        ("signature without its prefix", SECRET, T, BODY, sign(SECRET, T, BODY).removeprefix("sha256="), T, False),
        ("upper-case hex", SECRET, T, BODY, sign(SECRET, T, BODY).upper(), T, False),
        ("empty signature", SECRET, T, BODY, "", T, False),
    ],
)
def test_verify(case, secret, timestamp, body, signature, now, ok):
    assert verify(secret, timestamp, body, signature, now=now) is ok, case


def test_verify_takes_an_aware_datetime_and_a_narrower_window():
    signature = sign(SECRET, T, BODY)
    assert verify(SECRET, T, BODY, signature, now=datetime.fromtimestamp(T + 10, UTC))
    assert not verify(SECRET, T, BODY, signature, now=T + 10, tolerance_s=5)
