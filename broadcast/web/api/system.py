"""Health of the service, for monitors and the start-up script, and the formats it publishes."""

from __future__ import annotations

import functools
import hashlib
import json
import os

from flask import Response, current_app, request
from flask_smorest import Blueprint
from sqlalchemy import text

from broadcast.web.api.schemas import HealthSchema
from broadcast.web.context import db
from stations import manifest as wire

blp = Blueprint("system", __name__, url_prefix="/api/v1", description="Service health and published formats")

MANIFEST_SCHEMA_ROUTE = "/schemas/manifest.json"
MANIFEST_SCHEMA_URL = f"{blp.url_prefix}{MANIFEST_SCHEMA_ROUTE}"
SCHEMA_ANSWER = {
    "description": "The JSON Schema (draft 2020-12) of the station manifest",
    "headers": {"ETag": {"description": "Send it back in If-None-Match", "schema": {"type": "string"}}},
    "content": {"application/schema+json": {"schema": {"type": "object"}}},
}


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.doc(security=[])
def health():
    db().execute(text("SELECT 1"))
    polls = current_app.extensions.get("long_polls")
    return {"status": "ok", "database": "ok",
            "schema_revision": current_app.extensions["database"].current_revision(),
            "worker": os.getpid(), "long_polls": polls.count() if polls is not None else 0}


@blp.route("/ping")
@blp.doc(security=[], responses={"200": {"description": "The process answers (no database)",
                                         "content": {"text/plain": {"schema": {"type": "string"}}}}})
def ping():
    """Liveness only: answers without touching the database (the health check above reads it)."""
    return Response("pong", mimetype="text/plain")


@functools.cache
def _manifest_schema() -> tuple[bytes, str]:
    """The manifest schema as served, and its ETag.

    Written from ``stations.manifest.schema()``, the very schema manifests are validated with, so the two
    cannot drift apart."""
    body = json.dumps(wire.schema(), ensure_ascii=False, indent=2).encode()
    return body, hashlib.sha256(body).hexdigest()


@blp.route(MANIFEST_SCHEMA_ROUTE)
@blp.doc(security=[], responses={"200": SCHEMA_ANSWER, "304": {"description": "Not modified (If-None-Match)"}})
def manifest_schema():
    """The JSON Schema of the station manifest, for people writing other players; no login needed."""
    body, etag = _manifest_schema()
    response = Response(body, mimetype="application/schema+json")
    response.set_etag(etag)
    # It changes only with a new release: caches may keep it, but ask (cheaply, by ETag) each time.
    response.headers["Cache-Control"] = "public, no-cache"
    return response.make_conditional(request)
