"""The JSON API under /api/v1, documented by an OpenAPI file generated from the code (/api/v1/openapi.json).

Every operation in that file says how to authenticate (``security``; an empty list for public ones), what its
answers are, files included, and which of them are errors with the error body (``ErrorSchema``).
"""

from __future__ import annotations

import copy

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from broadcast.web.api import (
    accounts,
    airing,
    areas,
    auth,
    deliveries,
    emergencies,
    exchange,
    exchange_out,
    items,
    lexicon,
    reports,
    schedule,
    station_map,
    station_sync,
    stations,
    system,
    webhooks,
)
from broadcast.web.api.error_schemas import ErrorSchema
from broadcast.web.api.schedule_schemas import LocalMoment

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": (
        "A station's token (st_…) on the station routes, a person's API token (ut_…) on the others. "
        "Writes need no CSRF token.")},
    "sourceSignature": {"type": "apiKey", "in": "header", "name": "X-Radio-Signature", "description": (
        "An upstream source's push: sha256= and the hex HMAC-SHA256, keyed with the source's secret, of the "
        "X-Radio-Timestamp header's value, a dot and the body (or send the secret as a bearer token).")},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session", "description": (
        "The session cookie that POST /api/v1/auth/login sets. Writes must send the csrf_token it answers "
        "in the X-CSRFToken header.")},
}
PERSON = [{"cookieAuth": []}, {"bearerAuth": []}]
STATION_OR_PERSON = [{"bearerAuth": []}, {"cookieAuth": []}]
REFUSED = "UNPROCESSABLE_ENTITY"  # the shared 422 answer: the error body, "errors" naming the field


class BroadcastApi(Api):
    """flask-smorest's Api, documenting errors with the body this service really sends."""

    ERROR_SCHEMA = ErrorSchema


def _file(content_type: str, description: str, *, binary: bool = True) -> dict:
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {"description": description, "content": {content_type: {"schema": schema}}}


NOT_MODIFIED = {"description": "Not modified (If-None-Match)"}
AUDIO = {"200": _file("audio/mpeg", "The MP3 file; cacheable, its ETag is its sha256"),
         "206": _file("audio/mpeg", "The part asked for with Range, to resume a broken download"),
         "304": NOT_MODIFIED}


def _view_docs() -> dict:
    """What the document says of views that do not say it themselves, keyed by view function (so a second
    route onto the same view gets it too): answers that are files rather than schemas, 422s a view raises for
    a path segment or a body it reads itself, and the view that takes a station's token or a person's."""
    return {
        station_sync.audio: {"responses": AUDIO},
        items.item_audio: {"responses": AUDIO},
        schedule.playlist_json: {"responses": {
            "200": {"description": "The station's compiled day: entries with local start times, audio, problems",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "422": REFUSED}},
        schedule.playlist_m3u8: {"responses": {
            "200": _file("audio/x-mpegurl", "The day as an M3U8 playlist (UTF-8)", binary=False), "422": REFUSED}},
        schedule.area_ics: {"responses": {
            "200": _file("text/calendar", "The area's slots as an iCalendar feed (UTF-8)", binary=False)}},
        emergencies.emergency_cap: {"responses": {
            "200": _file("application/cap+xml", "The broadcast as an OASIS CAP 1.2 alert", binary=False)}},
        emergencies.import_cap: {
            "requestBody": {"required": True, "content": {media: {"schema": {"type": "string"}}
                                                          for media in ("application/cap+xml", "application/xml")}},
            "responses": {"422": REFUSED}},
        airing.station_day: {"responses": {"422": REFUSED}},
        stations.get_station: {"security": STATION_OR_PERSON},
    }


def _merge(operation: dict, extra: dict) -> None:
    """Add ``extra`` to an operation; a response it already documents is completed, not replaced."""
    for key, value in copy.deepcopy(extra).items():
        if key != "responses":
            operation.setdefault(key, value)
            continue
        answers = operation.setdefault("responses", {})
        for code, answer in value.items():
            # flask-smorest keys its own answers by int, manual ones by str; apispec makes them all str later.
            known = answers.pop(int(code), None) or answers.get(code)
            answers[code] = {**known, **answer} if isinstance(known, dict) and isinstance(answer, dict) else answer


class ViewDocs(BasePlugin):
    """Completes each operation from its view function.

    ``security`` is the view's own, else what ``_view_docs`` says, else a person's when a guard marks the view
    ``requires_person`` (``login_required``, ``role_required``). A view with none of these is left without,
    which the tests catch.
    """

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app
        self.extra = _view_docs()

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        for operation in operations.values():
            _merge(operation, self.extra.get(view, {}))
            if "security" not in operation and getattr(view, "requires_person", False):
                operation["security"] = copy.deepcopy(PERSON)


def init_app(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Commune radio broadcast API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = BroadcastApi(app, spec_kwargs={
        "info": {"description": "Scheduling, delivery and reports for commune radio."},
        "extra_plugins": [ViewDocs(app)],
    })
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    # A wall-clock time without offset: a string with the field's pattern, not an RFC 3339 date-time.
    api.register_field(LocalMoment, "string", None)
    for module in (system, auth, areas, stations, station_map, station_sync, deliveries, airing, emergencies, items,
                   lexicon, schedule, webhooks, reports, accounts, exchange, exchange_out):
        api.register_blueprint(module.blp)
    return api

