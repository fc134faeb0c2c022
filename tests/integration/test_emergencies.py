"""Emergency broadcasts through the API: the two-person rule, delivery as commands, tracking, cancel, re-send,
scope, bad input, CAP export then import giving the same alert, and the public CAP files and Atom feeds."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from sqlalchemy import func, select

from audio.processing import AudioStore
from broadcast.alerts import cap, export
from broadcast.db.models import (
    AudioAsset,
    AuditLog,
    CommandState,
    EmergencyBroadcast,
    EmergencyTarget,
    NewsItem,
    StationCommand,
)
from broadcast.services import stations, users

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 16:00 in Hà Giang
# The OASIS schema as shipped with the service, loaded here on its own rather than through broadcast.alerts.cap.
CAP_XSD = Path(__file__).resolve().parents[2] / "broadcast" / "alerts" / "schema" / "CAP-v1.2.xsd"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def world(seeded):
    clock = {"now": NOW}
    seeded.extensions["clock"] = lambda: clock["now"]
    database = seeded.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("admin", "bientap", "pheduyet", "vanhanh")}
        tokens = {code: {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session,
                                                                                                          code))}
                  for code in ("HG1-01", "HG1-02", "HG2-01", "DV-01")}
    return {"api": seeded.test_client(), "people": people, "tokens": tokens, "database": database, "clock": clock,
            "app": seeded}


def warning_item(world, *, item_class="emergency", audio=True, title="Cảnh báo lũ quét") -> int:
    api, people = world["api"], world["people"]
    created = api.post("/api/v1/items", headers=people["bientap"], json={
        "title": title, "body": "Người dân không đi qua ngầm tràn.", "item_class": item_class})
    assert created.status_code == 201, created.json
    if audio:
        sha = uuid.uuid4().hex * 2
        with world["database"].sessions() as session:
            session.get(NewsItem, created.json["id"]).audio_asset = AudioAsset(
                sha256=sha, size_bytes=4000, duration_ms=30_000, origin="tts")
            session.commit()
        # The public feed serves only files the store holds.
        path = AudioStore(world["app"].extensions["settings"].resolved_audio_dir).path_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xfb" * 2000)
    return created.json["id"]


def request(world, item_id, who="bientap", **changes):
    body = {"item_id": item_id, "areas": ["00694"], "risk_level": 4, "repeat_count": 2, "repeat_interval_s": 600,
            "expires_at": "2026-11-28T18:00"}
    return world["api"].post("/api/v1/emergencies", headers=world["people"][who], json={**body, **changes})


def issued(world, **changes) -> dict:
    made = request(world, warning_item(world), **changes)
    assert made.status_code == 201, made.json
    approved = world["api"].post(f"/api/v1/emergencies/{made.json['id']}/approve", headers=world["people"]["pheduyet"])
    assert approved.status_code == 200, approved.json
    return approved.json


def poll(world, code) -> list[dict]:
    answer = world["api"].get(f"/api/v1/stations/{code}/commands?wait=0", headers=world["tokens"][code])
    assert answer.status_code == 200, answer.json
    return answer.json["commands"]


def ack(world, code, command_id, ok=True, detail="received; airs 2 times from 16:00:00"):
    answer = world["api"].post(f"/api/v1/stations/{code}/commands/{command_id}/ack", headers=world["tokens"][code],
                               json={"ok": ok, "detail": detail})
    assert answer.status_code == 200, answer.json


def aired(world, code, broadcast_id, n=0, outcome="played"):
    at = world["clock"]["now"].isoformat()
    event = {"event_id": uuid.uuid4().hex, "outcome": outcome, "kind": "emergency",
             "entry_id": f"emergency-{broadcast_id}-{n}", "occurrence_key": f"emergency-{broadcast_id}",
             "scheduled_at": at, "started_at": at, "ended_at": at, "seconds_played": 30.0 if outcome == "played" else 0,
             "reason": None if outcome == "played" else "player exited with status 1"}
    answer = world["api"].post(f"/api/v1/stations/{code}/events", headers=world["tokens"][code],
                               json={"events": [event]})
    assert answer.status_code == 200, answer.json


def detail(world, broadcast_id, who="pheduyet") -> dict:
    answer = world["api"].get(f"/api/v1/emergencies/{broadcast_id}", headers=world["people"][who])
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_request_waits_for_a_second_person_then_reaches_every_station_of_the_area(world):
    api, people = world["api"], world["people"]
    made = request(world, warning_item(world))
    assert made.status_code == 201, made.json
    assert made.json["state"] == "pending" and made.json["requested_by"] == "bientap"
    assert made.json["summary"]["stations"] == 0 and poll(world, "HG1-01") == []
    broadcast_id = made.json["id"]
    # The editor may not approve; the approver does, and it goes out at once.
    refused = api.post(f"/api/v1/emergencies/{broadcast_id}/approve", headers=people["bientap"])
    assert refused.status_code == 403
    approved = api.post(f"/api/v1/emergencies/{broadcast_id}/approve", headers=people["pheduyet"]).json
    assert approved["state"] == "issued" and approved["approved_by"] == "pheduyet"
    assert approved["summary"] == {"stations": 2, "played": 0, "received": 0, "sent": 2, "silent": 0, "failed": 0}
    assert [s["code"] for s in approved["stations"]] == ["HG1-01", "HG1-02"]
    commands = poll(world, "HG1-01")
    assert [(c["kind"], c["args"]["broadcast"], c["args"]["repeat"], c["args"]["interval_s"], c["args"]["risk_level"])
            for c in commands] == [("emergency", broadcast_id, 2, 600, 4)]
    assert commands[0]["args"]["expires_at"] == "2026-11-28T11:00:00+00:00"
    assert poll(world, "HG2-01") == []  # another commune hears nothing
    with world["database"].sessions() as session:
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "emergency")
                                       .order_by(AuditLog.id)))
    assert actions == ["emergency.request", "emergency.issue"]
    # A second approval is refused: it is no longer pending.
    assert api.post(f"/api/v1/emergencies/{broadcast_id}/approve", headers=people["pheduyet"]).status_code == 409


def test_the_two_person_rule_refuses_an_approver_approving_their_own_request(world):
    made = request(world, warning_item(world), who="pheduyet")
    assert made.status_code == 201 and made.json["state"] == "pending"
    own = world["api"].post(f"/api/v1/emergencies/{made.json['id']}/approve", headers=world["people"]["pheduyet"])
    assert own.status_code == 403 and "quy tắc hai người" in own.json["message"]
    assert poll(world, "HG1-01") == []


def test_without_the_two_person_rule_an_approvers_request_goes_out_at_once(world):
    app = world["app"]
    app.extensions["settings"] = app.extensions["settings"].model_copy(update={"emergency_two_person": False})
    made = request(world, warning_item(world), who="pheduyet")
    assert made.status_code == 201 and made.json["state"] == "issued"
    assert [c["kind"] for c in poll(world, "HG1-02")] == ["emergency"]
    # An editor's request still waits for an approver.
    assert request(world, warning_item(world)).json["state"] == "pending"


def test_tracking_per_station_received_played_failed_and_silent(world):
    broadcast = issued(world)
    broadcast_id = broadcast["id"]
    one, two = poll(world, "HG1-01")[0], poll(world, "HG1-02")[0]
    ack(world, "HG1-01", one["id"])
    tracks = {s["code"]: s["status"] for s in detail(world, broadcast_id)["stations"]}
    assert tracks == {"HG1-01": "received", "HG1-02": "sent"}
    aired(world, "HG1-01", broadcast_id)
    aired(world, "HG1-02", broadcast_id, outcome="failed")
    seen = detail(world, broadcast_id)
    assert {s["code"]: (s["status"], s["plays"], s["detail"]) for s in seen["stations"]} == {
        "HG1-01": ("played", 1, None), "HG1-02": ("failed", 0, "player exited with status 1")}
    assert seen["by_area"] == [{"area": "Phường Hà Giang 1", "stations": 2, "played": 1, "received": 0, "sent": 0,
                                "silent": 0, "failed": 1}]
    assert two["args"]["broadcast"] == broadcast_id
    # A station that never answers is silent once EMERGENCY_SILENT_AFTER_S (60 s) has passed.
    other = issued(world)
    world["clock"]["now"] = NOW + timedelta(seconds=61)
    assert detail(world, other["id"])["summary"]["silent"] == 2


def test_resend_goes_only_to_stations_that_have_not_acknowledged(world):
    broadcast = issued(world)
    first = poll(world, "HG1-01")[0]
    ack(world, "HG1-01", first["id"])
    world["clock"]["now"] = NOW + timedelta(minutes=2)
    resent = world["api"].post(f"/api/v1/emergencies/{broadcast['id']}/resend", headers=world["people"]["pheduyet"])
    assert resent.status_code == 200, resent.json
    assert {s["code"]: (s["status"], s["sends"]) for s in resent.json["stations"]} == {
        "HG1-01": ("received", 1), "HG1-02": ("sent", 2)}
    assert poll(world, "HG1-01") == []
    again = poll(world, "HG1-02")
    assert len(again) == 1 and again[0]["kind"] == "emergency"  # the first, unfetched one was superseded
    with world["database"].sessions() as session:
        states = sorted(s.value for s in session.scalars(select(StationCommand.state).join(
            EmergencyTarget, EmergencyTarget.station_id == StationCommand.station_id)
            .where(StationCommand.station_id == EmergencyTarget.station_id)))
    assert states.count("expired") == 1


def test_cancel_withdraws_unfetched_commands_and_tells_every_station(world):
    broadcast = issued(world)
    fetched = poll(world, "HG1-01")
    cancelled = world["api"].post(f"/api/v1/emergencies/{broadcast['id']}/cancel",
                                  headers=world["people"]["pheduyet"], json={"reason": "Tin sai"})
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert cancelled.json["close_reason"] == "Tin sai"
    assert [c["kind"] for c in fetched] == ["emergency"]
    assert [(c["kind"], c["args"]) for c in poll(world, "HG1-01")] == [
        ("cancel_emergency", {"broadcast": broadcast["id"]})]
    # HG1-02 never fetched the warning: it gets only the cancellation.
    assert [c["kind"] for c in poll(world, "HG1-02")] == ["cancel_emergency"]
    again = world["api"].post(f"/api/v1/emergencies/{broadcast['id']}/cancel", headers=world["people"]["pheduyet"],
                              json={})
    assert again.status_code == 409


def test_scope_an_operator_sees_the_warnings_of_their_commune_only(world):
    ours = issued(world)
    theirs = issued(world, areas=["00721"])
    operator = world["people"]["vanhanh"]
    listed = world["api"].get("/api/v1/emergencies", headers=operator).json["emergencies"]
    assert [b["id"] for b in listed] == [ours["id"]]
    assert world["api"].get(f"/api/v1/emergencies/{theirs['id']}", headers=operator).status_code == 404
    assert world["api"].post(f"/api/v1/emergencies/{ours['id']}/cancel", headers=operator, json={}).status_code == 403
    # A province-wide warning reaches the commune too.
    province = issued(world, areas=["08"])
    assert province["summary"]["stations"] == 4
    assert ours["id"] in [b["id"] for b in world["api"].get("/api/v1/emergencies", headers=operator).json[
        "emergencies"]]


@pytest.mark.parametrize(("changes", "status", "words"), [
    ({"areas": ["99999"]}, 422, "Không có địa bàn mang mã: 99999"),
    ({"areas": []}, 422, "areas"),
    ({"risk_level": 6}, 422, "risk_level"),
    ({"repeat_count": 0}, 422, "repeat_count"),
    ({"expires_at": "2026-11-28T15:00"}, 422, "đã qua"),
    ({"expires_at": "2026-12-05T15:00"}, 422, "tối đa 72 giờ"),
    ({"repeat_count": 3, "repeat_interval_s": 10}, 422, "ít nhất bằng độ dài của tin (30 giây)"),
    ({"repeat_count": 5, "repeat_interval_s": 3600}, 422, "kết thúc sau thời điểm hết hiệu lực"),
    ({"item_id": 999999}, 404, "Không có tin số 999999"),
])
def test_bad_requests_are_refused_with_the_reason_and_nothing_is_written(world, changes, status, words):
    changes = dict(changes)  # the parameters are shared by both databases' runs
    item_id = warning_item(world)
    answer = request(world, changes.pop("item_id", item_id), **changes)
    assert answer.status_code == status, answer.json
    assert words in str(answer.json), answer.json
    with world["database"].sessions() as session:
        assert session.scalar(select(func.count(EmergencyBroadcast.id))) == 0
        assert session.scalar(select(func.count(StationCommand.id))) == 0


def test_only_an_emergency_item_with_audio_can_be_broadcast(world):
    normal = request(world, warning_item(world, item_class="normal"))
    assert normal.status_code == 422 and "loại khẩn cấp" in normal.json["message"]
    silent = request(world, warning_item(world, audio=False))
    assert silent.status_code == 422 and "chưa có âm thanh" in silent.json["message"]


def test_export_then_import_gives_the_same_alert(world):
    app = world["app"]
    sender = app.extensions["settings"].cap_sender
    app.extensions["settings"] = app.extensions["settings"].model_copy(update={"cap_trusted_senders": [sender]})
    original = issued(world, areas=["00694", "00721"])
    exported = world["api"].get(f"/api/v1/emergencies/{original['id']}/cap", headers=world["people"]["pheduyet"])
    assert exported.status_code == 200 and exported.mimetype == "application/cap+xml"
    alert = cap.parse_cap(exported.data)  # valid CAP 1.2
    assert alert.identifier == f"{sender}.emergency.{original['id']}" and alert.status == "Actual"
    assert alert.infos[0].parameters == {"riskLevel": "4", "repeatCount": "2", "repeatIntervalSeconds": "600"}
    assert [a.geocodes for a in alert.infos[0].areas] == [(("VN-NSO", "00694"),), (("VN-NSO", "00721"),)]
    assert alert.infos[0].resources[0].uri.endswith(".mp3")

    imported = world["api"].post("/api/v1/emergencies/cap", headers=world["people"]["pheduyet"],
                                 data=exported.data, content_type="application/cap+xml")
    assert imported.status_code == 201, imported.json
    assert imported.json["action"] == "created" and imported.json["state"] == "issued"
    copy = detail(world, imported.json["broadcast"])
    assert [s["code"] for s in copy["stations"]] == [s["code"] for s in original["stations"]]
    assert (copy["risk_level"], copy["repeat_count"], copy["repeat_interval_s"], copy["expires_at"]) == (
        original["risk_level"], original["repeat_count"], original["repeat_interval_s"], original["expires_at"])
    again = world["api"].get(f"/api/v1/emergencies/{copy['id']}/cap", headers=world["people"]["pheduyet"])
    assert again.data == exported.data
    with world["database"].sessions() as session:  # the recording itself was reused, not read aloud
        items = session.scalars(select(NewsItem).join(EmergencyBroadcast)).all()
        assert len({item.audio_asset_id for item in items}) == 1
    # Importing it once more changes nothing.
    twice = world["api"].post("/api/v1/emergencies/cap", headers=world["people"]["pheduyet"], data=exported.data,
                              content_type="application/cap+xml")
    assert twice.json["action"] == "duplicate" and twice.json["broadcast"] == copy["id"]


def test_the_public_feed_lists_sent_warnings_as_cap_with_their_audio(world):
    sent = issued(world)
    request(world, warning_item(world))  # still pending: not public
    feed = world["api"].get("/feeds/00694/alerts.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    body = feed.data.decode()
    assert body.count("<entry>") == 1 and f"/feeds/alerts/{sent['id']}.xml" in body
    assert world["api"].get("/feeds/08/alerts.atom").data.decode().count("<entry>") == 1  # above the commune
    assert world["api"].get("/feeds/00721/alerts.atom").data.decode().count("<entry>") == 0
    alert = cap.parse_cap(world["api"].get(f"/feeds/alerts/{sent['id']}.xml").data)
    audio = world["api"].get(alert.infos[0].resources[0].uri.replace("http://localhost", ""))
    assert audio.status_code == 200 and audio.data.startswith(b"\xff\xfb")
    world["api"].post(f"/api/v1/emergencies/{sent['id']}/cancel", headers=world["people"]["pheduyet"], json={})
    cancelled = world["api"].get("/feeds/00694/alerts.atom").data.decode()
    assert cancelled.count("<entry>") == 2 and "<msgType>Cancel</msgType>" in cancelled
    cancel = cap.parse_cap(world["api"].get(f"/feeds/alerts/{sent['id']}-cancel.xml").data)
    assert cancel.msg_type == "Cancel" and cancel.references[0].split(",")[1] == alert.identifier


def test_commands_are_recorded_in_the_database_per_station(world):
    broadcast = issued(world)
    with world["database"].sessions() as session:
        rows = session.execute(select(EmergencyTarget.sends, StationCommand.state, StationCommand.kind)
                               .join(StationCommand, EmergencyTarget.command_id == StationCommand.id)
                               .where(EmergencyTarget.broadcast_id == broadcast["id"])).all()
    assert [(sends, state, kind.value) for sends, state, kind in rows] == [
        (1, CommandState.PENDING, "emergency"), (1, CommandState.PENDING, "emergency")]


def test_commands_made_ready_at_the_request_follow_the_stations_at_the_approval(world):
    made = request(world, warning_item(world))
    with world["database"].sessions() as session:
        assert sorted(s.value for s in session.scalars(select(StationCommand.state))) == ["held", "held"]
        stations.get_station(session, "HG1-02").active = False
        stations.add_station(session, stations.StationSpec(code="HG1-03", commune=stations.get_station(
            session, "HG1-01").commune, name="Đài tổ 9"))
        session.commit()
    approved = world["api"].post(f"/api/v1/emergencies/{made.json['id']}/approve",
                                 headers=world["people"]["pheduyet"]).json
    assert [s["code"] for s in approved["stations"]] == ["HG1-01", "HG1-03"]
    with world["database"].sessions() as session:  # added after the request: its command was made at approval
        token = stations.issue_token(session, stations.get_station(session, "HG1-03"))
    world["tokens"]["HG1-03"] = {"Authorization": f"Bearer {token}"}
    assert [c["kind"] for c in poll(world, "HG1-03")] == ["emergency"]
    with world["database"].sessions() as session:
        details = dict(session.execute(select(StationCommand.state, StationCommand.detail)
                                       .where(StationCommand.state == CommandState.EXPIRED)).all())
    assert details == {CommandState.EXPIRED: "the station was switched off before the approval"}


def test_a_rejected_request_sends_nothing(world):
    made = request(world, warning_item(world))
    answer = world["api"].post(f"/api/v1/emergencies/{made.json['id']}/reject", headers=world["people"]["pheduyet"],
                               json={"reason": "Trùng với bản tin trước"})
    assert answer.status_code == 200 and answer.json["state"] == "rejected"
    assert answer.json["close_reason"] == "Trùng với bản tin trước"
    assert poll(world, "HG1-01") == [] and poll(world, "HG1-02") == []
    no_reason = request(world, warning_item(world))
    refused = world["api"].post(f"/api/v1/emergencies/{no_reason.json['id']}/reject",
                                headers=world["people"]["pheduyet"], json={})
    assert refused.status_code == 422


def schema_errors(document: bytes | etree._Element) -> list[str]:
    """What the real CAP 1.2 XSD finds wrong with one alert (none when it is valid)."""
    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    root = etree.fromstring(document) if isinstance(document, bytes) else document
    schema.validate(root)
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def atom_alerts(world, area_code) -> tuple[etree._Element, list[etree._Element]]:
    """An area's Atom feed, which must answer 200, and the CAP alerts its entries carry."""
    answer = world["api"].get(f"/feeds/{area_code}/alerts.atom")
    assert answer.status_code == 200, answer.data.decode()
    feed = etree.fromstring(answer.data)
    return feed, feed.findall(f"{ATOM}entry/{ATOM}content/{CAP}alert")


def cancel(world, broadcast_id, reason=None):
    answer = world["api"].post(f"/api/v1/emergencies/{broadcast_id}/cancel", headers=world["people"]["pheduyet"],
                               json={} if reason is None else {"reason": reason})
    assert answer.status_code == 200, answer.json
    return answer.json


@pytest.mark.parametrize(("reason", "note"), [
    ("Tin sai: mực nước đã rút, không còn nguy cơ lũ quét.", "Tin sai: mực nước đã rút, không còn nguy cơ lũ quét."),
    # Pasted from a word processor: a vertical tab XML cannot hold at all is dropped, the words are kept.
    ("Tin sai\vđã hết nguy hiểm", "Tin saiđã hết nguy hiểm"),
])
def test_a_cancel_with_a_reason_is_valid_cap_in_its_own_file_and_in_the_feeds(world, reason, note):
    sent = issued(world)
    assert cancel(world, sent["id"], reason)["close_reason"] == reason
    answer = world["api"].get(f"/feeds/alerts/{sent['id']}-cancel.xml")
    assert answer.status_code == 200, answer.data.decode()
    assert schema_errors(answer.data) == []
    message = etree.fromstring(answer.data)
    assert message.findtext(f"{CAP}msgType") == "Cancel" and message.findtext(f"{CAP}note") == note
    # Both the commune's feed and the province's carry the same valid Cancel, and the alert it withdraws.
    for area_code in ("00694", "08"):
        _, alerts = atom_alerts(world, area_code)
        assert [a.findtext(f"{CAP}msgType") for a in alerts] == ["Cancel", "Alert"]
        assert [schema_errors(a) for a in alerts] == [[], []]
        assert alerts[0].findtext(f"{CAP}note") == note


def test_a_warning_whose_cap_cannot_be_built_is_left_out_of_the_feeds_and_logged(world, caplog):
    good, bad = issued(world), issued(world)
    with world["database"].sessions() as session:  # the stored original of an imported alert, damaged
        session.get(EmergencyBroadcast, bad["id"]).cap_xml = "<alert>not CAP at all</alert>"
        session.commit()
    with caplog.at_level(logging.WARNING, logger="broadcast.web.feeds"):
        for area_code in ("00694", "08"):
            feed, alerts = atom_alerts(world, area_code)
            links = [link.get("href") for link in feed.iter(f"{ATOM}link") if link.get("rel") == "alternate"]
            assert links == [f"http://localhost/feeds/alerts/{good['id']}.xml"]
            assert [schema_errors(a) for a in alerts] == [[]]
    left_out = [r for r in caplog.records if r.name == "broadcast.web.feeds" and r.levelno == logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in left_out] == [
        f"Emergency broadcast {bad['id']} left out of /feeds/00694/alerts.atom",
        f"Emergency broadcast {bad['id']} left out of /feeds/08/alerts.atom"]
    # Its own file says what is wrong instead of answering as if the request were at fault.
    caplog.clear()
    own = world["api"].get(f"/feeds/alerts/{bad['id']}.xml")
    assert own.status_code == 500
    assert f"Không thể công bố bản tin khẩn cấp {bad['id']} dưới dạng cảnh báo CAP 1.2" in own.data.decode()
    assert [r.levelno for r in caplog.records if r.name == "broadcast.web.feeds"] == [logging.ERROR]
    # Withdrawn, it still has a valid Cancel (built from the broadcast, not from the damaged original): that is
    # listed on its own, so readers holding the earlier alert learn it is withdrawn.
    cancel(world, bad["id"], "Tin sai")
    sender = world["app"].extensions["settings"].cap_sender
    _, alerts = atom_alerts(world, "00694")
    # (Both were issued at the same moment, so the database may list either first.)
    assert {(a.findtext(f"{CAP}msgType"), a.findtext(f"{CAP}identifier")) for a in alerts} == {
        ("Cancel", f"{sender}.emergency.{bad['id']}.cancel"), ("Alert", f"{sender}.emergency.{good['id']}")}


def test_a_withdrawn_warning_without_its_cancel_is_left_out_whole_and_a_crash_is_logged(world, caplog,
                                                                                        monkeypatch):
    good, no_cancel, crashing = issued(world), issued(world), issued(world)
    cancel(world, no_cancel["id"], "Tin sai")
    real_cancel, real_alert = export.to_cap_cancel, export.to_cap

    def failing_cancel(broadcast, **kwargs):
        if broadcast.id == no_cancel["id"]:
            raise export.ExportError(broadcast.id, "not valid CAP 1.2")
        return real_cancel(broadcast, **kwargs)

    def crashing_alert(broadcast, **kwargs):
        if broadcast.id == crashing["id"]:
            raise RuntimeError("a bug, not bad data")
        return real_alert(broadcast, **kwargs)

    monkeypatch.setattr(export, "to_cap_cancel", failing_cancel)
    monkeypatch.setattr(export, "to_cap", crashing_alert)
    with caplog.at_level(logging.WARNING, logger="broadcast.web.feeds"):
        feed, alerts = atom_alerts(world, "08")
    # Its alert alone would read as a warning still in force: neither is listed. The crash is left out too.
    assert [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")] == [
        f"http://localhost/feeds/alerts/{good['id']}.xml"]
    assert [schema_errors(a) for a in alerts] == [[]]
    logged = {(r.levelno, r.getMessage().split(":")[0], r.exc_info is not None) for r in caplog.records
              if r.name == "broadcast.web.feeds"}
    assert logged == {
        (logging.WARNING, f"Emergency broadcast {no_cancel['id']} left out of /feeds/08/alerts.atom", False),
        (logging.ERROR, f"Emergency broadcast {crashing['id']} left out of /feeds/08/alerts.atom", True)}


def test_every_alert_feed_names_its_author(world):
    settings = world["app"].extensions["settings"]
    cancel(world, issued(world)["id"])
    for area_code in ("00694", "08", "00721"):  # with entries, and with none
        feed, _ = atom_alerts(world, area_code)
        assert [a.findtext(f"{ATOM}name") for a in feed.findall(f"{ATOM}author")] == [settings.cap_sender_name]
        parsed = feedparser.parse(world["api"].get(f"/feeds/{area_code}/alerts.atom").data)
        assert not parsed.bozo and parsed.feed.author == settings.cap_sender_name
