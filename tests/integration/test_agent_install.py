"""install.sh puts the agent alone (its own venv from stations/requirements.txt) into a prefix, and it works.

Run without root (``--no-system``) into a temporary prefix; the installed ``radio-agent`` then syncs once from
the live service. The virtual environment holds only the station's requirements, so this also proves that the
agent needs nothing of the server's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from stations.agent import AGENT_VERSION
from stations.manifest import from_json
from tests.integration.test_agent_sync import live_service, make_mp3s, sqlite_database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "stations" / "agent" / "install.sh"


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture
def service(seeded, client, settings):
    yield from live_service(seeded, client, settings)


def test_install_into_a_prefix_then_sync_once_with_only_the_station_requirements(service, tmp_path):
    prefix, bin_dir = tmp_path / "opt", tmp_path / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["sh", str(INSTALL), "--prefix", str(prefix), "--bin-dir", str(bin_dir), "--no-system"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"radio-agent {AGENT_VERSION}" in done.stdout
    installed = subprocess.run([str(prefix / "venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                               capture_output=True, text=True, timeout=60, env=env, check=True)
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert {"requests", "paho-mqtt", "jsonschema"} <= names
    assert not names & {"flask", "sqlalchemy", "werkzeug", "apscheduler", "paramiko"}

    service.place("Tin tỉnh", make_mp3s(tmp_path)["news"])
    config = tmp_path / "station.toml"
    config.write_text("\n".join(f"{key} = {json.dumps(value)}" for key, value in service.config(tmp_path).items())
                      + "\n", encoding="utf-8")
    synced = subprocess.run([str(bin_dir / "radio-agent"), "--config", str(config), "--once"], capture_output=True,
                            text=True, timeout=60, env=env, cwd=tmp_path)
    version = from_json(service.manifest_body()).version
    assert synced.returncode == 0, synced.stderr
    assert f"installed version: {version}" in synced.stdout and service.installed_version("HG1-01") == version
