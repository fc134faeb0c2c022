"""Real audio for fixtures and measuring it: sine tones made with ffmpeg, durations read with ffprobe."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

from tests.services import need_tool


def make_tone(path: Path, seconds: float = 0.5, frequency: int = 440) -> Path:
    """A mono sine tone, MP3 (24 kHz, 48 kbit/s, as edge-tts sends) or WAV by ``path``'s suffix."""
    ffmpeg = need_tool("ffmpeg")
    codec = ["-ar", "24000", "-b:a", "48k"] if path.suffix == ".mp3" else ["-ar", "22050", "-c:a", "pcm_s16le"]
    subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}",
         "-ac", "1", *codec, str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def duration_s(path: Path) -> float:
    """Seconds of audio: exact from the header for WAV, from ffprobe for anything else."""
    if path.suffix == ".wav":
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    ffprobe = need_tool("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return float(result.stdout.strip())


def codec_name(path: Path) -> str:
    """The audio codec ffprobe finds in the file (``mp3``, ``pcm_s16le``…): proof the file decodes."""
    ffprobe = need_tool("ffprobe")
    result = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
         str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip()
