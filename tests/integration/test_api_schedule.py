"""The scheduling API: slots, placements with their fit report, playlists, M3U8 and iCalendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadcast.db.models import AudioAsset, NewsItem
from broadcast.services import users

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang


@pytest.fixture
def api(seeded, client):
    seeded.extensions["clock"] = lambda: NOW
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        tokens = {name: users.issue_api_token(session, users.get_user(session, name), "t")
                  for name in ("bientap", "pheduyet", "vanhanh")}
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}

    def rendered_item(title, seconds, **fields):
        created = client.post("/api/v1/items", json={"title": title, "body": "Một hai ba.", **fields},
                              headers=headers["bientap"]).json
        with seeded.extensions["database"].sessions() as session:
            item = session.get(NewsItem, created["id"])
            item.audio_asset = AudioAsset(sha256=f"{item.id:064x}", size_bytes=seconds * 8000,
                                          duration_ms=seconds * 1000, origin="tts")
            session.commit()
        client.post(f"/api/v1/items/{created['id']}/submit", headers=headers["bientap"])
        assert client.post(f"/api/v1/items/{created['id']}/approve", headers=headers["pheduyet"]).status_code == 200
        return created["id"]

    return client, headers, rendered_item


MORNING = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600,
           "valid_from": "2026-11-28", "rrule": "FREQ=DAILY"}


def test_slot_place_compile_and_read_back(api):
    client, headers, rendered_item = api
    slot = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"])
    assert slot.status_code == 201, slot.json
    item_id = rendered_item("Tin tỉnh", 90)
    placed = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": item_id, "slot_id": slot.json["id"], "targets": ["08"], "date_from": "2026-11-29",
        "date_until": "2026-12-05"})
    assert placed.status_code == 201, placed.json
    assert placed.json["compile"] == {"compiled": True, "stations": 4, "problems": [
        {"kind": "underflow", "severity": "warning", "slot_time": "06:00", "stations": 4,
         "text": "khung giờ 06:00 bị thiếu nội dung ở 4 đài, nhiều nhất 8 phút 30 giây",
         "text_en": "the 06:00 slot is underfilled at 4 stations by up to 8 min 30 s"}]}
    day = client.get("/api/v1/stations/HG1-01/playlists/2026-11-29", headers=headers["vanhanh"]).json
    entry = day["occurrences"][0]["entries"][0]
    assert (entry["title"], entry["start"]) == ("Tin tỉnh", "2026-11-29T06:00:00+07:00")
    m3u8 = client.get("/api/v1/stations/HG1-01/playlists/2026-11-29.m3u8", headers=headers["vanhanh"])
    assert m3u8.status_code == 200 and m3u8.mimetype == "audio/x-mpegurl"
    assert "#EXTINF:90.000,Tin tỉnh" in m3u8.get_data(as_text=True)
    ics = client.get("/api/v1/areas/00694/schedule.ics", headers=headers["vanhanh"]).get_data(as_text=True)
    assert "BEGIN:VEVENT" in ics and "SUMMARY:Buổi sáng" in ics and "RRULE:FREQ=DAILY" in ics


def test_overlapping_slots_are_refused(api):
    client, headers, _ = api
    assert client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).status_code == 201
    clash = client.post("/api/v1/slots", headers=headers["vanhanh"],
                        json={**MORNING, "name": "Phường", "area": "00694", "start_time": "06:05"})
    assert clash.status_code == 409 and "Buổi sáng" in clash.json["message"]
    listed = client.get("/api/v1/slots?area=00694", headers=headers["vanhanh"]).json
    assert [s["name"] for s in listed] == ["Buổi sáng"]


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"date_from": "2026-11-27"}, 422, "date_from"),  # yesterday
        ({"targets": ["99999"]}, 404, "targets"),
        ({"targets": ["08"], "weekdays": ["XX"]}, 422, "weekdays"),
        ({"repeat_count": 10, "repeat_gap_s": 120}, 422, "item_id"),  # can never fit
    ],
)
def test_bad_placements(api, changes, status, field):
    client, headers, rendered_item = api
    slot_id = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).json["id"]
    item_id = rendered_item("Tin", 90)
    body = {"item_id": item_id, "slot_id": slot_id, "targets": ["08"], "date_from": "2026-11-29",
            "date_until": "2026-12-05", **changes}
    response = client.post("/api/v1/placements", json=body, headers=headers["bientap"])
    assert response.status_code == status, response.json
    assert field in response.json["errors"]


def test_unknown_day_format_and_missing_playlist(api):
    client, headers, _ = api
    assert client.get("/api/v1/stations/HG1-01/playlists/29-11-2026", headers=headers["vanhanh"]).status_code == 422
    missing = client.get("/api/v1/stations/HG1-01/playlists/2026-11-29", headers=headers["vanhanh"])
    assert missing.status_code == 404 and "HG1-01" in missing.json["message"]


@pytest.mark.parametrize(("start", "status", "shown"), [
    ("06:00", 201, "06:00"), ("06:00:30", 201, "06:00:30"), ("6h", 422, None), ("25:00", 422, None),
])
def test_slot_start_times_to_the_minute_or_second(api, start, status, shown):
    client, headers, _ = api
    answer = client.post("/api/v1/slots", json={**MORNING, "start_time": start}, headers=headers["bientap"])
    assert answer.status_code == status, answer.json
    if shown:
        assert answer.json["start_time"] == shown
    else:
        assert answer.json["errors"]["start_time"]


def test_placements_and_slots_change_in_place(api):
    client, headers, rendered_item = api
    slot = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).json
    item_id = rendered_item("Tin tỉnh", 90)
    placed = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": item_id, "slot_id": slot["id"], "targets": ["08"], "date_from": "2026-11-29",
        "date_until": "2026-12-05"}).json["placement"]

    def day_entries(day="2026-11-29"):
        found = client.get(f"/api/v1/stations/HG1-01/playlists/{day}", headers=headers["vanhanh"]).json
        return [(e["title"], e["start"][11:16]) for o in found["occurrences"] for e in o["entries"]
                if e["kind"] == "item"]

    changed = client.patch(f"/api/v1/placements/{placed['id']}", headers=headers["bientap"],
                           json={"repeat_count": 2, "repeat_gap_s": 120, "date_until": "2026-11-30"})
    assert changed.status_code == 200, changed.json
    assert changed.json["compile"]["compiled"] is True
    # Nothing else to air between the two: the repeat follows at once rather than leave dead air.
    assert day_entries() == [("Tin tỉnh", "06:00"), ("Tin tỉnh", "06:01")]
    assert day_entries("2026-12-01") == []  # it now ends on the 30th

    moved = client.patch(f"/api/v1/slots/{slot['id']}", headers=headers["bientap"],
                         json={"start_time": "07:00", "name": "Buổi sáng muộn"})
    assert moved.status_code == 200 and moved.json["start_time"] == "07:00"
    assert day_entries() == [("Tin tỉnh", "07:00"), ("Tin tỉnh", "07:01")]


@pytest.mark.parametrize(("url", "body", "status", "field"), [
    ("placement", {"date_from": "2026-11-27"}, 422, "date_from"),  # yesterday
    ("placement", {"repeat_count": 10, "repeat_gap_s": 600}, 422, "repeat_count"),  # can never fit in 10 min
    ("placement", {"slot_id": 1}, 422, "slot_id"),  # not editable in place
    ("placement", {"date_until": "2026-11-28"}, 422, "date_until"),  # before it starts
    ("slot", {"duration_s": 10}, 422, "duration_s"),
    ("slot", {"rrule": "FREQ=SOMETIMES"}, 422, "rrule"),
    ("slot", {"start_time": "17:55"}, 409, "start_time"),  # runs into the 18:00 commune session
])
def test_bad_changes_are_refused_and_nothing_is_written(api, url, body, status, field):
    client, headers, rendered_item = api
    slot = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).json
    client.post("/api/v1/slots", headers=headers["vanhanh"], json={
        **MORNING, "name": "Buổi tối phường", "area": "00694", "start_time": "18:00"})
    item_id = rendered_item("Tin tỉnh", 90)
    placed = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": item_id, "slot_id": slot["id"], "targets": ["08"], "date_from": "2026-11-29",
        "date_until": "2026-12-05"}).json["placement"]
    target = f"/api/v1/placements/{placed['id']}" if url == "placement" else f"/api/v1/slots/{slot['id']}"
    answer = client.patch(target, json=body, headers=headers["bientap"])
    assert answer.status_code == status, answer.json
    assert field in (answer.json.get("errors") or {}) or answer.json.get("field") == field or \
        field in str(answer.json), answer.json
    slots_now = {s["id"]: s for s in client.get("/api/v1/slots?area=00694", headers=headers["vanhanh"]).json}
    assert slots_now[slot["id"]]["start_time"] == "06:00" and slots_now[slot["id"]]["duration_s"] == 600
    day = client.get("/api/v1/stations/HG1-01/playlists/2026-11-29", headers=headers["vanhanh"]).json
    assert [e["start"][11:16] for o in day["occurrences"] for e in o["entries"] if e["kind"] == "item"] == ["06:00"]
