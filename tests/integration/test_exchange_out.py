"""Statistics out and the station register: the versioned JSON API, and the nightly push to a stand-in LGSP gateway
on 127.0.0.1 (an OAuth2 token server on Authlib, and a receiver that accepts only the tokens it issued).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast import load_settings
from broadcast.channels import statistics_push
from broadcast.db.models import DeliveryState, StatisticsPush
from broadcast.services import reports, statistics_out, users
from tests.airing import build_world
from tests.standins.lgsp import LgspStandIn

DAY = date(2026, 11, 29)  # the world's day with two bulletins planned at 06:00
NEXT_NIGHT = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # 02:00 on 30/11 in Vietnam: the 29th is pushed


@pytest.fixture
def gateway():
    with LgspStandIn() as made:
        yield made


def _settings(base, gateway, **changes):
    values = {"instance_path": base.instance_path, "database_url": base.database_url,
              "outbound_allow_networks": "127.0.0.0/8", "statistics_push_url": gateway.receiver_url,
              "statistics_push_area": "08", **changes}
    return load_settings(**values)


def _oauth(base, gateway, secret=None):
    return _settings(base, gateway, statistics_oauth_token_url=gateway.token_url,
                     statistics_oauth_client_id=gateway.client.client_id,
                     statistics_oauth_client_secret=secret or gateway.client.client_secret,
                     statistics_oauth_scope="statistics")


def _pushes(database) -> list[StatisticsPush]:
    with database.sessions() as session:
        found = list(session.scalars(select(StatisticsPush).order_by(StatisticsPush.id)))
        session.expunge_all()
        return found


def _run(database, settings, now, tokens):
    with database.sessions() as session:
        return statistics_out.run(session, settings, now, tokens=tokens, timeout_s=10)


def test_the_statistics_api_gives_each_day_per_area_and_station(seeded):
    world = build_world(seeded)
    answer = world["api"].get("/api/v1/exchange/statistics?area=08&from=2026-11-28&to=2026-11-29",
                              headers=world["people"]["bientap"])
    assert answer.status_code == 200, answer.json
    document = answer.json
    assert (document["format"], document["version"], document["from"], document["to"]) == (
        "commune-radio.statistics", 1, "2026-11-28", "2026-11-29")
    before, day = document["days"]
    assert before["totals"]["planned_items"] == 0
    # The same figures as the report of that one day, and the stations add up to the area's totals.
    with world["database"].sessions() as session:
        report = reports.broadcast_report(session, users.get_user(session, "bientap"),
                                          reports.report_area(session, users.get_user(session, "bientap"), "08"),
                                          DAY, DAY, default_zone="Asia/Ho_Chi_Minh")
    assert day["totals"]["planned_items"] == report.totals.planned_items > 0
    assert sum(s["figures"]["planned_items"] for s in day["stations"]) == day["totals"]["planned_items"]
    assert day["areas"][0]["code"] == "08" and {a["level"] for a in day["areas"]} >= {"province", "commune"}
    assert {s["code"] for s in day["stations"]} >= {"HG1-01", "HG1-02"}

    lean = world["api"].get("/api/v1/exchange/statistics?area=08&from=2026-11-29&stations=false",
                            headers=world["people"]["bientap"]).json
    assert "stations" not in lean["days"][0] and lean["to"] == "2026-11-29"
    too_long = world["api"].get("/api/v1/exchange/statistics?area=08&from=2026-10-01&to=2026-11-29",
                                headers=world["people"]["bientap"])
    assert too_long.status_code == 422
    assert world["api"].get("/api/v1/exchange/statistics").status_code == 401


def test_the_station_register(seeded):
    world = build_world(seeded)
    register = world["api"].get("/api/v1/exchange/stations", headers=world["people"]["bientap"]).json
    assert register["format"] == "commune-radio.stations" and register["version"] == 1
    by_code = {s["code"]: s for s in register["stations"]}
    assert {"HG1-01", "HG1-02", "HG2-01", "DV-01"} <= set(by_code)
    station = by_code["HG1-01"]
    assert station["commune"]["code"] == "00694" and station["state"] in ("unknown", "online", "offline",
                                                                          "playing")
    assert station["lat"] is not None and station["lon"] is not None  # its own, else its commune's centre
    # An operator sees the stations of the commune only.
    own = world["api"].get("/api/v1/exchange/stations", headers=world["people"]["vanhanh"]).json
    assert {s["commune"]["code"] for s in own["stations"]} == {"00694"}
    assert world["api"].get("/api/v1/exchange/stations").status_code == 401


def test_the_previous_day_is_pushed_once_with_an_oauth2_token_kept_until_it_expires(seeded, settings, gateway):
    build_world(seeded)
    database = seeded.extensions["database"]
    configured = _oauth(settings, gateway)
    tokens = statistics_push.TokenCache()

    # Before 01:00 the previous day is not complete enough to push.
    assert _run(database, configured, NEXT_NIGHT - timedelta(hours=2), tokens) == statistics_out.PushRun(0, 0)
    assert _run(database, configured, NEXT_NIGHT, tokens) == statistics_out.PushRun(1, 0)
    [got] = gateway.received
    assert got["accepted"] and got["authorization"].removeprefix("Bearer ") in gateway.issued
    body = got["body"]
    assert body["format"] == "commune-radio.statistics" and body["day"] == "2026-11-29"
    assert body["push_id"] == got["push_id"] and body["reports"][0]["area"]["code"] == "08"
    assert body["reports"][0]["days"][0]["totals"]["planned_items"] > 0
    [push] = _pushes(database)
    assert push.state is DeliveryState.SENT and push.attempts == 1 and push.response_status == 201

    # Later runs that night send nothing again; the next night's push reuses the token.
    assert _run(database, configured, NEXT_NIGHT + timedelta(minutes=5), tokens) == statistics_out.PushRun(0, 0)
    assert _run(database, configured, NEXT_NIGHT + timedelta(days=1), tokens) == statistics_out.PushRun(1, 0)
    assert gateway.token_requests == 1 and tokens.fetched == 1
    assert [p.day for p in _pushes(database)] == [DAY, DAY + timedelta(days=1)]


def test_a_refused_token_and_a_failing_receiver_are_retried_until_acknowledged(seeded, settings, gateway):
    build_world(seeded)
    database = seeded.extensions["database"]
    tokens = statistics_push.TokenCache()

    # The gateway refuses the client: nothing reaches the receiver, the push waits for its retry.
    assert _run(database, _oauth(settings, gateway, secret="wrong"), NEXT_NIGHT, tokens).failed == 1
    [push] = _pushes(database)
    assert push.state is DeliveryState.FAILED and "token refused" in push.last_error
    assert "invalid_client" in push.last_error and gateway.received == []
    retry_at = push.next_retry_at
    assert NEXT_NIGHT + timedelta(seconds=30) <= retry_at <= NEXT_NIGHT + timedelta(seconds=60)

    # Fixed; the receiver then fails once (503) and recovers. Nothing is sent before each retry time.
    configured = _oauth(settings, gateway)
    gateway.answers = [503]
    assert _run(database, configured, retry_at - timedelta(seconds=1), tokens) == statistics_out.PushRun(0, 0)
    assert _run(database, configured, retry_at, tokens) == statistics_out.PushRun(0, 1)
    [push] = _pushes(database)
    assert push.attempts == 2 and push.response_status == 503 and "HTTP 503" in push.last_error
    assert _run(database, configured, push.next_retry_at, tokens) == statistics_out.PushRun(1, 0)
    [push] = _pushes(database)
    assert push.state is DeliveryState.SENT and push.attempts == 3 and push.last_error is None
    assert [r["accepted"] for r in gateway.received] == [False, True]
    assert len({r["push_id"] for r in gateway.received}) == 1  # the same push, so the receiver can drop a repeat


def test_a_static_token_and_a_receiver_that_does_not_know_it(seeded, settings, gateway):
    build_world(seeded)
    database = seeded.extensions["database"]
    tokens = statistics_push.TokenCache()
    wrong = _settings(settings, gateway, statistics_push_token="not-the-token")
    assert _run(database, wrong, NEXT_NIGHT, tokens).failed == 1
    assert _pushes(database)[0].response_status == 401
    right = _settings(settings, gateway, statistics_push_token=gateway.static_token)
    assert _run(database, right, _pushes(database)[0].next_retry_at, tokens).sent == 1
    assert gateway.received[-1]["authorization"] == f"Bearer {gateway.static_token}" and tokens.fetched == 0


def test_pushes_are_listed_for_admins(seeded, settings, gateway):
    build_world(seeded)
    database = seeded.extensions["database"]
    _run(database, _settings(settings, gateway, statistics_push_token=gateway.static_token), NEXT_NIGHT,
         statistics_push.TokenCache())
    client = seeded.test_client()
    with database.sessions() as session:
        admin = {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, "admin"), "t")}
        editor = {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, "bientap"),
                                                                      "t")}
    listed = client.get("/api/v1/exchange/statistics/pushes", headers=admin).json
    assert [(p["day"], p["state"], p["attempts"]) for p in listed] == [("2026-11-29", "sent", 1)]
    assert client.get("/api/v1/exchange/statistics/pushes", headers=editor).status_code == 403


def test_a_token_the_receiver_no_longer_takes_is_asked_for_again(seeded, settings, gateway):
    build_world(seeded)
    database = seeded.extensions["database"]
    configured = _oauth(settings, gateway)
    tokens = statistics_push.TokenCache()
    assert _run(database, configured, NEXT_NIGHT, tokens).sent == 1
    gateway.issued.clear()  # the gateway revoked every token before it expired
    tomorrow = NEXT_NIGHT + timedelta(days=1)
    assert _run(database, configured, tomorrow, tokens).failed == 1
    [_, push] = _pushes(database)
    assert push.response_status == 401
    assert _run(database, configured, push.next_retry_at, tokens).sent == 1
    assert gateway.token_requests == 2 and gateway.received[-1]["accepted"]


def test_every_exchange_operation_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/exchange/sources", "/api/v1/exchange/sources/{source_id}/bulletins",
            "/api/v1/exchange/sources/{source_id}/disable", "/api/v1/exchange/sources/{source_id}/enable",
            "/api/v1/exchange/statistics", "/api/v1/exchange/statistics/pushes", "/api/v1/exchange/stations",
            "/api/v1/exchange/eboards/{code}"} <= set(paths)
    push = paths["/api/v1/exchange/sources/{source_id}/bulletins"]["post"]
    assert {"200", "201"} <= set(push["responses"])
