"""PUBLIC_URL: the service's address for the links in exported playlists, checked at start-up."""

from __future__ import annotations

import pytest

from broadcast.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("PUBLIC_URL", "INSTANCE_PATH", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_unset_means_each_request_s_own_address(tmp_path):
    assert load_settings(instance_path=tmp_path).public_url == ""


@pytest.mark.parametrize(("given", "kept"), [
    ("https://radio.tuyenquang.gov.vn", "https://radio.tuyenquang.gov.vn"),
    ("https://radio.tuyenquang.gov.vn/", "https://radio.tuyenquang.gov.vn"),  # links append "/api/…"
    ("http://10.0.0.5:5000/radio/", "http://10.0.0.5:5000/radio"),
])
def test_an_address_is_kept_without_its_trailing_slash(tmp_path, monkeypatch, given, kept):
    monkeypatch.setenv("PUBLIC_URL", given)
    assert load_settings(instance_path=tmp_path).public_url == kept


@pytest.mark.parametrize("given", ["radio.tuyenquang.gov.vn", "ftp://radio.example", "https://radio.example/?a=1",
                                   "https://user@radio.example", "https:///path"])
def test_what_is_not_a_web_address_stops_start_up_naming_the_setting(tmp_path, monkeypatch, given):
    monkeypatch.setenv("PUBLIC_URL", given)
    with pytest.raises(ConfigError, match="PUBLIC_URL: .*write it as https://radio.example.vn"):
        load_settings(instance_path=tmp_path)
