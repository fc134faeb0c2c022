"""The speech cache and fallback, with hand-written engines that count their calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.speech import RenderedSpeech, SpeechEngine, SpeechError, SpeechRenderer, VoiceSettings


class CountingEngine(SpeechEngine):
    """Writes a small file naming what it was asked to read, and counts how often it was asked."""

    output_suffix = ".wav"

    def __init__(self, name: str = "fake", fail_with: str | None = None, default_voice: str = "fake-voice"):
        self.name = name
        self.default_voice = default_voice
        self.fail_with = fail_with
        self.calls: list[tuple[str, VoiceSettings]] = []

    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        self.calls.append((text, settings))
        if self.fail_with:
            raise SpeechError(self.fail_with)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(f"{self.name}|{settings.voice}|{settings.rate}|{text}", encoding="utf-8")


SETTINGS = VoiceSettings("vi", rate="+10%")


def test_second_render_of_the_same_text_is_a_cache_hit_without_calling_the_engine(tmp_path):
    engine = CountingEngine()
    renderer = SpeechRenderer(engine, tmp_path)
    first = renderer.render("Xin chào bà con.", SETTINGS)
    second = renderer.render("Xin chào bà con.", SETTINGS)
    assert first == RenderedSpeech(path=first.path, engine="fake", cache_hit=False, warning=None)
    assert second == RenderedSpeech(path=first.path, engine="fake", cache_hit=True, warning=None)
    assert len(engine.calls) == 1
    assert first.path.read_text(encoding="utf-8") == "fake|vi|+10%|Xin chào bà con."
    assert first.path.suffix == ".wav" and tmp_path in first.path.parents


def test_a_new_renderer_on_the_same_folder_finds_the_cache(tmp_path):
    SpeechRenderer(CountingEngine(), tmp_path).render("Xin chào.", SETTINGS)
    engine = CountingEngine()
    assert SpeechRenderer(engine, tmp_path).render("Xin chào.", SETTINGS).cache_hit
    assert engine.calls == []


@pytest.mark.parametrize(
    "changed",
    [
        {"voice": "vi-vn-x-south"},
        {"rate": "-10%"},
        {"volume": "+20%"},
        {"pitch": "+5Hz"},
    ],
)
def test_every_setting_is_part_of_the_key(tmp_path, changed):
    engine = CountingEngine()
    renderer = SpeechRenderer(engine, tmp_path)
    other = VoiceSettings(**{"voice": "vi", "rate": "+10%", **changed})
    assert renderer.cache_key(engine, "Xin chào.", SETTINGS) != renderer.cache_key(engine, "Xin chào.", other)
    first, second = renderer.render("Xin chào.", SETTINGS), renderer.render("Xin chào.", other)
    assert first.path != second.path and not second.cache_hit
    assert len(engine.calls) == 2


def test_engine_name_and_text_are_part_of_the_key(tmp_path):
    espeak, gtts = CountingEngine("espeak"), CountingEngine("gtts")
    renderer = SpeechRenderer(espeak, tmp_path)
    key = renderer.cache_key(espeak, "Xin chào.", SETTINGS)
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == renderer.cache_key(CountingEngine("espeak"), "Xin chào.", SETTINGS)
    assert key != renderer.cache_key(gtts, "Xin chào.", SETTINGS)
    assert key != renderer.cache_key(espeak, "Xin chào!", SETTINGS)
    # Fields are kept apart: moving text between fields cannot produce the same key.
    assert renderer.cache_key(espeak, "a|b", VoiceSettings("vi")) != renderer.cache_key(
        espeak, "b", VoiceSettings("vi|a")
    )


def test_primary_failure_falls_back_with_a_warning_and_its_own_voice(tmp_path):
    primary = CountingEngine("gtts", fail_with="timeout after 10 s (3 attempts)")
    fallback = CountingEngine("espeak", default_voice="vi")
    renderer = SpeechRenderer(primary, tmp_path, fallback=fallback)
    result = renderer.render("Thông báo khẩn.", VoiceSettings("vi", rate="-20%"))
    assert result.engine == "espeak" and not result.cache_hit
    assert result.warning == "gtts failed (timeout after 10 s (3 attempts)); used espeak"
    assert fallback.calls == [("Thông báo khẩn.", VoiceSettings("vi", rate="-20%"))]
    assert result.path.read_text(encoding="utf-8").startswith("espeak|")


def test_fallback_output_is_cached_but_the_primary_is_tried_again(tmp_path):
    primary = CountingEngine("edge", fail_with="cannot connect")
    fallback = CountingEngine("espeak")
    renderer = SpeechRenderer(primary, tmp_path, fallback=fallback, fallback_settings=VoiceSettings("vi-vn-x-south"))
    renderer.render("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"))
    again = renderer.render("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"))
    assert again.cache_hit and again.engine == "espeak" and again.warning
    assert len(primary.calls) == 2 and len(fallback.calls) == 1
    assert fallback.calls[0][1] == VoiceSettings("vi-vn-x-south")

    primary.fail_with = None  # the service is back: its own audio replaces the fallback's from now on
    recovered = renderer.render("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"))
    assert (recovered.engine, recovered.cache_hit, recovered.warning) == ("edge", False, None)


def test_both_engines_failing_is_an_error_naming_both(tmp_path):
    renderer = SpeechRenderer(
        CountingEngine("gtts", fail_with="HTTP 500"), tmp_path, fallback=CountingEngine("espeak", fail_with="no voice")
    )
    with pytest.raises(SpeechError, match=r"gtts failed \(HTTP 500\); fallback espeak failed too \(no voice\)"):
        renderer.render("Xin chào.", SETTINGS)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_without_fallback_the_primary_error_is_raised(tmp_path):
    with pytest.raises(SpeechError, match="HTTP 500"):
        SpeechRenderer(CountingEngine(fail_with="HTTP 500"), tmp_path).render("Xin chào.", SETTINGS)


def test_empty_text_is_refused_before_any_engine_runs(tmp_path):
    engine = CountingEngine()
    with pytest.raises(ValueError, match="no text"):
        SpeechRenderer(engine, tmp_path).render(" \n ", SETTINGS)
    assert engine.calls == []
