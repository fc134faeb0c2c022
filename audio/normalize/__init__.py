"""Vietnamese text normalization: written text in, the exact words a speech engine should read out.

The rules run in a fixed order because later rules must not see what earlier ones own: abbreviations
written with a period first (the period of "TP. Vinh" is not a sentence end), document numbers before
dates and fractions (485/BC-UBND is not a fraction), phone numbers before any number rule (0912 345 678
is not a quantity), counted fractions before dates (9/12 chỉ tiêu is not the ninth of December), dates
before fractions (3/2 is the third of February, 193/193 is not a date), times and money before units,
units before ranges (100-150mm), Roman numerals before abbreviations, and the tone marks last so that
lexicon expansions get the same placement as the editor's text. Each kind of rule has its own module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from .calendar import read_dates, read_times
from .documents import read_document_numbers
from .fractions import read_counted_fractions
from .lexicon import BUILT_IN_LEXICON, expand_abbreviations, merged_lexicon
from .numbers import read_integer, read_number, spell_numbers
from .phones import read_phone_numbers
from .plates import read_plates
from .prefixes import read_prefixes
from .quantities import read_fractions, read_money, read_ordinals, read_percent_signs, read_ranges
from .roman import read_quarters, read_roman_numerals
from .tones import normalize_tones
from .units import read_amounts_per_hours, read_per, read_units
from .unread import mark_unread, unread_terms

__all__ = [
    "BUILT_IN_LEXICON",
    "mark_unread",
    "normalize",
    "normalize_tones",
    "read_integer",
    "read_number",
    "unread_terms",
]

_SYMBOLS = {"&": " và "}
_SPACES = re.compile(r"[ \t\u00a0]+")
_WORD_SLASH_WORD = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,;:?!])")


def normalize(text: str, lexicon: Mapping[str, str] | None = None) -> str:
    """Rewrite Vietnamese text into speakable words, keeping sentence punctuation and capitals.

    `lexicon` adds abbreviations to the built-in ones (and replaces them on the same key);
    keys match whole words, case-sensitively.
    """
    words = merged_lexicon(lexicon)
    text = unicodedata.normalize("NFC", text)
    text = read_prefixes(text)
    text = read_document_numbers(text, words)
    text = read_phone_numbers(text)
    text = read_plates(text)
    text = read_counted_fractions(text)
    text = read_quarters(text)
    text = read_dates(text)
    text = read_amounts_per_hours(text)
    text = read_times(text)
    text = read_money(text)
    text = read_units(text)
    text = read_per(text)
    text = read_roman_numerals(text)
    text = read_ordinals(text)
    text = read_ranges(text)
    text = read_fractions(text)
    text = spell_numbers(text)
    text = read_percent_signs(text)
    text = expand_abbreviations(text, words)
    # A slash left between two words is "and/or" ("nam/nữ thanh niên"): read as the two words.
    text = _WORD_SLASH_WORD.sub(" ", text)
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    text = normalize_tones(text)
    text = _SPACES.sub(" ", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text).strip()
