"""Audio file helpers shared by the engines: atomic output, recognising audio bytes, joining parts."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

from audio.speech.base import SpeechError

FFMPEG_TIMEOUT_S = 300


@contextlib.contextmanager
def atomic_output(out_path: Path) -> Iterator[Path]:
    """A temporary path beside ``out_path``, renamed onto it only when the block succeeds.

    The temporary name keeps the suffix, so tools that pick a format by extension (ffmpeg) still work, and
    lives in the same folder, so the rename is atomic and a reader never sees half a file.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=f".part{out_path.suffix}", dir=out_path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise SpeechError(f"the engine wrote no audio for {out_path.name}")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


def audio_kind(data: bytes) -> str | None:
    """``"mp3"``, ``"wav"`` or None, from the first bytes (an ID3 tag or MPEG frame sync; RIFF....WAVE)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3":
        return "mp3"
    # An MPEG audio frame starts with 11 set bits; the layer bits 00 are reserved, so exclude them.
    if len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0 and (data[1] & 0x06) != 0:
        return "mp3"
    return None


def join_wav(parts: list[Path], out_path: Path) -> None:
    """Concatenate WAV files sample for sample: the result lasts exactly the sum of the parts."""
    with wave.open(str(parts[0]), "rb") as first:
        params = first.getparams()
    with wave.open(str(out_path), "wb") as out:
        out.setparams(params)
        for part in parts:
            with wave.open(str(part), "rb") as src:
                if src.getparams()[:3] != params[:3]:
                    raise SpeechError(f"cannot join {part.name}: its sample format differs from the first part")
                out.writeframes(src.readframes(src.getnframes()))


def join_mp3(parts: list[Path], out_path: Path) -> None:
    """Concatenate MP3 files with ffmpeg's concat demuxer, copying frames without re-encoding."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SpeechError("ffmpeg is not installed; it is needed to join MP3 parts (apt-get install ffmpeg)")
    listing = out_path.with_name(out_path.name + ".txt")
    # The concat list quotes paths with single quotes; an apostrophe inside is written '\'' as in a shell.
    listing.write_text(
        "".join("file '{}'\n".format(str(p.resolve()).replace("'", "'\\''")) for p in parts), encoding="utf-8"
    )
    try:
        command = [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                   "-c", "copy", "-f", "mp3", str(out_path)]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(f"ffmpeg took longer than {FFMPEG_TIMEOUT_S} s to join MP3 parts") from exc
        if result.returncode != 0:
            raise SpeechError(f"ffmpeg could not join MP3 parts: {result.stderr.strip()[-300:]}")
    finally:
        listing.unlink(missing_ok=True)


def convert(src: Path, out_path: Path) -> None:
    """Re-encode ``src`` to the format of ``out_path``'s suffix with ffmpeg, keeping its channels and sample rate."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SpeechError("ffmpeg is not installed; it is needed to convert audio (apt-get install ffmpeg)")
    fmt = {".mp3": "mp3", ".wav": "wav"}[out_path.suffix]
    command = [ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(src), "-f", fmt, str(out_path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SpeechError(f"ffmpeg took longer than {FFMPEG_TIMEOUT_S} s to convert {src.name}") from exc
    if result.returncode != 0:
        raise SpeechError(f"ffmpeg could not convert {src.name}: {result.stderr.strip()[-300:]}")


def join_parts(parts: list[Path], out_path: Path) -> None:
    """Join audio parts of one kind (by ``out_path``'s suffix) into ``out_path``; one part is just moved."""
    if len(parts) == 1:
        shutil.move(parts[0], out_path)
    elif out_path.suffix == ".wav":
        join_wav(parts, out_path)
    else:
        join_mp3(parts, out_path)
