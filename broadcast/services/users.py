"""Accounts: creating people, checking their passwords, and their personal API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcast.db.models import ApiToken, Area, Role, User, utcnow
from broadcast.errors import Conflict, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.security import (
    check_password_timing_safe,
    hash_password,
)
from broadcast.services import api_tokens, password_policy
from broadcast.services.audit import record


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(_l("Unknown role %(value)s; choose one of %(choices)s.", value=value, choices=choices),
                           field="role") from None


def username_problem(session: Session, username: str):
    """Why this username cannot be given to a new account (malformed, or taken), or None."""
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        return _l("A username is 1 to 64 characters without spaces.")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        return _l("The username %(name)s is already taken.", name=username)
    return None


def create_user(session: Session, *, username: str, password: str, role: Role, scope_area: Area | None,
                full_name: str = "", actor: User | str = "cli", must_change_password: bool = False,
                email: str | None = None) -> User:
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise InvalidInput(_l("A username is 1 to 64 characters without spaces."), field="username")
    password_policy.check(password, username=username)
    if role is not Role.ADMIN and scope_area is None:
        raise InvalidInput(_l("Every role but admin needs a scope area."), field="scope")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(_l("The username %(name)s is already taken.", name=username), field="username")
    user = User(username=username, full_name=full_name, password_hash=hash_password(password), role=role,
                scope_area=scope_area, must_change_password=must_change_password, email=email)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", user.id, {"username": username, "role": role.value,
                                                             "scope": scope_area.code if scope_area else None,
                                                             **({"email": email} if email else {})})
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active user with these credentials, else None (the same time is spent either way).

    Guessing is slowed by the web layer's throttle (broadcast.web.login_throttle), which never locks an
    account: a lock that anyone can set by failing on purpose would let them block the people who must log in.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    ok = check_password_timing_safe(user.password_hash if user else None, password)
    if user is None or not user.active or not ok:
        return None
    logged_in(session, user, now=now)
    return user


def logged_in(session: Session, user: User, *, now: datetime | None = None, via: str | None = None) -> None:
    """Note a login that was let in (its last-login time and the audit entry), however it was proven: by the
    password, or ``via`` the identity provider ("sso")."""
    user.last_login_at = now or utcnow()
    record(session, user, "user.login", "user", user.id, {"via": via} if via else None)
    session.commit()


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    """The person's own change: the current password proves it is them, and the new one must pass the policy.
    Every other session of theirs ends (the caller starts a new one for this browser)."""
    if not check_password_timing_safe(user.password_hash, current):
        raise InvalidInput(_l("The current password is wrong."), field="current_password")
    if new == current:
        raise InvalidInput(_l("The new password must differ from the current one."), field="new_password")
    password_policy.check(new, username=user.username, field="new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_epoch += 1
    record(session, user, "user.password", "user", user.id)
    session.commit()


def end_sessions(session: Session, user: User, *, actor: User | str, reason: str) -> None:
    """End every session of ``user`` on the server at once, copied cookies included (broadcast.web.sessions)."""
    user.session_epoch += 1
    record(session, actor, f"user.{reason}", "user", user.id)
    session.commit()


def issue_api_token(session: Session, user: User, name: str, *, days: int = api_tokens.DEFAULT_DAYS) -> str:
    """A new personal API token (see services.api_tokens); the plain token is returned once."""
    return api_tokens.issue(session, user, name, days=days).token


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    return api_tokens.user_for_token(session, token, now=now)


def deactivate(session: Session, user: User, *, actor: User | str) -> None:
    """Switch the account off: its sessions end and its tokens are revoked at once, for good (reactivating
    brings back neither)."""
    now = utcnow()
    user.active = False
    user.session_epoch += 1
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    record(session, actor, "user.deactivate", "user", user.id, {"username": user.username})
    session.commit()


def reactivate(session: Session, user: User, *, actor: User | str) -> None:
    user.active = True
    record(session, actor, "user.reactivate", "user", user.id, {"username": user.username})
    session.commit()


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(_l("No user is called %(name)s.", name=username))
    return user
