"""The station format: the one codec, bitrate, rate and loudness every station receives."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class _Codec:
    encoder: str  # ffmpeg encoder name
    muxer: str  # ffmpeg muxer name, needed because we write under a temporary name without the suffix
    mime_type: str
    suffix: str
    extra_args: tuple[str, ...] = ()


# Only MP3 today: every station player decodes it and LAME writes gapless (encoder delay/padding) info, which
# is what makes the decoded sample count, and so the recorded duration, exact. Add codecs here.
_CODECS = {
    # No ID3 tag: it would only carry ffmpeg's version string, which would change the bytes (and so the
    # content hash) of identical audio after an ffmpeg upgrade. The Xing/LAME frame still carries gapless info.
    "mp3": _Codec("libmp3lame", "mp3", "audio/mpeg", ".mp3", ("-id3v2_version", "0", "-write_xing", "1")),
}

_BITRATE = re.compile(r"^[1-9][0-9]*k$")


@dataclass(frozen=True)
class StationFormat:
    """The one format every station gets: codec, bitrate, sample rate, channels and loudness targets."""

    codec: str = "mp3"
    bitrate: str = "64k"
    sample_rate: int = 44100
    channels: int = 1
    target_lufs: float = -16.0
    true_peak_db: float = -1.0

    def __post_init__(self) -> None:
        if self.codec not in _CODECS:
            raise ValueError(f"codec {self.codec!r} is not supported; use one of {sorted(_CODECS)}")
        if not _BITRATE.match(self.bitrate):
            raise ValueError(f"bitrate {self.bitrate!r} must look like '64k'")
        if not 8000 <= self.sample_rate <= 48000:
            raise ValueError(f"sample_rate {self.sample_rate} must be between 8000 and 48000 Hz")
        if self.channels not in (1, 2):
            raise ValueError(f"channels {self.channels} must be 1 (mono) or 2 (stereo)")
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ValueError(f"target_lufs {self.target_lufs} must be between -40 and -5 LUFS")
        if not -9.0 <= self.true_peak_db <= 0.0:
            raise ValueError(f"true_peak_db {self.true_peak_db} must be between -9 and 0 dBTP")

    @property
    def mime_type(self) -> str:
        return _CODECS[self.codec].mime_type

    @property
    def suffix(self) -> str:
        return _CODECS[self.codec].suffix

    def encoder_args(self) -> list[str]:
        """ffmpeg output arguments that encode to this format (without the output path)."""
        codec = _CODECS[self.codec]
        return [
            "-c:a", codec.encoder, "-b:a", self.bitrate,
            "-ar", str(self.sample_rate), "-ac", str(self.channels),
            "-map_metadata", "-1", *codec.extra_args, "-f", codec.muxer,
        ]  # fmt: skip
