"""What an audio file is (ffprobe) and whether an upload is fit to enter the pipeline."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from audio.processing.errors import InvalidAudio
from audio.processing.pcm import FFMPEG, FFPROBE, TOOL_TIMEOUT_S, run_tool

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 30.0

# A decode this much shorter than the container's claim means the file was cut. MP3 claims include the encoder
# padding (~26-50 ms), hence an absolute allowance; the relative one absorbs container rounding on long files.
_SHORTFALL_S = 0.5
_SHORTFALL_RATIO = 0.005


@dataclass(frozen=True)
class AudioInfo:
    """The facts ffprobe (and, after validation, a full decode) states about an audio file."""

    duration_ms: int
    format_name: str
    codec: str
    sample_rate: int
    channels: int
    size_bytes: int


def probe(path: Path, *, timeout: float = PROBE_TIMEOUT_S) -> AudioInfo:
    """Describe the first audio stream of `path` with `ffprobe -of json`.

    Raises InvalidAudio("empty") for a zero-byte file and InvalidAudio("not_audio") when ffprobe cannot read
    it or finds no audio stream. The duration is the container's claim; `validate_upload` checks it by decoding.
    """
    info, _ = _probe(path, timeout=timeout)
    return info


def validate_upload(
    path: Path, *, max_bytes: int, max_seconds: float, min_seconds: float = 0.5, timeout: float = TOOL_TIMEOUT_S
) -> AudioInfo:
    """Accept an uploaded file or raise InvalidAudio with the reason; reads only, writes nothing.

    Order: size (no tool runs for empty or oversized files), ffprobe, the claimed duration, then one full
    decode to a null sink. The decode catches truncation: an MP3 cut mid-file keeps a header that claims the
    full length but decodes to less. The returned duration is the decoded one.
    """
    size = path.stat().st_size
    if size == 0:
        raise InvalidAudio("empty", f"{path.name} is empty", size=0)
    if size > max_bytes:
        raise InvalidAudio(
            "too_large", f"{path.name} has {size} bytes, more than {max_bytes}", size=size, max_bytes=max_bytes
        )
    info, estimated = _probe(path, timeout=PROBE_TIMEOUT_S)
    claimed_s = info.duration_ms / 1000
    if claimed_s > max_seconds:
        raise _too_long(path, claimed_s, max_seconds)

    decoded_s, errors = _decode_length(path, timeout=timeout)
    shortfall = claimed_s - decoded_s
    if not estimated and claimed_s > 0 and shortfall > _SHORTFALL_S + _SHORTFALL_RATIO * claimed_s:
        raise InvalidAudio(
            "truncated",
            f"{path.name} claims {claimed_s:.2f} s but only {decoded_s:.2f} s decode",
            claimed_seconds=round(claimed_s, 3),
            seconds=round(decoded_s, 3),
        )
    if errors:
        raise InvalidAudio(
            "corrupt",
            f"{path.name} does not decode cleanly: {errors[0]}",
            seconds=round(decoded_s, 3),
            errors=errors[:5],
        )
    if decoded_s > max_seconds:
        raise _too_long(path, decoded_s, max_seconds)
    if decoded_s < min_seconds:
        raise InvalidAudio(
            "too_short",
            f"{path.name} lasts {decoded_s:.2f} s, less than {min_seconds} s",
            seconds=round(decoded_s, 3),
            min_seconds=min_seconds,
        )
    return AudioInfo(
        duration_ms=round(decoded_s * 1000),
        format_name=info.format_name,
        codec=info.codec,
        sample_rate=info.sample_rate,
        channels=info.channels,
        size_bytes=size,
    )


def _too_long(path: Path, seconds: float, max_seconds: float) -> InvalidAudio:
    return InvalidAudio(
        "too_long",
        f"{path.name} lasts {seconds:.1f} s, more than {max_seconds} s",
        seconds=round(seconds, 3),
        max_seconds=max_seconds,
    )


def _probe(path: Path, *, timeout: float) -> tuple[AudioInfo, bool]:
    """AudioInfo plus whether ffprobe only estimated the duration from the bitrate (so it cannot be trusted)."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidAudio("empty", f"{path.name} is empty", size=0)
    result = run_tool(
        [FFPROBE, *"-v warning -show_format -show_streams -select_streams a -of json".split(), str(path)],
        timeout=timeout,
    )
    stderr = result.stderr.decode(errors="replace")
    try:
        data = json.loads(result.stdout or b"{}")
    except json.JSONDecodeError:
        data = {}
    streams = data.get("streams") or []
    if result.returncode != 0 or not streams or "format" not in data:
        logger.info("ffprobe rejected %s: %s", path.name, stderr.strip()[:200])
        raise InvalidAudio(
            "not_audio", f"{path.name} is not an audio file ffmpeg can read", tool_message=stderr.strip()[:200]
        )
    stream, fmt = streams[0], data["format"]
    duration = stream.get("duration") or fmt.get("duration")
    try:
        duration_s = float(duration) if duration is not None else 0.0
    except ValueError:
        duration_s = 0.0
    info = AudioInfo(
        duration_ms=round(duration_s * 1000),
        format_name=fmt.get("format_name", ""),
        codec=stream.get("codec_name", ""),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
        size_bytes=size,
    )
    if info.sample_rate <= 0 or info.channels <= 0:
        raise InvalidAudio("not_audio", f"{path.name} has an audio stream without samples")
    return info, "Estimating duration from bitrate" in stderr


def _decode_length(path: Path, *, timeout: float) -> tuple[float, list[str]]:
    """Decode the first audio stream to nothing; return the decoded seconds and the decoder's error lines."""
    result = run_tool(
        [
            FFMPEG,
            *"-nostdin -v error -nostats -i".split(),
            str(path),
            *"-map 0:a:0 -vn -f null -progress pipe:1 -".split(),
        ],
        timeout=timeout,
    )
    errors = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    decoded_us = 0
    for line in result.stdout.decode(errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.strip().lstrip("-").isdigit():
            decoded_us = max(decoded_us, int(value))
    if result.returncode != 0 and decoded_us == 0:
        raise InvalidAudio("not_audio", f"{path.name} could not be decoded", errors=errors[:5])
    return decoded_us / 1e6, errors
