"""assemble() on prepared real audio: exact total length, loudness of the whole, station format."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.processing import Silence, StationFormat, assemble, prepare
from tests import audio_fixtures as fx
from tests.services import need_tool

FMT = StationFormat()


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> dict[str, object]:
    """An intro jingle, a spoken bulletin and an outro, each prepared to the station format."""
    need_tool("ffmpeg")
    need_tool("espeak-ng")
    raw = tmp_path_factory.mktemp("assemble-raw")
    out = tmp_path_factory.mktemp("assemble-parts")
    fx.tone(raw / "intro.wav", 2.5, freq=660, rate=48000, channels=2)
    fx.speech(raw / "bulletin.wav", lead_s=0.5, tail_s=0.5)
    fx.noise(raw / "outro.wav", 1.75, amplitude=0.3)
    return {name: prepare(raw / f"{name}.wav", FMT, out / f"{name}.mp3") for name in ("intro", "bulletin", "outro")}


@pytest.mark.parametrize(
    "layout",
    [
        ["bulletin"],
        ["intro", "bulletin", "outro"],
        ["intro", Silence(700), "bulletin", Silence(1000), "outro"],
        [Silence(300), "bulletin", Silence(300), "bulletin", Silence(300)],
        ["intro", Silence(0), "outro"],
    ],
    ids=["alone", "jingles", "jingles-and-gaps", "repeated-with-gaps", "zero-gap"],
)
def test_duration_is_the_sum_of_parts_within_a_millisecond_per_join(parts, tmp_path, layout):
    items = [p if isinstance(p, Silence) else parts[p].path for p in layout]
    expected_ms = sum(p.ms if isinstance(p, Silence) else parts[p].duration_ms for p in layout)

    result = assemble(items, FMT, tmp_path / "programme.mp3")

    joins = len(layout) - 1
    assert abs(result.duration_ms - expected_ms) <= max(1, joins)
    assert result.duration_ms == round(len(fx.decoded_frames(result.path)) * 1000 / 44100)


def test_whole_is_loudness_normalized_in_the_station_format(parts, tmp_path):
    items = [parts["intro"].path, Silence(500), parts["bulletin"].path, Silence(500), parts["outro"].path]

    result = assemble(items, FMT, tmp_path / "programme.mp3")

    integrated, true_peak = fx.ebur128(result.path)
    assert integrated == pytest.approx(FMT.target_lufs, abs=0.5)
    assert true_peak <= FMT.true_peak_db + 0.1
    facts = fx.ffprobe(result.path)
    assert (facts["format"]["format_name"], facts["stream"]["channels"]) == ("mp3", 1)
    assert (int(facts["stream"]["sample_rate"]), int(facts["stream"]["bit_rate"])) == (44100, 64000)


def test_gaps_are_silent_and_in_place(parts, tmp_path):
    result = assemble([parts["intro"].path, Silence(1000), parts["outro"].path], FMT, tmp_path / "p.mp3")

    samples = fx.decoded_frames(result.path)
    start = round(parts["intro"].duration_ms * 44.1)
    gap = samples[start + 2205 : start + 44100 - 2205]  # the gap, less 50 ms either side for codec smear
    assert abs(gap).max() < 0.001
    assert abs(samples[start + 44100 + 2205 : start + 44100 + 22050]).max() > 0.05  # the outro follows


def test_nothing_to_assemble_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing"):
        assemble([], FMT, tmp_path / "p.mp3")


def test_parts_need_not_be_prepared_first(tmp_path):
    need_tool("ffmpeg")
    raw = fx.tone(tmp_path / "raw.wav", 2.0, rate=22050)
    result = assemble([raw, Silence(250), Path(raw)], FMT, tmp_path / "p.mp3")
    assert result.duration_ms == 4250
    assert result.loudness.integrated_lufs == pytest.approx(FMT.target_lufs, abs=0.5)
