"""Official document numbers: 485/BC-UBND, 39/2020/TT-BTTTT, 135/QĐ-TTg and the Party's 18-NQ/TW."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .lexicon import expand_code_part
from .numbers import read_integer
from .tones import normalize_tones

# A code part starts with a capital ("BC", "QĐ", "TTg", "TTr", "QĐi"); parts are joined by hyphens.
_CODE_PART = r"[A-ZĐ][A-Za-zĐđƯ&]*"
_CODE = rf"{_CODE_PART}(?:-{_CODE_PART})*"
_SO = r"(?:(?P<so>(?i:số))\s+)?"
_DOCUMENT_NUMBER = re.compile(
    _SO + rf"(?<![\w/])(?P<n>\d+)(?:/(?P<y>\d{{4}}))?/(?P<code>{_CODE})(?![\w-])"
)
# Party documents put the type before the slash and the issuer after it: 18-NQ/TW, 05-CT/TU, 12-KL/ĐU.
_PARTY_NUMBER = re.compile(_SO + rf"(?<![\w/])(?P<n>\d+)-(?P<type>{_CODE_PART})/(?P<code>{_CODE})(?![\w-])")


def _said_before(text: str, end: int, words: str) -> bool:
    """Whether the text just before ``end`` already says ``words`` ("Kế hoạch số 45/KH-UBND")."""
    before = normalize_tones(text[max(0, end - 60) : end]).rstrip().lower()
    return before.endswith(normalize_tones(words).lower())


def read_document_numbers(text: str, lexicon: Mapping[str, str]) -> str:
    """Read document numbers as "số <number> [năm <year>] [<type>] <issuer>", never as a fraction.

    "báo cáo số 485/BC-UBND" becomes "báo cáo số bốn trăm tám mươi lăm Ủy ban nhân dân": the written "số"
    is kept rather than doubled, each code part is expanded from the lexicon, and the type is left out
    when the text names it just before ("Kế hoạch số 45/KH-UBND" does not say "kế hoạch" twice).
    """

    def spoken(match: re.Match[str]) -> str:
        parts = match["code"].split("-")
        document_type = match.groupdict().get("type")
        if document_type is None:
            document_type, parts = parts[0], parts[1:]
        words = [match["so"] or "số", read_integer(int(match["n"]))]
        if match.groupdict().get("y"):
            words += ["năm", read_integer(int(match["y"]))]
        type_words = expand_code_part(document_type, lexicon)
        if not (type_words != document_type and _said_before(match.string, match.start(), type_words)):
            words.append(type_words)
        words += [expand_code_part(part, lexicon) for part in parts]
        return " ".join(words)

    text = _PARTY_NUMBER.sub(spoken, text)
    return _DOCUMENT_NUMBER.sub(spoken, text)
