"""Leading and trailing silence: find where the sound starts and ends, keep a little air around it."""

from __future__ import annotations

import logging

import numpy as np

from audio.processing.errors import InvalidAudio
from audio.processing.pcm import Pcm

logger = logging.getLogger(__name__)

THRESHOLD_DBFS = -50.0  # above a quiet room's noise floor in a recording, below the softest syllable
KEEP_MS = 100  # air kept before the first and after the last sound, so words do not start abruptly
WINDOW_MS = 10


def trim_silence(
    pcm: Pcm, *, threshold_dbfs: float = THRESHOLD_DBFS, keep_ms: int = KEEP_MS, window_ms: int = WINDOW_MS,
    lead_in_ms: int | None = None,
) -> Pcm:
    """Cut leading and trailing stretches whose level stays below `threshold_dbfs`, keeping `keep_ms` of each.

    The level is the RMS of 10 ms windows (loudest channel), as pydub's detect_leading_silence measures it,
    so a hiss floor with occasional sample spikes still counts as silence. Done in numpy on the decoded
    samples rather than with pydub, which loops in Python over 16-bit slices; the cut falls on an exact sample.
    Raises InvalidAudio("silent") when nothing rises above the threshold.

    ``lead_in_ms``, when given, replaces ``keep_ms`` before the first sound: the result starts with exactly that
    much silence (the source's own, topped up with digital silence), as speech for outdoor horns needs.
    """
    window = max(1, round(pcm.rate * window_ms / 1000))
    power = np.max(np.square(pcm.samples, dtype=np.float64), axis=1) if pcm.frames else np.zeros(0)
    padded = np.pad(power, (0, (-power.size) % window))
    loud = np.flatnonzero(padded.reshape(-1, window).mean(axis=1) > 10 ** (threshold_dbfs / 10))
    if loud.size == 0:
        raise InvalidAudio("silent", f"nothing louder than {threshold_dbfs} dBFS", threshold_dbfs=threshold_dbfs)
    keep = round(pcm.rate * keep_ms / 1000)
    lead = keep if lead_in_ms is None else round(pcm.rate * lead_in_ms / 1000)
    first = int(loud[0]) * window
    start = max(0, first - lead)
    end = min(pcm.frames, (int(loud[-1]) + 1) * window + keep)
    logger.debug("trimmed %d leading and %d trailing frames", start, pcm.frames - end)
    samples = pcm.samples[start:end]
    if lead_in_ms is not None and first - start < lead:
        padding = np.zeros((lead - (first - start), samples.shape[1]), dtype=samples.dtype)
        samples = np.concatenate([padding, samples])
    return Pcm(samples, pcm.rate)
