"""The command line, run as a user runs it: ``flask --app broadcast ...`` on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    """A database URL with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = request.getfixturevalue("postgres_server_url")
    engine = create_engine(url)
    with engine.begin() as conn:  # the shared test database, emptied down to no tables at all
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url
    # Leave the schema as the other PostgreSQL tests expect it.
    from broadcast.db.engine import Database

    database = Database(url)
    database.upgrade()
    database.dispose()


def flask(tmp_path, url, *args, input_text=None):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, input=input_text, timeout=120)


def test_areas_load_and_stats_on_a_fresh_database(tmp_path, fresh_url):
    loaded = flask(tmp_path, fresh_url, "areas", "load", "--province", "Hà Giang", "--structure", "legacy")
    assert loaded.returncode == 0, loaded.stderr
    stats = flask(tmp_path, fresh_url, "areas", "stats")
    assert stats.stdout.splitlines() == ["province: 1", "district: 11", "commune: 193"]
    loaded = flask(tmp_path, fresh_url, "areas", "load", "--province", "Tuyên Quang", "--structure", "2025")
    assert loaded.returncode == 0, loaded.stderr
    stats = flask(tmp_path, fresh_url, "areas", "stats", "--structure", "2025")
    assert "commune: 124" in stats.stdout.splitlines()


def test_unknown_province_fails_with_a_message(tmp_path, fresh_url):
    result = flask(tmp_path, fresh_url, "areas", "load", "--province", "Hà Giang", "--structure", "2025")
    assert result.returncode == 1
    assert "Tuyên Quang" in result.stderr and "Traceback" not in result.stderr
    assert flask(tmp_path, fresh_url, "areas", "stats").stdout.splitlines() == [
        "province: 0", "district: 0", "commune: 0"]


def test_stations_add_token_and_duplicate(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert flask(tmp_path, url, "areas", "load", "--province", "08", "--structure", "2025").returncode == 0
    added = flask(tmp_path, url, "stations", "add", "--code", "HG1-01", "--commune", "00694", "--name", "Tổ 1",
                  "--lat", "22.81", "--lon", "104.98")
    assert added.returncode == 0 and "HG1-01" in added.stdout
    again = flask(tmp_path, url, "stations", "add", "--code", "HG1-01", "--commune", "00694")
    assert again.returncode == 1 and "HG1-01 đã được dùng" in again.stderr
    token = flask(tmp_path, url, "stations", "token", "HG1-01").stdout.strip()
    assert token.startswith("st_")
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_sha256, lat FROM stations WHERE code = 'HG1-01'")).one()
    engine.dispose()
    import hashlib

    assert stored == (hashlib.sha256(token.encode()).hexdigest(), 22.81)
    missing = flask(tmp_path, url, "stations", "add", "--code", "X1", "--commune", "99999")
    assert missing.returncode == 1 and "99999" in missing.stderr


def test_users_create_with_password_from_the_environment(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    flask(tmp_path, url, "areas", "load", "--province", "08", "--structure", "2025")
    monkeypatch.setenv("NEW_USER_PASSWORD", "a long secret")
    created = flask(tmp_path, url, "users", "create", "--username", "bt", "--role", "editor", "--scope", "08")
    assert created.returncode == 0, created.stderr
    no_scope = flask(tmp_path, url, "users", "create", "--username", "op", "--role", "operator")
    assert no_scope.returncode == 1 and "địa bàn" in no_scope.stderr


def test_invalid_configuration_says_what_to_fix(tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "TIMEZONE": "Mars/Olympus"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "areas", "stats"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "TIMEZONE" in result.stderr and "Asia/Ho_Chi_Minh" in result.stderr
    assert "Traceback" not in result.stderr
