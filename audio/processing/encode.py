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
# speech at 64 kb/s (measured over 1-10 min of espeak-ng: up to 1.1 dB on 10 min), so the limiter aims below the
# true-peak target.
TRUE_PEAK_MARGIN_DB = 1.0  # first guess; _plan measures the real overshoot
TRUE_PEAK_SAFETY_DB = 0.8  # below the target: the worst peaks of a long file may lie outside the excerpt
MAX_GAIN_DB = 40.0  # beyond this we would be amplifying hiss, not a quiet recording
LUFS_TOLERANCE = 0.1  # stop correcting for the limiter once this close to the target
MAX_LIMITER_PASSES = 4
ENCODED_TOLERANCE = 0.25  # re-encode when the written file misses the target by more than this


@dataclass(frozen=True)
class PreparedAudio:
    """An encoded file in the station format, its exact duration and its loudness.

    ``loudness`` is measured on the written file when ``verified``, else predicted from measured excerpts.
    """

    path: Path
    duration_ms: int
    loudness: Loudness
    verified: bool = True


def encode_at_target(
    pcm: Pcm, fmt: StationFormat, out_path: Path, *, verify: bool = False, timeout: float = TOOL_TIMEOUT_S
) -> PreparedAudio:
    """Gain `pcm` (already at the format's rate and channels) to `fmt.target_lufs`, limit, encode to `out_path`.

    Measure-then-gain, not ffmpeg's one-pass loudnorm (slower, and it misses the target). The gain and the
    limiter ceiling are planned on an excerpt of this very audio (see _plan), so that the whole file goes
    through ONE ffmpeg pass (gain, limiter, encode), as the plain-tool floor does.

    With ``verify`` the written file is decoded and measured, and encoded once more, corrected, if it misses
    the loudness by more than ENCODED_TOLERANCE or its true peak is over the target: more than twice the
    time on a long file, worth it for uploads of unknown material; speech is uniform enough for the plan.

    The duration is the sample count: LAME writes a gapless header, so decoders play exactly the frames we
    encoded, while ffprobe's duration of an MP3 would include the encoder's padding (~30 ms at 44.1 kHz).
    """
    measured = integrated_lufs(pcm)
    if not math.isfinite(measured):
        encode(pcm, out_path, fmt.encoder_args(), timeout=timeout)
        return _verify(out_path, fmt, measured, 0.0, timeout=timeout)
    gain, ceiling_db, predicted = _plan(pcm, measured, fmt, out_path, timeout=timeout)
    for attempt in range(2 if verify else 1):
        encode(pcm, out_path, fmt.encoder_args(), filters=f"volume={gain:.4f}dB,{_limiter(ceiling_db)}",
               timeout=timeout)
        if not verify:
            logger.info("encoded %s: %d ms, gain %+.2f dB from %.2f LUFS, ceiling %.2f dBFS", out_path.name,
                        pcm.duration_ms, gain, measured, ceiling_db)
            return PreparedAudio(out_path, pcm.duration_ms, predicted, verified=False)
        result = _verify(out_path, fmt, measured, gain, timeout=timeout)
        error = fmt.target_lufs - result.loudness.integrated_lufs
        over = result.loudness.true_peak_db - fmt.true_peak_db
        if (abs(error) <= ENCODED_TOLERANCE and over <= 0) or gain >= MAX_GAIN_DB:
            break
        logger.info("%s off by %+.2f LU, peak %+.2f dB over; encoding again (%d)", out_path.name, error, over, attempt)
        gain = min(MAX_GAIN_DB, gain + error)
        ceiling_db -= max(0.0, over + 0.2)
    return result


def _limiter(ceiling_db: float) -> str:
    return f"alimiter=limit={10 ** (ceiling_db / 20):.6f}:attack=5:release=50:level=0:latency=1"


def _plan(pcm: Pcm, measured: float, fmt: StationFormat, out_path: Path, *, timeout: float
          ) -> tuple[float, float, Loudness]:
    """The gain and limiter ceiling that bring `pcm` to the target, and the loudness they should give.

    Two effects would otherwise leave the result off target, and both are measured on an excerpt:

    - the limiter takes off loudness as it works, so the gain is found on the limited excerpt (cheap
      ffmpeg filter passes over a minute, not the whole file);
    - the encoder drops loudness (LAME at 64 kb/s: ~0.45 LU on speech, ~1.2 LU on noise) and raises peaks
      between samples (0.5-2.5 dB on hard-limited speech), so the gained, limited excerpt is encoded once
      and measured, and the aim and the ceiling are corrected by what it shows.
    """
    # One slice per ~75 s (3 to 8): enough to predict the whole, and a small share of a short file's work.
    excerpt = _excerpt(pcm, slices=max(3, min(8, pcm.frames // (75 * pcm.rate))))
    offset = integrated_lufs(excerpt) - measured  # the excerpt's loudness against the whole's
    peak_db = 20 * math.log10(max(float(np.max(np.abs(pcm.samples))), 1e-9))
    aim, ceiling_db = fmt.target_lufs, fmt.true_peak_db - TRUE_PEAK_MARGIN_DB
    gain = _gain_for(excerpt, peak_db, measured, offset, aim, ceiling_db, timeout=timeout)
    encoded = _encoded(excerpt, gain, ceiling_db, fmt, out_path, timeout=timeout)
    # Before encoding the excerpt stood at the aim (or short of it when the gain was capped).
    loss = min(aim, measured + gain) + offset - encoded.integrated_lufs
    overshoot = max(0.0, encoded.true_peak_db - ceiling_db)
    corrected_ceiling = min(ceiling_db, fmt.true_peak_db - TRUE_PEAK_SAFETY_DB - overshoot)
    if abs(loss) > LUFS_TOLERANCE or corrected_ceiling < ceiling_db:
        aim, ceiling_db = aim + max(-3.0, min(3.0, loss)), corrected_ceiling
        gain = _gain_for(excerpt, peak_db, measured, offset, aim, ceiling_db, timeout=timeout)
    logger.debug("plan: gain %+.2f dB, ceiling %.2f dBFS (encoder loss %.2f LU, overshoot %.2f dB)", gain,
                 ceiling_db, loss, overshoot)
    return gain, ceiling_db, Loudness(fmt.target_lufs, min(fmt.true_peak_db, ceiling_db + overshoot))


def _gain_for(excerpt: Pcm, peak_db: float, measured: float, offset: float, aim: float, ceiling_db: float, *,
              timeout: float) -> float:
    gain = min(MAX_GAIN_DB, aim - measured)
    if gain == MAX_GAIN_DB:
        logger.warning("audio at %.1f LUFS needs more than %.0f dB of gain; capped", measured, MAX_GAIN_DB)
    if peak_db + gain > ceiling_db:
        gain = _limited_gain(excerpt, gain, measured + offset, aim + offset, _limiter(ceiling_db), timeout=timeout)
    return gain


def _encoded(excerpt: Pcm, gain: float, ceiling_db: float, fmt: StationFormat, out_path: Path, *,
             timeout: float) -> Loudness:
    """Loudness and true peak of the excerpt after gain, limiter and encoding, as the whole will be."""
    probe_path = out_path.with_name(f".{out_path.name}.probe")
    try:
        encode(excerpt, probe_path, fmt.encoder_args(), filters=f"volume={gain:.4f}dB,{_limiter(ceiling_db)}",
               timeout=timeout)
        return measure(decode(probe_path, rate=fmt.sample_rate, channels=fmt.channels, timeout=timeout))
    finally:
        probe_path.unlink(missing_ok=True)


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


def _excerpt(pcm: Pcm, slices: int = 8, seconds: int = 8) -> Pcm:
    """Slices spread over the whole file: a bulletin between jingles differs along its length.

    8 x 8 s predicted the loudness of 10 min of limited speech within 0.2 LU.
    """
    rate, span = pcm.rate, seconds * pcm.rate
    if pcm.frames <= slices * span:
        return pcm
    starts = [int(pcm.frames * (2 * i + 1) / (2 * slices)) - span // 2 for i in range(slices)]
    # Short fades at the cuts: a step between two slices would be a click, and clicks overshoot after encoding.
    fade = np.linspace(0.0, 1.0, rate // 100, dtype=pcm.samples.dtype)
    pieces = []
    for start in starts:
        piece = pcm.samples[start : start + span].copy()
        piece[: len(fade)] *= fade[:, None]
        piece[-len(fade):] *= fade[::-1, None]
        pieces.append(piece)
    return Pcm(np.concatenate(pieces), rate)


def _limited_gain(pcm: Pcm, gain: float, measured: float, target: float, limiter: str, *, timeout: float) -> float:
    """The gain that, through the limiter, brings `pcm` to `target` LUFS, by secant steps on the gain curve."""
    best = (math.inf, gain)
    previous = (0.0, measured)  # zero gain, no limiting: a true point on the gain → loudness curve
    for attempt in range(MAX_LIMITER_PASSES):
        got = integrated_lufs(filter_pcm(pcm, f"volume={gain:.4f}dB,{limiter}", timeout=timeout))
        error = target - got
        logger.debug("limiter pass %d: gain %+.2f dB → %.2f LUFS", attempt + 1, gain, got)
        if abs(error) < best[0]:
            best = (abs(error), gain)
        if abs(error) <= LUFS_TOLERANCE:
            break
        # The limiter flattens the curve: each dB of gain adds less than a dB of loudness. The clamp keeps one
        # noisy step from sending the gain far away.
        slope = (got - previous[1]) / (gain - previous[0]) if gain != previous[0] else 1.0
        slope = min(1.0, max(0.2, slope))
        previous = (gain, got)
        gain = min(MAX_GAIN_DB, gain + error / slope)
    return best[1]
