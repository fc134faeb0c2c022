"""Official document numbers: 485/BC-UBND, 39/2020/TT-BTTTT, 135/QĐ-TTg and the Party's 18-NQ/TW."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .abbreviations import DOCUMENT_TYPES
from .lexicon import expand_code_part
from .numbers import read_integer
from .tones import normalize_tones

# A code part starts with a capital ("BC", "QĐ", "TTg", "TTr", "QĐi"); parts are joined by hyphens.
_CODE_PART = r"[A-ZĐ][A-Za-zĐđƯ&]*"
_CODE = rf"{_CODE_PART}(?:-{_CODE_PART})*"
_SO = r"(?:(?P<so>(?i:số))\s+)?"
_N = r"(?P<n>\d{1,3}(?:\.\d{3})+|\d+)"  # "1.234/QĐ-UBND" is written with the thousands dot too
_DOCUMENT_NUMBER = re.compile(
    _SO + rf"(?<![\w/.]){_N}(?:/(?P<y>\d{{4}}))?/(?P<code>{_CODE})(?![\w-])"
)
# Party documents put the type before the slash and the issuer after it: 18-NQ/TW, 05-CT/TU, 12-KL/ĐU.
_PARTY_NUMBER = re.compile(_SO + rf"(?<![\w/.]){_N}-(?P<type>{_CODE_PART})/(?P<code>{_CODE})(?![\w-])")
# "Nghị định 100/2019", "Thông tư số 22/2023": a number and year after a document type, without the code.
_TYPES = (
    r"(?i:nghị định|thông tư|quyết định|nghị quyết|chỉ thị|công văn|kế hoạch|thông báo|báo cáo|luật)|TT|NĐ|QĐ|NQ|CT"
)
_NUMBER_OF_YEAR = re.compile(
    rf"(?P<type>\b(?:{_TYPES}))\s+(?P<so>(?i:số)\s+)?{_N}/(?P<y>\d{{4}})(?![\w/-]|[.,]\d)"
)
# "... 45/KH-UBND ngày 3/4/2024 của UBND huyện": the issuer is named after the number; said once, there.
_ISSUER_AFTER = re.compile(r"(?:\s+ngày\s+[\d/.-]+)?,?\s+(?i:của|do)\s+(?P<who>[^\s,.;:]+(?:\s+[^\s,.;:]+){0,5})")


def _said_before(text: str, end: int, words: str) -> bool:
    """Whether the text just before ``end`` already says ``words`` ("Kế hoạch số 45/KH-UBND")."""
    before = normalize_tones(text[max(0, end - 60) : end]).rstrip().lower()
    return before.endswith(normalize_tones(words).lower())


def _named_after(text: str, end: int, issuer: str, lexicon: Mapping[str, str]) -> bool:
    """Whether the text names the issuer right after the number ("... của UBND huyện", "... của Chính phủ")."""
    after = _ISSUER_AFTER.match(text, end)
    if after is None:
        return False
    who = normalize_tones(after["who"]).lower()
    spoken = normalize_tones(expand_code_part(issuer, lexicon)).lower()
    return who.startswith(issuer.lower()) or who.startswith(spoken)


def read_document_numbers(text: str, lexicon: Mapping[str, str]) -> str:
    """Read document numbers as "số <number> [năm <year>] [<type>] [<issuer>]", never as a fraction.

    "báo cáo số 485/BC-UBND" becomes "báo cáo số bốn trăm tám mươi lăm Ủy ban nhân dân": the written "số"
    is kept rather than doubled and each code part is expanded from the lexicon. Nothing is said twice: the
    type is left out when the text names it just before ("Kế hoạch số 45/KH-UBND" does not say "kế hoạch"
    twice), and the issuer when the text names it just after ("... 45/KH-UBND của UBND huyện").
    """

    def spoken(match: re.Match[str]) -> str:
        parts = match["code"].split("-")
        document_type = match.groupdict().get("type")
        if document_type is None and parts[0] in DOCUMENT_TYPES:
            document_type, parts = parts[0], parts[1:]
        words = [match["so"] or "số", read_integer(int(match["n"].replace(".", "")))]
        if match.groupdict().get("y"):
            words += ["năm", read_integer(int(match["y"]))]
        if document_type is not None:
            type_words = expand_code_part(document_type, lexicon)
            said = type_words != document_type and (_said_before(match.string, match.start(), type_words)
                                                     or _said_before(match.string, match.start(), document_type))
            if not said:
                words.append(type_words)
        # "456/SYT-NVY ... của Sở Y tế": the issuer is named after; its desk (NVY) means nothing to a listener.
        if not (parts and _named_after(match.string, match.end(), parts[0], lexicon)):
            words += [expand_code_part(part, lexicon) for part in parts]
        return " ".join(words)

    text = _PARTY_NUMBER.sub(spoken, text)
    text = _DOCUMENT_NUMBER.sub(spoken, text)
    return _NUMBER_OF_YEAR.sub(
        lambda m: f"{m['type']} {(m['so'] or 'số ').strip()} {read_integer(int(m['n'].replace('.', '')))} năm "
        f"{read_integer(int(m['y']))}",
        text,
    )
