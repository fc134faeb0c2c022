"""Unicode NFC and one consistent tone-mark placement for Vietnamese syllables.

The same syllable is typed two ways: the older convention puts the mark on the first vowel of an
open "oa", "oe", "uy" (hòa, thủy, Ủy), the newer one on the second (hoà, thuỷ, Uỷ). Speech engines
read both, but the text hash that keys the render cache and what editors see must not depend on which
keyboard typed it, so we rewrite every syllable to one convention: by default the older one, which
official documents (Ủy ban, hòa giải) and our abbreviation lexicon use.
"""

from __future__ import annotations

import re
import unicodedata

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
VOWELS = frozenset("aăâeêioôơuưy")
MARKED_VOWELS = frozenset("ăâêôơư")  # vowels carrying a quality mark; the tone sits on them
NEW_STYLE = "new"
OLD_STYLE = "old"

_SYLLABLE = re.compile(r"[^\W\d_]+")


def _vowel_span(word: str) -> tuple[int, int] | None:
    """Start and end of the vowel nucleus, after the initial consonant (qu and gi count as initials)."""
    lower = word.lower()
    start = 0
    while start < len(lower) and lower[start] not in VOWELS:
        start += 1
    if start == len(lower):
        return None
    if lower[start - 1 : start + 1] in ("qu", "gi") and start + 1 < len(lower) and lower[start + 1] in VOWELS:
        start += 1
    end = start
    while end < len(lower) and lower[end] in VOWELS:
        end += 1
    if any(ch in VOWELS for ch in lower[end:]):
        return None  # not one Vietnamese syllable (e.g. a foreign word): leave it alone
    return start, end


def _tone_position(bare: str, start: int, end: int, style: str) -> int:
    """Index of the vowel that carries the tone mark in a syllable without its tone."""
    nucleus = bare[start:end].lower()
    marked = [i for i, ch in enumerate(nucleus) if ch in MARKED_VOWELS]
    if marked:
        return start + marked[-1]  # ươ → ơ, uyê → ê
    closed = end < len(bare)
    if closed or len(nucleus) == 1:
        return end - 1
    if len(nucleus) == 3:
        return start + 1  # oai, uya, uyu: the middle vowel
    if nucleus in ("oa", "oe", "uy") and style == NEW_STYLE:
        return start + 1
    return start


def place_tone(word: str, style: str = OLD_STYLE) -> str:
    """Move the tone mark of one syllable to its conventional vowel; other words come back unchanged."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in TONE_MARKS]
    if len(tones) != 1:
        return word
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONE_MARKS))
    span = _vowel_span(bare)
    if span is None:
        return word
    position = _tone_position(bare, *span, style)
    marked = bare[:position] + unicodedata.normalize("NFC", bare[position] + tones[0]) + bare[position + 1 :]
    return unicodedata.normalize("NFC", marked)


def normalize_tones(text: str, style: str = OLD_STYLE) -> str:
    """NFC-compose `text` and give every Vietnamese syllable the same tone-mark placement."""
    composed = unicodedata.normalize("NFC", text)
    return _SYLLABLE.sub(lambda m: place_tone(m.group(), style), composed)
