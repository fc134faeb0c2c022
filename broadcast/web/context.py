"""Per-request access to the database session and settings."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from broadcast.audio_setup import AudioTools, audio_tools
from broadcast.config import Settings


def db() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["database"].sessions()
    return g.db_session


def settings() -> Settings:
    return current_app.extensions["settings"]


def audio() -> AudioTools:
    """The speech and audio collaborators, built on first use (engines may load network libraries)."""
    tools = current_app.extensions.get("audio_tools")
    if tools is None:
        tools = current_app.extensions["audio_tools"] = audio_tools(settings())
    return tools
