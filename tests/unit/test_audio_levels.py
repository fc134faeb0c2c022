"""Pure signal rules on synthesized samples: silence trimming, loudness and true peak, formats and reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audio.processing import REASONS, InvalidAudio, StationFormat
from audio.processing.loudness import integrated_lufs, true_peak_db
from audio.processing.pcm import Pcm
from audio.processing.silence import trim_silence

RATE = 44100


def _sine(seconds: float, *, freq: float = 997.0, peak_db: float = -20.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (10 ** (peak_db / 20) * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def _pcm(*pieces: np.ndarray) -> Pcm:
    return Pcm(np.concatenate(pieces).reshape(-1, 1), RATE)


def _zeros(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.float32)


@pytest.mark.parametrize(
    ("lead", "body", "tail", "level_db", "expected_s"),
    [
        (2.0, 3.0, 2.0, -20.0, 3.2),  # the example: air of 100 ms kept either side
        (0.0, 3.0, 0.0, -20.0, 3.0),  # nothing to trim
        (0.05, 1.0, 0.05, -20.0, 1.1),  # less silence than the air we keep: all kept
        (1.0, 2.0, 0.0, -45.0, 2.1),  # quiet but above the -50 dBFS threshold
    ],
)
def test_trim_keeps_sound_plus_air(lead, body, tail, level_db, expected_s):
    trimmed = trim_silence(_pcm(_zeros(lead), _sine(body, peak_db=level_db), _zeros(tail)))
    assert trimmed.frames / RATE == pytest.approx(expected_s, abs=0.011)  # 10 ms analysis windows


def test_trim_treats_noise_below_threshold_as_silence():
    hiss = (np.random.default_rng(1).standard_normal(RATE) * 10 ** (-62 / 20)).astype(np.float32)
    trimmed = trim_silence(_pcm(hiss, _sine(1.0), hiss))
    assert trimmed.frames / RATE == pytest.approx(1.2, abs=0.011)


@pytest.mark.parametrize("samples", [_zeros(2.0), _sine(2.0, peak_db=-60.0), np.zeros(0, dtype=np.float32)])
def test_nothing_audible_is_refused(samples):
    with pytest.raises(InvalidAudio) as caught:
        trim_silence(_pcm(samples))
    assert caught.value.reason == "silent"


@pytest.mark.parametrize(
    ("peak_db", "expected_lufs"),
    [(0.0, -3.01), (-20.0, -23.01), (-40.0, -43.01)],  # BS.1770: a 997 Hz full-scale mono sine reads -3.01 LUFS
)
def test_integrated_loudness_of_reference_sines(peak_db, expected_lufs):
    assert integrated_lufs(_pcm(_sine(5.0, peak_db=peak_db))) == pytest.approx(expected_lufs, abs=0.05)


def test_silence_has_no_loudness():
    assert integrated_lufs(_pcm(_zeros(2.0))) == -math.inf
    assert true_peak_db(_pcm(_zeros(2.0))) == -math.inf


def test_true_peak_finds_the_peak_between_samples():
    # A quarter-rate sine sampled 45° off its crests: every sample is at -3.01 dBFS, the wave reaches -0 dB.
    samples = _sine(1.0, freq=RATE / 4, peak_db=-1.0, phase=math.pi / 4)
    sample_peak = 20 * math.log10(np.abs(samples).max())
    assert sample_peak == pytest.approx(-4.01, abs=0.01)
    assert true_peak_db(_pcm(samples)) == pytest.approx(-1.0, abs=0.3)


def test_true_peak_across_chunk_boundaries_matches_sample_peak_of_slow_signal():
    samples = np.concatenate([_sine(3.0, freq=50, peak_db=-12.0), _sine(5.0, freq=50, peak_db=-6.0)])
    assert true_peak_db(_pcm(samples)) == pytest.approx(-6.0, abs=0.05)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"codec": "wma"},
        {"bitrate": "64"},
        {"bitrate": "fast"},
        {"sample_rate": 4000},
        {"channels": 6},
        {"target_lufs": 0.0},
        {"true_peak_db": 1.0},
    ],
)
def test_bad_station_formats_are_refused(kwargs):
    with pytest.raises(ValueError):
        StationFormat(**kwargs)


def test_default_station_format():
    fmt = StationFormat()
    assert (fmt.codec, fmt.bitrate, fmt.sample_rate, fmt.channels) == ("mp3", "64k", 44100, 1)
    assert (fmt.target_lufs, fmt.true_peak_db, fmt.mime_type, fmt.suffix) == (-16.0, -1.0, "audio/mpeg", ".mp3")


def test_invalid_audio_carries_reason_and_details():
    error = InvalidAudio("too_long", "x lasts 700 s", seconds=700.0, max_seconds=600)
    assert (error.reason, error.details, str(error)) == (
        "too_long",
        {"seconds": 700.0, "max_seconds": 600},
        "x lasts 700 s",
    )
    assert {"empty", "not_audio", "truncated", "too_long", "too_large", "too_short"} <= REASONS
    with pytest.raises(ValueError):
        InvalidAudio("bad_vibes", "no")
