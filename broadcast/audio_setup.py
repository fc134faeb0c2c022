"""The speech and audio collaborators of the service, built from its settings.

Services receive these as arguments; this module is the one place that knows how settings map onto
``audio`` objects, so a change of engine is a change of configuration only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audio.processing import AudioStorage, StationFormat
from audio.speech import SpeechEngine, SpeechRenderer, build_engine
from broadcast.config import Settings
from broadcast.storage import audio_store


@dataclass(frozen=True)
class AudioTools:
    renderer: SpeechRenderer
    default_voice: str
    store: AudioStorage
    station_format: StationFormat
    work_dir: Path
    max_upload_bytes: int
    max_upload_seconds: float


def speech_engine(settings: Settings, name: str) -> SpeechEngine:
    """``tts_options`` holds one table per engine: ``[tts_options.http] url = "..."``."""
    given = settings.tts_options.get(name)
    options = dict(given) if isinstance(given, dict) else {}
    if name != "espeak":
        options.setdefault("timeout", settings.tts_timeout_s)
        options.setdefault("retries", settings.tts_retries)
    return build_engine(name, **options)


def audio_tools(settings: Settings) -> AudioTools:
    primary = speech_engine(settings, settings.tts_engine)
    fallback = None
    if settings.tts_fallback_engine != settings.tts_engine:
        fallback = speech_engine(settings, settings.tts_fallback_engine)
    return AudioTools(
        renderer=SpeechRenderer(primary, settings.instance_path / "speech-cache", fallback=fallback),
        default_voice=settings.tts_voice or primary.default_voice,
        store=audio_store(settings),
        station_format=StationFormat(bitrate=settings.station_bitrate, sample_rate=settings.station_sample_rate,
                                     target_lufs=settings.target_lufs, true_peak_db=settings.true_peak_db),
        work_dir=settings.instance_path / "work",
        max_upload_bytes=settings.upload_max_mb * 1024 * 1024,
        max_upload_seconds=settings.upload_max_minutes * 60,
    )
