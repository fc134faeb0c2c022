"""Passwords and tokens."""

from __future__ import annotations

from broadcast import security


def test_password_hash_is_scrypt_and_checks():
    hashed = security.hash_password("mật khẩu dài")
    assert hashed.startswith("scrypt:")
    assert security.check_password(hashed, "mật khẩu dài")
    assert not security.check_password(hashed, "mat khau dai")


def test_unknown_user_never_authenticates():
    assert security.check_password_timing_safe(None, "anything") is False


def test_tokens_are_long_random_and_prefixed():
    a, b = security.new_token("st"), security.new_token("st")
    assert a != b and a.startswith("st_") and len(a) >= 40


def test_token_digest_is_sha256_hex():
    digest = security.token_digest("st_abc")
    assert len(digest) == 64 and digest == security.token_digest("st_abc") != security.token_digest("st_abd")
