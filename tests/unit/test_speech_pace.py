"""The reading pace of espeak-ng: its SSML with sentence pauses, the cache key, and the lead-in silence."""

from __future__ import annotations

import numpy as np
import pytest

from audio.processing.pcm import Pcm
from audio.processing.silence import trim_silence
from audio.speech import LEAD_IN_MS, SpeechRenderer, VoiceSettings
from audio.speech.espeak import DEFAULT_WPM, SENTENCE_PAUSE_MS, EspeakEngine, ssml, words_per_minute

BREAK = f' <break time="{SENTENCE_PAUSE_MS}ms"/> '


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("Xin chào bà con.", "<speak>Xin chào bà con.</speak>"),
        ("Một câu. Hai câu.", f"<speak>Một câu.{BREAK}Hai câu.</speak>"),
        ("Có bão không? Có! Sơ tán ngay.", f"<speak>Có bão không?{BREAK}Có!{BREAK}Sơ tán ngay.</speak>"),
        ("Một, hai, ba.", "<speak>Một, hai, ba.</speak>"),  # commas keep espeak-ng's own short pause
        ("Dòng tiêu đề\nNội dung tin.", f"<speak>Dòng tiêu đề{BREAK}Nội dung tin.</speak>"),
        ("Câu một.\n\nĐoạn hai.", f"<speak>Câu một.{BREAK}Đoạn hai.</speak>"),
        ('Ông nói: "Đi ngay." Rồi đi.', f'<speak>Ông nói: "Đi ngay."{BREAK}Rồi đi.</speak>'),
        ("Hết tin…  Xin cảm ơn.", f"<speak>Hết tin…{BREAK}Xin cảm ơn.</speak>"),
        # a period before a lower-case word is not a sentence end: an initial, or "…" inside a sentence
        ("Anh Nguyễn Văn H. trú tại xã.", "<speak>Anh Nguyễn Văn H. trú tại xã.</speak>"),
        ("Đèn pin... để phòng bão. Hết.", f"<speak>Đèn pin... để phòng bão.{BREAK}Hết.</speak>"),
        ("dòng một.\ndòng hai", f"<speak>dòng một.{BREAK}dòng hai</speak>"),
        # text is text, never markup
        ("A < B & C > D.", "<speak>A &lt; B &amp; C &gt; D.</speak>"),
        ('<break time="9s"/>', '<speak>&lt;break time="9s"/&gt;</speak>'),
        ("  Xin chào.  ", "<speak>Xin chào.</speak>"),
    ],
)
def test_espeak_gets_ssml_with_a_pause_after_each_sentence(text, markup):
    assert ssml(text) == markup


def test_the_sentence_pause_is_given_to_espeak_in_milliseconds():
    assert ssml("Một. Hai.", sentence_pause_ms=450) == '<speak>Một. <break time="450ms"/> Hai.</speak>'


def test_the_default_rate_is_the_newsreaders_pace():
    # 145 measured 200 syllables a minute on the render benchmark's bulletin (scripts/bench/render.py).
    assert words_per_minute(0) == DEFAULT_WPM == 145
    assert SENTENCE_PAUSE_MS > 450  # longer than espeak-ng's own full stop at this speed


def test_the_reading_style_is_part_of_the_cache_key(tmp_path):
    engine = EspeakEngine()
    renderer = SpeechRenderer(engine, tmp_path)
    settings = VoiceSettings("vi")
    key = renderer.cache_key(engine, "Xin chào.", settings)

    class OldPace(EspeakEngine):
        reading_style = "s175"

    assert renderer.cache_key(OldPace(), "Xin chào.", settings) != key


RATE = 8000


def _pcm(lead_s: float, body_s: float = 0.5, tail_s: float = 0.5) -> Pcm:
    body = (0.5 * np.sin(np.arange(round(body_s * RATE)) * 2 * np.pi * 440 / RATE)).astype(np.float32)
    samples = np.concatenate([np.zeros(round(lead_s * RATE), np.float32), body, np.zeros(round(tail_s * RATE),
                                                                                          np.float32)])
    return Pcm(samples.reshape(-1, 1), RATE)


def _first_sound_s(pcm: Pcm) -> float:
    return int(np.flatnonzero(np.abs(pcm.samples[:, 0]) > 0.01)[0]) / RATE


@pytest.mark.parametrize("lead_s", [0.0, 0.05, 0.08, 0.3, 0.5, 2.0])
def test_speech_starts_after_exactly_the_lead_in_whatever_the_engine_left(lead_s):
    trimmed = trim_silence(_pcm(lead_s), lead_in_ms=LEAD_IN_MS)
    assert _first_sound_s(trimmed) == pytest.approx(LEAD_IN_MS / 1000, abs=0.011)  # 10 ms analysis windows
    # The end keeps its usual 100 ms of air.
    assert trimmed.frames / RATE == pytest.approx(LEAD_IN_MS / 1000 + 0.5 + 0.1, abs=0.011)


def test_without_a_lead_in_trimming_keeps_its_usual_air():
    assert _first_sound_s(trim_silence(_pcm(2.0))) == pytest.approx(0.1, abs=0.011)
    assert _first_sound_s(trim_silence(_pcm(0.0))) == pytest.approx(0.0, abs=0.002)


def test_the_lead_in_is_about_300_ms():
    assert 250 <= LEAD_IN_MS <= 400
