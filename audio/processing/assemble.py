"""Join prepared parts (jingles, bulletins, gaps) into one broadcast-ready file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.processing.encode import PreparedAudio, encode_at_target
from audio.processing.formats import StationFormat
from audio.processing.pcm import TOOL_TIMEOUT_S, Pcm, decode

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Silence:
    """A gap of `ms` milliseconds of digital silence between parts."""

    ms: int

    def __post_init__(self) -> None:
        if self.ms < 0:
            raise ValueError(f"silence of {self.ms} ms")


def assemble(
    parts: Sequence[Path | Silence], fmt: StationFormat, out_path: Path, *, timeout: float = TOOL_TIMEOUT_S
) -> PreparedAudio:
    """Concatenate `parts` in order, then normalize and encode the whole as `prepare` does (no trimming).

    Each file is decoded to the format's rate and channels and the samples are joined end to end, without
    crossfades (which shift the length), so the result lasts the sum of the parts within rounding: each part's
    duration in whole milliseconds is off by at most 0.5 ms. Loudness is normalized over the whole, so a quiet
    bulletin between loud jingles keeps its relation to them.
    """
    if not parts:
        raise ValueError("nothing to assemble")
    pieces: list[Pcm] = []
    for part in parts:
        if isinstance(part, Silence):
            pieces.append(Pcm.silence(part.ms, fmt.sample_rate, fmt.channels))
        else:
            pieces.append(decode(Path(part), rate=fmt.sample_rate, channels=fmt.channels, timeout=timeout))
    joined = Pcm(np.concatenate([piece.samples for piece in pieces]), fmt.sample_rate)
    logger.debug("assembling %d parts, %d ms", len(parts), joined.duration_ms)
    return encode_at_target(joined, fmt, out_path, timeout=timeout)
