"""The "speak now" page without audio: who may speak, the form's answers, stopping, the sweep, the API's
play_stream, and sockets refused. The audio path itself is tests/integration/test_live_relay.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast.config import load_settings
from broadcast.db.models import AuditLog, LiveEnd, LiveSession, LiveState, StationCommand
from broadcast.services import stations, users
from tests.conftest import csrf_from, log_in

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 09:00 in Hà Giang


@pytest.fixture
def settings(tmp_path, database):
    # No Icecast runs here: nothing in these tests sends audio.
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url, totp_required_roles="",
                         live_icecast_url="icecast://source:secret@127.0.0.1:9", live_listen_url="http://radio.test:8000")


@pytest.fixture
def clock(seeded):
    now = {"now": NOW}
    seeded.extensions["clock"] = lambda: now["now"]
    return now


def open_live(client, **changes):
    token = csrf_from(client.get("/live").data)
    data = {"csrf_token": token, "title": "Thông báo họp dân", "minutes": "15", "targets": ["00694"], **changes}
    return client.post("/live", data=data, headers={"Accept": "application/json"})


def sessions(seeded) -> list[LiveSession]:
    with seeded.extensions["database"].sessions() as session:
        found = list(session.scalars(select(LiveSession).order_by(LiveSession.id)))
        session.expunge_all()
        return found


@pytest.mark.parametrize("who, allowed", [("bientap", True), ("pheduyet", True), ("admin", True),
                                          ("vanhanh", False)])
def test_editors_approvers_and_admins_may_speak_operators_not(client, clock, who, allowed):
    log_in(client, who)
    home = client.get("/").data.decode()
    assert ("Phát trực tiếp" in home) is allowed
    page = client.get("/live")
    assert page.status_code == (200 if allowed else 403)
    if allowed:
        html = page.data.decode()
        assert "Bắt đầu nói" in html and "Địa bàn nghe phát" in html and 'data-target-tree' in html
        assert "Tìm địa bàn" in html or "data-tree-search" in html


def test_every_problem_of_the_form_is_told_at_once_in_vietnamese(client, clock):
    log_in(client, "bientap")
    answer = open_live(client, title="  ", minutes="0", targets=[])
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert errors["title"] == "Hãy đặt tiêu đề cho buổi phát."
    assert errors["targets"] == "Hãy chọn ít nhất một địa bàn."
    assert errors["minutes"] == "Thời lượng tối đa từ 1 đến 60 phút."
    assert sessions(client.application) == []


def test_an_area_outside_ones_own_or_without_stations_is_refused(client, clock, seeded):
    with seeded.extensions["database"].sessions() as session:
        from broadcast.db.models import Role
        from broadcast.services import areas

        users.create_user(session, username="bientapxa", password="long enough password", role=Role.EDITOR,
                          scope_area=areas.find_area(session, "00691"))
    log_in(client, "bientapxa", "long enough password")
    outside = open_live(client)
    assert outside.status_code == 403
    log_in(client, "bientap")
    unknown = open_live(client, targets=["99999"])
    assert unknown.status_code == 422 and "99999" in unknown.json["errors"]["targets"]
    assert sessions(seeded) == []


def test_one_voice_at_a_time_per_station(client, clock):
    log_in(client, "bientap")
    first = open_live(client)
    assert first.status_code == 201, first.json
    assert first.json["audio"] == f"/live/{first.json['id']}/audio"
    log_in(client, "pheduyet")
    second = open_live(client, title="Thông báo khác", targets=["08"])  # the province holds the same commune
    assert second.status_code == 409
    message = second.json["errors"]["form"]
    assert "Thông báo họp dân" in message and "đang phát trực tiếp" in message


def test_stopping_from_the_page_ends_it_and_it_is_audited(client, clock, seeded):
    log_in(client, "bientap")
    live_id = open_live(client).json["id"]
    page = client.get(f"/live/{live_id}")
    assert "Dừng buổi phát này" in page.data.decode()
    stopped = client.post(f"/live/{live_id}/stop", data={"csrf_token": csrf_from(page.data)})
    assert stopped.status_code == 303
    detail = client.get(f"/live/{live_id}").data.decode()
    assert "Đã dừng buổi phát trực tiếp" in detail and "được dừng bởi người dùng" in detail
    assert "Dừng buổi phát này" not in detail
    [live] = sessions(seeded)
    assert (live.state, live.end_reason) == (LiveState.ENDED, LiveEnd.STOPPED)
    with seeded.extensions["database"].sessions() as session:
        # never on air: no station was told anything, so none is told to stop
        assert list(session.scalars(select(StationCommand))) == []
        assert [a.action for a in session.scalars(select(AuditLog).where(AuditLog.entity_type == "live"))] == [
            "live.open", "live.end"]


def test_an_announcement_nobody_feeds_is_ended_by_the_next_visit(client, clock, seeded):
    log_in(client, "bientap")
    open_live(client)
    clock["now"] = NOW + timedelta(minutes=1)  # opened, but its browser never sent audio
    client.get("/live")
    [live] = sessions(seeded)
    assert (live.state, live.end_reason) == (LiveState.ENDED, LiveEnd.DROPPED)
    assert open_live(client).status_code == 201  # the stations are free again


def test_the_status_fragment_refreshes_with_the_state(client, clock):
    log_in(client, "bientap")
    live_id = open_live(client).json["id"]
    status = client.get(f"/live/{live_id}/status")
    assert status.headers["X-Live-State"] == "starting" and status.headers["Cache-Control"] == "no-store"
    assert "Các đài được báo ngay khi giọng nói của bạn tới máy chủ phát luồng." in status.data.decode()
    log_in(client, "vanhanh")
    assert client.get(f"/live/{live_id}/status").status_code == 403


def test_play_stream_through_the_api_reaches_the_station(seeded, clock):
    api = seeded.test_client()
    with seeded.extensions["database"].sessions() as session:
        person = users.issue_api_token(session, users.get_user(session, "bientap"), "t")
        station = stations.issue_token(session, stations.get_station(session, "HG1-01"))
    until = (NOW + timedelta(minutes=30)).astimezone().isoformat()
    made = api.post("/api/v1/stations/HG1-01/commands", headers={"Authorization": f"Bearer {person}"},
                    json={"kind": "play_stream", "url": "http://radio.test:8000/vov1", "until": until,
                          "title": "VOV1"})
    assert made.status_code == 201, made.json
    polled = api.get("/api/v1/stations/HG1-01/commands?wait=0", headers={"Authorization": f"Bearer {station}"})
    [command] = polled.json["commands"]
    assert command["kind"] == "play_stream"
    assert command["args"] == {"url": "http://radio.test:8000/vov1", "title": "VOV1",
                               "until": (NOW + timedelta(minutes=30)).astimezone().isoformat(timespec="seconds")}
    for bad, message in [({"url": "ftp://x/y", "until": until}, "Hãy nhập địa chỉ luồng phát"),
                         ({"url": "http://x/y", "until": "2026-12-05T10:00"}, "múi giờ"),
                         ({"url": "http://x/y", "until": (NOW - timedelta(minutes=1)).isoformat()}, "sau hiện tại")]:
        refused = api.post("/api/v1/stations/HG1-01/commands", headers={"Authorization": f"Bearer {person}"},
                           json={"kind": "play_stream", **bad})
        assert refused.status_code == 422, bad
        assert message in refused.json["message"] or message in str(refused.json)


def test_the_scheduler_ends_an_announcement_whose_worker_died_and_stops_its_stations(client, seeded,
                                                                                      settings, monkeypatch):
    """On air, then nothing more from its worker (killed): the job ends it and the station that relays it is told
    to stop, the one that never fetched its command is not."""
    from broadcast.jobs import tasks
    from broadcast.services import live_sessions

    log_in(client, "bientap")
    live_id = open_live(client).json["id"]
    config = live_sessions.LiveConfig.from_settings(settings)
    with seeded.extensions["database"].sessions() as session:
        live = session.get(LiveSession, live_id)
        live_sessions.go_on_air(session, live, now=datetime.now(UTC), config=config)
        station = stations.issue_token(session, stations.get_station(session, "HG1-01"))
    api = seeded.test_client()
    headers = {"Authorization": f"Bearer {station}"}
    [play] = api.get("/api/v1/stations/HG1-01/commands?wait=0", headers=headers).json["commands"]
    assert play["args"]["url"].startswith("http://radio.test:8000/live-")

    monkeypatch.setenv("INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LIVE_ICECAST_URL", settings.live_icecast_url)
    assert tasks.end_abandoned_live() == 0  # still fed (its last audio is now)
    with seeded.extensions["database"].sessions() as session:
        session.get(LiveSession, live_id).last_audio_at = datetime.now(UTC) - timedelta(minutes=2)
        session.commit()
    assert tasks.end_abandoned_live() == 1
    [live] = sessions(seeded)
    assert (live.state, live.end_reason) == (LiveState.ENDED, LiveEnd.DROPPED)
    [stop] = api.get("/api/v1/stations/HG1-01/commands?wait=0", headers=headers).json["commands"]
    assert stop["kind"] == "stop" and stop["args"]["url"] == play["args"]["url"]
