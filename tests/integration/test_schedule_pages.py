"""The scheduling timeline page: sessions in local time, their fill and overflow, and reordering items."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from broadcast.db.models import AudioAsset, NewsItem, Placement
from broadcast.services import users
from tests.conftest import csrf_from, log_in

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang, the evening before the session
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}
PAGE = "/schedule?day=2026-11-29"
SCRIPT = "<script>alert(1)</script>"


def build_schedule(app, items: list[tuple[str, int]]) -> dict:
    """A daily 06:00 province slot of 10 minutes with ``items`` (title, seconds) placed on 29/11/2026, in order."""
    app.extensions["clock"] = lambda: NOW
    api = app.test_client()
    database = app.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("bientap", "pheduyet")}
    # The slot is placed into at 30 minutes and then shortened to 10: a full slot that rejects overflow refuses
    # new placements, but one shortened afterwards (or speech longer than its estimate) still overflows.
    slot_id = api.post("/api/v1/slots", json={**SLOT, "duration_s": 1800}, headers=people["bientap"]).json["id"]
    placements = []
    for title, seconds in items:
        created = api.post("/api/v1/items", json={"title": title, "body": "Một hai ba."},
                           headers=people["bientap"]).json
        with database.sessions() as session:
            session.get(NewsItem, created["id"]).audio_asset = AudioAsset(
                sha256=f"{created['id']:064x}", size_bytes=8000, duration_ms=seconds * 1000, origin="tts")
            session.commit()
        api.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
        api.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
        placed = api.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": created["id"], "slot_id": slot_id, "targets": ["08"], "date_from": "2026-11-29",
            "date_until": "2026-11-29"})
        assert placed.status_code == 201, placed.json
        placements.append(placed.json["placement"]["id"])
    assert api.patch(f"/api/v1/slots/{slot_id}", json={"duration_s": SLOT["duration_s"]},
                     headers=people["bientap"]).status_code == 200
    return {"api": api, "people": people, "placements": placements, "database": database}


def text(response) -> str:
    return response.get_data(as_text=True)


def titles_in_order(page: str, titles) -> list[str]:
    """The titles in the order the session's item list shows them."""
    items = page.split('<ol class="tl-items"', 1)[1]
    return sorted(titles, key=items.index)


def move_form(page: str, placement_id: int) -> dict:
    """The fields of one item's move form, as the browser would send them (without the pressed button)."""
    within = r"(?:(?!</form>).)*?"
    form = re.search(rf'<form class="tl-move"{within}name="placement_id" value="{placement_id}"{within}</form>',
                     page, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


@pytest.fixture
def three(seeded):
    """Three items that fit the session: 200 + 150 + 128 s with two 1 s gaps in 600 s."""
    return build_schedule(seeded, [("Tin một", 200), ("Tin hai", 150), ("Tin ba", 128)])


@pytest.fixture
def full(seeded):
    # 300 + 200 + 228 s with two 1 s gaps: 730 s in a 600 s session, 2 min 10 s too many.
    return build_schedule(seeded, [("Tin một", 300), ("Tin hai", 200), ("Tin ba", 228)])


def test_timeline_shows_local_times_fill_and_overflow(full, client):
    log_in(client, "bientap")
    response = client.get(PAGE)
    page = text(response)
    assert response.status_code == 200
    assert "06:00–06:10 · Buổi sáng" in page  # 23:00 UTC the day before, shown in local time
    assert "06:05:01" in page  # items' local start times
    assert "2 phút 10 giây" in page and "tl-over" in page  # the overflow in Vietnamese words
    assert 'class="tl-overflow" width="17.81%" x="68.63%"' in page  # 130 of 730 s drawn red
    # The slot rejects overflow: the last item is left out rather than aired past 06:10, and the page says so.
    assert "06:08:22" not in page and "Không phát trong buổi này: «Tin ba»." in page
    assert titles_in_order(page, ["Tin một", "Tin hai"]) == ["Tin một", "Tin hai"]
    assert 'href="/schedule"' in page  # the navigation link
    client.set_cookie("lang", "en")
    page = text(client.get(PAGE))
    assert "8 min 21 s of 10 min" in page and "over by 2 min 10 s" in page
    week = text(client.get("/schedule?day=2026-12-02&view=week"))
    assert week.count("· Buổi sáng</h3>") == 7  # a daily slot, Monday 30/11 to Sunday 6/12
    assert "Monday, 30/11/2026" in week and "Sunday, 06/12/2026" in week


def test_underfilled_session_shows_free_time(seeded, client):
    build_schedule(seeded, [("Short news", 90)])
    log_in(client, "bientap")
    client.set_cookie("lang", "en")
    page = text(client.get(PAGE))
    assert "1 min 30 s of 10 min" in page and "8 min 30 s free" in page and "over by" not in page
    assert 'class="tl-used" width="15.00%"' in page


def test_moving_an_item_changes_the_order(three, client):
    log_in(client, "bientap")
    page = text(client.get(PAGE))
    fields = move_form(page, three["placements"][0])
    response = client.post("/schedule/move", data={**fields, "to": "2"})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert titles_in_order(page, ["Tin một", "Tin hai", "Tin ba"]) == ["Tin hai", "Tin một", "Tin ba"]
    fields = move_form(page, three["placements"][2])
    client.post("/schedule/move", data={**fields, "to": "1"})
    page = text(client.get(PAGE))
    assert titles_in_order(page, ["Tin một", "Tin hai", "Tin ba"]) == ["Tin ba", "Tin hai", "Tin một"]
    with three["database"].sessions() as session:
        assert session.get(Placement, three["placements"][2]).position == 1


def test_moving_needs_the_csrf_token(three, client):
    log_in(client, "bientap")
    fields = move_form(text(client.get(PAGE)), three["placements"][0])
    response = client.post("/schedule/move", data={**{k: v for k, v in fields.items() if k != "csrf_token"},
                                                   "to": "2"})
    assert response.status_code == 400
    page = text(client.get(PAGE))
    assert titles_in_order(page, ["Tin một", "Tin hai", "Tin ba"]) == ["Tin một", "Tin hai", "Tin ba"]


def test_approver_reads_but_cannot_move(three, client):
    log_in(client, "bientap")
    fields = move_form(text(client.get(PAGE)), three["placements"][0])
    client.post("/logout", data={"csrf_token": fields["csrf_token"]})
    log_in(client, "pheduyet")
    page = text(client.get(PAGE))
    assert "Tin một" in page and 'class="tl-move"' not in page
    response = client.post("/schedule/move", data={**fields, "csrf_token": csrf_from(page), "to": "2"})
    assert response.status_code == 403
    with three["database"].sessions() as session:
        assert session.get(Placement, three["placements"][0]).position is None


def test_operator_sees_only_their_commune(three, client):
    log_in(client, "vanhanh")
    page = text(client.get(PAGE))
    assert "Phường Hà Giang 1" in page and "Tin một" in page
    assert 'href="/schedule"' not in page  # not in the operator's navigation
    province = re.search(r'<option value="(\d+)"', page).group(1)
    assert client.get(f"/schedule?area={int(province) + 10_000}").status_code == 404
    # The province's items lie outside the commune operator's scope: they cannot reorder them.
    fields = move_form(page, three["placements"][0])
    response = client.post("/schedule/move", data={**fields, "to": "2"}, follow_redirects=True)
    assert '<p class="flash error" role="status">Không có tin số' in text(response)  # the province's item
    with three["database"].sessions() as session:
        assert session.get(Placement, three["placements"][0]).position is None


def test_hostile_title_is_escaped(seeded, client):
    build_schedule(seeded, [(SCRIPT, 60)])
    log_in(client, "bientap")
    page = text(client.get(PAGE))
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
