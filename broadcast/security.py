"""Passwords and bearer tokens.

Human passwords get scrypt (slow on purpose). Bearer tokens are 256-bit random secrets, so a plain
SHA-256 is enough to store them and lets every poll find its owner with one indexed lookup.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

TOKEN_BYTES = 32
MIN_PASSWORD_LENGTH = 10  # with the common-password list (services.password_policy)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def check_password_timing_safe(password_hash: str | None, password: str) -> bool:
    """Like check_password, but an unknown user (no hash) costs the same time as a wrong password."""
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password(password_hash, password)


def new_token(prefix: str) -> str:
    """A new bearer token, e.g. ``st_...`` for stations and ``ut_...`` for users (readable in logs)."""
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

