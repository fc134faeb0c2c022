"""Voice settings, their mapping onto espeak-ng, audio sniffing, retries and the engine factory."""

from __future__ import annotations

import pytest

from audio.speech import SpeechError, VoiceSettings, build_engine
from audio.speech.espeak import amplitude, pitch_level, words_per_minute
from audio.speech.files import audio_kind
from audio.speech.http import HttpEngine
from audio.speech.retry import TransientSpeechError, with_retries


@pytest.mark.parametrize(
    ("rate", "volume", "pitch"),
    [("+0%", "+0%", "+0Hz"), ("-20%", "+50%", "-10Hz"), ("+100%", "-100%", "+99Hz")],
)
def test_settings_in_edge_tts_syntax_are_accepted(rate, volume, pitch):
    settings = VoiceSettings("vi", rate=rate, volume=volume, pitch=pitch)
    assert f"{settings.rate_percent:+d}%" == rate
    assert f"{settings.volume_percent:+d}%" == volume
    assert f"{settings.pitch_hz:+d}Hz" == pitch


@pytest.mark.parametrize(
    "kwargs",
    [{"rate": "10%"}, {"rate": "+10"}, {"volume": "+x%"}, {"pitch": "+10%"}, {"pitch": "5Hz"}, {"voice": " "}],
)
def test_malformed_settings_fail_where_they_are_made(kwargs):
    with pytest.raises(ValueError):
        VoiceSettings(**{"voice": "vi", **kwargs})


@pytest.mark.parametrize(
    ("percent", "wpm"), [(0, 145), (20, 174), (-20, 116), (-40, 87), (-50, 80), (-100, 80), (100, 290), (250, 450)]
)
def test_rate_becomes_words_per_minute_within_espeak_limits(percent, wpm):
    assert words_per_minute(percent) == wpm


@pytest.mark.parametrize(("percent", "amp"), [(0, 100), (50, 150), (-30, 70), (150, 200), (-100, 0)])
def test_volume_becomes_amplitude(percent, amp):
    assert amplitude(percent) == amp


@pytest.mark.parametrize(("hz", "level"), [(0, 50), (10, 60), (-20, 30), (80, 99), (-80, 0)])
def test_pitch_offset_is_centred_at_fifty(hz, level):
    assert pitch_level(hz) == level


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"\xff\xfb\x90\x64\x00", "mp3"),  # MPEG-1 layer III frame
        (b"\xff\xf3\x64\xc4\x00", "mp3"),  # MPEG-2 layer III frame
        (b"\xff\xe1\x00\x00", None),  # sync bits but the reserved layer
        (b"<!DOCTYPE html><html>", None),
        (b'{"error": "quota"}', None),
        (b"", None),
    ],
)
def test_audio_is_recognised_by_its_first_bytes(head, kind):
    assert audio_kind(head) == kind


def test_transient_failures_are_retried_a_bounded_number_of_times():
    calls, sleeps = [], []

    def attempt():
        calls.append(1)
        raise TransientSpeechError("timeout after 1 s")

    with pytest.raises(SpeechError, match=r"timeout after 1 s \(3 attempts\)") as caught:
        with_retries(attempt, retries=2, backoff_s=1.0, what="test", sleep=sleeps.append)
    assert not isinstance(caught.value, TransientSpeechError)
    assert len(calls) == 3
    # Exponential backoff with ±50 % jitter: the second wait is drawn from twice the first's range.
    assert 0.5 <= sleeps[0] <= 1.5 and 1.0 <= sleeps[1] <= 3.0


def test_a_permanent_failure_is_not_retried():
    calls = []

    def attempt():
        calls.append(1)
        raise SpeechError("the provider refused the Authorization auth header (HTTP 401)")

    with pytest.raises(SpeechError, match="refused"):
        with_retries(attempt, retries=5, backoff_s=0, what="test", sleep=lambda _: None)
    assert len(calls) == 1


def test_success_after_a_transient_failure_returns_the_result():
    outcomes = iter([TransientSpeechError("HTTP 503"), b"audio"])

    def attempt():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_retries(attempt, retries=1, backoff_s=0, what="test", sleep=lambda _: None) == b"audio"


def test_build_engine_by_name_with_its_options():
    espeak = build_engine("espeak", timeout=5)
    assert (espeak.name, espeak.output_suffix, espeak.default_voice) == ("espeak", ".wav", "vi")
    assert build_engine("gtts", tld="com.vn").tld == "com.vn"
    assert build_engine("edge").default_voice == "vi-VN-HoaiMyNeural"
    http = build_engine("http", url="http://127.0.0.1:9/tts", audio_format="wav", default_voice="banmai")
    assert (http.name, http.output_suffix, http.default_voice) == ("http", ".wav", "banmai")


def test_build_engine_names_what_is_wrong():
    with pytest.raises(ValueError, match="espeak, gtts, edge, http"):
        build_engine("piper")
    with pytest.raises(ValueError, match="bad options for the gtts engine"):
        build_engine("gtts", colour="blue")
    with pytest.raises(ValueError, match="auth_header and auth_value go together"):
        build_engine("http", url="http://127.0.0.1:9/tts", auth_header="api-key")


@pytest.mark.parametrize(
    ("rate_format", "rate", "sent"), [("factor", "+10%", 1.1), ("factor", "-25%", 0.75), ("percent", "-25%", "-25%")]
)
def test_http_payload_carries_text_voice_and_rate(rate_format, rate, sent):
    engine = HttpEngine(
        "http://127.0.0.1:9/tts", rate_format=rate_format, text_field="input", extra_fields={"format": "mp3"}
    )
    payload = engine.payload("Xin chào.", VoiceSettings("banmai", rate=rate))
    assert payload == {"format": "mp3", "input": "Xin chào.", "voice": "banmai", "speed": sent}
