"""People's sessions, ended on the server and not only in the browser.

The session cookie is signed, not stored: deleting it at logout leaves any copy of it valid. So each cookie
carries the user's ``session_epoch`` at login, and the user loader (broadcast.web.auth) accepts it only while
the user's epoch is still that one. Logging out, deactivation and a new password raise the epoch, which ends
every session of that person at once, copies included. A person logged in on two machines is logged out of
both: the price of needing no session table, and the safe side when a cookie may have been copied.

The cookie also carries when the session began and when it was last used, so the server ends it after
SESSION_LIFETIME_HOURS, or SESSION_IDLE_MINUTES without a request, whatever expiry the browser was told.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session
from flask_login import login_user, logout_user

from broadcast.db.models import User
from broadcast.web.time import utc_now

EPOCH, STARTED, SEEN = "_epoch", "_started", "_seen"
# The last-used time is written back at most this often, so the cookie is not re-sent with every answer.
SEEN_EVERY = timedelta(minutes=1)


def begin(user: User) -> None:
    """Log ``user`` in with a new session of the current epoch."""
    login_user(user)
    now = utc_now().timestamp()
    session.permanent = True  # the browser keeps it for the lifetime, not just until it closes
    session.update({EPOCH: user.session_epoch, STARTED: now, SEEN: now})


def still_open(user: User) -> bool:
    """Whether this request's session of ``user`` may go on; notes that it was used."""
    settings = current_app.extensions["settings"]
    started, seen = session.get(STARTED), session.get(SEEN)
    if session.get(EPOCH) != user.session_epoch or started is None or seen is None:
        return False
    now = utc_now().timestamp()
    if (now - started > timedelta(hours=settings.session_lifetime_hours).total_seconds()
            or now - seen > timedelta(minutes=settings.session_idle_minutes).total_seconds()):
        return False
    if now - seen >= SEEN_EVERY.total_seconds():
        session[SEEN] = now
    return True


def forget() -> None:
    """Drop this browser's session (the server-side end is the epoch, see ``users.end_sessions``)."""
    logout_user()
    session.clear()
