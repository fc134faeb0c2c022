"""As-run on the server: idempotent events, airing states and the missed check, confirmations, heartbeat, commands."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast.db.models import AiringState, OccurrenceAiring, Station, StationStatus
from broadcast.services import areas, asrun, compiler, stations
from tests.airing import NOW, build_world, played

AFTER_SESSION = NOW  # 06:30: the 06:00-06:10 session is over


@pytest.fixture
def aired(seeded, client):
    world = build_world(seeded)
    return client, world["people"], world["tokens"], world["entries"], world["database"], world["clock"]


def _airings(database) -> dict[str, AiringState]:
    with database.sessions() as session:
        return {code: state for code, state in session.execute(
            select(Station.code, OccurrenceAiring.state).join(Station, Station.id == OccurrenceAiring.station_id))}


def test_redelivered_events_are_counted_once(aired):
    client, _, tokens, entries, database, _ = aired
    batch = {"events": [played(e) for e in entries]}
    first = client.post("/api/v1/stations/HG1-01/events", json=batch, headers=tokens["HG1-01"])
    assert first.status_code == 200 and first.json == {"accepted": 2, "duplicates": 0}
    again = client.post("/api/v1/stations/HG1-01/events", json=batch, headers=tokens["HG1-01"])
    assert again.json == {"accepted": 0, "duplicates": 2}
    assert _airings(database) == {"HG1-01": AiringState.AIRED}


def test_partial_missed_and_a_late_report(aired):
    client, _, tokens, entries, database, clock = aired
    client.post("/api/v1/stations/HG1-01/events", headers=tokens["HG1-01"], json={"events": [
        played(entries[0]), played(entries[1], outcome="failed", seconds_played=0, reason="player exit 1")]})
    with database.sessions() as session:
        # HG1-02, HG2-01 and DV-01 reported nothing for the session that ended 20 minutes ago.
        assert asrun.mark_missed(session, now=clock["now"]) == 3
        assert asrun.mark_missed(session, now=clock["now"]) == 0  # recorded once
    states = _airings(database)
    assert states["HG1-01"] is AiringState.PARTIAL and states["HG1-02"] is AiringState.MISSED
    # HG1-02 was offline; back online, it delivers its log: the session did air after all.
    late = client.post("/api/v1/stations/HG1-02/events", headers=tokens["HG1-02"],
                       json={"events": [played(e) for e in entries]})
    assert late.json["accepted"] == 2
    assert _airings(database)["HG1-02"] is AiringState.AIRED


def test_a_session_not_over_is_not_missed(aired):
    _, _, _, _, database, _ = aired
    with database.sessions() as session:
        assert asrun.mark_missed(session, now=datetime(2026, 11, 28, 23, 5, tzinfo=UTC)) == 0  # 06:05, on air


@pytest.mark.parametrize(("event", "field"), [
    ({"outcome": "exploded"}, "outcome"),
    ({"event_id": "x"}, "event_id"),
    ({"audio_sha256": "not-a-digest"}, "audio_sha256"),
    ({"started_at": "2026-11-29T06:00:00"}, "started_at"),  # no offset: ambiguous
])
def test_bad_events_are_refused_whole(aired, event, field):
    client, _, tokens, entries, database, _ = aired
    answer = client.post("/api/v1/stations/HG1-01/events", headers=tokens["HG1-01"],
                         json={"events": [played(entries[0]), played(entries[1], **event)]})
    assert answer.status_code == 422
    assert field in str(answer.json["errors"])
    assert _airings(database) == {}  # nothing half-stored


def test_operator_sees_the_day_and_confirms(aired):
    client, people, tokens, entries, _, _ = aired
    client.post("/api/v1/stations/HG1-01/events", headers=tokens["HG1-01"], json={"events": [played(entries[0])]})
    day = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=people["vanhanh"])
    assert day.status_code == 200
    [session] = day.json["occurrences"]
    assert session["starts_at"] == "2026-11-29T06:00:00+07:00" and session["state"] == "partial"
    assert (session["planned_s"], session["played_s"]) == (120.0, 60.0)
    assert [e["entry_id"] for e in session["events"]] == [entries[0].id]
    key = session["key"]

    no_reason = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                            json={"occurrence_key": key, "status": "not_aired"})
    assert no_reason.status_code == 422 and no_reason.json["errors"]["reason"]
    done = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                       json={"occurrence_key": key, "status": "not_aired", "reason": "Mất điện lúc 6 giờ"})
    assert done.status_code == 200 and done.json["confirmed_by"] == "vanhanh"
    changed = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                          json={"occurrence_key": key, "status": "aired"})
    assert changed.status_code == 200
    day = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=people["vanhanh"]).json
    assert day["occurrences"][0]["confirmation"]["status"] == "aired"
    # The operator of Hà Giang 1 does not see another commune's station.
    assert client.get("/api/v1/stations/HG2-01/asrun/2026-11-29", headers=people["vanhanh"]).status_code == 404
    upcoming = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                           json={"occurrence_key": key.replace("2026-11-29", "2026-11-30"), "status": "aired"})
    assert upcoming.status_code == 422 and upcoming.json["errors"]["occurrence_key"]
    unknown = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                          json={"occurrence_key": "999@2026-11-29T06:00:00", "status": "aired"})
    assert unknown.status_code == 404


def _off_schedule(kind: str, key: str, entry_id: str, at: datetime, seconds: float, **changes) -> dict:
    """An airing outside the sessions, as the agent reports it (see stations.agent.jobs.Job)."""
    return {"event_id": uuid.uuid4().hex, "outcome": "played", "kind": kind, "occurrence_key": key,
            "entry_id": entry_id, "scheduled_at": at.isoformat(), "started_at": at.isoformat(),
            "seconds_played": seconds, **changes}


def test_the_day_shows_emergency_and_play_now_airings_apart_from_the_sessions(aired):
    """An emergency broadcast aired at 06:20 and a "play now" at 06:25 on 29/11 have sections of their own; an
    emergency at 23:50 on 28/11 belongs to the 28th (days are local)."""
    client, people, tokens, entries, _, _ = aired
    events = [played(entries[0]),
              _off_schedule("emergency", "emergency-5", "emergency-5-0", datetime(2026, 11, 28, 23, 20, tzinfo=UTC),
                            45, item_id=entries[0].item_id),
              _off_schedule("command", "command-9", "command-9", datetime(2026, 11, 28, 23, 25, tzinfo=UTC), 30,
                            audio_sha256=entries[1].audio.sha256),
              _off_schedule("emergency", "emergency-4", "emergency-4-0", datetime(2026, 11, 28, 16, 50, tzinfo=UTC),
                            45)]
    assert client.post("/api/v1/stations/HG1-01/events", headers=tokens["HG1-01"],
                       json={"events": events}).json["accepted"] == 4
    day = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=people["vanhanh"]).json
    [session] = day["occurrences"]
    assert [e["entry_id"] for e in session["events"]] == [entries[0].id]
    assert (session["played_s"], session["state"]) == (60.0, "partial")
    assert [(e["entry_id"], e["kind"], e["outcome"], e["seconds_played"], e["started_at"], e["title"])
            for e in day["emergencies"]] == [
        ("emergency-5-0", "emergency", "played", 45.0, "2026-11-29T06:20:00+07:00", "Tin một")]
    assert [(e["entry_id"], e["kind"], e["seconds_played"], e["started_at"], e["title"]) for e in day["play_now"]] == [
        ("command-9", "command", 30.0, "2026-11-29T06:25:00+07:00", "Tin hai")]
    assert day["unplanned"] == []
    before = client.get("/api/v1/stations/HG1-01/asrun/2026-11-28", headers=people["vanhanh"]).json
    assert [e["entry_id"] for e in before["emergencies"]] == ["emergency-4-0"]


def test_a_station_added_in_the_evening_missed_nothing_that_morning(aired, settings):
    """HG1-09 is added at 18:00 on 29/11 and compiled then, its day holding the 06:00 session long over: that
    session is shown as before the station was added, is not recorded as missed, and cannot be confirmed."""
    client, people, _, _, database, clock = aired
    evening = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # 18:00 in Hà Giang
    with database.sessions() as session:
        station = stations.add_station(session, stations.StationSpec("HG1-09", areas.find_area(session, "00694")))
        compiler.compile_stations(session, settings, now=evening, station_ids={station.id})
    clock["now"] = evening + timedelta(hours=2)
    with database.sessions() as session:
        assert asrun.mark_missed(session, now=clock["now"]) == 4  # the four stations that existed at 06:00
    assert "HG1-09" not in _airings(database)
    day = client.get("/api/v1/stations/HG1-09/asrun/2026-11-29", headers=people["vanhanh"]).json
    [session] = day["occurrences"]
    assert (session["state"], len(session["entries"])) == ("before_station", 2)
    refused = client.post("/api/v1/stations/HG1-09/confirmations", headers=people["vanhanh"],
                          json={"occurrence_key": session["key"], "status": "not_aired", "reason": "Chưa có đài"})
    assert refused.status_code == 422 and refused.json["errors"]["occurrence_key"]
    # The next morning's session is the station's like any other's (nothing in it here: see the next test).
    tomorrow = client.get("/api/v1/stations/HG1-09/asrun/2026-11-30", headers=people["vanhanh"]).json
    assert [o["state"] for o in tomorrow["occurrences"]] == ["upcoming"]


def test_an_empty_session_is_neither_awaiting_a_report_nor_missed(aired):
    """The 06:00 session of 30/11 has nothing in it (the items were placed for 29/11 only): once over, it is
    shown as having nothing to air, not as awaiting a report, and the check records nothing for it."""
    client, people, _, _, database, clock = aired
    clock["now"] = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 on 30/11
    with database.sessions() as session:
        asrun.mark_missed(session, now=clock["now"])
        keys = set(session.scalars(select(OccurrenceAiring.occurrence_key)))
    day = client.get("/api/v1/stations/HG1-01/asrun/2026-11-30", headers=people["vanhanh"]).json
    [session] = day["occurrences"]
    assert (session["state"], session["entries"], session["planned_s"]) == ("empty", [], 0.0)
    assert session["key"] not in keys
    refused = client.post("/api/v1/stations/HG1-01/confirmations", headers=people["vanhanh"],
                          json={"occurrence_key": session["key"], "status": "aired"})
    assert refused.status_code == 422


def test_heartbeat_updates_the_station(aired):
    client, _, tokens, _, database, _ = aired
    answer = client.post("/api/v1/stations/HG1-01/heartbeat", headers=tokens["HG1-01"], json={
        "agent_version": "0.1.0", "disk_free_bytes": 12_000_000, "volume": 80, "state": "playing"})
    assert answer.status_code == 200 and answer.json["server_time"] == "2026-11-29T06:30:00+07:00"
    with database.sessions() as session:
        station = session.scalar(select(Station).where(Station.code == "HG1-01"))
        assert (station.status, station.volume, station.agent_version, station.last_contact_at) == (
            StationStatus.PLAYING, 80, "0.1.0", AFTER_SESSION)
    assert client.post("/api/v1/stations/HG1-01/heartbeat", headers=tokens["HG1-01"],
                       json={"volume": 101}).status_code == 422


def test_commands_are_fetched_once_and_acknowledged(aired):
    client, people, tokens, _, _, _ = aired
    refused = client.post("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"],
                          json={"kind": "set_volume", "volume": 150})
    assert refused.status_code == 422
    issued = client.post("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"],
                         json={"kind": "set_volume", "volume": 70})
    assert issued.status_code == 201 and issued.json["state"] == "pending"
    fetched = client.get("/api/v1/stations/HG1-01/commands?wait=0", headers=tokens["HG1-01"]).json["commands"]
    assert [(c["kind"], c["args"], c["state"]) for c in fetched] == [("set_volume", {"volume": 70}, "delivered")]
    assert client.get("/api/v1/stations/HG1-01/commands?wait=0", headers=tokens["HG1-01"]).json["commands"] == []
    assert client.get("/api/v1/stations/HG1-02/commands?wait=0", headers=tokens["HG1-02"]).json["commands"] == []
    command_id = fetched[0]["id"]
    other = client.post(f"/api/v1/stations/HG1-02/commands/{command_id}/ack", headers=tokens["HG1-02"],
                        json={"ok": True})
    assert other.status_code == 404
    ack = client.post(f"/api/v1/stations/HG1-01/commands/{command_id}/ack", headers=tokens["HG1-01"],
                      json={"ok": True, "detail": "volume 70"})
    assert ack.status_code == 200 and ack.json["state"] == "done"
    listed = client.get("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"]).json["commands"]
    assert listed[0]["state"] == "done" and listed[0]["detail"] == "volume 70"


def test_a_long_poll_wakes_when_a_command_arrives(aired, seeded):
    client, people, tokens, _, _, _ = aired

    def issue_later():
        time.sleep(0.5)
        seeded.test_client().post("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"],
                                  json={"kind": "stop"})

    thread = threading.Thread(target=issue_later)
    started = time.monotonic()
    thread.start()
    answer = client.get("/api/v1/stations/HG1-01/commands?wait=10", headers=tokens["HG1-01"])
    waited = time.monotonic() - started
    thread.join()
    assert [c["kind"] for c in answer.json["commands"]] == ["stop"]
    assert 0.4 < waited < 5  # woke on the command, long before the 10 s wait ran out


def test_a_command_not_fetched_in_time_expires(aired):
    client, people, tokens, _, _, clock = aired
    client.post("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"], json={"kind": "stop"})
    clock["now"] = AFTER_SESSION + timedelta(minutes=6)
    assert client.get("/api/v1/stations/HG1-01/commands?wait=0", headers=tokens["HG1-01"]).json["commands"] == []
    listed = client.get("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"]).json["commands"]
    assert listed[0]["state"] == "expired"


def test_play_now_lets_the_station_fetch_that_audio(aired, settings):
    client, people, tokens, entries, _, _ = aired
    payload = b"ID3 announcement" * 100
    import hashlib

    from broadcast.db.models import AudioAsset

    sha = hashlib.sha256(payload).hexdigest()
    (settings.resolved_audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
    (settings.resolved_audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(payload)
    with aired[4].sessions() as session:
        session.add(AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=3000, origin="upload"))
        session.commit()
    assert client.get(f"/api/v1/audio/{sha}", headers=tokens["HG1-01"]).status_code == 404  # not its playlist
    client.post("/api/v1/stations/HG1-01/commands", headers=people["vanhanh"], json={"kind": "play_now",
                                                                                     "sha256": sha})
    fetched = client.get(f"/api/v1/audio/{sha}", headers=tokens["HG1-01"])
    assert fetched.status_code == 200 and fetched.data == payload
    assert client.get(f"/api/v1/audio/{sha}", headers=tokens["HG1-02"]).status_code == 404  # not its command
