"""The agent's configuration: defaults, validation that names the key, and the command line's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stations.agent import cli
from stations.agent.config import KEYS, AgentConfig, ConfigError, load_config, parse_config

MINIMAL = {
    "server_url": "http://127.0.0.1:5000/",
    "token": "st_secret",
    "station": "HG1-01",
    "cache_dir": "cache",
    "player": ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"],
}


def test_defaults_and_relative_paths(tmp_path):
    config = parse_config(dict(MINIMAL), base=tmp_path)
    assert config == AgentConfig(server_url="http://127.0.0.1:5000", token="st_secret", station="HG1-01",
                                 cache_dir=tmp_path / "cache", player=tuple(MINIMAL["player"]))
    assert (config.poll_interval_s, config.heartbeat_interval_s, config.late_skip_s) == (60.0, 60.0, 120.0)
    assert (config.emergency_resume, config.volume, config.commands_wait_s) == ("restart", 100, 25.0)
    assert config.inbox_dir is None and config.mqtt_url is None and config.filler_file is None
    assert not config.player_can_seek


def test_every_key_is_read_from_a_file(tmp_path):
    filler = tmp_path / "filler.mp3"
    filler.write_bytes(b"x")
    (tmp_path / "station.toml").write_text("""
server_url = "https://radio.example.vn"
token = "st_abc"
station = "HG2-01"
cache_dir = "/var/lib/radio-agent"
player = ["mpv", "--no-video", "--ao=null", "--start={offset}", "{file}"]
player_env = {SDL_AUDIODRIVER = "dummy"}
player_timeout_margin_s = 5
inbox_dir = "inbox"
poll_interval_s = 0.5
heartbeat_interval_s = 30
late_skip_s = 0
emergency_resume = "continue"
filler_file = "filler.mp3"
mqtt_url = "mqtt://user:pw@127.0.0.1:1883"
mqtt_topic_prefix = "test/stations/"
volume = 7
volume_command = ["amixer", "sset", "Master", "{volume}%"]
commands_wait_s = 0
http_timeout_s = 3
log_level = "debug"
""", encoding="utf-8")
    config = load_config(tmp_path / "station.toml")
    assert config.player_can_seek and config.emergency_resume == "continue"
    assert config.inbox_dir == tmp_path / "inbox" and config.filler_file == filler
    assert config.cache_dir == Path("/var/lib/radio-agent") and config.player_env == {"SDL_AUDIODRIVER": "dummy"}
    assert (config.mqtt_topic_prefix, config.volume, config.log_level) == ("test/stations", 7, "DEBUG")
    assert config.volume_command == ("amixer", "sset", "Master", "{volume}%")
    assert {key.name for key in KEYS} == set(AgentConfig.__dataclass_fields__)


@pytest.mark.parametrize(("change", "key", "says"), [
    ({"server_url": None}, "server_url", "is missing"),
    ({"token": ""}, "token", "non-empty string"),
    ({"server_url": "ftp://x"}, "server_url", "http:// or https://"),
    ({"station": "H G"}, "station", "letters, digits"),
    ({"player": "ffplay {file}"}, "player", "list of strings"),
    ({"player": ["ffplay"]}, "player", "'{file}'"),
    ({"poll_interval_s": 0}, "poll_interval_s", "at least 0.1"),
    ({"late_skip_s": True}, "late_skip_s", "number"),
    ({"heartbeat_interval_s": "60"}, "heartbeat_interval_s", "number"),
    ({"emergency_resume": "pause"}, "emergency_resume", "'restart', 'continue', 'skip'"),
    ({"emergency_resume": "continue"}, "emergency_resume", "{offset}"),
    ({"volume": 101}, "volume", "0 to 100"),
    ({"volume_command": ["amixer"]}, "volume_command", "'{volume}'"),
    ({"filler_file": "nowhere.mp3"}, "filler_file", "is not a file"),
    ({"mqtt_url": "http://broker"}, "mqtt_url", "mqtt://"),
    ({"player_env": {"A": 1}}, "player_env", "table of strings"),
    ({"log_level": "LOUD"}, "log_level", "'DEBUG'"),
    ({"poll_interval": 60}, "poll_interval", "not a setting"),
])
def test_a_bad_value_names_its_key(tmp_path, change, key, says):
    raw = {**MINIMAL, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, base=tmp_path)
    assert caught.value.key == key and says in str(caught.value)


def test_check_config_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text('server_url = "http://127.0.0.1:5000"\ntoken = "st_x"\nstation = "HG1-01"\ncache_dir = "c"\n'
                    'player = ["aplay", "{file}"]\n', encoding="utf-8")
    assert cli.main(["--config", str(good), "--check-config"]) == 0
    assert "configuration OK: station HG1-01" in capsys.readouterr().out

    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text() + "late_skip_s = -1\n", encoding="utf-8")
    assert cli.main(["--config", str(bad), "--check-config"]) == 2
    assert "late_skip_s: must be a number of at least 0" in capsys.readouterr().err

    broken = tmp_path / "broken.toml"
    broken.write_text("server_url = \n", encoding="utf-8")
    assert cli.main(["--config", str(broken)]) == 2
    assert "--config:" in capsys.readouterr().err and cli.main(["--config", str(tmp_path / "none.toml")]) == 2


def test_help_documents_every_option_and_key(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in ("--config", "--once", "--check-config", "--log-level", "--version"):
        assert option in text
    for key in KEYS:
        assert f"  {key.name} " in text
