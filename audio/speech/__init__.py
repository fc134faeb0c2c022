"""Speech engines behind one interface, with a cache and a fallback in front of them.

The text given here is already normalized Vietnamese (see :mod:`audio.normalize`); engines only read it.
Engines: espeak-ng (offline), gTTS, edge-tts and a configurable HTTP provider, chosen by
:func:`build_engine`; :class:`SpeechRenderer` caches their output and falls back when one fails.
"""

from audio.speech.base import LEAD_IN_MS, SpeechEngine, SpeechError, VoiceSettings
from audio.speech.factory import ENGINE_NAMES, build_engine
from audio.speech.renderer import RenderedSpeech, SpeechRenderer
from audio.speech.sentences import chunk_text, split_sentences

__all__ = [
    "ENGINE_NAMES",
    "LEAD_IN_MS",
    "RenderedSpeech",
    "SpeechEngine",
    "SpeechError",
    "SpeechRenderer",
    "VoiceSettings",
    "build_engine",
    "chunk_text",
    "split_sentences",
]
