"""The checks of two-factor codes: RFC 6238's vectors, the ±1 step window, replay, and recovery code forms."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pyotp
import pytest

from broadcast.db.models import Role
from broadcast.services import two_factor

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fixed, so the cases below are the same every run
NOW = datetime(2026, 12, 4, 19, 0, 15, tzinfo=UTC)
STEP = int(NOW.timestamp()) // 30


def code_at(step: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(step * 30)


# RFC 6238, appendix B: the SHA-1 secret "12345678901234567890", 8 digits there; its last 6 are the 6-digit code.
@pytest.mark.parametrize(("unix_time", "rfc_code"), [(59, "94287082"), (1111111109, "07081804"),
                                                     (1234567890, "89005924"), (2000000000, "69279037")])
def test_codes_are_rfc_6238s(unix_time, rfc_code):
    secret = base64.b32encode(b"12345678901234567890").decode()
    now = datetime.fromtimestamp(unix_time, UTC)
    assert two_factor.matching_step(secret, rfc_code[-6:], now=now, last_step=None) == unix_time // 30


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_one_step_either_side_is_accepted(offset, accepted):
    step = two_factor.matching_step(SECRET, code_at(STEP + offset), now=NOW, last_step=None)
    assert step == (STEP + offset if accepted else None)


@pytest.mark.parametrize(("last_step", "offset", "accepted"), [
    (STEP, 0, False),  # the same code again: a replay
    (STEP, -1, False),  # an older one after a newer was used
    (STEP - 1, 0, True),  # the next code
    (STEP, 1, True),  # a later one, still in the window
    (STEP + 1, 0, False),  # a later code was used already
])
def test_a_code_of_a_step_already_used_is_refused(last_step, offset, accepted):
    step = two_factor.matching_step(SECRET, code_at(STEP + offset), now=NOW, last_step=last_step)
    assert step == (STEP + offset if accepted else None)


@pytest.mark.parametrize(("typed", "accepted"), [
    (lambda c: c, True), (lambda c: f"{c[:3]} {c[3:]}", True), (lambda c: f" {c}\n", True),
    (lambda c: c[:5], False), (lambda c: c + "0", False), (lambda c: "", False), (lambda c: "abcdef", False),
])
def test_code_forms(typed, accepted):
    code = code_at(STEP)
    assert (two_factor.matching_step(SECRET, typed(code), now=NOW, last_step=None) is not None) is accepted


def test_another_secrets_code_is_refused():
    other = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"
    assert code_at(STEP, other) != code_at(STEP)
    assert two_factor.matching_step(SECRET, code_at(STEP, other), now=NOW, last_step=None) is None


@pytest.mark.parametrize(("typed", "same"), [("abcde-fghjk", True), ("ABCDE FGHJK", True), ("abcdefghjk", True),
                                             ("abcde-fghjm", False)])
def test_recovery_codes_are_read_whatever_the_case_and_separators(typed, same):
    assert (two_factor.normalise_recovery_code(typed) == "abcdefghjk") is same


def test_recovery_codes_are_ten_unambiguous_characters():
    codes = {two_factor.new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 10 and not set(raw) & set("01ilo")


@pytest.mark.parametrize(("setting", "roles"), [
    ("admin,approver", {Role.ADMIN, Role.APPROVER}), ("", set()), (" editor , operator ", {Role.EDITOR, Role.OPERATOR}),
])
def test_required_roles(setting, roles):
    assert two_factor.required_roles(setting) == roles
