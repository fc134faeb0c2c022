"""The one interface every speech engine implements, and the settings it takes.

Settings are written the way edge-tts writes them (a voice name; rate and volume as "+10%", pitch as
"+5Hz") so that an engine is swapped by configuration alone; each engine maps them onto what it can do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from audio.rates import parse_hertz, parse_percent

# Silence before the first syllable of every rendered item. Outdoor horns and their amplifiers take a moment to
# open (relays, voice-activated gates), and without this they cut the first syllable of a bulletin.
LEAD_IN_MS = 300


class SpeechError(Exception):
    """An engine could not produce audio: network, timeout, bad response or a missing tool; the message says why."""


@dataclass(frozen=True)
class VoiceSettings:
    """How to read a text: the engine's voice name and relative rate, volume and pitch (edge-tts syntax)."""

    voice: str
    rate: str = "+0%"
    volume: str = "+0%"
    pitch: str = "+0Hz"

    def __post_init__(self) -> None:
        # Checked here, once, so a typo in configuration fails where it is made rather than inside an engine.
        if not self.voice or not self.voice.strip():
            raise ValueError("voice must not be empty")
        parse_percent(self.rate)
        parse_percent(self.volume)
        parse_hertz(self.pitch)

    @property
    def rate_percent(self) -> int:
        """The rate as a signed percentage."""
        return parse_percent(self.rate)

    @property
    def volume_percent(self) -> int:
        """The volume as a signed percentage."""
        return parse_percent(self.volume)

    @property
    def pitch_hz(self) -> int:
        """The pitch offset in hertz."""
        return parse_hertz(self.pitch)


class SpeechEngine(ABC):
    """Turns already normalized Vietnamese text into one audio file."""

    name: str
    default_voice: str
    output_suffix: str
    # What, besides the settings, decides how this engine reads (its pace for "+0%", its pauses): part of the
    # cache key, so a change of the defaults is heard at once rather than after the cache is emptied.
    reading_style: str = ""

    @abstractmethod
    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        """Write the whole text as one audio file at ``out_path``; raise SpeechError on failure.

        Long texts are split at sentence boundaries and the parts joined. Nothing is left at ``out_path``
        unless the whole file was written.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def require_text(text: str) -> str:
    """The text stripped, or ValueError when there is nothing to read (no engine can fix that)."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("there is no text to read")
    return stripped
