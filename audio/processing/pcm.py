"""Decoded audio as numpy samples, and the ffmpeg calls that decode into and encode from it."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("FFPROBE", "ffprobe")

#: Seconds any single ffmpeg/ffprobe call may take; generous, since a long upload decodes at ~200x realtime.
TOOL_TIMEOUT_S = 300.0


_QUIET = ("-nostdin", "-v", "error")
_TO_PIPE = ("-f", "f32le", "-")


class ToolError(RuntimeError):
    """ffmpeg or ffprobe failed on input that had already been accepted."""


@dataclass(frozen=True)
class Pcm:
    """Float32 samples in [-1, 1], shape (frames, channels), at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.rate)

    @classmethod
    def silence(cls, ms: int, rate: int, channels: int) -> Pcm:
        return cls(np.zeros((round(ms * rate / 1000), channels), dtype=np.float32), rate)


def run_tool(
    args: Sequence[str], *, stdin: bytes | memoryview | None = None, timeout: float = TOOL_TIMEOUT_S
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg/ffprobe with an argument list and a timeout; never raises on a non-zero exit."""
    logger.debug("running %s", " ".join(map(str, args)))
    try:
        return subprocess.run(list(args), input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{args[0]} took longer than {timeout:.0f} s") from exc


def decode(path: Path, *, rate: int, channels: int, timeout: float = TOOL_TIMEOUT_S) -> Pcm:
    """Decode the first audio stream of `path`, resampled and down/up-mixed to `rate` and `channels`.

    ffmpeg's MP3 decoder honours the LAME gapless header, so the frame count is what a player plays.
    """
    result = run_tool(
        [FFMPEG, *_QUIET, "-i", str(path), *"-map 0:a:0 -vn -ac".split(), str(channels), "-ar", str(rate), *_TO_PIPE],
        timeout=timeout,
    )
    if result.returncode != 0:
        raise ToolError(f"ffmpeg could not decode {path.name}: {result.stderr.decode(errors='replace').strip()}")
    samples = np.frombuffer(result.stdout, dtype="<f4").reshape(-1, channels)
    return Pcm(samples, rate)


def encode(
    pcm: Pcm, out_path: Path, output_args: Sequence[str], *, filters: str | None = None, timeout: float = TOOL_TIMEOUT_S
) -> None:
    """Pipe `pcm` through ffmpeg (optional filter chain, then `output_args`) into `out_path`, atomically.

    Written under a temporary name in the same folder and renamed, so a reader never sees half a file.
    """
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{secrets.token_hex(4)}.tmp")
    args = [FFMPEG, *_QUIET, "-y", *_from_pipe(pcm)]
    if filters:
        args += ["-af", filters]
    args += [*output_args, str(tmp)]
    try:
        result = run_tool(args, stdin=_as_bytes(pcm.samples), timeout=timeout)
        if result.returncode != 0:
            raise ToolError(f"ffmpeg could not encode {out_path.name}: {result.stderr.decode(errors='replace')}")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


def filter_pcm(pcm: Pcm, filters: str, *, timeout: float = TOOL_TIMEOUT_S) -> Pcm:
    """Run `pcm` through an ffmpeg audio filter chain and return the result, same rate and channels."""
    result = run_tool(
        [FFMPEG, *_QUIET, *_from_pipe(pcm), "-af", filters, *_TO_PIPE],
        stdin=_as_bytes(pcm.samples),
        timeout=timeout,
    )
    if result.returncode != 0:
        raise ToolError(f"ffmpeg filter {filters!r} failed: {result.stderr.decode(errors='replace')}")
    return Pcm(np.frombuffer(result.stdout, dtype="<f4").reshape(-1, pcm.channels), pcm.rate)


def _from_pipe(pcm: Pcm) -> list[str]:
    return ["-f", "f32le", "-ar", str(pcm.rate), "-ac", str(pcm.channels), "-i", "-"]


def _as_bytes(samples: np.ndarray) -> memoryview:
    # A byte view avoids copying hundreds of megabytes for a long bulletin.
    return memoryview(np.ascontiguousarray(samples, dtype="<f4")).cast("B")
