"""The operator's pages: a station, its day of sessions with confirmations, and the delivery status table."""

from __future__ import annotations

import copy
import html
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast.db.models import Confirmation, ConfirmationStatus, Station
from broadcast.services import areas, compiler, stations
from tests.airing import NOW, build_world, played
from tests.conftest import csrf_from, log_in

DAY = "/stations/HG1-01/days/2026-11-29"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def world(seeded):
    world = build_world(seeded)
    entries = world["entries"]
    answer = world["api"].post("/api/v1/stations/HG1-01/events", headers=world["tokens"]["HG1-01"], json={
        "events": [played(entries[0]), played(entries[1], outcome="failed", seconds_played=0, ended_at=None,
                                                 reason="player exit 1")]})
    assert answer.json == {"accepted": 2, "duplicates": 0}
    return world


def set_contacts(database, **ago: timedelta) -> None:
    with database.sessions() as session:
        for code, delta in ago.items():
            session.scalar(select(Station).where(Station.code == code.replace("_", "-"))).last_contact_at = NOW - delta
        session.commit()


def page_of(response) -> str:
    return response.get_data(as_text=True)


def confirm_form(client, **fields):
    """Post the confirmation form of the day page as the browser does (with the page's CSRF token)."""
    page = page_of(client.get(DAY))
    key = html.unescape(page.split('name="occurrence_key" value="', 1)[1].split('"', 1)[0])
    return client.post(DAY, data={"csrf_token": csrf_from(page), "occurrence_key": key, **fields}), key


def test_station_page_shows_status_versions_channels_and_day_links(world, client):
    api, tokens = world["api"], world["tokens"]
    assert api.post("/api/v1/stations/HG1-01/receipts", headers=tokens["HG1-01"],
                    json={"version": world["version"]}).status_code == 200
    assert api.post("/api/v1/stations/HG1-01/heartbeat", headers=tokens["HG1-01"],
                    json={"state": "playing"}).status_code == 200
    log_in(client, "vanhanh")
    response = client.get("/stations/HG1-01")
    page = page_of(response)
    assert response.status_code == 200
    assert "<h1>Đài phường Hà Giang 1 - Tổ 1</h1>" in page and "Phường Hà Giang 1" in page
    assert "Đang phát" in page  # the heartbeat said it plays
    assert "29/11/2026 06:30" in page and "vừa xong" in page  # local time, not UTC
    assert f"đã cài {world['version']}, mới nhất {world['version']}" in page and "đã cập nhật" in page
    assert "Kênh gửi" in page and "HTTP" in page and "Đã cài" in page
    assert "Không có việc gì cần chú ý." in page
    assert 'href="/stations/HG1-01/days/2026-11-29"' in page and 'href="/stations/HG1-01/days/2026-11-30"' in page


def test_station_page_names_what_needs_attention(world, client):
    set_contacts(world["database"], HG1_01=timedelta(hours=3))
    log_in(client, "vanhanh")
    page = page_of(client.get("/stations/HG1-01"))
    assert "<li>Mất liên lạc từ 03:30 29/11/2026.</li>" in page and "29/11/2026 03:30" in page
    assert "3 giờ trước" in page


def test_day_page_shows_plan_reports_and_state_in_local_time(world, client):
    log_in(client, "vanhanh")
    response = client.get(DAY)
    page = page_of(response)
    assert response.status_code == 200
    assert "Chủ Nhật, 29/11/2026" in page
    assert "06:00–06:10 · Buổi sáng" in page  # the session in local time, with its slot's name
    assert "Tin một" in page and "Tin hai" in page and "06:00:00" in page and "06:01:01" in page
    assert "Phát một phần" in page and "đã phát 1:00 trên 2:00" in page
    assert '<span class="badge outcome-played">Đã phát</span>' in page and "06:00:00–06:01:00" in page
    assert '<span class="badge outcome-failed">Lỗi</span>' in page and "player exit 1" in page
    assert "Chưa xác nhận." in page
    assert 'name="status" value="not_aired"' in page and "Lưu xác nhận" in page


def test_later_sessions_are_upcoming_and_cannot_be_confirmed(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get("/stations/HG1-01/days/2026-11-30"))
    # Compiled ahead: the session of the 30th has not begun at 06:30 on the 29th.
    assert "06:00–06:10 · Buổi sáng" in page and "Sắp phát" in page and "Buổi này chưa có tin nào." in page
    assert 'name="occurrence_key"' not in page


def test_day_page_shows_emergency_and_play_now_airings_in_sections_of_their_own(world, client):
    at = datetime(2026, 11, 28, 23, 20, tzinfo=UTC)  # 06:20 on 29/11
    extra = [{"event_id": uuid.uuid4().hex, "outcome": outcome, "kind": kind, "occurrence_key": key,
              "entry_id": entry, "scheduled_at": when.isoformat(), "started_at": when.isoformat(),
              "seconds_played": seconds, "item_id": item, "reason": reason}
             for kind, key, entry, when, seconds, item, outcome, reason in (
                 ("emergency", "emergency-5", "emergency-5-0", at, 45, world["entries"][0].item_id, "played", None),
                 ("command", "command-9", "command-9", at + timedelta(minutes=5), 0, None, "failed", "no audio"))]
    assert world["api"].post("/api/v1/stations/HG1-01/events", headers=world["tokens"]["HG1-01"],
                             json={"events": extra}).json["accepted"] == 2
    log_in(client, "vanhanh")
    page = page_of(client.get(DAY))
    emergencies = page.split('id="emergencies-h"', 1)[1].split("</section>", 1)[0]
    assert "Phát thanh khẩn cấp" in emergencies and "Tin một" in emergencies and "06:20:00" in emergencies
    assert '<span class="badge outcome-played">Đã phát</span>' in emergencies
    play_now = page.split('id="play-now-h"', 1)[1].split("</section>", 1)[0]
    assert "Phát ngay theo lệnh" in play_now and "06:25:00" in play_now and "no audio" in play_now
    session = page.split('class="card occurrence"', 1)[1].split("</section>", 1)[0]
    assert "06:20:00" not in session and "06:25:00" not in session  # not mixed into the session
    assert "Nội dung khác đài đã phát" not in page


def test_day_page_names_empty_sessions_and_those_before_the_station(world, client, settings):
    """The 06:00 session of 30/11 has nothing in it; HG1-09, added at 18:00 on 29/11, had no part in that
    morning's session. Neither is awaiting a report, and neither can be confirmed."""
    world["clock"]["now"] = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 on 30/11
    with world["database"].sessions() as session:
        added = stations.add_station(session, stations.StationSpec("HG1-09", areas.find_area(session, "00694")))
        compiler.compile_stations(session, settings, now=datetime(2026, 11, 29, 11, 0, tzinfo=UTC),
                                  station_ids={added.id})
    log_in(client, "vanhanh")
    empty = page_of(client.get("/stations/HG1-01/days/2026-11-30"))
    assert '<span class="badge airing-empty">Không có nội dung</span>' in empty and "Chờ báo cáo" not in empty
    assert 'name="occurrence_key"' not in empty
    before = page_of(client.get("/stations/HG1-09/days/2026-11-29"))
    assert '<span class="badge airing-before_station">Trước khi thêm đài</span>' in before
    assert "Chờ báo cáo" not in before and "Bỏ lỡ" not in before and 'name="occurrence_key"' not in before
    client.get("/lang/en")
    assert "Before the station was added" in page_of(client.get("/stations/HG1-09/days/2026-11-29"))
    assert "Nothing to air" in page_of(client.get("/stations/HG1-01/days/2026-11-30"))


def test_bad_day_is_refused(world, client):
    log_in(client, "vanhanh")
    response = client.get("/stations/HG1-01/days/29-11-2026")
    assert response.status_code == 422 and "YYYY-MM-DD" in page_of(response)


def test_operator_confirms_a_session_as_not_aired(world, client):
    log_in(client, "vanhanh")
    response, key = confirm_form(client, status="not_aired", reason="Mất điện lúc 6 giờ")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(DAY + "#s-")
    page = page_of(client.get(DAY))
    assert "Đã lưu xác nhận: không phát." in page
    assert "Không phát" in page and "Mất điện lúc 6 giờ" in page
    assert "do Vận hành viên phường Hà Giang 1 xác nhận lúc 29/11/2026 06:30" in page
    assert "Sửa xác nhận" in page  # a second word replaces the first
    with world["database"].sessions() as session:
        [stored] = session.scalars(select(Confirmation)).all()
        assert (stored.status, stored.reason) == (ConfirmationStatus.NOT_AIRED, "Mất điện lúc 6 giờ")

    again, _ = confirm_form(client, status="aired", reason="")
    assert again.status_code == 302
    page = page_of(client.get(DAY))
    assert "Đã lưu xác nhận: đã phát." in page and "Mất điện lúc 6 giờ" not in page


def test_not_aired_without_a_reason_is_refused_and_the_form_kept(world, client):
    log_in(client, "vanhanh")
    response, _ = confirm_form(client, status="not_aired", reason="   ")
    page = page_of(response)
    assert response.status_code == 422
    assert "Hãy cho biết lý do không phát." in page and 'aria-invalid="true"' in page
    assert 'value="not_aired" id="status-1-not_aired" checked' in page
    assert 'value="aired" id="status-1-aired" checked' not in page
    assert "Chưa xác nhận." in page
    with world["database"].sessions() as session:
        assert session.scalars(select(Confirmation)).all() == []


def test_a_missing_choice_is_named_and_the_reason_kept(world, client):
    log_in(client, "vanhanh")
    response, _ = confirm_form(client, reason="Loa hỏng")
    page = page_of(response)
    assert response.status_code == 422
    assert "Hãy chọn “Đã phát” hoặc “Không phát”." in page
    assert ">Loa hỏng</textarea>" in page


def test_a_form_without_csrf_token_is_refused(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get(DAY))
    key = html.unescape(page.split('name="occurrence_key" value="', 1)[1].split('"', 1)[0])
    response = client.post(DAY, data={"occurrence_key": key, "status": "aired"})
    assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in page_of(response)


def test_another_communes_station_is_not_found(world, client):
    log_in(client, "vanhanh")
    token = csrf_from(page_of(client.get(DAY)))
    assert client.get("/stations/HG2-01").status_code == 404
    assert client.get("/stations/HG2-01/days/2026-11-29").status_code == 404
    posted = client.post("/stations/HG2-01/days/2026-11-29",
                         data={"csrf_token": token, "occurrence_key": "1@2026-11-29T06:00:00", "status": "aired"})
    assert posted.status_code == 404
    with world["database"].sessions() as session:
        assert session.scalars(select(Confirmation)).all() == []


def test_an_approver_reads_the_day_but_cannot_confirm(world, client):
    log_in(client, "pheduyet")
    page = page_of(client.get(DAY))
    assert "Phát một phần" in page and 'name="occurrence_key"' not in page
    response = client.post(DAY, data={"csrf_token": csrf_from(page), "occurrence_key": "x", "status": "aired"})
    assert response.status_code == 403


def test_pages_need_a_login(world, client):
    for path in ("/stations/HG1-01", DAY, "/deliveries"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_deliveries_table_in_scope_with_attention_filter_and_dashboard_count(world, client):
    set_contacts(world["database"], HG1_01=timedelta(minutes=2), HG1_02=timedelta(hours=3))
    log_in(client, "vanhanh")
    page = page_of(client.get("/deliveries"))
    assert "HG1-01" in page and "HG1-02" in page and "HG2-01" not in page and "DV-01" not in page
    assert "29/11/2026 06:28" in page and "2 phút trước" in page
    assert "Mất liên lạc từ 03:30 29/11/2026." in page and "3 giờ trước" in page
    attention = page_of(client.get("/deliveries?attention=1"))
    assert "HG1-02" in attention and 'href="/stations/HG1-01"' not in attention
    dashboard = page_of(client.get("/"))
    assert 'href="/deliveries"' in dashboard  # the header link
    assert '<span class="n">1</span> cần chú ý' in dashboard


def test_english_through_the_language_switch(world, client):
    log_in(client, "vanhanh")
    client.get("/lang/en")
    page = page_of(client.get(DAY))
    assert "Partly aired" in page and "Not confirmed yet." in page and "Sunday, 29/11/2026" in page


def test_user_text_is_escaped(seeded, client):
    world = build_world(seeded, titles=(SCRIPT, "Tin hai"))
    with world["database"].sessions() as session:
        session.scalar(select(Station).where(Station.code == "HG1-01")).name = SCRIPT
        session.commit()
    log_in(client, "vanhanh")
    response, _ = confirm_form(client, status="not_aired", reason="<b>đậm</b>")
    assert response.status_code == 302
    for path in ("/stations/HG1-01", DAY, "/deliveries", "/"):
        page = page_of(client.get(path))
        assert SCRIPT not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    page = page_of(client.get(DAY))
    assert "<b>đậm</b>" not in page and "&lt;b&gt;đậm&lt;/b&gt;" in page


def test_a_session_that_runs_past_its_end_is_flagged_on_the_operators_pages(world, client):
    """A day compiled to run past its session's end (frozen content from before, an emergency that overran) is
    named on the day page and the playlists page, not shown as a plain "planned 1:12:57"."""
    from broadcast.db.models import Playlist  # noqa: PLC0415 - only this test writes the stored content

    with world["database"].sessions() as session:
        station = session.scalar(select(Station).where(Station.code == "HG1-01"))
        stored = session.scalar(select(Playlist).where(Playlist.station_id == station.id,
                                                       Playlist.day == datetime(2026, 11, 29).date())
                                .order_by(Playlist.version.desc()))
        content = copy.deepcopy(stored.content)
        occurrence = content["occurrences"][0]
        last = occurrence["entries"][-1]
        end = datetime.fromisoformat(occurrence["end"]) + timedelta(minutes=2, seconds=57)
        last["end"] = end.isoformat()
        last["play_ms"] += int((end - datetime.fromisoformat(last["start"])).total_seconds() * 1000) - last["play_ms"]
        stored.content = content
        session.commit()
    log_in(client, "vanhanh")
    day = page_of(client.get(DAY))
    assert "Vượt giờ kết thúc buổi phát (06:10) 2 phút 57 giây" in day
    playlists = page_of(client.get("/playlists?day=2026-11-29"))
    assert "Vượt giờ kết thúc buổi phát (06:10) 2 phút 57 giây" in playlists
    client.set_cookie("lang", "en")
    assert "Runs 2 min 57 s past the session's end (06:10)" in page_of(client.get(DAY))
