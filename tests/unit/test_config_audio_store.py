"""The audio store settings: the folder store by default, an s3:// URL checked at start-up, its bucket and prefix."""

from __future__ import annotations

import pytest

from broadcast.config import ConfigError, load_settings
from broadcast.storage.s3 import StoreLocation, parse_store_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("INSTANCE_PATH", "AUDIO_DIR", "AUDIO_STORE_URL", "AUDIO_STORE_ENDPOINT_URL", "AUDIO_CACHE_DIR",
                 "AUDIO_STORE_SERVE", "AUDIO_STORE_URL_EXPIRY_S"):
        monkeypatch.delenv(name, raising=False)


def test_the_folder_store_is_the_default_and_no_cache_folder_is_made(tmp_path):
    settings = load_settings(instance_path=tmp_path)
    assert settings.audio_store_url == "" and settings.resolved_audio_dir.is_dir()
    assert not settings.resolved_audio_cache_dir.exists()


def test_a_bucket_gets_a_writable_cache_folder_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIO_STORE_URL", "s3://radio-audio/tuyen-quang")
    monkeypatch.setenv("AUDIO_STORE_ENDPOINT_URL", "http://minio.internal:9000")
    settings = load_settings(instance_path=tmp_path)
    assert settings.audio_store_serve == "redirect" and settings.audio_store_url_expiry_s == 300
    assert settings.resolved_audio_cache_dir == tmp_path / "audio-cache" and settings.resolved_audio_cache_dir.is_dir()


@pytest.mark.parametrize(("name", "value"), [
    ("audio_store_url", "https://radio-audio.s3.amazonaws.com/x"),
    ("audio_store_url", "s3://"),
    ("audio_store_url", "s3://Radio_Audio/x"),
    ("audio_store_endpoint_url", "minio:9000"),
    ("audio_store_serve", "proxy"),
    ("audio_store_url_expiry_s", 5),
    ("audio_store_url_expiry_s", 8 * 24 * 3600),  # S3 signs links for seven days at most
])
def test_a_bad_value_names_its_setting(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name.upper()):
        load_settings(instance_path=tmp_path, **{name: value})


@pytest.mark.parametrize(("url", "location"), [
    ("s3://radio-audio", StoreLocation("radio-audio", "")),
    ("s3://radio-audio/", StoreLocation("radio-audio", "")),
    ("s3://radio-audio/province/audio/", StoreLocation("radio-audio", "province/audio")),
])
def test_a_store_url_is_a_bucket_and_a_prefix(url, location):
    assert parse_store_url(url) == location


def test_what_is_not_an_s3_url_is_refused():
    with pytest.raises(ValueError):
        parse_store_url("file:///srv/audio")
