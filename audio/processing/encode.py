"""Bring decoded audio to the station's loudness with gain and a limiter, encode it, and verify the result."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.processing.formats import StationFormat
from audio.processing.loudness import Loudness, integrated_lufs, measure
from audio.processing.pcm import TOOL_TIMEOUT_S, Pcm, decode, encode, filter_pcm

logger = logging.getLogger(__name__)

# alimiter limits sample peaks; the MP3 encoder and the reconstruction between samples add 0.2-0.6 dB on
# speech at 64 kb/s (measured over 1-10 min of espeak-ng), so the limiter aims below the true-peak target.
TRUE_PEAK_MARGIN_DB = 1.0
MAX_GAIN_DB = 40.0  # beyond this we would be amplifying hiss, not a quiet recording
LUFS_TOLERANCE = 0.1  # stop correcting for the limiter once this close to the target
MAX_LIMITER_PASSES = 4
ENCODED_TOLERANCE = 0.25  # re-encode when the written file misses the target by more than this
_EXCERPT_S = 4


@dataclass(frozen=True)
class PreparedAudio:
    """An encoded file in the station format, its exact duration and its measured loudness."""

    path: Path
    duration_ms: int
    loudness: Loudness


def encode_at_target(pcm: Pcm, fmt: StationFormat, out_path: Path, *, timeout: float = TOOL_TIMEOUT_S) -> PreparedAudio:
    """Gain `pcm` (already at the format's rate and channels) to `fmt.target_lufs`, limit, encode to `out_path`.

    Measure-then-gain, not ffmpeg's one-pass loudnorm (slower, and it misses the target). Two effects would
    otherwise leave the result short of the target, so both are compensated before the one encoding pass:

    - the encoder drops loudness (LAME at 64 kb/s: ~0.45 LU on speech, ~1.2 LU on noise; level-independent),
      measured by encoding an excerpt of this very audio;
    - the limiter takes off loudness as it works, so when the gain would push peaks over the ceiling the gain
      is corrected on limited PCM (cheap ffmpeg filter passes) before encoding.

    If the encoded file still misses the loudness by more than ENCODED_TOLERANCE, or its true peak is over the
    target, it is encoded once more, corrected.

    The duration is the decoded sample count of the written file: ffprobe's duration of an MP3 includes the
    encoder's padding (~30 ms at 44.1 kHz) while decoders honour the LAME gapless header and play exactly the
    frames we encoded; decoding once also gives the samples to verify the output's loudness and true peak.
    """
    ceiling_db = fmt.true_peak_db - TRUE_PEAK_MARGIN_DB
    measured = integrated_lufs(pcm)
    if not math.isfinite(measured):
        encode(pcm, out_path, fmt.encoder_args(), timeout=timeout)
        return _verify(out_path, fmt, measured, 0.0, timeout=timeout)
    aim = fmt.target_lufs + _codec_loss(pcm, fmt, out_path, timeout=timeout)
    for attempt in range(2):
        gain = _gain_limit_encode(pcm, measured, aim, ceiling_db, fmt, out_path, timeout=timeout)
        result = _verify(out_path, fmt, measured, gain, timeout=timeout)
        error = fmt.target_lufs - result.loudness.integrated_lufs
        over = result.loudness.true_peak_db - fmt.true_peak_db
        if (abs(error) <= ENCODED_TOLERANCE and over <= 0) or gain >= MAX_GAIN_DB:
            break
        logger.info("%s off by %+.2f LU, peak %+.2f dB over; encoding again (%d)", out_path.name, error, over, attempt)
        aim += error
        ceiling_db -= max(0.0, over + 0.2)
    return result


def _gain_limit_encode(
    pcm: Pcm, measured: float, aim: float, ceiling_db: float, fmt: StationFormat, out_path: Path, *, timeout: float
) -> float:
    """Encode `pcm` gained towards `aim` LUFS under the limiter ceiling; return the gain used before limiting."""
    limiter = f"alimiter=limit={10 ** (ceiling_db / 20):.6f}:attack=5:release=50:level=0:latency=1"
    gain = min(MAX_GAIN_DB, aim - measured)
    if gain == MAX_GAIN_DB:
        logger.warning("audio at %.1f LUFS needs more than %.0f dB of gain; capped", measured, MAX_GAIN_DB)
    peak = float(np.max(np.abs(pcm.samples)))
    if 20 * math.log10(peak) + gain <= ceiling_db:
        # The limiter would be idle: gain, limiter as a guard and encoding in one pass.
        encode(pcm, out_path, fmt.encoder_args(), filters=f"volume={gain:.4f}dB,{limiter}", timeout=timeout)
    else:
        limited = _limit_to_target(pcm, gain, measured, aim, limiter, timeout=timeout)
        encode(limited, out_path, fmt.encoder_args(), timeout=timeout)
    return gain


def _verify(out_path: Path, fmt: StationFormat, measured: float, gain: float, *, timeout: float) -> PreparedAudio:
    written = decode(out_path, rate=fmt.sample_rate, channels=fmt.channels, timeout=timeout)
    loudness = measure(written)
    if loudness.true_peak_db > fmt.true_peak_db:
        logger.warning(
            "%s: true peak %.2f dBTP over the %.1f dBTP target", out_path.name, loudness.true_peak_db, fmt.true_peak_db
        )
    logger.info(
        "encoded %s: %d ms, %.2f LUFS (source %.2f, gain %+.2f dB), %.2f dBTP",
        *(out_path.name, written.duration_ms, loudness.integrated_lufs, measured, gain, loudness.true_peak_db),
    )
    return PreparedAudio(out_path, written.duration_ms, loudness)


def _codec_loss(pcm: Pcm, fmt: StationFormat, out_path: Path, *, timeout: float) -> float:
    """How many LU encoding to `fmt` takes off this audio, measured on up to 12 s of it."""
    rate = pcm.rate
    if pcm.frames <= 3 * _EXCERPT_S * rate:
        excerpt = pcm
    else:
        # Three slices from the beginning, middle and end: a bulletin between jingles differs along its length.
        starts = [int(pcm.frames * f) - _EXCERPT_S * rate // 2 for f in (1 / 6, 1 / 2, 5 / 6)]
        excerpt = Pcm(np.concatenate([pcm.samples[s : s + _EXCERPT_S * rate] for s in starts]), rate)
    before = integrated_lufs(excerpt)
    if not math.isfinite(before):
        return 0.0
    probe_path = out_path.with_name(f".{out_path.name}.codec-probe")
    try:
        encode(excerpt, probe_path, fmt.encoder_args(), timeout=timeout)
        after = integrated_lufs(decode(probe_path, rate=fmt.sample_rate, channels=fmt.channels, timeout=timeout))
    finally:
        probe_path.unlink(missing_ok=True)
    loss = before - after if math.isfinite(after) else 0.0
    logger.debug("encoding to %s %s loses %.2f LU on this audio", fmt.codec, fmt.bitrate, loss)
    return max(-3.0, min(3.0, loss))


def _limit_to_target(pcm: Pcm, gain: float, measured: float, target: float, limiter: str, *, timeout: float) -> Pcm:
    """Apply gain + limiter, correcting the gain by secant steps until the limited loudness meets the target."""
    best: tuple[float, Pcm] | None = None
    previous = (0.0, measured)  # zero gain, no limiting: a true point on the gain → loudness curve
    for attempt in range(MAX_LIMITER_PASSES):
        limited = filter_pcm(pcm, f"volume={gain:.4f}dB,{limiter}", timeout=timeout)
        got = integrated_lufs(limited)
        error = target - got
        logger.debug("limiter pass %d: gain %+.2f dB → %.2f LUFS", attempt + 1, gain, got)
        if best is None or abs(error) < best[0]:
            best = (abs(error), limited)
        if abs(error) <= LUFS_TOLERANCE:
            break
        # The limiter flattens the curve: each dB of gain adds less than a dB of loudness. The clamp keeps one
        # noisy step from sending the gain far away.
        slope = (got - previous[1]) / (gain - previous[0]) if gain != previous[0] else 1.0
        slope = min(1.0, max(0.2, slope))
        previous = (gain, got)
        gain = min(MAX_GAIN_DB, gain + error / slope)
    assert best is not None
    return best[1]
