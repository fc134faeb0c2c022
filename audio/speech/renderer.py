"""Speech with a cache and a fallback: the same text never renders twice, and a failure never means silence."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from audio.speech.base import SpeechEngine, SpeechError, VoiceSettings, require_text

log = logging.getLogger(__name__)

# Renders of one key are serialised so that two jobs asking for the same new text at once render it once;
# a fixed set of locks chosen by key keeps memory bounded however many texts pass through.
_LOCK_STRIPES = 64


@dataclass(frozen=True)
class RenderedSpeech:
    """Where the audio for a text is, which engine made it, and whether anything went wrong on the way."""

    path: Path
    engine: str
    cache_hit: bool
    warning: str | None = None


class SpeechRenderer:
    """Cache + fallback in front of a primary engine.

    Results are cached by sha256 of (engine name, voice, rate, volume, pitch, text and the engine's reading
    style), so the same text is never rendered twice. When the primary engine fails the fallback engine reads
    the text and :attr:`RenderedSpeech.warning` says so; the fallback's audio is cached under its own key, so
    the primary is tried again next time. If both fail, SpeechError.
    """

    def __init__(
        self,
        primary: SpeechEngine,
        cache_dir: Path,
        fallback: SpeechEngine | None = None,
        fallback_settings: VoiceSettings | None = None,
    ):
        """``fallback_settings`` default to the fallback's own voice with the caller's rate, volume and pitch."""
        self.primary = primary
        self.cache_dir = Path(cache_dir)
        self.fallback = fallback
        self.fallback_settings = fallback_settings
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def cache_key(self, engine: SpeechEngine, text: str, settings: VoiceSettings) -> str:
        """The hex sha256 naming the audio of ``text`` read by ``engine`` with ``settings``."""
        # JSON keeps the fields apart: no two different tuples can serialise to the same bytes.
        fields = [engine.name, settings.voice, settings.rate, settings.volume, settings.pitch, text]
        if engine.reading_style:
            fields.append(engine.reading_style)
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()

    def cache_path(self, engine: SpeechEngine, text: str, settings: VoiceSettings) -> Path:
        """Where the audio for this engine, text and settings is (or will be) cached."""
        key = self.cache_key(engine, text, settings)
        # Two levels of folders keep any one folder small when tens of thousands of items are cached.
        return self.cache_dir / key[:2] / f"{key}{engine.output_suffix}"

    def render(self, text: str, settings: VoiceSettings) -> RenderedSpeech:
        """The audio for ``text``: from the cache, else the primary engine, else the fallback with a warning."""
        require_text(text)
        try:
            return self._render_with(self.primary, text, settings, warning=None)
        except SpeechError as exc:
            if self.fallback is None:
                raise
            reason = f"{self.primary.name} failed ({exc}); used {self.fallback.name}"
            log.warning("%s for %d characters", reason, len(text))
            fallback_settings = self.fallback_settings or VoiceSettings(
                voice=self.fallback.default_voice, rate=settings.rate, volume=settings.volume, pitch=settings.pitch
            )
            try:
                return self._render_with(self.fallback, text, fallback_settings, warning=reason)
            except SpeechError as fallback_exc:
                raise SpeechError(
                    f"{self.primary.name} failed ({exc}); fallback {self.fallback.name} failed too ({fallback_exc})"
                ) from fallback_exc

    def _render_with(
        self, engine: SpeechEngine, text: str, settings: VoiceSettings, warning: str | None
    ) -> RenderedSpeech:
        path = self.cache_path(engine, text, settings)
        with self._locks[int(path.stem[:8], 16) % _LOCK_STRIPES]:
            if path.is_file():
                return RenderedSpeech(path=path, engine=engine.name, cache_hit=True, warning=warning)
            # Engines write under a temporary name and rename, so a file at ``path`` is always complete.
            engine.synthesize(text, settings, path)
        if not path.is_file():
            raise SpeechError(f"{engine.name} reported success but wrote no file")
        log.info("%s rendered %d characters into %s", engine.name, len(text), path.name)
        return RenderedSpeech(path=path, engine=engine.name, cache_hit=False, warning=warning)
