"""The settings object: defaults, sources, and messages that say what to fix."""

from __future__ import annotations

import os
import stat

import pytest

from broadcast.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "TIMEZONE", "TTS_ENGINE", "AUDIO_DIR", "SECRET_KEY", "INSTANCE_PATH",
                 "STATION_OFFLINE_AFTER_S"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_put_everything_in_the_instance_folder(tmp_path):
    settings = load_settings(instance_path=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'broadcast.db'}"
    assert settings.resolved_audio_dir == tmp_path / "audio"
    assert settings.resolved_audio_dir.is_dir()
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.tts_engine == "espeak"
    assert settings.default_locale == "vi"


def test_secret_key_is_generated_once_private_and_kept(tmp_path):
    first = load_settings(instance_path=tmp_path).secret_key
    second = load_settings(instance_path=tmp_path).secret_key
    assert len(first) == 64 and first == second
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_environment_overrides_the_instance_file(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('timezone = "Europe/Berlin"\ntts_engine = "gtts"\n', encoding="utf-8")
    monkeypatch.setenv("TTS_ENGINE", "espeak")
    settings = load_settings(instance_path=tmp_path)
    assert settings.timezone == "Europe/Berlin"  # from the file
    assert settings.tts_engine == "espeak"  # the environment wins


def test_postgres_url_gets_the_psycopg3_driver(tmp_path):
    settings = load_settings(instance_path=tmp_path, database_url="postgresql://u:p@db:5432/radio")
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db:5432/radio"


@pytest.mark.parametrize(
    ("overrides", "names_setting", "says"),
    [
        ({"timezone": "Mars/Olympus"}, "TIMEZONE", "Asia/Ho_Chi_Minh"),
        ({"database_url": "mysql://root@localhost/x"}, "DATABASE_URL", "sqlite or postgresql"),
        ({"database_url": "not a url"}, "DATABASE_URL", "sqlite:///"),
        ({"tts_engine": "festival"}, "TTS_ENGINE", "espeak"),
        ({"station_offline_after_s": 5}, "STATION_OFFLINE_AFTER_S", "30"),
    ],
)
def test_invalid_settings_name_the_setting_and_the_fix(tmp_path, overrides, names_setting, says):
    with pytest.raises(ConfigError) as caught:
        load_settings(instance_path=tmp_path, **overrides)
    message = str(caught.value)
    assert message.startswith("Cấu hình không hợp lệ")
    assert names_setting in message and says in message


def test_broken_instance_file_is_reported(tmp_path):
    (tmp_path / "config.toml").write_text("timezone = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings(instance_path=tmp_path)


def test_unwritable_audio_dir_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="AUDIO_DIR"):
        load_settings(instance_path=tmp_path / "inst", audio_dir=blocker / "audio")


def test_bad_speech_engine_options_stop_start_up(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(instance_path=tmp_path, tts_engine="http", tts_options={"http": {}})
    assert "TTS_OPTIONS.http" in str(caught.value) and "url" in str(caught.value)


def test_engine_options_come_from_the_instance_file(tmp_path):
    (tmp_path / "config.toml").write_text(
        'tts_engine = "http"\n[tts_options.http]\nurl = "http://127.0.0.1:9/tts"\ndefault_voice = "hn_female"\n',
        encoding="utf-8")
    from broadcast.audio_setup import audio_tools

    tools = audio_tools(load_settings(instance_path=tmp_path))
    assert tools.renderer.primary.name == "http" and tools.default_voice == "hn_female"
    assert tools.renderer.fallback.name == "espeak"
