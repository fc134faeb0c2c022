"""Roman numerals after the words that take them: khóa XIII, lần thứ IV, quý II, thế kỷ XXI, Chương III.

Vietnamese writes Roman numerals for congresses, legislatures, quarters, centuries and the parts of a text;
espeak-ng spells them as letters or reads them as English words ("I" as "ai"), so they are turned into
the number the announcer says. They are read only after such a word: a capital "V" or "X" elsewhere is a
letter, an initial or an abbreviation.
"""

from __future__ import annotations

import re

from .numbers import read_integer, read_ordinal

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# A well-formed numeral only (so "IIII", "VX" or "IL" are left alone), up to 3999.
_NUMERAL = r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"

# The words after which a numeral is a number. Both tone placements of "khóa"/"khoá", "kỳ"/"kì" are typed.
_TAKERS = (
    r"khóa|khoá|nhiệm kỳ|quý|thế kỷ|thế kỉ|đại hội|hội nghị|kỳ họp|kì họp|phần|chương|mục|tập|cấp|giai đoạn|"
    r"hạng|loại|đợt|quân khu|vùng|khu vực|nhóm|bậc|báo động|kỳ|kì"
)
_AFTER_TAKER = re.compile(
    rf"(?P<taker>(?i:{_TAKERS}))(?P<thu>\s+(?i:thứ))?\s+(?P<numeral>{_NUMERAL})(?![\w-]|\.\w)"
)
# "quý III/2024", "quý 3/2024": a quarter of a year, not a date or a fraction.
_QUARTER_OF_YEAR = re.compile(r"(?P<quy>(?i:quý))\s+(?P<q>[1-4]|I{1,3}|IV)/(?P<y>\d{4})(?![\d/])")
_AFTER_THU = re.compile(rf"(?P<thu>(?i:lần thứ|thứ))\s+(?P<numeral>{_NUMERAL})(?![\w-]|\.\w)")


def roman_value(numeral: str) -> int:
    """The value of a well-formed Roman numeral: "XIII" → 13, "IV" → 4."""
    total = 0
    for here, after in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _VALUES[here]
        total += -value if after and _VALUES[after] > value else value
    return total


def read_quarters(text: str) -> str:
    """Read "quý III/2024" and "quý 3/2024" as "quý ba năm hai nghìn không trăm hai mươi tư"."""

    def spoken(match: re.Match[str]) -> str:
        quarter = int(match["q"]) if match["q"].isdigit() else roman_value(match["q"])
        return f"{match['quy']} {read_integer(quarter)} năm {read_integer(int(match['y']))}"

    return _QUARTER_OF_YEAR.sub(spoken, text)


def read_roman_numerals(text: str) -> str:
    """Read Roman numerals after khóa, quý, thế kỷ, Đại hội, chương...; after "thứ" as an ordinal (IV → tư)."""

    def after_taker(match: re.Match[str]) -> str:
        if not match["numeral"]:
            return match.group()
        value = roman_value(match["numeral"])
        spoken = read_ordinal(value) if match["thu"] else read_integer(value)
        return f"{match['taker']}{match['thu'] or ''} {spoken}"

    def after_thu(match: re.Match[str]) -> str:
        if not match["numeral"]:
            return match.group()
        return f"{match['thu']} {read_ordinal(roman_value(match['numeral']))}"

    text = _AFTER_TAKER.sub(after_taker, text)
    return _AFTER_THU.sub(after_thu, text)
