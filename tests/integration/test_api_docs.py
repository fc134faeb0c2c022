"""The API's published documents: the OpenAPI description and the manifest JSON Schema it links to."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from broadcast.services import users
from stations import manifest as wire
from tests.airing import build_world

SCHEMA_URL = "/api/v1/schemas/manifest.json"
METHODS = {"get", "put", "post", "patch", "delete"}
PUBLIC = {("get", "/api/v1/ping"), ("get", "/api/v1/health"), ("post", "/api/v1/auth/login"), ("get", SCHEMA_URL),
          ("get", "/api/v1/exchange/eboards/{code}")}
COOKIE_ONLY = {("post", "/api/v1/auth/logout")}
# An upstream source pushes with its own secret: as a bearer token or an HMAC of the body.
SOURCE_ONLY = {("post", "/api/v1/exchange/sources/{source_id}/bulletins")}
STATION_ONLY = {"/api/v1/stations/{code}/manifest", "/api/v1/stations/{code}/receipts",
                "/api/v1/stations/{code}/events", "/api/v1/stations/{code}/heartbeat",
                "/api/v1/stations/{code}/commands/{command_id}/ack"}


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").json


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def _response(spec: dict, response: dict) -> dict:
    """A response object, following a reference to the shared ones."""
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


# -- the manifest JSON Schema -----------------------------------------------------------------------------------


def test_the_manifest_schema_is_served_without_login(client):
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    assert response.json == wire.schema()  # the very schema manifests are validated with
    assert response.headers["ETag"] and "public" in response.headers["Cache-Control"]
    again = client.get(SCHEMA_URL, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_a_compiled_manifest_is_valid_against_the_served_schema(seeded):
    world = build_world(seeded)
    api = world["api"]
    served = api.get(SCHEMA_URL)
    assert served.status_code == 200
    schema = served.json
    Draft202012Validator.check_schema(schema)
    body = api.get("/api/v1/stations/HG1-01/manifest", headers=world["tokens"]["HG1-01"]).data
    manifest = json.loads(body)
    assert [e for day in manifest["days"] for e in day["entries"]]  # something real to check
    Draft202012Validator(schema).validate(manifest)


def test_the_openapi_document_links_the_manifest_schema(client, spec):
    operation = spec["paths"]["/api/v1/stations/{code}/manifest"]["get"]
    assert operation["externalDocs"]["url"] == SCHEMA_URL
    assert SCHEMA_URL in operation["responses"]["200"]["description"]
    assert client.get(operation["externalDocs"]["url"]).status_code == 200


# -- OpenAPI: security, answers, errors ------------------------------------------------------------------------


def test_the_openapi_document_is_valid(spec):
    validate_openapi(spec)


def test_every_operation_says_how_to_authenticate(spec):
    schemes = set(spec["components"]["securitySchemes"])
    assert {"bearerAuth", "cookieAuth"} <= schemes
    for method, path, operation in _operations(spec):
        assert "security" in operation, f"{method.upper()} {path} declares no security"
        named = {name for requirement in operation["security"] for name in requirement}
        assert named <= schemes, (method, path)
        if (method, path) in PUBLIC:
            assert operation["security"] == [], (method, path)
        elif path in STATION_ONLY:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
        elif (method, path) in COOKIE_ONLY:
            assert operation["security"] == [{"cookieAuth": []}], (method, path)
        elif (method, path) in SOURCE_ONLY:
            assert operation["security"] == [{"bearerAuth": []}, {"sourceSignature": []}], (method, path)
        else:
            assert {"cookieAuth": []} in operation["security"], (method, path)
            assert {"bearerAuth": []} in operation["security"], (method, path)


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/stations/{code}/manifest", "application/json"),
    ("/api/v1/audio/{sha256}", "audio/mpeg"),
    ("/api/v1/items/{item_id}/audio", "audio/mpeg"),
    ("/api/v1/stations/{code}/playlists/{day}.m3u8", "audio/x-mpegurl"),
    ("/api/v1/stations/{code}/playlists/{day}", "application/json"),
    ("/api/v1/areas/{code}/schedule.ics", "text/calendar"),
    ("/api/v1/emergencies/{broadcast_id}/cap", "application/cap+xml"),
    (SCHEMA_URL, "application/schema+json"),
])
def test_file_answers_document_their_content_type(spec, path, content_type):
    ok = spec["paths"][path]["get"]["responses"]["200"]
    assert ok["description"]
    assert content_type in ok["content"]


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/stations/{code}/asrun/{day}"),
    ("get", "/api/v1/stations/{code}/playlists/{day}"),
    ("get", "/api/v1/stations/{code}/playlists/{day}.m3u8"),
    ("post", "/api/v1/emergencies/cap"),
    ("post", "/api/v1/slots/{slot_id}/exceptions"),
    ("post", "/api/v1/stations/{code}/receipts"),
])
def test_operations_that_refuse_with_422_document_the_error_body(spec, method, path):
    refused = _response(spec, spec["paths"][path][method]["responses"]["422"])
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_business_422_has_the_documented_error_body(seeded, client, spec):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        token = users.issue_api_token(session, users.get_user(session, "vanhanh"), "t")
    response = client.get("/api/v1/stations/HG1-01/asrun/not-a-day", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    Draft202012Validator(spec["components"]["schemas"]["Error"]).validate(response.json)
    assert response.json["errors"] == {"day": [response.json["message"]]}


# -- a slot's extra session: declared as what it accepts -------------------------------------------------------

MORNING = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600,
           "valid_from": "2026-11-28", "rrule": "FREQ=DAILY"}
EXTRA_TIMES = ["2026-12-01T19:30", "2026-12-02T19:30:15", "2026-12-03T19:30:00+07:00", "2026-12-04T12:30:00Z",
               "2026-12-05T19:30:00.000Z", "2026-12-06 19:30", "19:30", "tomorrow"]


def test_extra_session_times_are_declared_as_what_is_accepted(seeded, client, spec):
    declared = spec["components"]["schemas"]["SlotException"]["properties"]["extra"]
    assert declared.get("format") != "date-time"  # RFC 3339 needs an offset; a slot's time is wall-clock
    assert declared["type"] == "string" and declared["description"]
    listed = spec["components"]["schemas"]["SlotCreate"]["properties"]["extra"]["items"]
    assert listed["pattern"] == declared["pattern"]
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        editor = {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, "bientap"),
                                                                     "t")}
    slot_id = client.post("/api/v1/slots", json=MORNING, headers=editor).json["id"]
    for text in EXTRA_TIMES:
        response = client.post(f"/api/v1/slots/{slot_id}/exceptions", json={"extra": text}, headers=editor)
        expected = 200 if re.fullmatch(declared["pattern"], text) else 422
        assert response.status_code == expected, (text, response.json)
        if expected == 422:
            assert "extra" in response.json["errors"]
    extras = client.get("/api/v1/slots?area=08", headers=editor).json[0]["extra"]
    assert extras == ["2026-12-01T19:30", "2026-12-02T19:30:15"]
