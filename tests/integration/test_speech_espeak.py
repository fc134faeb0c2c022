"""The espeak-ng engine on the real espeak-ng: valid WAV files whose length follows the text and the rate."""

from __future__ import annotations

import wave

import pytest

from audio.speech import SpeechError, VoiceSettings
from audio.speech.espeak import VOICES, EspeakEngine
from tests.services import need_tool
from tests.standins.tones import duration_s

SHORT = "Xin chào bà con."
LONGER = "Xin chào bà con. Hôm nay xã tổ chức tiêm phòng cho đàn gia súc, mời bà con đưa trâu bò đến nhà văn hóa thôn."


@pytest.fixture
def engine() -> EspeakEngine:
    need_tool("espeak-ng")
    return EspeakEngine()


def _frames(path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


def _read(engine: EspeakEngine, text: str, settings: VoiceSettings, path):
    engine.synthesize(text, settings, path)
    return duration_s(path)


def test_espeak_writes_a_valid_wav_that_grows_with_the_text(engine, tmp_path):
    short = _read(engine, SHORT, VoiceSettings("vi"), tmp_path / "short.wav")
    longer = _read(engine, LONGER, VoiceSettings("vi"), tmp_path / "longer.wav")
    with wave.open(str(tmp_path / "short.wav"), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        # Speech, not silence: some samples are far from zero.
        frames = wav.readframes(wav.getnframes())
    samples = [int.from_bytes(frames[i : i + 2], "little", signed=True) for i in range(0, len(frames), 2)]
    assert max(abs(s) for s in samples) > 1000
    assert 0 < short < longer


@pytest.mark.parametrize("voice", VOICES)
def test_every_vietnamese_voice_reads(engine, tmp_path, voice):
    assert _read(engine, SHORT, VoiceSettings(voice), tmp_path / "out.wav") > 0


def test_a_slower_rate_gives_longer_audio(engine, tmp_path):
    normal = _read(engine, LONGER, VoiceSettings("vi"), tmp_path / "normal.wav")
    slow = _read(engine, LONGER, VoiceSettings("vi", rate="-30%"), tmp_path / "slow.wav")
    fast = _read(engine, LONGER, VoiceSettings("vi", rate="+30%"), tmp_path / "fast.wav")
    assert fast < normal < slow


def test_long_text_is_read_in_sentences_and_joined_into_one_file(engine, tmp_path):
    sentences = [
        "Thông báo của Ủy ban nhân dân xã.",
        "Sáng mai mất điện từ bảy giờ đến mười một giờ.",
        "Bà con chủ động sắp xếp công việc.",
    ]
    split = EspeakEngine(max_chars=60)
    joined = _read(split, " ".join(sentences), VoiceSettings("vi"), tmp_path / "joined.wav")
    parts = [_read(engine, s, VoiceSettings("vi"), tmp_path / f"part{i}.wav") for i, s in enumerate(sentences)]
    # Parts are joined sample for sample, in order, so the file is exactly the parts one after another.
    assert joined == pytest.approx(sum(parts), abs=0.001)
    assert _frames(tmp_path / "joined.wav") == b"".join(_frames(tmp_path / f"part{i}.wav") for i in range(3))
    assert list(tmp_path.glob(".*")) == []  # no scratch files or temporary names left behind


def test_an_unknown_voice_is_an_error_naming_the_real_voices(engine, tmp_path):
    out = tmp_path / "out.wav"
    with pytest.raises(SpeechError, match="no voice 'vi-vn-x-north'.*vi-vn-x-central"):
        engine.synthesize(SHORT, VoiceSettings("vi-vn-x-north"), out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_missing_binary_says_to_install_espeak_ng(tmp_path):
    engine = EspeakEngine(binary="espeak-ng-not-installed")
    with pytest.raises(SpeechError, match="install espeak-ng"):
        engine.synthesize(SHORT, VoiceSettings("vi"), tmp_path / "out.wav")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_only_by_a_complete_one(engine, tmp_path):
    out = tmp_path / "out.wav"
    out.write_bytes(b"previous")
    with pytest.raises(SpeechError):
        engine.synthesize(SHORT, VoiceSettings("no-such-voice"), out)
    assert out.read_bytes() == b"previous"
    engine.synthesize(SHORT, VoiceSettings("vi"), out)
    assert duration_s(out) > 0
