"""``flask alerts import-cap --dry-run`` on a real database: which stations a CAP alert reaches, and refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from broadcast.db.models import Base, EmergencyBroadcast, NewsItem, Station, StationCommand, Structure
from broadcast.services import areas, stations
from tests.factories import tuyen_quang

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cap"

# (code, commune, lat, lon): HG2-01 has no coordinates of its own and is placed at its commune's.
STATIONS = (
    ("HG1-01", "00694", 22.81, 104.94),  # Phường Hà Giang 1, successor of legacy Xã Phương Độ (00946)
    ("HG2-01", "00691", None, None),  # Phường Hà Giang 2, centre 22.8605, 104.963
    ("DV-01", "00721", 23.26, 105.35),  # Xã Đồng Văn
    ("MX-01", "02215", 21.82, 105.19),  # Phường Minh Xuân
)


@pytest.fixture
def world(app, session):
    """2025 Tuyên Quang with legacy Hà Giang linked to it, and four stations."""
    tuyen_quang(session, station_codes=[(code, commune) for code, commune, _, _ in STATIONS])
    areas.load_province(session, "Hà Giang", Structure.LEGACY)
    for code, _, lat, lon in STATIONS:
        station = stations.get_station(session, code)
        station.lat, station.lon = lat, lon
    session.commit()
    return app


def row_counts(database) -> dict[str, int]:
    with database.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def import_cap(app, name: str, *options: str):
    runner = app.test_cli_runner(mix_stderr=False)
    return runner.invoke(args=["alerts", "import-cap", str(FIXTURES / f"{name}.xml"), *options])


@pytest.mark.parametrize("name, expected", [
    ("province", {"class": "emergency", "risk_level": 3, "airs": True,
                  "stations": ["DV-01", "HG1-01", "HG2-01", "MX-01"]}),
    ("legacy-commune", {"class": "emergency", "risk_level": 5, "airs": True, "stations": ["HG1-01"]}),
    ("polygon", {"class": "priority", "risk_level": 3, "airs": True, "stations": ["DV-01"]}),
    ("circle", {"class": "normal", "risk_level": 2, "airs": True, "stations": ["HG2-01"]}),
    ("exercise", {"status": "Exercise", "class": "emergency", "risk_level": 5, "airs": False,
                  "stations": ["DV-01", "HG1-01", "HG2-01", "MX-01"]}),
])
def test_dry_run_prints_the_plan_and_writes_nothing(world, database, name, expected):
    before = row_counts(database)
    result = import_cap(world, name, "--dry-run")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["identifier"] == f"VN-TQ-2026-{name}" and plan["msg_type"] == "Alert"
    assert plan["status"] == expected.get("status", "Actual")
    assert {k: plan[k] for k in ("class", "risk_level", "airs", "stations")} == {
        k: v for k, v in expected.items() if k != "status"}
    assert [a["stations"] for a in plan["areas"]] == [expected["stations"]]
    assert row_counts(database) == before


@pytest.mark.parametrize("name, words", [
    ("expired", "VN-TQ-2026-expired"),
    ("unknown-code", "99999"),
    ("billion-laughs", "DTD"),
    ("external-entity", "DTD"),
    ("malformed", "XML"),
    ("missing-sender", "sender"),
])
def test_bad_alerts_are_refused_with_a_message(world, database, name, words):
    before = row_counts(database)
    result = import_cap(world, name, "--dry-run")
    assert result.exit_code == 1
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert row_counts(database) == before


def trust(app, **changes):
    app.extensions["settings"] = app.extensions["settings"].model_copy(update=changes)


def imported(app, name: str) -> dict:
    result = import_cap(app, name)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def broadcast_of(session, broadcast_id: int) -> EmergencyBroadcast:
    session.expire_all()
    return session.get(EmergencyBroadcast, broadcast_id)


def commands_of(session, state: str | None = None) -> list[tuple[str, str, int]]:
    """The commands sent to stations (or only those in ``state``; "held" ones wait for an approver)."""
    session.expire_all()
    query = select(Station.code, StationCommand.kind, StationCommand.args).join(Station).order_by(StationCommand.id)
    query = query.where(StationCommand.state == state) if state else query.where(StationCommand.state != "held")
    return [(code, kind.value, args["broadcast"]) for code, kind, args in session.execute(query)]


def test_an_emergency_alert_waits_for_an_approver_and_is_read_aloud(world, session):
    result = imported(world, "legacy-commune")
    assert (result["action"], result["state"], result["stations"]) == ("created", "pending", ["HG1-01"])
    broadcast = broadcast_of(session, result["broadcast"])
    assert (broadcast.source, broadcast.cap_identifier, broadcast.cap_sender) == (
        "cap", "VN-TQ-2026-legacy-commune", "pctt@tuyenquang.gov.vn")
    # Risk level 5 (severity Extreme): three airings ten minutes apart.
    assert (broadcast.risk_level, broadcast.repeat_count, broadcast.repeat_interval_s) == (5, 3, 600)
    assert [a.code for a in broadcast.areas] == ["00694"]
    item = broadcast.item
    assert item.item_class.value == "emergency" and item.audio_asset is not None  # espeak-ng read it
    assert item.body.startswith("Cảnh báo lũ quét và sạt lở đất") and "ngầm tràn" in item.body
    assert commands_of(session) == []  # nothing airs before an approver says so: made ready, held
    assert commands_of(session, "held") == [("HG1-01", "emergency", broadcast.id)]


def test_a_trusted_senders_alert_is_sent_at_once_and_update_then_cancel_replace_and_withdraw_it(world, session):
    trust(world, cap_trusted_senders=["pctt@tuyenquang.gov.vn"])
    first = imported(world, "legacy-commune")
    assert first["state"] == "issued"
    assert commands_of(session) == [("HG1-01", "emergency", first["broadcast"])]

    update = imported(world, "update")
    assert (update["action"], update["state"], update["cancelled"]) == ("updated", "issued", [first["broadcast"]])
    replaced, current = broadcast_of(session, first["broadcast"]), broadcast_of(session, update["broadcast"])
    assert replaced.state.value == "cancelled" and "VN-TQ-2026-update" in replaced.close_reason
    assert current.replaces_id == replaced.id
    assert (current.risk_level, current.repeat_count, current.repeat_interval_s) == (4, 2, 300)
    assert commands_of(session)[1:] == [("HG1-01", "cancel_emergency", first["broadcast"]),
                                        ("HG1-01", "emergency", update["broadcast"])]

    cancel = imported(world, "cancel")
    assert (cancel["action"], cancel["cancelled"]) == ("cancelled", [update["broadcast"]])
    assert broadcast_of(session, update["broadcast"]).state.value == "cancelled"
    assert commands_of(session)[-1] == ("HG1-01", "cancel_emergency", update["broadcast"])
    # The same alert again changes nothing.
    assert imported(world, "legacy-commune")["action"] == "duplicate"


def test_exercise_and_test_alerts_are_kept_but_never_aired(world, session):
    trust(world, cap_trusted_senders=["pctt@tuyenquang.gov.vn"])
    result = imported(world, "exercise")
    assert (result["action"], result["state"], result["airs"]) == ("test", "test", False)
    assert commands_of(session) == []


def test_a_priority_alert_becomes_a_bulletin_for_the_editors(world, session):
    result = imported(world, "polygon")
    assert (result["action"], result["broadcast"], result["class"]) == ("bulletin", None, "priority")
    session.expire_all()
    item = session.get(NewsItem, result["item"])
    assert (item.item_class.value, item.status.value) == ("priority", "submitted")
    assert session.scalar(select(func.count(EmergencyBroadcast.id))) == 0


@pytest.mark.parametrize("name, policy, words", [
    ("legacy-commune", {"cap_accepted_senders": ["kttv@mard.gov.vn"]}, "Không nhận cảnh báo từ pctt@tuyenquang.gov.vn"),
    ("system", {}, "Bản tin loại System không được phát"),
    ("cancel", {}, "không tham chiếu cảnh báo nào"),
])
def test_refused_imports_say_why_and_change_nothing(world, database, name, policy, words):
    trust(world, **policy)
    before = row_counts(database)
    result = import_cap(world, name)
    assert result.exit_code == 1 and words in result.stderr, result.stderr
    assert row_counts(database) == before


def test_inactive_stations_are_not_targeted(world, session):
    session.execute(text("UPDATE stations SET active = false WHERE code = 'MX-01'"))
    session.commit()
    plan = json.loads(import_cap(world, "province", "--dry-run").stdout)
    assert plan["stations"] == ["DV-01", "HG1-01", "HG2-01"]
    assert session.scalar(select(func.count(Station.id))) == 4


def test_the_command_as_a_user_runs_it(world, database, tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "cli-instance"), "DATABASE_URL": database.url}
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "alerts", "import-cap",
                          str(FIXTURES / "legacy-commune.xml"), "--dry-run"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["stations"] == ["HG1-01"]
    refused = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "alerts", "import-cap",
                              str(FIXTURES / "unknown-code.xml"), "--dry-run"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "99999" in refused.stderr and "Traceback" not in refused.stderr
