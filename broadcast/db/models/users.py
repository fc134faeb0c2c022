"""People who use the service, and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, Timestamped, str_enum


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, everywhere
    EDITOR = "editor"  # provincial editor: writes and schedules items
    APPROVER = "approver"  # approves items and emergency broadcasts
    OPERATOR = "operator"  # commune operator: local items, confirmation of airing


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    # Where notices reach the person (an emergency waiting for its approver). Kept in lower case, so that the
    # unique constraint holds whatever the letter case on both databases (an index on lower(email) is not
    # reflected by SQLite). None: no address given; NULLs never collide.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    # The subtree this user sees and changes; None only for admins (the whole service).
    scope_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None]
    # Every session cookie carries the epoch it was issued under; raising it (logout, deactivation, a new
    # password) ends all of this user's sessions at once, copied cookies included (broadcast.web.sessions).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set by an administrator's password reset: the temporary password only opens the page that changes it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Two-factor login (broadcast.services.two_factor): the TOTP secret, set only once a code confirmed the
    # enrolment, and the last time step whose code was accepted, so that a code seen once is refused (replay).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    scope_area: Mapped[Area | None] = relationship()

    # The interface Flask-Login expects of a user, without making the model depend on Flask.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Base):
    """A personal token for scripts using the JSON API; only its SHA-256 is kept, and its first characters
    (``prefix``) so that people can tell their tokens apart in a list."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    prefix: Mapped[str] = mapped_column(String(16), default="", server_default="")
    expires_at: Mapped[datetime | None]  # None: tokens made before expiry existed, and never by default now
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code for a person who lost their authenticator: only its SHA-256 is kept (the codes are
    random, 50 bits each), and ``used_at`` once it let them in."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
