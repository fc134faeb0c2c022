"""What a reading still holds that the voice cannot say as Vietnamese: symbols and Latin letters.

The rules and the lexicon turn numbers, units and known abbreviations into words; whatever is left as
"°F", "TTYT", "BTS" or "Wi-Fi" will be spelled, guessed or skipped by the voice. Editors see these marked
in the reading preview and can add them to the lexicon from there.
"""

from __future__ import annotations

import re
import unicodedata

# One Vietnamese syllable, without its tone mark: an initial, a vowel nucleus and one of the allowed finals.
# A word in capitals that is such a syllable ("THÔNG BÁO" in a headline) is read as the word; one that is not
# ("BTS", "TTYT", "UBNDX") will be spelled.
_SYLLABLE = re.compile(
    # and the clusters of loanwords written the Vietnamese way: "crô" (micrô), "xtrim", "Krông", "blốc"
    r"(?:b|c|ch|d|đ|g|gh|gi|h|k|kh|l|m|n|ng|ngh|nh|p|ph|qu|r|s|t|th|tr|v|x|bl|br|cl|cr|dr|gr|kl|kr|pl|pr|xc|xt|xtr)?"
    r"[aăâeêioôơuưy]{1,3}(?:c|ch|k|m|n|ng|nh|p|t)?"  # k: Đắk, Lắk in the Highlands' names
)
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

# Letters Vietnamese spelling never uses; a word with one of them is a foreign word or a code.
_FOREIGN_LETTERS = frozenset("fjwzFJWZ")
# Punctuation the voice handles as pauses or ignores without harm.
_HARMLESS = frozenset(".,;:!?…-–—()[]\"'“”‘’«»")
_TOKEN = re.compile(r"\S+")
_PARTS = re.compile(r"[-–'’]")
_EDGE = ".,;:!?…()[]\"'“”‘’«»"


def _unread(token: str) -> bool:
    if any(ch in _FOREIGN_LETTERS for ch in token):
        return True
    if any(not (ch.isalnum() or ch in _HARMLESS) for ch in token):
        return True  # a symbol: °, /, #, @, *, ², €, ...
    if any(ch.isdigit() for ch in token):
        return True  # a number no rule read (a code, a plate)
    # A word that is not a Vietnamese syllable is an abbreviation ("BTS", "TTYT", in capitals or not) or a
    # foreign word ("Telegram"), which the voice spells or reads in its English voice. A syllable in capitals
    # ("THÔNG BÁO") is a word; a single letter is an initial ("Nguyễn Văn A") or a word ("Y tế"), and the
    # H of "H'Mông" is part of a name the voice reads.
    parts = [part for part in _PARTS.split(token) if len(part) > 1]
    return any(not _is_syllable(part) for part in parts)


def _is_syllable(word: str) -> bool:
    bare = "".join(ch for ch in unicodedata.normalize("NFD", word.lower()) if ch not in _TONE_MARKS)
    return _SYLLABLE.fullmatch(unicodedata.normalize("NFC", bare)) is not None


def unread_terms(reading: str) -> list[str]:
    """The distinct words of a normalized reading left as symbols or Latin letters, in order of appearance."""
    found: list[str] = []
    for token in _TOKEN.findall(reading):
        term = token.strip(_EDGE)
        if term and _unread(term) and term not in found:
            found.append(term)
    return found


def mark_unread(reading: str) -> list[tuple[str, bool]]:
    """The reading cut into pieces, each with whether it is an unread term: what the preview highlights.

    Joining the pieces gives the reading back unchanged; punctuation around a term stays outside its mark.
    """
    pieces: list[tuple[str, bool]] = []
    plain_from = 0
    for match in _TOKEN.finditer(reading):
        token = match.group()
        term = token.strip(_EDGE)
        if not term or not _unread(term):
            continue
        start = match.start() + token.index(term)
        if start > plain_from:
            pieces.append((reading[plain_from:start], False))
        pieces.append((term, True))
        plain_from = start + len(term)
    if plain_from < len(reading):
        pieces.append((reading[plain_from:], False))
    return pieces
