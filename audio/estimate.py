"""Duration estimates for text before it is rendered, so editors see at once whether an item fits.

Vietnamese is written one syllable per word, so the count of words is the count of syllables. The
espeak-ng figures were measured on its Vietnamese voice at the default pace (audio.speech.espeak: about 200
syllables a minute with its pauses): 0.265 s a syllable, 0.2 s at a comma and 0.7 s at a sentence end; every
rendered item also starts with the lead-in silence. The measured duration replaces the estimate once the item
is rendered.
"""

from __future__ import annotations

import re

from audio.rates import parse_percent
from audio.speech.base import LEAD_IN_MS

SECONDS_PER_SYLLABLE = {"espeak": 0.265, "default": 0.25}
# (comma pause, sentence pause) in seconds; espeak-ng's sentence pause is set by audio.speech.espeak.
PAUSES_S = {"espeak": (0.2, 0.7), "default": (0.15, 0.3)}

_WORD = re.compile(r"[^\W_]+")
_COMMA = re.compile(r"[,;:]")
_SENTENCE_END = re.compile(r"[.!?]+")


def estimate_duration_ms(normalized_text: str, rate: str = "+0%", engine: str = "espeak") -> int:
    """Milliseconds the text will take to read at ``rate`` ("+10%" reads faster and so takes less time)."""
    syllables = len(_WORD.findall(normalized_text))
    if syllables == 0:
        return 0
    per_syllable = SECONDS_PER_SYLLABLE.get(engine, SECONDS_PER_SYLLABLE["default"])
    comma_s, sentence_s = PAUSES_S.get(engine, PAUSES_S["default"])
    seconds = (syllables * per_syllable
               + len(_COMMA.findall(normalized_text)) * comma_s
               + len(_SENTENCE_END.findall(normalized_text)) * sentence_s)
    speed = 1 + parse_percent(rate) / 100
    return round((seconds / speed + LEAD_IN_MS / 1000) * 1000)
