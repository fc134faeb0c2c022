"""Live relay items on the server: a bulletin whose content is a stream (URL and window), checked with Vietnamese
messages, approved without audio, placed and fitted by its window, compiled into a manifest entry of kind stream
with the slot's filler to fall back on, and its as-run event counted for the session."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from broadcast.db.models import AudioAsset, Slot
from broadcast.services import stations, users
from stations import manifest as wire
from tests.airing import PLANNED_AT

VOV = "http://10.20.0.5:8000/vov1.mp3"
RELAY = {"title": "Tiếp sóng VOV1", "content_source": "stream", "stream_url": VOV, "stream_duration_s": 300}
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}
FILLER_SHA = "f" * 64


@pytest.fixture
def world(seeded, client):
    clock = {"now": PLANNED_AT}
    seeded.extensions["clock"] = lambda: clock["now"]
    database = seeded.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("bientap", "pheduyet")}
        token = {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session, "HG1-01"))}
    return {"client": client, "people": people, "station": token, "database": database, "clock": clock}


def relay_item(world, **changes) -> dict:
    client, people = world["client"], world["people"]
    created = client.post("/api/v1/items", json={**RELAY, **changes}, headers=people["bientap"])
    assert created.status_code == 201, created.json
    item_id = created.json["id"]
    assert client.post(f"/api/v1/items/{item_id}/submit", headers=people["bientap"]).status_code == 200
    approved = client.post(f"/api/v1/items/{item_id}/approve", headers=people["pheduyet"])
    assert approved.status_code == 200, approved.json
    return approved.json


def slot_with_filler(world) -> int:
    client, people = world["client"], world["people"]
    slot_id = client.post("/api/v1/slots", json=SLOT, headers=people["bientap"]).json["id"]
    with world["database"].sessions() as session:
        session.get(Slot, slot_id).filler_asset = AudioAsset(sha256=FILLER_SHA, size_bytes=4000, duration_ms=60_000,
                                                             origin="filler")
        session.commit()
    return slot_id


def place(world, item_id: int, slot_id: int):
    return world["client"].post("/api/v1/placements", headers=world["people"]["bientap"], json={
        "item_id": item_id, "slot_id": slot_id, "targets": ["08"], "date_from": "2026-11-29",
        "date_until": "2026-11-29"})


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"stream_url": "ftp://10.20.0.5/vov1.mp3"}, "stream_url", "phải bắt đầu bằng http:// hoặc https://"),
        ({"stream_url": "http://nguoi:matkhau@10.20.0.5:8000/vov1.mp3"}, "stream_url", "mật khẩu"),
        ({"stream_url": "http:///vov1.mp3"}, "stream_url", "thiếu tên máy chủ"),
        ({"stream_url": "http://10.20.0.5:8000/vov 1.mp3"}, "stream_url", "dấu cách"),
        ({"stream_url": "http://10.20.0.5:99999/vov1.mp3"}, "stream_url", "Cổng"),
        ({"stream_url": "   "}, "stream_url", "Hãy nhập địa chỉ luồng"),
        ({"stream_url": None}, "stream_url", "Hãy nhập địa chỉ luồng"),
        ({"stream_duration_s": None}, "stream_duration_s", "Hãy nhập thời lượng tiếp sóng"),
        ({"stream_duration_s": 5}, "stream_duration_s", "từ 10 giây đến 12 giờ"),
        ({"stream_duration_s": 13 * 3600}, "stream_duration_s", "từ 10 giây đến 12 giờ"),
    ],
)
def test_a_bad_relay_is_refused_in_vietnamese_and_nothing_is_kept(world, changes, field, message):
    body = {k: v for k, v in {**RELAY, **changes}.items() if v is not None}
    client, editor = world["client"], world["people"]["bientap"]
    answer = client.post("/api/v1/items", json=body, headers=editor)
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]
    assert message in answer.json["message"]
    assert client.get("/api/v1/items", headers=editor).json == []


def test_a_relay_is_approved_without_audio_and_lasts_its_window(world):
    item = relay_item(world)
    assert item["content_source"] == "stream" and item["stream_url"] == VOV and item["stream_duration_s"] == 300
    assert item["duration_ms"] == 300_000 and item["status"] == "approved" and item["render_state"] == "none"
    client, editor = world["client"], world["people"]["bientap"]
    render = client.post(f"/api/v1/items/{item['id']}/render", headers=editor)
    assert render.status_code == 409 and "không cần tạo âm thanh" in render.json["message"]
    # A new window sends it back for approval, as any change to what airs does.
    changed = client.patch(f"/api/v1/items/{item['id']}", json={"stream_duration_s": 420}, headers=editor)
    assert changed.status_code == 200 and changed.json["status"] == "submitted"
    assert changed.json["duration_ms"] == 420_000


def test_a_placed_relay_reaches_the_station_as_a_stream_entry_with_the_filler_to_fall_back_on(world):
    slot_id = slot_with_filler(world)
    item = relay_item(world)
    assert place(world, item["id"], slot_id).status_code == 201
    client, token = world["client"], world["station"]
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=token).data)
    [day] = [d for d in manifest.days if str(d.date) == "2026-11-29"]
    relay, *fillers = day.entries
    assert (relay.kind, relay.audio, relay.item_id, relay.title) == ("stream", None, item["id"], "Tiếp sóng VOV1")
    assert relay.stream.url == VOV and relay.stream.fallback.sha256 == FILLER_SHA
    assert relay.start.isoformat() == "2026-11-29T06:00:00+07:00" and relay.play_ms == 300_000
    # The window counts for fit: the filler fills the other five minutes (after the slot's 1 s gap).
    assert [e.kind for e in fillers] == ["filler"] * 5 and fillers[0].start - relay.end == timedelta(seconds=1)
    # The station may fetch the fallback like any audio its manifest names.
    assert FILLER_SHA in {a.sha256 for a in wire.audio_files(manifest)}


def test_a_window_longer_than_the_slot_is_refused_at_placement(world):
    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=700)
    answer = place(world, item["id"], slot_id)
    assert answer.status_code == 422, answer.json


def test_a_relay_reported_partly_relayed_counts_the_session_as_partial(world):
    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=600)
    assert place(world, item["id"], slot_id).status_code == 201
    client, token = world["client"], world["station"]
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=token).data)
    [relay] = [e for d in manifest.days if str(d.date) == "2026-11-29" for e in d.entries]
    event = {"event_id": uuid.uuid4().hex, "outcome": "played", "kind": "stream", "entry_id": relay.id,
             "occurrence_key": relay.occurrence_key, "slot_id": relay.slot_id, "item_id": relay.item_id,
             "audio_sha256": FILLER_SHA, "scheduled_at": relay.start.isoformat(),
             "started_at": relay.start.isoformat(), "ended_at": relay.end.isoformat(), "seconds_played": 480.0,
             "reason": "partly relayed: stream 480 s, filler 120 s; the stream dropped 1 time (the stream ended)"}
    answer = client.post("/api/v1/stations/HG1-01/events", json={"events": [event]}, headers=token)
    assert answer.status_code == 200 and answer.json == {"accepted": 1, "duplicates": 0}, answer.json
    world["clock"]["now"] = relay.end.astimezone(PLANNED_AT.tzinfo)
    operator = world["people"]["bientap"]
    day = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=operator)
    assert day.status_code == 200, day.json
    [session] = day.json["occurrences"]
    assert session["state"] == "partial"  # the filler stood in for two minutes of it (see test_relay_counts.py)
    [reported] = session["events"]
    assert reported["kind"] == "stream" and reported["seconds_played"] == 480.0
    assert reported["reason"].startswith("partly relayed")


def test_the_operators_day_page_says_what_the_relay_did_in_vietnamese(world, seeded):
    from tests.conftest import log_in

    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=600)
    assert place(world, item["id"], slot_id).status_code == 201
    client, token = world["client"], world["station"]
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=token).data)
    [relay] = [e for d in manifest.days if str(d.date) == "2026-11-29" for e in d.entries]
    reasons = ["partly relayed: stream 1680 s, filler 125 s; the stream dropped 1 time (the stream ended; last: "
               "the stream answered HTTP 404); interrupted by emergency storm",
               "the stream did not play (the stream player exited with status 1: Connection refused); filler 0 s, "
               "silence 300 s"]
    events = [{"event_id": uuid.uuid4().hex, "outcome": outcome, "kind": "stream", "entry_id": relay.id,
               "occurrence_key": relay.occurrence_key, "slot_id": relay.slot_id, "item_id": relay.item_id,
               "scheduled_at": relay.start.isoformat(), "seconds_played": seconds, "reason": reason}
              for outcome, seconds, reason in (("played", 1680.0, reasons[0]), ("failed", 0.0, reasons[1]))]
    assert client.post("/api/v1/stations/HG1-01/events", json={"events": events}, headers=token).status_code == 200
    browser = seeded.test_client()
    log_in(browser, "vanhanh")
    page = browser.get("/stations/HG1-01/days/2026-11-29").get_data(as_text=True)
    assert 'Tiếp sóng VOV1 <span class="muted">(tiếp sóng trực tiếp)</span>' in page  # the planned entry
    # How long it played as a length (28 minutes), not a count of seconds (1680).
    assert '<td data-label="Thời lượng đã phát" class="num">28:00</td>' in page and ">1680<" not in page
    assert ("tiếp sóng một phần: luồng 28 phút, nhạc đệm 2 phút 05 giây; luồng bị ngắt 1 lần (the stream ended; "
            "last: the stream answered HTTP 404; interrupted by emergency storm)") in page
    assert ("không phát được luồng; nhạc đệm 0 giây, im lặng 5 phút (the stream player exited with status 1: "
            "Connection refused)") in page


def test_a_station_whose_agent_cannot_relay_gets_the_window_as_filler_and_the_others_the_relay(world):
    from sqlalchemy import select

    from broadcast.db.models import Station

    with world["database"].sessions() as session:
        session.scalar(select(Station).where(Station.code == "HG1-01")).agent_version = "1.0.0"
        session.scalar(select(Station).where(Station.code == "HG1-02")).agent_version = "1.1.0"
        session.commit()
        other = {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session, "HG1-02"))}
    slot_id = slot_with_filler(world)
    item = relay_item(world)
    assert place(world, item["id"], slot_id).status_code == 201
    client = world["client"]

    def day_of(headers):
        manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest" if headers is world["station"]
                                             else "/api/v1/stations/HG1-02/manifest", headers=headers).data)
        return [d for d in manifest.days if str(d.date) == "2026-11-29"][0].entries

    old, new = day_of(world["station"]), day_of(other)
    assert [e.kind for e in new][:1] == ["stream"]
    assert all(e.kind == "filler" and e.stream is None for e in old)
    # The relay's five minutes as five minutes of its filler, then the slot's own filler as before.
    window = [e for e in old if e.id.startswith(new[0].id + ".")]
    assert [e.play_ms for e in window] == [60_000] * 5 and window[0].start == new[0].start
    assert window[-1].end == new[0].end and {e.audio.sha256 for e in window} == {FILLER_SHA}


def test_an_agent_updated_to_relay_has_its_station_compiled_again(world):
    from sqlalchemy import select

    from broadcast.db.models import CompileRequest, Station

    def beat(version: str) -> set[int]:
        answer = world["client"].post("/api/v1/stations/HG1-01/heartbeat", headers=world["station"],
                                      json={"agent_version": version, "state": "idle"})
        assert answer.status_code == 200, answer.json
        with world["database"].sessions() as session:
            return set(session.scalars(select(CompileRequest.station_id)))

    def forget() -> None:
        with world["database"].sessions() as session:
            session.execute(CompileRequest.__table__.delete())
            session.commit()

    with world["database"].sessions() as session:
        station_id = session.scalar(select(Station.id).where(Station.code == "HG1-01"))
    # Never heard from, it was taken as able to relay: an old agent's first heartbeat has it compiled again.
    assert beat("1.0.0") == {station_id}
    forget()
    assert beat("1.0.0") == set()  # no change, nothing asked
    assert beat("1.1.0") == {station_id}  # updated: its manifest gets the relays
    forget()
    assert beat("1.2.0") == set()


def test_a_relay_opens_its_session_so_it_starts_on_the_programmes_clock(world):
    """A bulletin already placed in the 06:00 session does not push the relay late: placed without a position, the
    relay takes the first place; given one, it keeps it."""
    slot_id = slot_with_filler(world)
    client, people = world["client"], world["people"]
    news = client.post("/api/v1/items", json={"title": "Tin sáng", "body": "Một hai ba."},
                       headers=people["bientap"]).json
    with world["database"].sessions() as session:
        from broadcast.db.models import NewsItem

        session.get(NewsItem, news["id"]).audio_asset = AudioAsset(sha256="a" * 64, size_bytes=8000,
                                                                   duration_ms=60_000, origin="tts")
        session.commit()
    client.post(f"/api/v1/items/{news['id']}/submit", headers=people["bientap"])
    assert client.post(f"/api/v1/items/{news['id']}/approve", headers=people["pheduyet"]).status_code == 200
    assert place(world, news["id"], slot_id).status_code == 201
    relay = relay_item(world)
    placed = place(world, relay["id"], slot_id)
    assert placed.status_code == 201 and placed.json["placement"]["position"] == 1
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=world["station"]).data)
    [day] = [d for d in manifest.days if str(d.date) == "2026-11-29"]
    first, second = day.entries[:2]
    assert (first.kind, first.start.isoformat(), first.end.isoformat()) == (
        "stream", "2026-11-29T06:00:00+07:00", "2026-11-29T06:05:00+07:00")
    assert second.item_id == news["id"]
    # An editor who wants it second says so.
    moved = client.patch(f"/api/v1/placements/{placed.json['placement']['id']}", json={"position": 2},
                         headers=people["bientap"])
    assert moved.status_code == 200, moved.json
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=world["station"]).data)
    [day] = [d for d in manifest.days if str(d.date) == "2026-11-29"]
    assert [e.kind for e in day.entries[:2]] == ["item", "stream"]
