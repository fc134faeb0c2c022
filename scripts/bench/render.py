"""Benchmark: render a ~10-minute Vietnamese bulletin end to end, against the plain tools doing the same work.

Ours: the service's own render path (rendering.render_item: lexicon + normalization, espeak-ng speech,
silence trim, loudness measure, gain + limiter, MP3 in the station format, content-addressed store, the
database rows). The floor, in the same run: the espeak-ng command on the same normalized text, one ffmpeg
ebur128 measuring pass, and one ffmpeg gain + limiter + encode pass to the same format.

    python scripts/bench/render.py [--quick]

The last line is ``RESULT x_realtime=... ratio_vs_cli=... cached_ratio=... syl_per_min=...``. The pace,
``syl_per_min``, is measured on the rendered audio: the syllables of the normalized text over the time from the
first sound to the last (the lead-in silence and the tail left out).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from audio.normalize import normalize  # noqa: E402
from audio.processing.pcm import decode  # noqa: E402
from audio.speech.espeak import DEFAULT_WPM, ssml  # noqa: E402
from broadcast import create_app, load_settings  # noqa: E402
from broadcast.audio_setup import audio_tools  # noqa: E402
from broadcast.db.models import ContentSource, ItemStatus, NewsItem, RenderState  # noqa: E402
from broadcast.services import rendering  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "bulletin_vi.txt"


def bulletin(quick: bool) -> str:
    """The fixture bulletin read twice (the morning edition repeats it), ~2,400 syllables; a third in --quick."""
    text = FIXTURE.read_text(encoding="utf-8")
    if quick:
        return "\n\n".join(text.split("\n\n")[:4])
    return f"{text}\n\nXin nhắc lại bản tin.\n\n{text}"


def ours(instance: Path, text: str) -> tuple[float, float, int, Path]:
    """Seconds for the first render, for a second identical one, the audio's duration in ms and its file."""
    settings = load_settings(instance_path=instance, database_url=f"sqlite:///{instance / 'bench.db'}")
    app = create_app(settings)
    database = app.extensions["database"]
    database.upgrade()
    tools = audio_tools(settings)
    times = []
    with app.app_context(), database.sessions() as session:
        for _ in range(2):
            item = NewsItem(title="Bản tin", body=text, status=ItemStatus.APPROVED, speaking_rate="+0%",
                            content_source=ContentSource.SPEECH, render_state=RenderState.PENDING)
            session.add(item)
            session.commit()
            start = time.perf_counter()
            rendering.render_item(session, item, tools)
            times.append(time.perf_counter() - start)
            assert item.render_state is RenderState.READY, item.render_error
        duration_ms = item.audio_asset.duration_ms
        path = tools.store.path_for(item.audio_asset.sha256)
    database.dispose()
    return times[0], times[1], duration_ms, path


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's own meter."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return (float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1]),
            float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", out)[-1]))


def spoken_seconds(path: Path) -> float:
    """Seconds from the first sound to the last: 10 ms windows louder than -50 dBFS, as the trim measures them."""
    pcm = decode(path, rate=16000, channels=1)
    window = 160
    samples = pcm.samples[: pcm.frames // window * window, 0].reshape(-1, window)
    loud = np.flatnonzero(np.mean(np.square(samples, dtype=np.float64), axis=1) > 10 ** (-50 / 10))
    return (int(loud[-1]) - int(loud[0]) + 1) * window / pcm.rate


def floor(work: Path, text: str, bitrate: str, rate: int, target_lufs: float, peak_db: float) -> float:
    """Seconds for the plain tools: espeak-ng, one ebur128 measure, one gain + limiter + encode."""
    spoken = normalize(text)
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    start = time.perf_counter()
    # The same reading as ours: the default pace and the sentence pauses, as SSML.
    subprocess.run(["espeak-ng", "-v", "vi", "-s", str(DEFAULT_WPM), "-m", "-b", "1", "--stdin", "-w", str(wav)],
                   input=ssml(spoken).encode(), check=True)
    integrated, _ = ebur128(wav)
    gain = target_lufs - integrated
    limit = 10 ** (peak_db / 20)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-af",
                    f"volume={gain:.2f}dB,alimiter=limit={limit:.4f}:level=0", "-ar", str(rate), "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", bitrate, str(mp3)], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter bulletin, finishing within 60 s")
    args = parser.parse_args()
    text = bulletin(args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first, second, duration_ms, rendered = ours(work / "instance", text)
        lufs, peak = ebur128(rendered)  # outside the timing: the result must also be right
        spoken_s = spoken_seconds(rendered)
        settings = load_settings(instance_path=work / "instance")
        floor_s = floor(work, text, settings.station_bitrate, settings.station_sample_rate, settings.target_lufs,
                        settings.true_peak_db)
    syllables = len(re.findall(r"[^\W\d_]+", normalize(text)))
    print(f"bulletin: {syllables} syllables, {duration_ms / 1000:.1f} s of audio, {spoken_s:.1f} s of it spoken")
    print(f"ours: first render {first:.2f} s, second (cached) {second:.3f} s; floor (plain tools) {floor_s:.2f} s")
    print(f"RESULT x_realtime={duration_ms / 1000 / first:.1f} ratio_vs_cli={first / floor_s:.2f} "
          f"cached_ratio={second / first:.4f} audio_s={duration_ms / 1000:.1f} ours_s={first:.2f} "
          f"floor_s={floor_s:.2f} lufs={lufs:.1f} true_peak_db={peak:.1f} syl_per_min={syllables / spoken_s * 60:.0f}")


if __name__ == "__main__":
    main()
