"""The newsreader's pace on the real espeak-ng, and the lead-in silence of a rendered item (real ffmpeg)."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from audio.normalize import normalize
from audio.processing.pcm import decode
from audio.speech import LEAD_IN_MS, VoiceSettings
from audio.speech.espeak import SENTENCE_PAUSE_MS, EspeakEngine
from broadcast import create_app, load_settings
from broadcast.audio_setup import audio_tools
from broadcast.services import items, rendering, users
from tests.services import need_tool

ROOT = Path(__file__).resolve().parents[2]
BULLETIN = ROOT / "scripts" / "bench" / "fixtures" / "bulletin_vi.txt"
WINDOW_S = 0.01


def _levels_db(samples: np.ndarray, rate: int) -> np.ndarray:
    """RMS level of each 10 ms window, in dBFS."""
    window = round(rate * WINDOW_S)
    frames = samples[: len(samples) // window * window].reshape(-1, window)
    return 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-12)


def _wav_levels(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16) / 32768
        return _levels_db(samples, wav.getframerate())


def _pauses_s(levels: np.ndarray, threshold_db: float = -50.0) -> list[float]:
    """The silences between sounds, in seconds, in order."""
    loud = levels > threshold_db
    first, last = np.flatnonzero(loud)[[0, -1]]
    pauses, run = [], 0
    for is_loud in loud[first : last + 1]:
        if is_loud:
            if run:
                pauses.append(run * WINDOW_S)
            run = 0
        else:
            run += 1
    return pauses


@pytest.fixture
def engine() -> EspeakEngine:
    need_tool("espeak-ng")
    return EspeakEngine()


def test_the_default_rate_reads_a_bulletin_at_190_to_210_syllables_a_minute(engine, tmp_path):
    text = normalize(BULLETIN.read_text(encoding="utf-8"))
    engine.synthesize(text, VoiceSettings("vi"), tmp_path / "bulletin.wav")
    loud = np.flatnonzero(_wav_levels(tmp_path / "bulletin.wav") > -50)
    spoken_s = (loud[-1] - loud[0] + 1) * WINDOW_S  # from the first syllable to the last: no lead-in, no tail
    syllables = len(re.findall(r"[^\W\d_]+", text))
    assert 190 <= syllables / spoken_s * 60 <= 210


def test_sentence_ends_pause_longer_than_commas(engine, tmp_path):
    sentence = "Bà con chú ý, nước sông đang lên nhanh, đề nghị bà con di chuyển tài sản lên cao."
    engine.synthesize(f"{sentence} {sentence}", VoiceSettings("vi"), tmp_path / "two.wav")
    pauses = sorted(_pauses_s(_wav_levels(tmp_path / "two.wav")), reverse=True)
    sentence_pause, comma_pauses = pauses[0], pauses[1:5]  # one sentence end, four commas
    assert sentence_pause >= SENTENCE_PAUSE_MS / 1000 - 0.05
    assert all(0.1 <= pause < sentence_pause / 2 for pause in comma_pauses)


def test_text_that_looks_like_markup_is_read_as_text(engine, tmp_path):
    engine.synthesize('Giá <break time="9s"/> & giảm.', VoiceSettings("vi"), tmp_path / "markup.wav")
    assert max(_pauses_s(_wav_levels(tmp_path / "markup.wav")), default=0) < 1.0


def test_a_rendered_item_starts_with_the_lead_in_silence(tmp_path):
    need_tool("espeak-ng")
    need_tool("ffmpeg")
    from broadcast.db.engine import Database
    from broadcast.services import demo

    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    database.upgrade()
    try:
        settings = load_settings(instance_path=tmp_path / "instance", database_url=database.url)
        app = create_app(settings)
        with app.app_context(), database.sessions() as session:
            list(demo.seed(session))
            editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
            item = items.create_item(session, editor, items.ItemFields(title="Tin", body="Bà con chú ý. Mưa lớn."))
            items.submit(session, editor, item)
            items.approve(session, approver, item)
            tools = audio_tools(settings)
            rendering.render_pending(session, tools)
            path = tools.store.path_for(item.audio_asset.sha256)
        pcm = decode(path, rate=tools.station_format.sample_rate, channels=1)
        levels = _levels_db(pcm.samples[:, 0], pcm.rate)
        first_sound_s = int(np.flatnonzero(levels > -50)[0]) * WINDOW_S
        # Encoders add a few ms at the start; the speech itself begins after the lead-in.
        assert LEAD_IN_MS / 1000 - 0.02 <= first_sound_s <= LEAD_IN_MS / 1000 + 0.05
    finally:
        database.dispose()
