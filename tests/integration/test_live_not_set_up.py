"""An editor opening "speak now" on a server with no stream server (the demo of scripts/run has none) is told in
Vietnamese that it is not set up and whom to ask, not only a setting's name; the menu still leads there."""

from __future__ import annotations

from tests.conftest import csrf_from, log_in

NOT_SET_UP = ("Máy chủ này chưa thiết lập phát trực tiếp (cần một máy chủ phát luồng Icecast). "
              "Hãy báo quản trị viên hệ thống: họ đặt LIVE_ICECAST_URL theo hướng dẫn trong README.")


def test_speaking_live_without_a_stream_server_says_whom_to_ask(client, seeded):
    assert not seeded.config.get("LIVE_ICECAST_URL")
    log_in(client, "bientap")
    page = client.get("/live")
    assert page.status_code == 200
    html = page.data.decode()
    assert NOT_SET_UP in html and 'id="live-form"' not in html
    refused = client.post("/live", data={"csrf_token": csrf_from(client.get("/items/new").data), "title": "Họp",
                                         "minutes": "5", "targets": ["00694"]},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 409 and refused.json["errors"]["form"] == NOT_SET_UP
