"""Health of the service, for monitors and the start-up script."""

from __future__ import annotations

from flask import current_app
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
