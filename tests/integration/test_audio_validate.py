"""Upload validation on real files: every bad-upload case raises InvalidAudio with its reason, writing nothing."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from audio.processing import InvalidAudio, probe, validate_upload
from tests import audio_fixtures as fx
from tests.services import need_tool

LIMITS = {"max_bytes": 2_000_000, "max_seconds": 15.0, "min_seconds": 0.5}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    need_tool("ffmpeg")
    need_tool("ffprobe")
    folder = tmp_path_factory.mktemp("audio-sources")
    fx.tone(folder / "six.mp3", 6.0)
    fx.speech(folder / "speech.wav")
    fx.tone(folder / "long.mp3", 18.0)
    fx.tone(folder / "blip.mp3", 0.2)
    return folder


def _make(case: str, sources: Path, folder: Path) -> Path:
    makers = {
        "empty": lambda: fx.empty(folder / "empty.mp3"),
        "not_audio": lambda: fx.text_as_mp3(folder / "notes.mp3"),
        "truncated": lambda: fx.truncated(sources / "six.mp3", folder / "cut.mp3"),
        "too_long": lambda: fx.copy(sources / "long.mp3", folder / "long.mp3"),
        "too_large": lambda: fx.copy(sources / "speech.wav", folder / "big.wav"),  # ~1.4 MB of float WAV
        "too_short": lambda: fx.copy(sources / "blip.mp3", folder / "blip.mp3"),
    }
    return makers[case]()


@pytest.mark.parametrize(
    ("case", "limits", "details"),
    [
        ("empty", {}, {"size": 0}),
        ("not_audio", {}, {}),
        ("truncated", {}, {"claimed_seconds": pytest.approx(6.0, abs=0.1), "seconds": pytest.approx(3.0, abs=0.3)}),
        ("too_long", {}, {"max_seconds": 15.0, "seconds": pytest.approx(18.0, abs=0.1)}),
        ("too_large", {"max_bytes": 100_000}, {"max_bytes": 100_000}),
        ("too_short", {}, {"min_seconds": 0.5, "seconds": pytest.approx(0.2, abs=0.01)}),
    ],
)
def test_bad_upload_is_rejected_with_reason_and_nothing_written(sources, tmp_path, case, limits, details):
    upload = _make(case, sources, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}

    with pytest.raises(InvalidAudio) as caught:
        validate_upload(upload, **{**LIMITS, **limits})

    assert caught.value.reason == case
    for key, value in details.items():
        assert caught.value.details[key] == value
    assert str(caught.value)  # an English message for the logs
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_too_large_is_decided_before_any_tool_runs(tmp_path, monkeypatch):
    # Not audio at all, so ffprobe would say not_audio: too_large proves the size check came first.
    upload = fx.text_as_mp3(tmp_path / "big.mp3")
    monkeypatch.setattr(importlib.import_module("audio.processing.probe"), "run_tool", _no_tools)
    with pytest.raises(InvalidAudio) as caught:
        validate_upload(upload, max_bytes=10, max_seconds=10)
    assert caught.value.reason == "too_large"
    assert caught.value.details == {"size": upload.stat().st_size, "max_bytes": 10}


def _no_tools(*args, **kwargs):
    raise AssertionError("no tool may run for an oversized upload")


@pytest.mark.parametrize(
    ("name", "codec", "seconds"),
    [("six.mp3", "mp3", 6.0), ("speech.wav", "pcm_f32le", None)],
)
def test_good_upload_passes_with_decoded_duration(sources, name, codec, seconds):
    info = validate_upload(sources / name, **LIMITS)

    facts = fx.ffprobe(sources / name)
    assert info.codec == codec
    assert info.sample_rate == int(facts["stream"]["sample_rate"])
    assert info.channels == 1
    assert info.size_bytes == (sources / name).stat().st_size
    expected_ms = round(len(fx.decoded_frames(sources / name, rate=info.sample_rate)) * 1000 / info.sample_rate)
    assert abs(info.duration_ms - expected_ms) <= 1
    if seconds is not None:
        assert abs(info.duration_ms - seconds * 1000) <= 1


def test_probe_reports_the_container_claim(sources):
    info = probe(sources / "six.mp3")
    assert (info.format_name, info.codec, info.sample_rate, info.channels) == ("mp3", "mp3", 44100, 1)
    # The MP3 claim includes the encoder's padding; the decoded length is exact.
    assert 6000 <= info.duration_ms <= 6060


@pytest.mark.parametrize("maker", [fx.empty, fx.text_as_mp3])
def test_probe_rejects_non_audio(tmp_path, maker):
    with pytest.raises(InvalidAudio) as caught:
        probe(maker(tmp_path / "x.mp3"))
    assert caught.value.reason in {"empty", "not_audio"}
    assert caught.value.reason == ("empty" if maker is fx.empty else "not_audio")
