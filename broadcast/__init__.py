"""The central service: scheduling, speech, delivery and reports for commune loudspeaker radio.

``create_app`` builds the Flask application; nothing starts at import. ``flask --app broadcast ...``
finds it for the command line.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from broadcast.config import ConfigError, Settings, load_settings

PACKAGE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application for ``settings`` (by default, read from the environment and instance folder)."""
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            # Started from the command line or a WSGI server: say what to fix, without a traceback.
            sys.exit(str(exc))

    from broadcast import cli, errors, web
    from broadcast.channels import bus, http_pull, wakeups
    from broadcast.db import cooperative
    from broadcast.db.engine import Database
    from broadcast.i18n import babel, select_locale, select_timezone

    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.resolved_session_cookie_secure,
        # The cookie's own expiry; the server checks the lifetime and idle time itself (broadcast.web.sessions).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_lifetime_hours),
        # A little above the upload limit, so the upload check (not the server) names the limit.
        MAX_CONTENT_LENGTH=(settings.upload_max_mb + 1) * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE / "translations"),
        # CSRF is checked in web.auth.needs_csrf, where a browser could be made to send the request: pages
        # always, the API when the session cookie came and no bearer token (a bearer token is never ambient).
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if settings.trusted_proxies:
        # Only the addresses those proxies added are believed; a client cannot forge its way past the throttle.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    app.extensions["settings"] = settings
    app.extensions["database"] = Database(settings.resolved_database_url, echo=settings.sql_echo)
    http_pull.watch_station_changes(app.extensions["database"].sessions, settings.instance_path)
    # Under gevent, one worker's SQLite writers must not wait for one another in SQLite's busy wait, which
    # stops the whole process (see broadcast.db.cooperative).
    if app.extensions["database"].engine.dialect.name == "sqlite" and wakeups.on_gevent():
        cooperative.take_turns_writing(app.extensions["database"].engine)
    # Bumps (caches, command wake-ups) reach this node's workers through the instance folder; with Redis, the
    # other web nodes too.
    bus.configure(settings.instance_path, settings.redis_url, settings.redis_channel)

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    web.init_app(app)
    errors.register_error_handlers(app)
    cli.init_app(app)
    return app


__all__ = ["ConfigError", "Settings", "create_app", "load_settings"]
