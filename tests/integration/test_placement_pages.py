"""Placing an item from the browser: the form with its target tree (within the user's area only), a placement that
lands on the timeline, the service's refusals next to their fields with nothing written, CSRF, escaping, the tree
of a large province loaded on demand, and taking a placement off again; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from broadcast.db.models import AudioAsset, ItemStatus, NewsItem, Placement, Station, Structure
from broadcast.services import areas, placements, slots, users
from tests.conftest import csrf_from, log_in
from tests.integration.test_item_pages import make_item, page_of, sessions

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 on 28/11 in Hà Giang: the 06:00 session is tomorrow's
DAY = "2026-11-29"
SCRIPT = "<script>alert(1)</script>"


def area_id(app, code: str) -> int:
    with sessions(app) as session:
        return areas.find_area(session, code, structure=Structure.CURRENT).id


def morning_slot(app) -> int:
    """The province's daily 06:00 session of ten minutes, from 28/11/2026."""
    with app.app_context(), sessions(app) as session:
        spec = slots.SlotSpec(name="Buổi sáng", start_time=time(6, 0), duration_s=600, valid_from=date(2026, 11, 28))
        return slots.create_slot(session, users.get_user(session, "bientap"), spec,
                                 area=areas.find_area(session, "08", structure=Structure.CURRENT)).id


def approved_item(app, title: str, *, seconds: int = 90, author: str = "bientap", owner: str | None = None) -> int:
    """An approved item with its audio (``seconds`` long), so the timeline shows its real length."""
    item_id = make_item(app, title, author=author, owner=owner, status=ItemStatus.APPROVED)
    with sessions(app) as session:
        session.get(NewsItem, item_id).audio_asset = AudioAsset(
            sha256=f"{item_id:064x}", size_bytes=8000, duration_ms=seconds * 1000, origin="tts")
        session.commit()
    return item_id


@pytest.fixture
def ready(seeded):
    seeded.extensions["clock"] = lambda: NOW
    return {"app": seeded, "slot": morning_slot(seeded), "item": approved_item(seeded, "Lịch tiêm phòng")}


def fields(slot: int, **changes) -> dict:
    """The form as the browser sends it: every weekday ticked, once per session (lists become repeated fields)."""
    return {"slot": str(slot), "date_from": DAY, "date_until": DAY, "weekdays": ["MO", "TU", "WE", "TH", "FR", "SA",
                                                                                   "SU"],
            "repeat_count": "1", "repeat_gap_s": "0", "priority": "0", "position": "", **changes}


def place(client, item_id: int, /, **form):
    token = csrf_from(page_of(client.get(f"/items/{item_id}/place")))
    return client.post(f"/items/{item_id}/place", data={"csrf_token": token, **form})


def count_placements(app) -> int:
    with sessions(app) as session:
        return session.scalar(select(func.count(Placement.id)))


def boxes(page: str) -> list[str]:
    return re.findall(r'name="targets" value="([^"]+)"', page)


def test_the_form_shows_the_tree_of_the_users_area_only(ready, client):
    app, item = ready["app"], ready["item"]
    log_in(client, "bientap")
    editor = client.get(f"/items/{item}")
    assert f'href="/items/{item}/place">Xếp lịch phát</a>' in page_of(editor)
    response = client.get(f"/items/{item}/place")
    page = page_of(response)
    assert response.status_code == 200
    assert "06:00 · Buổi sáng (10 phút)" in page
    assert 'id="date_from" name="date_from" value="2026-11-28"' in page
    found = boxes(page)
    assert found[0] == "08" and {"00694", "00691", "station:HG1-01", "station:HG1-02", "station:HG2-01"} <= set(found)
    assert "Tỉnh Tuyên Quang" in page and "124 xã, 4 đài" in page and "Tỉnh Hà Giang" not in page  # not the old map
    assert "Chưa có trong lịch phát." in page

    # A commune operator: their commune and its stations, nothing else of the province.
    commune_item = approved_item(app, "Họp tổ dân phố", author="vanhanh", owner="00694")
    log_in(client, "vanhanh")
    page = page_of(client.get(f"/items/{commune_item}/place"))
    assert boxes(page) == ["00694", "station:HG1-01", "station:HG1-02"]
    assert "Phường Hà Giang 2" not in page and "Buổi sáng" in page  # the province's slot is inherited
    assert client.get(f"/items/{item}/place").status_code == 404  # the province's item is not theirs
    assert client.get(f"/areas/{area_id(app, '00691')}/children").status_code == 403

    # An approver reads the item but places nothing; a draft offers no placing.
    log_in(client, "pheduyet")
    assert "/place" not in page_of(client.get(f"/items/{item}"))
    assert client.get(f"/items/{item}/place").status_code == 403
    log_in(client, "bientap")
    draft = make_item(app, "Bản nháp")
    assert "/place" not in page_of(client.get(f"/items/{draft}"))


def test_placing_writes_the_placement_and_opens_the_timeline_on_it(ready, client):
    app, item = ready["app"], ready["item"]
    log_in(client, "bientap")
    response = place(client, item, **fields(ready["slot"], targets=["00694", "station:HG2-01"], repeat_count="2",
                                            repeat_gap_s="5", priority="7"))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/schedule"
    assert parse_qs(location.query) == {"area": [str(area_id(app, "00694"))], "day": [DAY]}
    with sessions(app) as session:
        placement = session.scalar(select(Placement))
        assert (placement.item_id, placement.slot_id) == (item, ready["slot"])
        assert (placement.date_from, placement.date_until) == (date(2026, 11, 29), date(2026, 11, 29))
        assert (placement.weekdays, placement.repeat_count, placement.repeat_gap_s, placement.priority,
                placement.position) == (None, 2, 5, 7, None)
        assert sorted(t.code for t in placement.targets) == ["00694", "station:HG2-01"]
        assert placement.placed_by_area_id == area_id(app, "08")

    timeline = page_of(client.get(response.headers["Location"]))
    assert "Đã xếp lịch phát: Lịch tiêm phòng, 06:00 · Buổi sáng (10 phút), 29/11/2026." in timeline
    assert '<span class="tl-title">Lịch tiêm phòng' in timeline and "06:00–06:10 · Buổi sáng" in timeline
    page = page_of(client.get(f"/items/{item}/place"))
    assert "Đã có trong lịch phát" in page and "Phường Hà Giang 1, Đài phường Hà Giang 2 (HG2-01)" in page

    # A commune operator's placement of their own item is the commune's (a commune-local item), on chosen days.
    commune_item = approved_item(app, "Họp tổ dân phố", author="vanhanh", owner="00694")
    log_in(client, "vanhanh")
    response = place(client, commune_item, **fields(ready["slot"], targets=["station:HG1-02"], date_until="2026-12-06",
                                                    weekdays=["TU", "TH"]))
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["day"] == ["2026-12-01"]  # the first Tuesday
    with sessions(app) as session:
        placement = session.scalar(select(Placement).where(Placement.item_id == commune_item))
        assert placement.placed_by_area_id == area_id(app, "00694") and placement.weekdays == "TU,TH"
        assert [t.code for t in placement.targets] == ["station:HG1-02"]


def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written(ready, client):
    app, item, slot = ready["app"], ready["item"], ready["slot"]
    log_in(client, "bientap")
    cases = [
        (fields(slot, targets=["00694"], date_from="2026-11-27"), 400, "date_from",
         "Lịch phát không thể bắt đầu trong quá khứ (27/11/2026)."),
        (fields(slot + 100, targets=["00694"]), 400, "slot", "Hãy chọn một khung giờ trong danh sách."),
        (fields(slot), 400, "targets", "Hãy chọn ít nhất một địa bàn hoặc một đài để phát tin."),
        (fields(slot, targets=["02"]), 403, "targets", "Tỉnh Hà Giang nằm ngoài địa bàn của bạn."),
        (fields(slot, targets=["00694"], weekdays=[]), 400, "weekdays", "Hãy chọn ít nhất một ngày trong tuần."),
        (fields(slot, targets=["00694"], repeat_count="hai"), 400, "repeat_count", "Hãy nhập một số nguyên."),
        (fields(slot, targets=["00694"], repeat_count="9"), 400, "slot",
         "Tin cần 13 phút 38 giây nhưng khung giờ chỉ dài 10 phút: không bao giờ vừa."),
    ]
    for form, status, field, message in cases:
        response = place(client, item, **form)
        page = page_of(response)
        assert response.status_code == status, (form, page)
        assert f'<div id="{field}-error"><p class="error" role="alert">{html.escape(message, quote=False)}</p>' in page
        assert 'value="2026-11-2' in page  # the days as typed are kept
    token = csrf_from(page)
    assert client.post(f"/items/{item + 100}/place", data={"csrf_token": token, **fields(
        slot, targets=["00694"])}).status_code == 404  # an unknown item
    assert count_placements(app) == 0

    # Outside a commune operator's area: their neighbour commune is refused; what they ticked stays ticked.
    commune_item = approved_item(app, "Họp tổ dân phố", author="vanhanh", owner="00694")
    log_in(client, "vanhanh")
    response = place(client, commune_item, **fields(slot, targets=["station:HG1-01", "00691"]))
    page = page_of(response)
    assert response.status_code == 403 and "Phường Hà Giang 2 nằm ngoài địa bàn của bạn." in page
    assert 'value="station:HG1-01" checked' in page and f'<option value="{slot}" selected>' in page
    assert count_placements(app) == 0


def test_placing_needs_the_csrf_token(ready, client):
    log_in(client, "bientap")
    response = client.post(f"/items/{ready['item']}/place", data=fields(ready["slot"], targets=["00694"]))
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in page_of(response)
    assert count_placements(ready["app"]) == 0


def test_a_hostile_title_shows_as_text(ready, client):
    item = approved_item(ready["app"], SCRIPT)
    log_in(client, "bientap")
    page = page_of(client.get(f"/items/{item}/place"))
    assert SCRIPT not in page and html.escape(SCRIPT) in page
    response = place(client, item, **fields(ready["slot"], targets=["00694"]))
    timeline = page_of(client.get(response.headers["Location"]))
    assert SCRIPT not in timeline and html.escape(SCRIPT) in timeline


def test_a_large_province_sends_its_stations_on_demand(ready, client):
    """Over a few hundred stations the page sends the communes only; a commune's stations come when unfolded:
    as a fragment (static/place.js), or with the form posted back and that commune open (without JavaScript)."""
    app, item, slot = ready["app"], ready["item"], ready["slot"]
    commune = area_id(app, "00700")  # Xã Ngọc Đường
    with sessions(app) as session:
        session.add_all(Station(code=f"ND-{n:03d}", name=f"Đài xã Ngọc Đường {n}", commune_id=commune)
                        for n in range(450))
        session.commit()
    log_in(client, "bientap")
    page = page_of(client.get(f"/items/{item}/place"))
    assert "ND-" not in page and "station:HG1-01" not in page  # no station is sent up-front
    assert "124 xã, 454 đài" in page and "450 đài" in page
    assert f'name="expand" value="{commune}"' in page and f'data-children="/areas/{commune}/children"' in page

    fragment = page_of(client.get(f"/areas/{commune}/children"))
    assert fragment.startswith('<ul class="tree">') and len(boxes(fragment)) == 450 and "<html" not in fragment

    # Without JavaScript: "show" posts the form back; it comes back with the commune open and the input kept.
    token = csrf_from(page)
    response = client.post(f"/items/{item}/place", data={"csrf_token": token, "expand": str(commune),
                                                         **fields(slot, targets=["00694"], priority="9")})
    page = page_of(response)
    assert response.status_code == 200 and "station:ND-449" in page and "station:HG1-01" not in page
    assert 'value="00694" checked' in page and 'id="priority" name="priority" value="9"' in page
    assert count_placements(app) == 0

    # A ticked station of a folded commune stays shown (and ticked) when the form comes back with an error.
    response = client.post(f"/items/{item}/place", data={"csrf_token": token, **fields(
        slot, targets=["station:ND-007"], date_from="2026-11-01")})
    assert response.status_code == 400 and 'value="station:ND-007" checked' in page_of(response)
    response = client.post(f"/items/{item}/place", data={"csrf_token": token,
                                                         **fields(slot, targets=["station:ND-007"])})
    assert response.status_code == 302


def test_a_placement_is_taken_off_the_schedule(ready, client):
    app, item = ready["app"], ready["item"]
    with app.app_context(), sessions(app) as session:
        placement = placements.create_placement(session, users.get_user(session, "bientap"), placements.PlacementSpec(
            item_id=item, slot_id=ready["slot"], targets=["08"], date_from=date(2026, 11, 29),
            date_until=date(2026, 12, 5), weekdays=["MO", "WE"]), today=date(2026, 11, 28)).id
    log_in(client, "bientap")
    page = page_of(client.get(f"/items/{item}/place"))
    assert "29/11/2026–05/12/2026 · T2, T4" in page
    action = f"/items/{item}/placements/{placement}/delete"
    assert f'action="{action}"' in page
    assert client.post(action).status_code == 400  # no CSRF token
    assert client.post(f"/items/{item + 1}/placements/{placement}/delete",
                       data={"csrf_token": csrf_from(page)}).status_code == 404
    response = client.post(action, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Đã gỡ khỏi lịch phát: 06:00 · Buổi sáng (10 phút), 29/11/2026–05/12/2026." in page_of(response)
    assert "Chưa có trong lịch phát." in page_of(response)
    assert count_placements(app) == 0
