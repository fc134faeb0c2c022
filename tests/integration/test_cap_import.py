"""``flask alerts import-cap --dry-run`` on a real database: which stations a CAP alert reaches, and refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from broadcast.db.models import Base, Station, Structure
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


def test_without_dry_run_nothing_is_issued_yet(world, database):
    before = row_counts(database)
    result = import_cap(world, "province")
    assert result.exit_code == 2 and "--dry-run" in result.stderr and result.stdout == ""
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
