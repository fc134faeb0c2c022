"""Abbreviations written with a period: place prefixes (TP. Vinh, Q.1, X. Tân Hội), titles (GS.TS.) and v.v.

The period of such an abbreviation is not the end of a sentence: left in the text, the voice would stop
in the middle of a name ("thành phố. Vinh"). So the abbreviation and its period are replaced together.
"""

from __future__ import annotations

import re

# Administrative units before a name or a number. "TT." is a thị trấn here: a circular (thông tư) is
# written without a period before its number.
_PLACES = {
    "TP": "thành phố",
    "Tp": "thành phố",
    "tp": "thành phố",
    "TX": "thị xã",
    "Tx": "thị xã",
    "TT": "thị trấn",
    "Q": "quận",
    "P": "phường",
    "H": "huyện",
    "X": "xã",
}
# A one-letter prefix after a capitalised word is an initial of a name instead ("anh Nguyễn Văn H. trú tại
# X. Tân Hội"): "Văn H." keeps its letter, "tại X." is a commune.
_ONE_LETTER = frozenset("QPHX")
_NAME_OR_NUMBER = r"(?=\s?(?:[^\W\d_][^\W\d_]|\d))"
_PLACE = re.compile(
    r"(?<![\w.])(?P<prefix>" + "|".join(sorted(_PLACES, key=len, reverse=True)) + r")\.(?P<gap>\s?)" + _NAME_OR_NUMBER
)
_PREVIOUS_WORD = re.compile(r"([^\W\d_]+)\s*$")
_SENTENCE_START = re.compile(r"(?:^|[.!?…]\s+|\n)\W*$")

# Academic and professional titles, alone or chained ("PGS.TS.", "GS.TSKH"), before a name.
_TITLES = {
    "GS": "giáo sư",
    "PGS": "phó giáo sư",
    "TS": "tiến sĩ",
    "TSKH": "tiến sĩ khoa học",
    "ThS": "thạc sĩ",
    "BS": "bác sĩ",
    "BSCKI": "bác sĩ chuyên khoa một",
    "BSCKII": "bác sĩ chuyên khoa hai",
    "DS": "dược sĩ",
    "KS": "kỹ sư",
    "LS": "luật sư",
    "NSND": "Nghệ sĩ nhân dân",
    "NSƯT": "Nghệ sĩ ưu tú",
    "NGND": "Nhà giáo nhân dân",
    "NGƯT": "Nhà giáo ưu tú",
}
_TITLE = "|".join(sorted(_TITLES, key=len, reverse=True))
_TITLE_CHAIN = re.compile(rf"(?<![\w.])(?P<chain>(?:{_TITLE})(?:\.(?:{_TITLE}))*)(?P<dot>\.?)\s?(?=[^\W\d_])")

# "v.v." (vân vân, "and so on"); when it ends the sentence its last period is kept as the sentence's end.
_ETC = re.compile(r"(?<![\w.])(?:v\.v|vv)\.*(?!\w)")
_NEXT_WORD = re.compile(r"\s*(\S?)")


def _etc(match: re.Match[str]) -> str:
    written = match.group()
    if not written.endswith("."):
        return "vân vân"
    following = _NEXT_WORD.match(match.string, match.end()).group(1)
    ends_sentence = not following or following.isupper() or following in "\"”’»)"
    return "vân vân." if ends_sentence else "vân vân"


def _place(match: re.Match[str]) -> str:
    prefix = match["prefix"]
    if prefix in _ONE_LETTER:
        before = _PREVIOUS_WORD.search(match.string, 0, match.start())
        if before and before.group(1)[0].isupper():
            return match.group()
    following = match.string[match.end() : match.end() + 2]
    if not match["gap"] and following.isupper():
        return match.group()  # "TP.HCM" is one abbreviation, in the lexicon
    return f"{_capitalised(_PLACES[prefix], match)} "


def _capitalised(words: str, match: re.Match[str]) -> str:
    """Keep a capital where the abbreviation opened a sentence ("TP. Vinh có..." → "Thành phố Vinh có...")."""
    if _SENTENCE_START.search(match.string, 0, match.start()):
        return words[0].upper() + words[1:]
    return words


def _titles(match: re.Match[str]) -> str:
    if "." not in match["chain"] and not match["dot"]:
        return match.group()  # "TS Lê" without periods: the lexicon reads it
    return _capitalised(" ".join(_TITLES[title] for title in match["chain"].split(".")), match) + " "


def read_prefixes(text: str) -> str:
    """Expand place prefixes, titles and "v.v." written with periods, so no period is left to pause on."""
    text = _PLACE.sub(_place, text)
    text = _TITLE_CHAIN.sub(_titles, text)
    return _ETC.sub(_etc, text)
