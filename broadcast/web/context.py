"""Per-request access to the database session and settings."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from broadcast.config import Settings


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["database"].sessions()
    return g.db_session


def settings() -> Settings:
    return current_app.extensions["settings"]
