"""The renderer with real engines: an online engine that cannot connect falls back to espeak-ng."""

from __future__ import annotations

import pytest
from gtts import tts as gtts_tts

from audio.speech import SpeechError, SpeechRenderer, VoiceSettings, build_engine
from tests.services import free_port, need_tool
from tests.standins.tones import duration_s

TEXT = "Thông báo khẩn của Ủy ban nhân dân xã về mưa lũ."


@pytest.fixture
def dead_google(monkeypatch):
    """gTTS pointed at a loopback port nobody listens on: every connection is refused at once."""
    port = free_port()
    monkeypatch.setattr(gtts_tts, "_translate_url", lambda tld="com", path="": f"http://127.0.0.1:{port}/{path}")


def test_gtts_that_cannot_connect_falls_back_to_espeak_with_a_warning(dead_google, tmp_path):
    need_tool("espeak-ng")
    renderer = SpeechRenderer(
        build_engine("gtts", retries=1, backoff_s=0.01, timeout=5), tmp_path, fallback=build_engine("espeak")
    )
    result = renderer.render(TEXT, VoiceSettings("vi"))
    assert result.engine == "espeak" and not result.cache_hit
    assert result.warning.startswith("gtts failed (cannot connect to Google Translate")
    assert result.warning.endswith("(2 attempts)); used espeak")
    assert result.path.suffix == ".wav" and duration_s(result.path) > 1


def test_both_engines_failing_is_a_speech_error(dead_google, tmp_path):
    renderer = SpeechRenderer(
        build_engine("gtts", retries=0, timeout=5),
        tmp_path,
        fallback=build_engine("espeak", binary="espeak-ng-not-installed"),
    )
    with pytest.raises(
        SpeechError, match=r"gtts failed \(cannot connect.*fallback espeak failed too.*install espeak-ng"
    ):
        renderer.render(TEXT, VoiceSettings("vi"))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_real_espeak_output_is_rendered_once_then_served_from_the_cache(tmp_path):
    need_tool("espeak-ng")
    renderer = SpeechRenderer(build_engine("espeak"), tmp_path)
    first = renderer.render(TEXT, VoiceSettings("vi-vn-x-south"))
    stamp = first.path.stat().st_mtime_ns
    second = renderer.render(TEXT, VoiceSettings("vi-vn-x-south"))
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    slower = renderer.render(TEXT, VoiceSettings("vi-vn-x-south", rate="-20%"))
    assert not slower.cache_hit and duration_s(slower.path) > duration_s(first.path)
