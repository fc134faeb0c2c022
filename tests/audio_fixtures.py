"""Real audio for the audio-pipeline tests, generated with ffmpeg and espeak-ng into a given folder.

Every helper returns the path it wrote. Tools are looked up with tests.services.need_tool, so a missing tool
skips the test (or fails it under REQUIRE_SERVICES=1). Measurements here use ffmpeg's own ebur128 filter, not
the code under test, so the tests compare two independent BS.1770 implementations.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests.services import need_tool

RATE = 44100
VIETNAMESE_TEXT = (
    "Ủy ban nhân dân xã thông báo: sáng thứ hai tuần tới, trạm y tế xã tổ chức tiêm phòng cho trẻ em dưới năm "
    "tuổi. Đề nghị các gia đình đưa con em đến đúng giờ và mang theo sổ tiêm chủng."
)


def _ffmpeg(*args: str) -> None:
    subprocess.run([need_tool("ffmpeg"), "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


def _codec_args(path: Path) -> list[str]:
    if path.suffix == ".mp3":
        return ["-c:a", "libmp3lame", "-b:a", "128k"]
    if path.suffix == ".wav":
        # Float WAV, so a "loud" fixture can carry peaks above full scale the way a hot master's decode does.
        return ["-c:a", "pcm_f32le"]
    raise ValueError(f"no codec for {path.suffix}")


def tone(
    path: Path,
    seconds: float,
    *,
    freq: int = 440,
    level_db: float = -20.0,
    lead_s: float = 0.0,
    tail_s: float = 0.0,
    rate: int = RATE,
    channels: int = 1,
) -> Path:
    """A sine of `seconds` at `level_db` dBFS peak, with `lead_s`/`tail_s` of digital silence around it."""
    chain = f"sine=frequency={freq}:sample_rate={rate}:duration={seconds},volume={level_db + 18.06:.2f}dB"
    if lead_s:
        chain += f",adelay={round(lead_s * 1000)}:all=1"
    if tail_s:
        chain += f",apad=pad_dur={tail_s}"
    _ffmpeg("-f", "lavfi", "-i", chain, "-ac", str(channels), *_codec_args(path), str(path))
    return path


def noise(path: Path, seconds: float, *, amplitude: float = 0.1, rate: int = 48000, channels: int = 2) -> Path:
    """Pink noise, by default 48 kHz stereo: a source unlike the station format in every respect."""
    _ffmpeg("-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude={amplitude}:sample_rate={rate}:duration={seconds}"
            f":seed=7", "-ac", str(channels), *_codec_args(path), str(path))  # fmt: skip
    return path


def silence(path: Path, seconds: float, *, rate: int = RATE) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=mono", "-t", str(seconds), *_codec_args(path), str(path))
    return path


def speech(
    path: Path, text: str = VIETNAMESE_TEXT, *, voice: str = "vi", lead_s: float = 0.0, tail_s: float = 0.0
) -> Path:
    """Vietnamese speech from espeak-ng (22.05 kHz WAV), optionally padded with silence, re-encoded by suffix."""
    raw = path.with_name(path.stem + ".espeak.wav")
    subprocess.run([need_tool("espeak-ng"), "-v", voice, "-w", str(raw), text], check=True, timeout=120)
    chain = "anull"
    if lead_s:
        chain += f",adelay={round(lead_s * 1000)}:all=1"
    if tail_s:
        chain += f",apad=pad_dur={tail_s}"
    _ffmpeg("-i", str(raw), "-af", chain, *_codec_args(path), str(path))
    raw.unlink()
    return path


def at_loudness(source: Path, path: Path, lufs: float) -> Path:
    """A copy of `source` gained (no limiter) so that ffmpeg's ebur128 reads `lufs` integrated."""
    current, _ = ebur128(source)
    _ffmpeg("-i", str(source), "-af", f"volume={lufs - current:.3f}dB", *_codec_args(path), str(path))
    return path


def truncated(source: Path, path: Path, fraction: float = 0.5) -> Path:
    """The first `fraction` of `source`'s bytes: an upload cut off mid-file."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def text_as_mp3(path: Path) -> Path:
    """A plain text file under an .mp3 name."""
    path.write_text("Đây không phải là âm thanh.\n" * 50, encoding="utf-8")
    return path


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def copy(source: Path, path: Path) -> Path:
    shutil.copyfile(source, path)
    return path


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, from ffmpeg's ebur128 filter."""
    result = subprocess.run(
        [need_tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],  # fmt: skip
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    summary = result.stderr[result.stderr.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def ffprobe(path: Path) -> dict:
    """Stream and format facts of a file, straight from ffprobe."""
    result = subprocess.run(
        [need_tool("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    data = json.loads(result.stdout)
    return {"format": data["format"], "stream": data["streams"][0]}


def decoded_frames(path: Path, *, rate: int = RATE) -> np.ndarray:
    """Mono float samples of a file as ffmpeg decodes it (gapless info honoured)."""
    result = subprocess.run(
        [need_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate),
         "-f", "f32le", "-"],  # fmt: skip
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return np.frombuffer(result.stdout, dtype="<f4")
