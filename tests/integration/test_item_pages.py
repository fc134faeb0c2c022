"""The editors' item pages: list and search, the editor with its reading, the workflow buttons, the approval queue,
and the refusals (role, area, CSRF), on SQLite and PostgreSQL through the Flask test client.

Messages the catalog already translates are checked in Vietnamese (the default); the pages' own new wording is
checked in English (``lang`` cookie), so these tests hold before and after the Vietnamese catalog is refreshed.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from broadcast.db.models import Area, ItemClass, ItemStatus, Level, NewsItem, RenderState, Role, Structure
from broadcast.services import areas, items, users
from broadcast.web import ui_items
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in
from tests.services import need_tool

SCRIPT = "<script>alert(1)</script>"
BODY = "UBND xã đề nghị người dân sơ tán trước 17h30 ngày 3/2."
READING = "Ủy ban nhân dân xã đề nghị người dân sơ tán trước mười bảy giờ ba mươi phút ngày ba tháng hai."


def page_of(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, page_path: str, target: str, /, **fields):
    """Post a form the way the browser does: with the CSRF token of the page it is on."""
    token = csrf_from(page_of(client.get(page_path)))
    return client.post(target, data={"csrf_token": token, **fields})


def english(client) -> None:
    client.set_cookie("lang", "en")


def sessions(app):
    return app.extensions["database"].sessions()


def make_item(app, title: str, body: str = BODY, *, author: str = "bientap", status: ItemStatus = ItemStatus.DRAFT,
              item_class: ItemClass = ItemClass.NORMAL, owner: str | None = None, changed: datetime | None = None
              ) -> int:
    """An item written through the service (faster than the page), optionally submitted or approved."""
    with app.app_context(), sessions(app) as session:
        user = users.get_user(session, author)
        owner_area = areas.find_area(session, owner, structure=Structure.CURRENT) if owner else None
        item = items.create_item(session, user, items.ItemFields(title=title, body=body, item_class=item_class),
                                 owner_area=owner_area)
        if status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED, ItemStatus.REJECTED):
            items.submit(session, user, item)
        if status is ItemStatus.APPROVED:
            items.approve(session, users.get_user(session, "pheduyet"), item)
        if status is ItemStatus.REJECTED:
            items.reject(session, users.get_user(session, "pheduyet"), item, "Thiếu nguồn")
        if changed is not None:
            session.execute(update(NewsItem).where(NewsItem.id == item.id).values(updated_at=changed))
            session.commit()
        return item.id


def stored(app, item_id: int) -> NewsItem:
    with sessions(app) as session:
        item = session.get(NewsItem, item_id)
        session.expunge(item)
        return item


def count_items(app) -> int:
    with sessions(app) as session:
        return session.scalar(select(func.count(NewsItem.id)))


def add_user(app, username: str, role: Role, area: Area | str) -> None:
    with app.app_context(), sessions(app) as session:
        if isinstance(area, str):
            area = areas.find_area(session, area, structure=Structure.CURRENT)
        else:
            area = session.get(Area, area.id)
        users.create_user(session, username=username, password=DEMO_PASSWORD, role=role, scope_area=area)


def legacy_ha_giang(app) -> Area:
    with sessions(app) as session:
        area = session.scalar(select(Area).where(Area.structure == Structure.LEGACY, Area.level == Level.PROVINCE))
        session.expunge(area)
        return area


def item_id_of(response) -> int:
    return int(re.fullmatch(r"/items/(\d+)", response.headers["Location"]).group(1))


def test_editor_sees_errors_next_to_the_fields_with_the_input_kept_then_saves(client, seeded):
    log_in(client, "bientap")
    form = client.get("/items/new")
    assert form.status_code == 200 and 'name="title"' in page_of(form) and 'action="/items/new"' in page_of(form)

    # A day in the wrong shape: refused before anything is stored, the typed text kept.
    bad_day = post_form(client, "/items/new", "/items/new", title="Lũ quét", body=BODY, item_class="priority",
                        valid_from="3/2/2027")
    page = page_of(bad_day)
    assert bad_day.status_code == 422
    assert re.search(r'id="valid_from" name="valid_from" value="3/2/2027" aria-invalid="true" '
                     r'aria-describedby="valid_from-error"', page)
    assert '<div id="valid_from-error"><p class="error" role="alert">Hãy nhập ngày theo dạng YYYY-MM-DD.</p>' in page
    assert 'value="Lũ quét"' in page and html.escape(BODY, quote=False) in page
    assert 'value="priority" checked' in page

    # No title: the service's own message, in Vietnamese, next to the title; the body and class kept.
    no_title = post_form(client, "/items/new", "/items/new", title="  ", body=BODY, item_class="priority")
    page = page_of(no_title)
    assert no_title.status_code == 422
    assert 'id="title" name="title" value="" maxlength="300" required aria-invalid="true"' in page
    assert "Hãy đặt tiêu đề cho tin." in page and 'value="priority" checked' in page
    assert READING in page  # what would be read, worked out from the unsaved text

    backwards = post_form(client, "/items/new", "/items/new", title="Lũ quét", body=BODY,
                          valid_from="2027-02-05", valid_until="2027-02-03")
    assert backwards.status_code == 422
    assert "Ngày hết hiệu lực không được trước ngày bắt đầu hiệu lực." in page_of(backwards)
    no_voice = post_form(client, "/items/new", "/items/new", title="Lũ quét", body=BODY, language="hmn")
    assert no_voice.status_code == 422 and "Chưa có giọng đọc Tiếng Mông" in page_of(no_voice)
    assert count_items(seeded) == 0

    saved = post_form(client, "/items/new", "/items/new", title="Lũ quét", body=BODY, item_class="priority",
                      language="vi", valid_from="2027-02-03", valid_until="")
    assert saved.status_code == 302
    item_id = item_id_of(saved)
    item = stored(seeded, item_id)
    assert (item.title, item.body, item.item_class, item.status) == ("Lũ quét", BODY, ItemClass.PRIORITY,
                                                                     ItemStatus.DRAFT)
    assert str(item.valid_from) == "2027-02-03" and item.valid_until is None and item.estimated_duration_ms > 0

    english(client)
    page = page_of(client.get(f"/items/{item_id}"))
    assert "Đã lưu." in page and READING in page  # flashed in Vietnamese, before the switch to English
    estimate = ui_items.length(item.estimated_duration_ms)
    assert f'<dd id="item-estimate" aria-live="polite">{estimate}</dd>' in page
    assert "Not read aloud yet" in page and "<audio" not in page
    assert 'value="submit"' in page and 'value="render"' in page


def test_editing_saves_clears_a_day_and_sends_an_approved_item_back(client, seeded):
    item_id = make_item(seeded, "Tin đã duyệt", status=ItemStatus.APPROVED)
    with sessions(seeded) as session:
        session.execute(update(NewsItem).where(NewsItem.id == item_id).values(valid_until=datetime(2027, 3, 1).date()))
        session.commit()
    log_in(client, "bientap")
    english(client)
    assert "Saving a change sends it back for approval." in page_of(client.get(f"/items/{item_id}"))
    saved = post_form(client, f"/items/{item_id}", f"/items/{item_id}", title="Tin đã sửa", body=BODY + " Xin cảm ơn.",
                      item_class="normal", language="vi", valid_from="", valid_until="")
    assert saved.status_code == 302
    item = stored(seeded, item_id)
    assert item.title == "Tin đã sửa" and item.valid_until is None and item.status is ItemStatus.SUBMITTED


def test_read_aloud_and_submit_buttons(client, seeded):
    item_id = make_item(seeded, "Tin cần nghe thử")
    log_in(client, "bientap")
    english(client)
    fields = {"title": "Tin cần nghe thử", "body": BODY, "item_class": "normal", "language": "vi"}
    heard = post_form(client, f"/items/{item_id}", f"/items/{item_id}", action="render", **fields)
    assert heard.status_code == 302 and stored(seeded, item_id).render_state is RenderState.PENDING
    page = page_of(client.get(f"/items/{item_id}"))
    assert "Waiting for the voice" in page and f'data-render-wait="/api/v1/items/{item_id}"' in page

    sent = post_form(client, f"/items/{item_id}", f"/items/{item_id}", action="submit", **fields)
    assert sent.status_code == 302 and stored(seeded, item_id).status is ItemStatus.SUBMITTED
    page = page_of(client.get(f"/items/{item_id}"))
    assert "Saved and sent for approval." in page and 'value="submit"' not in page  # sent once
    again = post_form(client, f"/items/{item_id}", f"/items/{item_id}", action="submit", **fields)
    assert again.status_code == 302
    assert "Saved, but: A submitted item cannot be sent for approval." in page_of(client.get(f"/items/{item_id}"))


def test_render_problems_are_shown_as_text(client, seeded):
    item_id = make_item(seeded, "Tin đọc lỗi")
    with sessions(seeded) as session:
        session.execute(update(NewsItem).where(NewsItem.id == item_id).values(
            render_state=RenderState.FAILED, render_error="espeak-ng: <exit 1>",
            render_warning="Giọng dự phòng đã đọc tin này."))
        session.commit()
    log_in(client, "bientap")
    english(client)
    page = page_of(client.get(f"/items/{item_id}"))
    assert '<span class="badge render-failed"' in page and "The voice could not read it" in page
    assert '<p class="error">espeak-ng: &lt;exit 1&gt;</p>' in page
    assert '<p class="item-note" role="note">Giọng dự phòng đã đọc tin này.</p>' in page


def test_list_searches_filters_pages_and_shows_local_times(client, seeded, monkeypatch):
    make_item(seeded, "Lịch tiêm chủng", "Tiêm phòng sởi cho trẻ em.",
              changed=datetime(2026, 11, 28, 23, 5, tzinfo=UTC))
    make_item(seeded, "Phòng chống lũ", "Sạt lở đất ở 100% các xóm.", item_class=ItemClass.EMERGENCY,
              status=ItemStatus.SUBMITTED, changed=datetime(2026, 11, 29, 1, 0, tzinfo=UTC))
    make_item(seeded, "Tin của phường", "Họp tổ dân phố.", author="vanhanh", owner="00694",
              changed=datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    log_in(client, "bientap")
    english(client)
    page = page_of(client.get("/items"))
    titles = re.findall(r'<a href="/items/\d+">([^<]+)</a>', page)
    assert titles == ["Tin của phường", "Phòng chống lũ", "Lịch tiêm chủng"]  # newest change first
    assert "29/11/2026 06:05" in page  # 23:05 UTC is 06:05 the next morning in Hà Nội time
    assert '<span class="badge item-class-emergency">Emergency</span>' in page
    assert '<span class="badge item-status-submitted">submitted</span>' in page
    assert 'href="/items/new"' in page and "Waiting for approval" not in page  # an editor, not an approver

    def listed(query: str) -> list[str]:
        return re.findall(r'<a href="/items/\d+">([^<]+)</a>', page_of(client.get(f"/items?{query}")))

    assert listed("q=s%E1%BA%A1t+l%E1%BB%9F") == ["Phòng chống lũ"]  # "sạt lở", in the text
    assert listed("q=ti%C3%AAm") == ["Lịch tiêm chủng"]  # "tiêm", in the title and text
    assert listed("q=100%25") == ["Phòng chống lũ"]  # a % sign is a character, not "anything"
    assert listed("status=submitted") == ["Phòng chống lũ"]
    assert listed("class=emergency&status=draft") == []
    assert listed("status=nonsense") == ["Tin của phường", "Phòng chống lũ", "Lịch tiêm chủng"]
    assert "No bulletins match." in page_of(client.get("/items?q=kh%C3%B4ng+c%C3%B3"))

    monkeypatch.setattr(ui_items, "PAGE_SIZE", 2)
    first = page_of(client.get("/items"))
    assert re.findall(r'<a href="/items/\d+">([^<]+)</a>', first) == ["Tin của phường", "Phòng chống lũ"]
    assert 'href="/items?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = page_of(client.get("/items?page=2"))
    assert re.findall(r'<a href="/items/\d+">([^<]+)</a>', second) == ["Lịch tiêm chủng"]
    assert 'href="/items" rel="prev"' in second and 'rel="next"' not in second


def test_approver_approves_from_the_queue_oldest_first(client, seeded):
    older = make_item(seeded, "Tin gửi trước", status=ItemStatus.SUBMITTED)
    newer = make_item(seeded, "Tin gửi sau", status=ItemStatus.SUBMITTED)
    make_item(seeded, "Bản nháp")
    log_in(client, "pheduyet")
    english(client)
    listing = page_of(client.get("/items"))
    assert "Waiting for approval (2)" in listing and 'href="/items/new"' not in listing  # approvers do not write
    queue = page_of(client.get("/items/approvals"))
    assert re.findall(r'<h2 id="item-\d+-h"><a href="/items/\d+">([^<]+)</a>', queue) == ["Tin gửi trước",
                                                                                         "Tin gửi sau"]
    assert f'action="/items/{older}/approve"' in queue and "Bản nháp" not in queue

    approved = post_form(client, "/items/approvals", f"/items/{older}/approve", back="queue")
    assert approved.status_code == 302 and approved.headers["Location"] == "/items/approvals"
    item = stored(seeded, older)
    assert item.status is ItemStatus.APPROVED and item.render_state is RenderState.PENDING
    queue = page_of(client.get("/items/approvals"))
    assert "Approved: Tin gửi trước." in queue and f'action="/items/{older}/approve"' not in queue

    # From the item's own page, back to it; approving twice is explained, not an error page.
    page = page_of(client.get(f"/items/{newer}"))
    assert "<fieldset class=\"item-fields\" disabled>" in page and 'value="save"' not in page  # read only
    assert post_form(client, f"/items/{newer}", f"/items/{newer}/approve").headers["Location"] == f"/items/{newer}"
    client.set_cookie("lang", "vi")
    twice = post_form(client, f"/items/{newer}", f"/items/{newer}/approve")
    assert twice.status_code == 302
    assert "Tin ở trạng thái đã duyệt nên không thể phê duyệt." in page_of(client.get(f"/items/{newer}"))


def test_reject_needs_a_reason_and_the_author_sees_it(client, seeded):
    item_id = make_item(seeded, "Tin thiếu nguồn", status=ItemStatus.SUBMITTED)
    log_in(client, "pheduyet")
    empty = post_form(client, "/items/approvals", f"/items/{item_id}/reject", back="queue", reason="   ")
    page = page_of(empty)
    assert empty.status_code == 422
    message = "Hãy ghi lý do từ chối để người viết sửa lại."
    assert f'<p class="error" id="reason-{item_id}-error" role="alert">{message}</p>' in page
    assert "<details open>" in page and stored(seeded, item_id).status is ItemStatus.SUBMITTED

    on_page = post_form(client, f"/items/{item_id}", f"/items/{item_id}/reject", reason="")
    assert on_page.status_code == 422 and 'id="reason-error"' in page_of(on_page)

    rejected = post_form(client, "/items/approvals", f"/items/{item_id}/reject", back="queue",
                         reason="Thiếu nguồn tin <b>UBND</b>")
    assert rejected.status_code == 302
    item = stored(seeded, item_id)
    assert item.status is ItemStatus.REJECTED and item.rejection_reason == "Thiếu nguồn tin <b>UBND</b>"

    log_in(client, "bientap")
    english(client)
    page = page_of(client.get(f"/items/{item_id}"))
    assert "<q>Thiếu nguồn tin &lt;b&gt;UBND&lt;/b&gt;</q>" in page and 'value="submit"' in page  # can send again


def test_pages_check_roles(client, seeded):
    item_id = make_item(seeded, "Tin của tỉnh", status=ItemStatus.SUBMITTED)
    log_in(client, "pheduyet")
    assert client.get("/items/new").status_code == 403  # approvers do not write
    token = csrf_from(page_of(client.get("/items")))
    edit = client.post(f"/items/{item_id}", data={"csrf_token": token, "title": "Khác", "body": BODY})
    assert edit.status_code == 403 and "Vai trò của bạn không cho phép thao tác này." in page_of(edit)

    log_in(client, "bientap")
    token = csrf_from(page_of(client.get("/items")))
    assert client.get("/items/approvals").status_code == 403
    assert client.post(f"/items/{item_id}/approve", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/items/{item_id}/reject", data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert stored(seeded, item_id).status is ItemStatus.SUBMITTED and stored(seeded, item_id).title == "Tin của tỉnh"

    for path in ("/items", "/items/new", f"/items/{item_id}", "/items/approvals"):
        client.post("/logout", data={"csrf_token": token})
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_pages_check_the_area(client, seeded):
    province_item = make_item(seeded, "Tin của tỉnh", status=ItemStatus.SUBMITTED)
    commune_item = make_item(seeded, "Tin của phường", author="vanhanh", owner="00694")
    add_user(seeded, "vanhanh2", Role.OPERATOR, "00691")
    add_user(seeded, "bientap_cu", Role.EDITOR, legacy_ha_giang(seeded))
    add_user(seeded, "duyet_cu", Role.APPROVER, legacy_ha_giang(seeded))

    # A commune operator: their commune's items, not the province's (not found, as in the API).
    log_in(client, "vanhanh")
    token = csrf_from(page_of(client.get("/items")))
    assert re.findall(r'<a href="/items/\d+">([^<]+)</a>', page_of(client.get("/items"))) == ["Tin của phường"]
    assert client.get(f"/items/{commune_item}").status_code == 200
    assert client.get(f"/items/{province_item}").status_code == 404
    edit = client.post(f"/items/{province_item}", data={"csrf_token": token, "title": "Khác", "body": BODY})
    assert edit.status_code == 404 and "Không có tin số" in page_of(edit)
    assert client.get("/items/approvals").status_code == 403
    assert 'href="/items"' in page_of(client.get("/"))  # "Bản tin" in the menu: their commune's local bulletins

    log_in(client, "vanhanh2")
    assert client.get(f"/items/{commune_item}").status_code == 404
    assert "Tin của phường" not in page_of(client.get("/items"))

    for username in ("bientap_cu", "duyet_cu"):
        log_in(client, username)
        token = csrf_from(page_of(client.get("/items")))
        assert client.get(f"/items/{province_item}").status_code == 404
        assert client.post(f"/items/{province_item}/approve", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/items/{province_item}/reject", data={"csrf_token": token, "reason": "x"}).status_code \
            == 404
        assert "Tin của tỉnh" not in page_of(client.get("/items"))
    assert "Tin của tỉnh" not in page_of(client.get("/items/approvals"))
    assert stored(seeded, province_item).status is ItemStatus.SUBMITTED

    log_in(client, "bientap")
    assert 'href="/items" aria-current="page">' in page_of(client.get("/items"))  # the menu link, marked current


def test_forms_without_the_csrf_token_are_refused(client, seeded):
    item_id = make_item(seeded, "Tin chờ duyệt", status=ItemStatus.SUBMITTED)
    log_in(client, "bientap")
    response = client.post("/items/new", data={"title": "Không có mã", "body": BODY})
    assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in page_of(response)
    assert client.post(f"/items/{item_id}", data={"title": "x", "body": BODY}).status_code == 400
    log_in(client, "pheduyet")
    assert client.post(f"/items/{item_id}/approve").status_code == 400
    assert client.post(f"/items/{item_id}/reject", data={"reason": "x", "csrf_token": "forged"}).status_code == 400
    assert count_items(seeded) == 1 and stored(seeded, item_id).status is ItemStatus.SUBMITTED


def test_a_hostile_title_shows_as_text(client, seeded):
    log_in(client, "bientap")
    saved = post_form(client, "/items/new", "/items/new", title=SCRIPT, body=f"{SCRIPT} {BODY}", action="submit")
    item_id = item_id_of(saved)
    escaped = html.escape(SCRIPT, quote=False)
    pages = [page_of(client.get(path)) for path in (f"/items/{item_id}", "/items", f"/items?q={SCRIPT}")]
    log_in(client, "pheduyet")
    pages.append(page_of(client.get("/items/approvals")))
    pages.append(page_of(client.get(post_form(client, "/items/approvals", f"/items/{item_id}/approve",
                                              back="queue").headers["Location"])))
    for page in pages:
        assert SCRIPT not in page and escaped in page
    assert f"<title>{escaped} ·" in pages[0] and f"<h1>{escaped}</h1>" in pages[0]


def test_live_reading_answers_the_page_with_its_csrf_token(client, seeded):
    """What static/items.js does while the editor types: the reading API, with the session and the page's token."""
    log_in(client, "bientap")
    token = csrf_from(page_of(client.get("/items/new")))
    answer = client.post("/api/v1/reading", json={"text": BODY, "rate": "+0%"}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["text"] == READING and answer.json["estimated_duration_ms"] > 0
    assert client.post("/api/v1/reading", json={"text": BODY}).status_code == 400  # no token


def test_a_rendered_item_has_a_player_serving_its_audio(client, seeded):
    need_tool("espeak-ng")
    need_tool("ffmpeg")
    from broadcast.audio_setup import audio_tools
    from broadcast.services import rendering

    item_id = make_item(seeded, "Tin có tiếng", "Xin chào bà con.")
    with seeded.app_context(), sessions(seeded) as session:
        rendering.render_item(session, session.get(NewsItem, item_id), audio_tools(seeded.extensions["settings"]))
    log_in(client, "bientap")
    english(client)
    page = page_of(client.get(f"/items/{item_id}"))
    assert "Ready to broadcast" in page and "Duration of the audio" in page
    assert f'<audio controls preload="metadata" src="/api/v1/items/{item_id}/audio">' in page
    audio = client.get(f"/api/v1/items/{item_id}/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert audio.data[:3] == b"ID3" or audio.data[:2] == b"\xff\xfb"  # an MP3 file
    again = client.get(f"/api/v1/items/{item_id}/audio", headers={"If-None-Match": audio.headers["ETag"]})
    assert again.status_code == 304
    log_in(client, "vanhanh")
    assert client.get(f"/api/v1/items/{item_id}/audio").status_code == 404  # the province's, not the commune's
