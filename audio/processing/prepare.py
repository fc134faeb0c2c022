"""Turn one source recording or speech render into broadcast-ready audio in the station format."""

from __future__ import annotations

import logging
from pathlib import Path

from audio.processing.encode import PreparedAudio, encode_at_target
from audio.processing.formats import StationFormat
from audio.processing.pcm import TOOL_TIMEOUT_S, decode
from audio.processing.silence import trim_silence

logger = logging.getLogger(__name__)


def prepare(
    source: Path, fmt: StationFormat, out_path: Path, *, trim_silence: bool = True, verify: bool = False,
    timeout: float = TOOL_TIMEOUT_S, lead_in_ms: int | None = None,
) -> PreparedAudio:
    """Decode, trim silence, normalize loudness with a limiter and encode `source` to `out_path` in `fmt`.

    The source is decoded once, straight to the format's rate and channels, so trimming cuts on exact samples
    and loudness is measured on exactly what is encoded. `out_path` appears complete or not at all.
    Raises InvalidAudio("silent") when trimming finds nothing to keep; validate uploads first with
    `validate_upload`, since a file ffmpeg cannot decode here raises pcm.ToolError. ``verify`` measures the
    written file and corrects it if needed (see encode_at_target): use it for uploads of unknown material.
    ``lead_in_ms`` sets the silence kept before the first sound when trimming (speech: audio.speech.LEAD_IN_MS).
    """
    pcm = decode(source, rate=fmt.sample_rate, channels=fmt.channels, timeout=timeout)
    if trim_silence:
        pcm = _trim(pcm, lead_in_ms=lead_in_ms)
    return encode_at_target(pcm, fmt, out_path, verify=verify, timeout=timeout)


_trim = trim_silence  # the keyword argument shadows the function inside prepare()
