"""The JSON API under /api/v1, documented by an OpenAPI file generated from the code."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from broadcast.web.api import (
    airing,
    areas,
    auth,
    deliveries,
    emergencies,
    items,
    lexicon,
    reports,
    schedule,
    station_sync,
    stations,
    system,
    webhooks,
)


def init_app(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Commune radio broadcast API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app, spec_kwargs={"info": {"description": "Scheduling, delivery and reports for commune radio."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("cookieAuth", {"type": "apiKey", "in": "cookie", "name": "session"})
    for module in (system, auth, areas, stations, station_sync, deliveries, airing, emergencies, items, lexicon,
                   schedule, webhooks, reports):
        api.register_blueprint(module.blp)
    return api
