"""A placement's answer says what will air: refused when it would overflow a rejecting slot, never air, or
only reach locked sessions; otherwise it names the days without a session, the locked sessions and what gave
way. Through the API and the browser form, on a real database."""

from __future__ import annotations

from sqlalchemy import func, select

from broadcast.db.models import Placement
from tests.conftest import log_in
from tests.integration import test_api_schedule
from tests.integration.test_api_schedule import MORNING
from tests.integration.test_placement_pages import fields, place

api = test_api_schedule.api  # the fixture: a client, bearer headers per person, and approved items with audio
PLACE = {"targets": ["08"], "date_from": "2026-11-29", "date_until": "2026-12-05"}


def _placements(seeded) -> int:
    with seeded.extensions["database"].sessions() as session:
        return session.scalar(select(func.count()).select_from(Placement))


def _items_on(client, headers, day="2026-11-29"):
    found = client.get(f"/api/v1/stations/HG1-01/playlists/{day}", headers=headers["vanhanh"]).json
    return [(e["title"], e["start"][11:19], e["end"][11:19]) for o in found["occurrences"] for e in o["entries"]
            if e["kind"] == "item"]


def test_a_full_rejecting_slot_refuses_the_placement_with_the_fit_report_and_writes_nothing(api, seeded):
    client, headers, rendered_item = api
    slot_id = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).json["id"]
    first = client.post("/api/v1/placements", headers=headers["bientap"],
                        json={"item_id": rendered_item("Tin đầu", 400), "slot_id": slot_id, **PLACE})
    assert first.status_code == 201, first.json
    before = _placements(seeded)
    second = client.post("/api/v1/placements", headers=headers["bientap"],
                         json={"item_id": rendered_item("Tin thừa", 300), "slot_id": slot_id, **PLACE})
    assert second.status_code == 409, second.json
    assert "06:00" in second.json["message"] and "không còn chỗ" in second.json["message"]
    problems = second.json["details"]["problems"]
    assert {p["kind"] for p in problems} >= {"overflow"} and problems[0]["stations"] == 4
    assert _placements(seeded) == before
    assert _items_on(client, headers) == [("Tin đầu", "06:00:00", "06:06:40")]


def test_a_dropping_slot_says_which_item_gave_way(api):
    client, headers, rendered_item = api
    slot_id = client.post("/api/v1/slots", json={**MORNING, "overflow_policy": "drop"},
                          headers=headers["bientap"]).json["id"]
    client.post("/api/v1/placements", headers=headers["bientap"],
                json={"item_id": rendered_item("Tin cũ", 400), "slot_id": slot_id, **PLACE})
    urgent = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": rendered_item("Tin gấp", 300), "slot_id": slot_id, **PLACE, "priority": 5})
    assert urgent.status_code == 201, urgent.json
    dropped = [n for n in urgent.json["airing"]["notes"] if n["kind"] == "dropped"]
    assert dropped and "«Tin cũ»" in dropped[0]["text"] and "4 đài" in dropped[0]["text"]
    assert "«Tin cũ»" in dropped[0]["text_en"] and "dropped" in dropped[0]["text_en"]
    assert _items_on(client, headers) == [("Tin gấp", "06:00:00", "06:05:00")]


def test_a_moving_slot_says_which_item_moved_to_the_next_session(api):
    client, headers, rendered_item = api
    slot_id = client.post("/api/v1/slots", json={**MORNING, "overflow_policy": "move_next"},
                          headers=headers["bientap"]).json["id"]
    client.post("/api/v1/placements", headers=headers["bientap"],
                json={"item_id": rendered_item("Tin cũ", 400), "slot_id": slot_id, **PLACE})
    urgent = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": rendered_item("Tin gấp", 300), "slot_id": slot_id, **PLACE, "priority": 5})
    moved = [n for n in urgent.json["airing"]["notes"] if n["kind"] == "moved"]
    assert moved and "«Tin cũ»" in moved[0]["text"] and "buổi sau" in moved[0]["text"]


def test_dates_without_a_session_are_refused(api, seeded):
    client, headers, rendered_item = api
    once = client.post("/api/v1/slots", headers=headers["bientap"], json={
        **MORNING, "name": "Một lần", "rrule": "FREQ=DAILY;COUNT=1", "valid_from": "2026-11-29"}).json["id"]
    before = _placements(seeded)
    answer = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": rendered_item("Tin", 60), "slot_id": once, **PLACE, "date_from": "2026-12-01",
        "date_until": "2026-12-02"})
    assert answer.status_code == 422, answer.json
    assert "không có buổi phát" in answer.json["message"] and "date_from" in answer.json["errors"]
    assert _placements(seeded) == before


def test_some_days_without_a_session_are_named(api):
    client, headers, rendered_item = api
    mondays = client.post("/api/v1/slots", headers=headers["bientap"], json={
        **MORNING, "name": "Thứ hai", "rrule": "FREQ=WEEKLY;BYDAY=MO"}).json["id"]
    answer = client.post("/api/v1/placements", headers=headers["bientap"],
                         json={"item_id": rendered_item("Tin", 60), "slot_id": mondays, **PLACE})
    assert answer.status_code == 201, answer.json
    airing = answer.json["airing"]
    assert airing["days"] == ["2026-11-30"]
    assert airing["first"] == "2026-11-30T06:00:00+07:00"
    assert len(airing["days_without_session"]) == 6
    [note] = [n for n in airing["notes"] if n["kind"] == "no_session"]
    assert "30/11/2026" in note["text"] and "6" in note["text"]


def test_a_locked_session_is_named_with_the_first_airing(api, seeded):
    client, headers, rendered_item = api  # the clock says 22:00 on 28/11 in Hà Giang; sessions lock 30 min ahead
    late = client.post("/api/v1/slots", headers=headers["bientap"], json={
        **MORNING, "name": "Buổi tối", "start_time": "22:20"}).json["id"]
    item_id = rendered_item("Tin muộn", 60)
    today_only = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": item_id, "slot_id": late, **PLACE, "date_from": "2026-11-28", "date_until": "2026-11-28"})
    assert today_only.status_code == 409, today_only.json
    assert "khóa" in today_only.json["message"]
    before = _placements(seeded)
    assert before == 0
    answer = client.post("/api/v1/placements", headers=headers["bientap"], json={
        "item_id": item_id, "slot_id": late, **PLACE, "date_from": "2026-11-28", "date_until": "2026-11-29"})
    assert answer.status_code == 201, answer.json
    assert answer.json["airing"]["first"] == "2026-11-29T22:20:00+07:00"
    [note] = [n for n in answer.json["airing"]["notes"] if n["kind"] == "locked"]
    assert "22:20 28/11/2026" in note["text"] and "22:20 29/11/2026" in note["text"]
    assert "locked" in note["text_en"]


def test_the_place_page_refuses_an_overflow_and_says_what_was_dropped(api, seeded):
    client, headers, rendered_item = api
    slot_id = client.post("/api/v1/slots", json=MORNING, headers=headers["bientap"]).json["id"]
    dropping = client.post("/api/v1/slots", headers=headers["bientap"], json={
        **MORNING, "name": "Buổi chiều", "start_time": "17:00", "overflow_policy": "drop"}).json["id"]
    for slot in (slot_id, dropping):
        client.post("/api/v1/placements", headers=headers["bientap"],
                    json={"item_id": rendered_item("Tin cũ", 400), "slot_id": slot, **PLACE})
    too_long, urgent = rendered_item("Tin thừa", 300), rendered_item("Tin gấp", 300)
    log_in(client, "bientap")  # the page, as the editor sees it (the cookie now speaks for bientap)

    refused = place(client, too_long, **fields(slot_id, targets=["08"]))
    assert refused.status_code == 409
    assert "không còn chỗ" in refused.get_data(as_text=True)
    assert _placements(seeded) == 2

    placed = place(client, urgent, **fields(dropping, targets=["08"], priority="5"))
    assert placed.status_code == 302
    timeline = client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "«Tin cũ»" in timeline and "bị bỏ" in timeline
