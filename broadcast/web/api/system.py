"""Health of the service, for monitors and the start-up script."""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint
from sqlalchemy import text

from broadcast.web.api.schemas import HealthSchema
from broadcast.web.context import db

blp = Blueprint("system", __name__, url_prefix="/api/v1", description="Service health")


@blp.route("/health")
@blp.response(200, HealthSchema)
def health():
    db().execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok",
            "schema_revision": current_app.extensions["database"].current_revision()}


@blp.route("/ping")
@blp.doc(responses={"200": {"description": "The process answers (no database)"}})
def ping():
    """Liveness only: answers without touching the database (the health check above reads it)."""
    return Response("pong", mimetype="text/plain")
