"""The emergency pages made for people under stress: the area tree, risk levels by name, the player on the approval
page, the banner and the e-mail (a real SMTP server on 127.0.0.1) and webhook event while one waits, the live
status fragment, the confirmation before cancelling, and Vietnamese throughout."""

from __future__ import annotations

import re
import socket
import threading
from email import message_from_string, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from broadcast.db.models import Area, EmergencyBroadcast, EmergencyState, Role, Structure, Webhook, WebhookDelivery
from broadcast.services import areas, emergencies, users, webhooks
from tests.conftest import csrf_from, log_in
from tests.integration.test_emergencies import NOW, ack, poll, warning_item, world  # noqa: F401 - the fixture
from tests.integration.test_emergency_pages import act, page_of, request_by_form
from tests.services import free_port

LIST = "/emergencies"
COMMUNE_APPROVER = "lanhdao.hg1@ubnd.example.vn"  # a login that is an e-mail address gets the notice
PASSWORD = "Canh-bao-lu-quet-2026"
BANNER = "Có 1 bản tin khẩn cấp đang chờ phê duyệt."


class Inbox:
    """What the SMTP server received: (envelope sender, recipients, the message text)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content.decode("utf-8", "replace")))
        self.arrived.set()
        return "250 Message accepted"


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def settings(settings, inbox):  # the conftest's, with the mail server
    return settings.model_copy(update={"smtp_url": inbox.url, "smtp_from": "canhbao@tuyenquang.example.vn",
                                       "public_url": "https://radio.example.vn"})


def commune_approver(here) -> None:
    with here["database"].sessions() as session:
        users.create_user(session, username=COMMUNE_APPROVER, password=PASSWORD, role=Role.APPROVER,
                          scope_area=areas.find_area(session, "00694"), full_name="Lãnh đạo phường Hà Giang 1")
        session.commit()


def test_the_form_picks_areas_on_the_tree_and_names_the_risk_levels(world, client):  # noqa: F811
    warning_item(world)
    log_in(client, "bientap")
    page = page_of(client.get(LIST))
    boxes = re.findall(r'name="targets" value="([^"]+)"', page)
    assert "08" in boxes and "00694" in boxes and "00721" in boxes
    assert not [b for b in boxes if b.startswith("station:")]  # areas only: a warning goes to areas
    assert '<select id="targets"' not in page and "data-target-tree" in page and "data-tree-search" in page
    for level, name in [(1, "rủi ro thiên tai nhỏ"), (2, "rủi ro thiên tai trung bình"), (3, "rủi ro thiên tai lớn"),
                        (4, "rủi ro thiên tai rất lớn"), (5, "thảm họa thiên tai")]:
        assert f'class="choice risk-choice risk-{level}"' in page and f"Cấp độ rủi ro {level}: {name}" in page
    assert re.search(r'name="risk_level" value="3" checked', page)
    with world["database"].sessions() as session:
        province = session.scalar(select(Area).where(Area.code == "08", Area.structure == Structure.CURRENT))
    level = page_of(client.get(f"{LIST}/areas/{province.id}/children"))
    assert 'value="00694"' in level and "station:" not in level
    assert "tree-leaf" in level and "data-children" not in level  # communes unfold no further: no stations


def test_show_without_javascript_keeps_what_was_typed(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    with world["database"].sessions() as session:
        province = session.scalar(select(Area).where(Area.code == "08", Area.structure == Structure.CURRENT))
    shown = request_by_form(client, item_id, expand=str(province.id), targets=["00721"], risk_level="5")
    assert shown.status_code == 200
    page = page_of(shown)
    assert re.search(r'value="00721" checked', page) and re.search(r'name="risk_level" value="5" checked', page)
    assert 'role="alert"' not in page.split("<main", 1)[1].split("emergency-request", 1)[1]
    with world["database"].sessions() as session:
        assert session.scalars(select(EmergencyBroadcast)).all() == []


def test_a_waiting_broadcast_shows_a_banner_mails_the_areas_approvers_and_queues_a_webhook(world, client, inbox):  # noqa: F811
    commune_approver(world)
    with world["database"].sessions() as session:
        commune = areas.find_area(session, "00694")
        other = areas.find_area(session, "00721")
        session.add_all([Webhook(area_id=commune.id, url="https://xa.example.vn/hook", secret="s" * 32,
                                 description="", active=True),
                         Webhook(area_id=other.id, url="https://dongvan.example.vn/hook", secret="s" * 32,
                                 description="", active=True)])
        session.commit()
    item_id = warning_item(world, title="Lũ quét tại phường Hà Giang 1")
    log_in(client, "bientap")
    made = request_by_form(client, item_id)
    assert made.status_code == 302
    broadcast_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert BANNER not in page_of(client.get("/"))  # an editor does not approve

    assert inbox.arrived.wait(60), "no e-mail arrived"
    [(sender, recipients, text)] = inbox.messages
    assert sender == "canhbao@tuyenquang.example.vn"
    # The province's approver has no address; the commune's gets it, being the area's approver.
    assert recipients == [COMMUNE_APPROVER]
    message = message_from_string(text, policy=policy.default)
    assert message["Subject"] == ("Bản tin khẩn cấp chờ phê duyệt: Lũ quét tại phường Hà Giang 1 "
                       "(Cấp độ rủi ro 4: rủi ro thiên tai rất lớn)")
    body = message.get_content()
    assert "Địa bàn cảnh báo: Phường Hà Giang 1" in body and "Người đề nghị: Biên tập viên tỉnh" in body
    assert f"https://radio.example.vn/emergencies/{broadcast_id}" in body

    with world["database"].sessions() as session:
        queued = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == emergencies.PENDING_EVENT)
                                 ).all()
        assert [d.webhook.url for d in queued] == ["https://xa.example.vn/hook"]  # not Đồng Văn's
        assert queued[0].payload["id"] == broadcast_id and queued[0].payload["areas"] == ["00694"]
        assert b'"event":"emergency.pending"' in webhooks.body_of(queued[0])

    client.get("/logout")
    log_in(client, "pheduyet")
    for path in ("/", LIST, "/items"):
        assert BANNER in page_of(client.get(path)), path
    act(client, broadcast_id, "approve")
    assert BANNER not in page_of(client.get("/"))


def test_a_mail_server_that_is_down_does_not_stop_the_request(world, client, inbox):  # noqa: F811
    commune_approver(world)
    world["app"].extensions["settings"] = world["app"].extensions["settings"].model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    log_in(client, "bientap")
    made = request_by_form(client, warning_item(world))
    assert made.status_code == 302
    with world["database"].sessions() as session:
        assert session.scalars(select(EmergencyBroadcast.state)).all() == [EmergencyState.PENDING]
    assert inbox.messages == []


def test_a_mail_server_that_does_not_answer_does_not_hold_the_request(world, client):  # noqa: F811
    commune_approver(world)
    # A server that takes the connection and never greets: the client waits on it, in its own thread.
    mute = socket.create_server(("127.0.0.1", 0))
    try:
        world["app"].extensions["settings"] = world["app"].extensions["settings"].model_copy(
            update={"smtp_url": f"smtp://127.0.0.1:{mute.getsockname()[1]}"})
        log_in(client, "bientap")
        made = request_by_form(client, warning_item(world))
        assert made.status_code == 302
        # The answer came while the e-mail still waits for the server's greeting.
        assert [t.name for t in threading.enumerate()].count("emergency-notice") == 1
    finally:
        mute.close()  # the waiting connection is reset: the thread logs the failure and ends
        for thread in threading.enumerate():
            if thread.name == "emergency-notice":
                thread.join(30)


def test_the_approver_hears_it_and_the_status_refreshes_until_it_is_cancelled(world, client):  # noqa: F811
    commune_approver(world)
    item_id = warning_item(world)
    log_in(client, "bientap")
    broadcast_id = int(request_by_form(client, item_id).headers["Location"].rsplit("/", 1)[1])
    client.get("/logout")

    log_in(client, COMMUNE_APPROVER, PASSWORD)
    detail = page_of(client.get(f"{LIST}/{broadcast_id}"))
    assert "Nghe trước khi phê duyệt" in detail
    src = re.search(r'<audio controls preload="metadata" src="([^"]+)"', detail).group(1)
    heard = client.get(src)  # the item is the province's: a commune approver hears it through the broadcast
    assert heard.status_code == 200 and heard.data.startswith(b"\xff\xfb")
    status = client.get(f"{LIST}/{broadcast_id}/status")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    assert 'data-open="1"' in page_of(status) and 'data-state="pending"' in page_of(status)
    assert "<html" not in page_of(status)

    act(client, broadcast_id, "approve")
    fragment = page_of(client.get(f"{LIST}/{broadcast_id}/status"))
    assert 'data-state="issued"' in fragment and "HG1-01" in fragment and "Đã gửi, chưa có trả lời" in fragment
    detail = page_of(client.get(f"{LIST}/{broadcast_id}"))
    assert f'href="/emergencies/{broadcast_id}/cancel"' in detail
    assert f'action="/emergencies/{broadcast_id}/cancel"' not in detail  # no one-click cancel

    # What the confirmation says stops follows the stations' answers: none has answered yet, so none "received" it.
    confirm = page_of(client.get(f"{LIST}/{broadcast_id}/cancel"))
    assert "Hủy phát bản tin khẩn cấp?" in confirm and "đã nhận bản tin" not in confirm
    assert "2 đài chưa trả lời: các đài này cũng được báo bỏ bản tin; đài nào chưa tải về sẽ không phát." in confirm
    assert f'action="/emergencies/{broadcast_id}/cancel"' in confirm and "Không, tiếp tục phát" in confirm
    [command] = poll(world, "HG1-01")
    assert command["kind"] == "emergency"
    ack(world, "HG1-01", command["id"])
    confirm = page_of(client.get(f"{LIST}/{broadcast_id}/cancel"))
    assert "1 đài đã nhận bản tin sẽ ngừng phát và bỏ các lần phát còn lại." in confirm
    assert "1 đài chưa trả lời: các đài này cũng được báo bỏ bản tin" in confirm
    done = client.post(f"{LIST}/{broadcast_id}/cancel", data={"csrf_token": csrf_from(confirm), "reason": "Báo nhầm"})
    assert done.status_code == 303
    assert 'data-open="0"' in page_of(client.get(f"{LIST}/{broadcast_id}/status"))
    assert "cancel_emergency" in [c["kind"] for c in poll(world, "HG1-01")]

    # Cancelling again says so in Vietnamese (the state was the English "cancelled").
    again = act(client, broadcast_id, "cancel", reason="lần nữa")
    assert again.status_code == 303
    page = page_of(client.get(f"{LIST}/{broadcast_id}"))
    [flash] = re.findall(r'<p class="flash error" role="status">([^<]*)</p>', page)
    assert flash == "Bản tin khẩn cấp này đã ở trạng thái đã hủy."
    closed = client.get(f"{LIST}/{broadcast_id}/cancel")
    assert closed.status_code == 303


def test_operators_and_other_areas_get_neither_banner_nor_status(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    broadcast_id = int(request_by_form(client, item_id).headers["Location"].rsplit("/", 1)[1])
    client.get("/logout")
    log_in(client, "vanhanh")
    assert "đang chờ phê duyệt" not in page_of(client.get("/"))
    assert client.get(f"{LIST}/{broadcast_id}/cancel").status_code == 403
    with world["database"].sessions() as session:
        far = users.create_user(session, username="pheduyet.dongvan", password=PASSWORD, role=Role.APPROVER,
                                scope_area=areas.find_area(session, "00721"))
        session.commit()
        assert emergencies.pending_count(session, far, NOW) == 0
        assert emergencies.pending_count(session, users.get_user(session, "pheduyet"), NOW) == 1
        assert emergencies.pending_count(session, users.get_user(session, "admin"), NOW) == 1
    client.get("/logout")
    log_in(client, "pheduyet.dongvan", PASSWORD)
    assert client.get(f"{LIST}/{broadcast_id}/status").status_code == 404
    assert "đang chờ phê duyệt" not in page_of(client.get("/"))


@pytest.mark.parametrize(("said", "shown"), [
    ("received; airs 2 times from 16:00:00", "đã nhận; phát 2 lần, từ 16:00:00"),
    ("emergency 7 already received", "đã nhận rồi (qua đường khác, hoặc được gửi lại)"),
    ("emergency 7 was cancelled", "bản tin đã bị hủy khi tới đài"),
    ("emergency 7 expired at 2026-11-28T18:00:00+00:00", "bản tin đã hết hiệu lực khi tới đài"),
    ("emergency 7 cancelled; 3 airings dropped", "đã hủy; bỏ 3 lần phát"),
    ("audio not available: HTTP 404", "đài không tải được âm thanh: HTTP 404"),
    ("bad emergency: no sha256", "đài không đọc được lệnh cảnh báo: no sha256"),
    ("player exited with status 1", "player exited with status 1"),  # unknown: as the agent said it
    (None, "—"),
])
def test_what_agents_say_is_shown_in_vietnamese(app, said, shown):
    from flask_babel import force_locale

    from broadcast.web.ui_emergencies import track_detail

    with app.test_request_context(), force_locale("vi"):
        assert track_detail(said) == shown


def test_the_station_table_speaks_vietnamese(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    broadcast_id = int(request_by_form(client, item_id).headers["Location"].rsplit("/", 1)[1])
    client.get("/logout")
    log_in(client, "pheduyet")
    act(client, broadcast_id, "approve")
    [command] = poll(world, "HG1-01")
    ack(world, "HG1-01", command["id"])
    fragment = page_of(client.get(f"{LIST}/{broadcast_id}/status"))
    assert "đã nhận; phát 2 lần, từ 16:00:00" in fragment and "received; airs" not in fragment
