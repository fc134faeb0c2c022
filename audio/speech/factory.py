"""Build an engine from its configured name, so the engine is chosen by configuration alone."""

from __future__ import annotations

from typing import Any

from audio.speech.base import SpeechEngine

ENGINE_NAMES = ("espeak", "gtts", "edge", "http")


def build_engine(name: str, **options: Any) -> SpeechEngine:
    """The engine called ``name`` ("espeak", "gtts", "edge" or "http") built with its own ``options``.

    Engine modules are imported here, on demand, so that choosing espeak never loads the network libraries.
    An unknown name or option raises ValueError naming what is accepted.
    """
    if name == "espeak":
        from audio.speech.espeak import EspeakEngine as engine_class
    elif name == "gtts":
        from audio.speech.gtts_engine import GttsEngine as engine_class
    elif name == "edge":
        from audio.speech.edge import EdgeEngine as engine_class
    elif name == "http":
        from audio.speech.http import HttpEngine as engine_class
    else:
        raise ValueError(f"unknown speech engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    try:
        return engine_class(**options)
    except TypeError as exc:
        raise ValueError(f"bad options for the {name} engine: {exc}") from exc
