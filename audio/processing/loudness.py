"""Loudness per ITU-R BS.1770: integrated LUFS (pyloudnorm) and true peak (4x oversampled peak)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.processing.pcm import Pcm, decode
from audio.processing.probe import probe

logger = logging.getLogger(__name__)

_OVERSAMPLE = 4  # BS.1770-4 Annex 2: 4x is enough at 44.1/48 kHz
_CHUNK = 1 << 18  # frames per oversampling chunk: bounds memory at ~8 MB per channel for any length
_OVERLAP = 64  # frames of context either side, longer than resample_poly's filter half-length (40)
_BLOCK_S = 0.4  # BS.1770 gating block; pyloudnorm refuses anything shorter


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness in LUFS (-inf for digital silence) and true peak in dBTP (-inf likewise)."""

    integrated_lufs: float
    true_peak_db: float


def measure_loudness(path: Path) -> Loudness:
    """Measure a file at its own sample rate and channel layout (no resampling, which would move peaks)."""
    info = probe(path)
    return measure(decode(path, rate=info.sample_rate, channels=info.channels))


def measure(pcm: Pcm) -> Loudness:
    """Integrated loudness and true peak of decoded samples."""
    return Loudness(integrated_lufs(pcm), true_peak_db(pcm))


def integrated_lufs(pcm: Pcm) -> float:
    """BS.1770-4 gated integrated loudness via pyloudnorm; -inf when everything is below the -70 LUFS gate."""
    samples = pcm.samples.astype(np.float64)
    if not np.any(samples):
        return -math.inf
    minimum = math.ceil(_BLOCK_S * pcm.rate)
    if samples.shape[0] < minimum:
        # One gating block of the clip padded with silence: reads a little low, but a sub-0.4 s clip has no
        # meaningful integrated loudness anyway and never reaches air alone.
        samples = np.concatenate([samples, np.zeros((minimum - samples.shape[0], samples.shape[1]))])
    import pyloudnorm  # imported on first use: it loads scipy.signal, ~1.5 s that a web worker should not pay

    value = float(pyloudnorm.Meter(pcm.rate).integrated_loudness(samples))
    return value if math.isfinite(value) else -math.inf


def true_peak_db(pcm: Pcm) -> float:
    """Highest absolute value of the signal oversampled 4x (BS.1770-4 Annex 2), in dB relative to full scale."""
    from scipy.signal import resample_poly  # on first use, as pyloudnorm above

    samples = pcm.samples
    frames = samples.shape[0]
    peak = float(np.max(np.abs(samples))) if frames else 0.0
    for start in range(0, frames, _CHUNK):
        lo, hi = max(0, start - _OVERLAP), min(frames, start + _CHUNK + _OVERLAP)
        up = resample_poly(samples[lo:hi], _OVERSAMPLE, 1, axis=0)
        # Keep only the part that belongs to this chunk: the overlap exists to give the filter real context.
        keep = up[(start - lo) * _OVERSAMPLE : (min(frames, start + _CHUNK) - lo) * _OVERSAMPLE]
        if keep.size:
            peak = max(peak, float(np.max(np.abs(keep))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf
