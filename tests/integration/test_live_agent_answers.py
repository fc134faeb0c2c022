"""What the stations' agents answer to a live announcement (relaying until, stopped, the relay will not resume,
that relay was not playing) reaches the editor's live page and the station's command list in Vietnamese: the
agent speaks English (stations.agent.playout), the editor does not."""

from __future__ import annotations

from broadcast.db.models import LiveSession
from broadcast.services import live_sessions, stations
from tests.conftest import csrf_from, log_in
from tests.integration.test_live_pages import clock, open_live, settings  # noqa: F401, F811  (fixtures)


def test_the_agents_answers_to_a_live_announcement_are_shown_in_vietnamese(client, clock, seeded, settings):  # noqa: F811
    log_in(client, "bientap")
    live_id = open_live(client).json["id"]
    config = live_sessions.LiveConfig.from_settings(settings)
    with seeded.extensions["database"].sessions() as session:
        live_sessions.go_on_air(session, session.get(LiveSession, live_id), now=clock["now"], config=config)
        tokens = {code: {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session,
                                                                                                             code))}
                  for code in ("HG1-01", "HG1-02")}
    api = seeded.test_client()

    def answer(code: str, ok: bool, said: str) -> None:
        [command] = api.get(f"/api/v1/stations/{code}/commands?wait=0", headers=tokens[code]).json["commands"]
        acked = api.post(f"/api/v1/stations/{code}/commands/{command['id']}/ack", headers=tokens[code],
                         json={"ok": ok, "detail": said.replace("<id>", str(command["id"]))})
        assert acked.status_code in (200, 204), acked.data

    # As stations.agent.playout words them.
    answer("HG1-01", True, "relaying until 09:15:00")
    answer("HG1-02", False, "emergency 7 is on air")
    status = client.get(f"/live/{live_id}/status").data.decode()
    assert "đang phát tin khẩn cấp" in status and "emergency 7 is on air" not in status
    commands = client.get("/stations/HG1-01/commands").data.decode()
    assert "đang tiếp sóng đến 09:15:00" in commands and "relaying until" not in commands

    page = client.get(f"/live/{live_id}")
    assert client.post(f"/live/{live_id}/stop", data={"csrf_token": csrf_from(page.data)}).status_code == 303
    answer("HG1-01", True, "stopped command-<id>")
    status = client.get(f"/live/{live_id}/status").data.decode()
    assert "stopped command" not in status and "đang phát tin khẩn cấp" in status
    commands = client.get("/stations/HG1-01/commands").data.decode()
    assert "Dừng phát" in commands and "đã dừng" in commands and "stopped command" not in commands
    for said, shown in (("the relay will not resume", "sẽ không tiếp sóng lại"),
                        ("that relay was not playing", "đài không đang phát luồng này")):
        from broadcast.web.agent_replies import agent_reply

        with seeded.test_request_context(headers={"Accept-Language": "vi"}):
            assert agent_reply(said) == shown
