"""Two-factor login: time-based one-time codes (TOTP, RFC 6238) from an authenticator app, and recovery codes.

Enrolment draws a secret, shows it (as a QR code and as text) and takes effect only when the person types one
valid code from their app: a secret they never managed to scan must not lock them out. It then hands out
RECOVERY_CODES one-time codes, shown that once and kept only as SHA-256 digests (they are random, 50 bits each,
so a digest cannot be walked back from the list of all codes in reasonable time the way a password's could).

A code is accepted for the current 30-second step and one step either side (clocks of phones drift), and only
for a step later than the last one accepted: a code that was seen once (over a shoulder, in a proxy's log) is
refused, even inside its own window. Both that and using up a recovery code are one conditional UPDATE, so
two requests racing with the same code cannot both get in.

The secret is kept as it is: the server must compute codes from it, so a hash would not do. Whoever can read
the users table can therefore make codes; the password hashes beside it are the stronger secret there.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from broadcast.db.models import RecoveryCode, Role, User, utcnow
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services.audit import record

STEP_S = 30  # RFC 6238's default, what every authenticator app uses
DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODES = 10
ISSUER = "Phát thanh cơ sở"  # the account's label in the authenticator app
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mix up when typed from paper


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The otpauth:// URI as an SVG QR code, to be served as an image (no inline markup in the page)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=4, light="#fff", title="QR")
    return out.getvalue()


def _digits(code: str) -> str:
    return "".join(code.split())  # "123 456" as some apps show it


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step whose code ``code`` is, within WINDOW of ``now`` and later than ``last_step``, else None."""
    code = _digits(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    current = int(now.timestamp()) // STEP_S
    for step in range(current - WINDOW, current + WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue  # that code, or an earlier one, was already used: a replay
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii", "ignore")).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def is_enrolled(user: User) -> bool:
    return user.totp_secret is not None


def required_roles(setting: str) -> set[Role]:
    """The roles named in TOTP_REQUIRED_ROLES ("admin,approver"; "" for none)."""
    return {Role(name.strip()) for name in setting.split(",") if name.strip()}


def must_enrol(user: User, setting: str) -> bool:
    """Whether ``user`` has to enrol before a password login may go on."""
    return not is_enrolled(user) and user.role in required_roles(setting)


def enrol(session: Session, user: User, secret: str, code: str, *, now: datetime | None = None) -> list[str]:
    """Make ``secret`` the user's once ``code`` proves their app has it; answers the new recovery codes."""
    now = now or utcnow()
    step = matching_step(secret, code, now=now, last_step=None)
    if step is None:
        record(session, user, "user.two_factor.enrol_failed", "user", user.id)
        session.commit()
        raise InvalidInput(_l("That code is not the one the app shows now. Check the phone's clock and try again."),
                           field="code")
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now, step
    codes = _new_recovery_codes(session, user, now)
    record(session, user, "user.two_factor.enrol", "user", user.id)
    session.commit()
    return codes


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_sha256=_digest(code), created_at=now) for code in codes)
    return codes


def regenerate_recovery_codes(session: Session, user: User, *, now: datetime | None = None) -> list[str]:
    """New recovery codes for an enrolled user; the old ones stop working."""
    codes = _new_recovery_codes(session, user, now or utcnow())
    record(session, user, "user.two_factor.recovery_codes", "user", user.id)
    session.commit()
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def verify(session: Session, user: User, code: str, *, now: datetime | None = None) -> bool:
    """Whether ``code`` (from the app, or an unused recovery code) lets ``user`` in now; it is used up if so.

    Every outcome is audited; a failure says nothing about why (wrong, replayed, already used)."""
    now = now or utcnow()
    if user.totp_secret is None:
        return False
    step = matching_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is not None and _claim_step(session, user, step):
        record(session, user, "user.two_factor.passed", "user", user.id)
        session.commit()
        return True
    if step is None and normalise_recovery_code(code):
        claimed = session.execute(
            update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_sha256 == _digest(code),
                                       RecoveryCode.used_at.is_(None)).values(used_at=now))
        if claimed.rowcount == 1:
            record(session, user, "user.two_factor.recovery_used", "user", user.id,
                   {"left": recovery_codes_left(session, user)})
            session.commit()
            return True
    session.rollback()
    record(session, user, "user.two_factor.failed", "user", user.id)
    session.commit()
    return False


def _claim_step(session: Session, user: User, step: int) -> bool:
    # Only if no request took this step (or a later one) meanwhile: the check above read a value that may be old.
    claimed = session.execute(
        update(User).where(User.id == user.id, User.totp_secret == user.totp_secret,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def disable(session: Session, user: User, *, actor: User | str, reason: str = "disable") -> None:
    """Remove the user's second factor and recovery codes: ``reason`` "disable" (their own) or "reset" (an
    administrator's, for a lost phone)."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(session, actor, f"user.two_factor.{reason}", "user", user.id, {"username": user.username})
    session.commit()
