"""The emergency pages: request with the form, approval by a second person, tracking, refusals, escaping."""

from __future__ import annotations

import re

from sqlalchemy import select

from broadcast.db.models import EmergencyBroadcast, StationCommand
from tests.conftest import csrf_from, log_in
from tests.integration.test_emergencies import NOW, poll, warning_item, world  # noqa: F401 - the fixture

LIST = "/emergencies"


def page_of(response) -> str:
    return response.data.decode()


def request_by_form(client, item_id: int, **changes):
    page = client.get(LIST)
    data = {"csrf_token": csrf_from(page.data), "item_id": str(item_id), "targets": ["00694"], "risk_level": "4",
            "repeat_count": "2", "repeat_interval_min": "10", "expires_at": "2026-11-28T18:00", **changes}
    return client.post(LIST, data=data)


def act(client, broadcast_id: int, action: str, **data):
    page = client.get(f"{LIST}/{broadcast_id}")
    return client.post(f"{LIST}/{broadcast_id}/{action}", data={"csrf_token": csrf_from(page.data), **data})


def test_an_editor_requests_and_an_approver_sends_from_the_pages(world, client):  # noqa: F811
    item_id = warning_item(world, title="Lũ quét <script>alert(1)</script>")
    log_in(client, "bientap")
    listed = page_of(client.get(LIST))
    assert "Yêu cầu phát khẩn cấp" in listed and "&lt;script&gt;alert(1)&lt;/script&gt;" in listed
    assert "<script>alert(1)</script>" not in listed
    made = request_by_form(client, item_id)
    assert made.status_code == 302, page_of(made)
    broadcast_url = made.headers["Location"]
    detail = page_of(client.get(broadcast_url))
    assert "Chờ phê duyệt" in detail and "Cấp độ rủi ro 4" in detail
    assert "Duyệt và phát ngay" not in detail  # the requester cannot approve (and is no approver)
    assert poll(world, "HG1-01") == []

    client.get("/logout")
    log_in(client, "pheduyet")
    broadcast_id = int(broadcast_url.rsplit("/", 1)[1])
    sent = act(client, broadcast_id, "approve")
    assert sent.status_code == 303
    detail = page_of(client.get(broadcast_url))
    assert "Đã phê duyệt: đã gửi tới 2 đài." in detail and "HG1-01" in detail and "HG1-02" in detail
    assert re.search(r"Đã gửi, chưa có trả lời\s*2", detail)
    assert [c["kind"] for c in poll(world, "HG1-01")] == ["emergency"]

    cancelled = act(client, broadcast_id, "cancel", reason="Báo nhầm")
    assert cancelled.status_code == 303
    detail = page_of(client.get(broadcast_url))
    assert "Đã hủy" in detail and "Báo nhầm" in detail


def test_a_bad_request_keeps_the_form_and_says_why(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    refused = request_by_form(client, item_id, expires_at="2026-11-28T15:00")
    assert refused.status_code == 422
    page = page_of(refused)
    assert "Thời điểm hết hiệu lực đã qua." in page and 'aria-invalid="true"' in page
    no_area = request_by_form(client, item_id, targets=[])
    assert no_area.status_code == 422 and "Hãy chọn ít nhất một địa bàn cần cảnh báo." in page_of(no_area)
    with world["database"].sessions() as session:
        assert session.scalars(select(EmergencyBroadcast)).all() == []
        assert session.scalars(select(StationCommand)).all() == []


def test_operators_read_but_may_not_act_and_forms_need_their_token(world, client):  # noqa: F811
    log_in(client, "bientap")
    made = request_by_form(client, warning_item(world))
    broadcast_id = int(made.headers["Location"].rsplit("/", 1)[1])
    client.get("/logout")
    log_in(client, "vanhanh")
    page = page_of(client.get(f"{LIST}/{broadcast_id}"))
    assert "Chờ phê duyệt" in page and "Duyệt và phát ngay" not in page and "Từ chối" not in page
    assert "Yêu cầu phát khẩn cấp" not in page_of(client.get(LIST))
    token = csrf_from(client.get(LIST).data)
    assert client.post(f"{LIST}/{broadcast_id}/approve", data={"csrf_token": token}).status_code == 403
    client.get("/logout")
    log_in(client, "pheduyet")
    forged = client.post(f"{LIST}/{broadcast_id}/approve", data={})
    assert forged.status_code == 400
    assert poll(world, "HG1-01") == []  # no token, nothing sent
