"""prepare() on real audio: loudness on target, true peak under the ceiling, silence trimmed, station format."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.processing import InvalidAudio, StationFormat, measure_loudness, prepare
from tests import audio_fixtures as fx
from tests.services import need_tool

FMT = StationFormat()
LU_TOLERANCE = 0.5  # the "within 0.5 LU of the target"
TP_TOLERANCE = 0.1  # ebur128 prints true peak to 0.1 dB


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    need_tool("ffmpeg")
    need_tool("espeak-ng")
    folder = tmp_path_factory.mktemp("prepare-sources")
    fx.speech(folder / "speech.wav")
    fx.tone(folder / "tone.wav", 4.0, freq=1000)
    fx.at_loudness(folder / "speech.wav", folder / "quiet_speech.mp3", -35.0)
    fx.at_loudness(folder / "speech.wav", folder / "loud_speech.wav", -8.0)
    fx.at_loudness(folder / "tone.wav", folder / "quiet_tone.wav", -35.0)
    fx.at_loudness(folder / "tone.wav", folder / "loud_tone.wav", -8.0)
    fx.noise(folder / "noise_stereo_48k.wav", 5.0, amplitude=0.05)
    fx.tone(folder / "padded.wav", 3.0, lead_s=2.0, tail_s=2.0)
    fx.silence(folder / "silence.wav", 3.0)
    return folder


@pytest.fixture(scope="module")
def prepared(sources, tmp_path_factory):
    """Each source prepared once; tests read the results."""
    out = tmp_path_factory.mktemp("prepared")
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = prepare(sources / name, FMT, out / f"{Path(name).stem}.mp3")
        return cache[name]

    return get


@pytest.mark.parametrize(
    ("name", "source_lufs"),
    [
        ("quiet_speech.mp3", -35.0),
        ("loud_speech.wav", -8.0),
        ("quiet_tone.wav", -35.0),
        ("loud_tone.wav", -8.0),
        ("noise_stereo_48k.wav", None),
        ("speech.wav", None),
    ],
)
def test_loudness_reaches_target_with_true_peak_under_ceiling(sources, prepared, name, source_lufs):
    if source_lufs is not None:
        # The fixture is what it says (its own MP3 encoding takes ~0.4 LU off).
        assert fx.ebur128(sources / name)[0] == pytest.approx(source_lufs, abs=0.5)

    result = prepared(name)

    integrated, true_peak = fx.ebur128(result.path)  # ffmpeg's meter, independent of pyloudnorm
    assert integrated == pytest.approx(FMT.target_lufs, abs=LU_TOLERANCE)
    assert true_peak <= FMT.true_peak_db + TP_TOLERANCE
    # What prepare reports is what the file measures.
    assert result.loudness.integrated_lufs == pytest.approx(integrated, abs=0.15)
    assert result.loudness.integrated_lufs == pytest.approx(FMT.target_lufs, abs=LU_TOLERANCE)
    assert result.loudness.true_peak_db <= FMT.true_peak_db + TP_TOLERANCE


@pytest.mark.parametrize("name", ["loud_speech.wav", "noise_stereo_48k.wav"])
def test_verified_preparation_measures_the_written_file(sources, tmp_path, name):
    result = prepare(sources / name, FMT, tmp_path / "verified.mp3", verify=True)
    integrated, true_peak = fx.ebur128(result.path)
    assert result.verified is True
    assert integrated == pytest.approx(FMT.target_lufs, abs=LU_TOLERANCE)
    assert true_peak <= FMT.true_peak_db + TP_TOLERANCE
    assert result.loudness.integrated_lufs == pytest.approx(integrated, abs=0.15)


@pytest.mark.parametrize("name", ["speech.wav", "noise_stereo_48k.wav", "quiet_speech.mp3"])
def test_output_is_in_the_station_format(prepared, name):
    result = prepared(name)

    facts = fx.ffprobe(result.path)
    assert facts["format"]["format_name"] == "mp3"
    assert facts["stream"]["codec_name"] == "mp3"
    assert facts["stream"]["channels"] == 1
    assert int(facts["stream"]["sample_rate"]) == 44100
    assert int(facts["stream"]["bit_rate"]) == 64000
    assert result.path.suffix == FMT.suffix == ".mp3"
    assert FMT.mime_type == "audio/mpeg"


@pytest.mark.parametrize("name", ["speech.wav", "padded.wav", "noise_stereo_48k.wav", "loud_tone.wav"])
def test_duration_is_the_decoded_length_of_the_file(prepared, name):
    result = prepared(name)

    frames = len(fx.decoded_frames(result.path))
    assert result.duration_ms == round(frames * 1000 / 44100)
    # ffprobe's claim includes the MP3 encoder's padding, which players skip: more, never less.
    claimed_ms = float(fx.ffprobe(result.path)["format"]["duration"]) * 1000
    assert 0 <= claimed_ms - result.duration_ms <= 60


def test_leading_and_trailing_silence_is_trimmed_keeping_air(prepared):
    result = prepared("padded.wav")  # 2 s silence + 3 s tone + 2 s silence

    assert result.duration_ms == pytest.approx(3200, abs=15)  # 100 ms of air either side, 10 ms windows
    samples = fx.decoded_frames(result.path)
    assert abs(samples[:2205]).max() < 0.01  # the first 50 ms are air…
    assert abs(samples[2205 * 3 : 2205 * 4]).max() > 0.1  # …and the tone is there by 200 ms


def test_trimming_can_be_turned_off(sources, tmp_path):
    result = prepare(sources / "padded.wav", FMT, tmp_path / "untrimmed.mp3", trim_silence=False)
    assert result.duration_ms == pytest.approx(7000, abs=1)


def test_silent_source_is_refused_and_nothing_written(sources, tmp_path):
    with pytest.raises(InvalidAudio) as caught:
        prepare(sources / "silence.wav", FMT, tmp_path / "out.mp3")
    assert caught.value.reason == "silent"
    assert list(tmp_path.iterdir()) == []


def test_measure_loudness_agrees_with_ffmpeg(sources):
    for name in ("speech.wav", "quiet_speech.mp3", "noise_stereo_48k.wav", "loud_tone.wav"):
        ours = measure_loudness(sources / name)
        integrated, true_peak = fx.ebur128(sources / name)
        assert ours.integrated_lufs == pytest.approx(integrated, abs=0.15), name
        assert ours.true_peak_db == pytest.approx(true_peak, abs=0.3), name


def test_other_station_format(sources, tmp_path):
    fmt = StationFormat(bitrate="96k", sample_rate=48000, channels=2, target_lufs=-18.0, true_peak_db=-2.0)
    result = prepare(sources / "speech.wav", fmt, tmp_path / "stereo.mp3")

    facts = fx.ffprobe(result.path)
    assert (facts["stream"]["channels"], int(facts["stream"]["sample_rate"])) == (2, 48000)
    assert int(facts["stream"]["bit_rate"]) == 96000
    integrated, true_peak = fx.ebur128(result.path)
    assert integrated == pytest.approx(-18.0, abs=LU_TOLERANCE)
    assert true_peak <= -2.0 + TP_TOLERANCE


def test_output_appears_whole_or_not_at_all(sources, tmp_path):
    prepare(sources / "speech.wav", FMT, tmp_path / "a.mp3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp3"]  # no temporary or probe files left
