"""Personal API tokens: several per person, each with a name, an expiry and revocation.

The token is shown once; only its SHA-256 is kept, and its first characters (``prefix``) so that a list can
tell tokens apart without showing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import ApiToken, User, utcnow
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.security import new_token, token_digest
from broadcast.services.audit import record

DEFAULT_DAYS = 90
MAX_DAYS = 365
PREFIX_LENGTH = 10  # "ut_" and 7 random characters: enough to tell a person's tokens apart
# Last use is written back at most this often, so a script's every call is not a write.
LAST_USED_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    row: ApiToken
    token: str  # shown once


def issue(session: Session, user: User, name: str, *, days: int = DEFAULT_DAYS, actor: User | str | None = None,
          now: datetime | None = None) -> Issued:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(_l("Give the token a name of 1 to 100 characters, e.g. what script uses it."),
                           field="name")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_l("A token lasts from 1 to %(max)s days.", max=MAX_DAYS), field="days")
    now = now or utcnow()
    token = new_token("ut")
    row = ApiToken(user_id=user.id, name=name, token_sha256=token_digest(token), prefix=token[:PREFIX_LENGTH],
                   created_at=now, expires_at=now + timedelta(days=days))
    session.add(row)
    session.flush()
    record(session, actor or user, "user.token", "user", user.id, {"name": name, "token": row.prefix,
                                                                  "expires_at": row.expires_at.isoformat()})
    session.commit()
    return Issued(row, token)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The person's tokens, newest first, revoked and expired ones included (their state is shown)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def state(row: ApiToken, now: datetime | None = None) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def revoke(session: Session, user: User, token_id: int, *, actor: User | str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_l("You have no such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(session, actor, "user.token_revoke", "user", user.id, {"name": row.name, "token": row.prefix})
        session.commit()
    return row


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active person whose live token this is: not revoked, not expired."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    now = now or utcnow()
    if row is None or not row.user.active or state(row, now) != "active":
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        session.commit()
    return row.user
