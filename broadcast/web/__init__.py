"""The web layer: HTML pages for people and the JSON API under /api/v1.

Handlers parse, call one service, and serialize; domain errors become responses in broadcast.errors.
"""

from __future__ import annotations

from flask import Flask, g

from broadcast.web import (
    api,
    auth,
    eboard,
    feeds,
    helpers,
    login_throttle,
    security_headers,
    sso,
    two_factor,
    ui,
    ui_account,
    ui_audit,
    ui_emergencies,
    ui_items,
    ui_live,
    ui_media,
    ui_outlines,
    ui_placements,
    ui_playlists,
    ui_reports,
    ui_schedule,
    ui_station_tokens,
    ui_stations,
    ui_users,
)


def init_app(app: Flask) -> None:
    auth.init_app(app)
    login_throttle.init_app(app)
    helpers.init_app(app)
    security_headers.init_app(app)
    api.init_app(app)
    app.register_blueprint(ui.bp)
    sso.init_app(app)
    app.register_blueprint(ui_account.bp)
    app.register_blueprint(ui_audit.bp)
    app.register_blueprint(two_factor.bp)
    app.register_blueprint(ui_users.bp)
    app.register_blueprint(ui_station_tokens.bp)
    app.register_blueprint(ui_stations.bp)
    app.register_blueprint(ui_playlists.bp)
    app.register_blueprint(ui_items.bp)
    app.register_blueprint(ui_media.bp)
    app.register_blueprint(ui_outlines.bp)
    app.register_blueprint(ui_emergencies.bp)
    app.register_blueprint(ui_live.bp)
    app.register_blueprint(ui_reports.bp)
    app.register_blueprint(ui_schedule.bp)
    app.register_blueprint(ui_placements.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(eboard.bp)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
