"""The station page's remote control: play now, stop and volume through the forms (CSRF, POST then redirect with
a message), the commands' states as the agent acknowledges them, and who may use it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from broadcast.db.models import CommandState, StationCommand
from tests.airing import build_world
from tests.conftest import csrf_from, log_in

STATION = "/stations/HG1-01"


@pytest.fixture
def world(seeded):
    return build_world(seeded)


def page_of(response) -> str:
    return response.get_data(as_text=True)


def remote_section(page: str) -> str:
    return page.split('id="remote-h"', 1)[1].split("</section>", 1)[0]


def send(client, **fields):
    page = page_of(client.get(STATION))
    return client.post(f"{STATION}/commands", data={"csrf_token": csrf_from(page)} | fields)


def commands_of(world) -> list[StationCommand]:
    with world["database"].sessions() as session:
        return list(session.scalars(select(StationCommand).order_by(StationCommand.id)))


def test_the_operator_plays_an_item_now_and_sees_the_state_the_agent_reports(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get(STATION))
    remote = remote_section(page)
    assert "Điều khiển từ xa" in remote and "Chưa gửi lệnh nào tới đài này." in remote
    # The province's approved items reach this commune's station; their length in minutes and seconds.
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', remote)
    assert [title for _id, title in options] == ["Tin hai (1:00)", "Tin một (1:00)"]

    answer = send(client, kind="play_now", item_id=options[1][0])
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"{STATION}#remote-h")
    page = page_of(client.get(STATION))
    assert "Đã gửi lệnh tới đài: phát ngay “Tin một”. Trạng thái của lệnh hiện ở bên dưới." in page
    [command] = commands_of(world)
    assert command.kind.value == "play_now" and command.args["sha256"] == f"{int(options[1][0]):064x}"
    row = remote_section(page).split(f'data-command="{command.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Phát ngay: Tin một" in row and "Đang chờ đài nhận" in row and "29/11/2026 06:30" in row
    assert "Vận hành viên phường Hà Giang 1" in row  # who sent it, by full name
    assert 'data-live="1"' in remote_section(page)  # the script keeps refreshing it

    # The agent fetches it (delivered), then answers that it failed: the fragment the script fetches says so.
    agent = world["api"]
    fetched = agent.get("/api/v1/stations/HG1-01/commands", headers=world["tokens"]["HG1-01"]).json["commands"]
    assert [c["id"] for c in fetched] == [command.id]
    assert "Đài đã nhận lệnh" in page_of(client.get(f"{STATION}/commands"))
    assert agent.post(f"/api/v1/stations/HG1-01/commands/{command.id}/ack", headers=world["tokens"]["HG1-01"],
                      json={"ok": False, "detail": "amplifier off"}).status_code == 200
    fragment = page_of(client.get(f"{STATION}/commands"))
    assert '<span class="badge command-failed">Lỗi</span>' in fragment and "amplifier off" in fragment
    assert 'data-live="1"' not in fragment  # nothing left to wait for


def test_stop_and_volume_are_sent_with_their_arguments(world, client):
    log_in(client, "vanhanh")
    assert send(client, kind="stop").status_code == 302
    assert "Đã gửi lệnh tới đài: dừng phát." in page_of(client.get(STATION))
    assert send(client, kind="set_volume", volume="35").status_code == 302
    assert "đặt âm lượng 35" in page_of(client.get(STATION))
    stop, volume = commands_of(world)
    assert (stop.kind.value, stop.args) == ("stop", {})
    assert (volume.kind.value, volume.args, volume.state) == ("set_volume", {"volume": 35}, CommandState.PENDING)
    assert "Âm lượng 35" in remote_section(page_of(client.get(STATION)))


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "set_volume", "volume": "150"}, "Âm lượng là số nguyên từ 0 đến 100."),
    ({"kind": "set_volume", "volume": ""}, "Âm lượng là số nguyên từ 0 đến 100."),
    ({"kind": "play_now", "item_id": "999999"}, "Hãy chọn bản tin cần phát."),
    ({"kind": "play_now"}, "Hãy chọn bản tin cần phát."),
    ({"kind": "reboot"}, "Hãy chọn phát ngay, dừng phát hoặc một mức âm lượng."),
])
def test_a_refused_command_is_not_sent_and_says_why(world, client, fields, message):
    log_in(client, "vanhanh")
    answer = send(client, **fields)
    assert answer.status_code == 302
    page = page_of(client.get(STATION))
    assert f'<p class="flash error" role="status">{message}</p>' in page
    assert commands_of(world) == []


def test_the_forms_need_the_csrf_token(world, client):
    log_in(client, "vanhanh")
    client.post(f"{STATION}/commands", data={"kind": "stop"})
    assert commands_of(world) == []


def test_another_areas_station_and_approvers_get_no_remote_control(world, client):
    log_in(client, "vanhanh")
    assert client.get("/stations/HG2-01").status_code == 404  # another commune's station: not found
    token = csrf_from(page_of(client.get(STATION)))
    assert client.post("/stations/HG2-01/commands", data={"csrf_token": token, "kind": "stop"}).status_code == 404
    assert client.get("/stations/HG2-01/commands").status_code == 404
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "pheduyet")
    page = page_of(client.get(STATION))
    assert "Lệnh gần đây" in page and "Dừng phát" not in page  # read only
    token = csrf_from(page)
    assert client.post(f"{STATION}/commands", data={"csrf_token": token, "kind": "stop"}).status_code == 403
    assert commands_of(world) == []


def test_the_operators_menu_links_the_local_bulletins(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get(STATION))
    nav = page.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/items">Bản tin</a>' in nav and "Bản đồ đài" in nav
    assert client.get("/items").status_code == 200
