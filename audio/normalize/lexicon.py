"""Whole-word expansion of abbreviations from the built-in lexicon and the editors' own.

A few abbreviations have two readings told apart by the words that follow them ("BCH" is the Party's
Ban Chấp hành, but the Ban Chỉ huy of the militia before "quân sự"); those are read from context first,
unless the editors' lexicon gives the abbreviation a reading of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from .abbreviations import BUILT_IN_LEXICON, CODE_PARTS

__all__ = ["BUILT_IN_LEXICON", "expand_abbreviations", "expand_code_part", "merged_lexicon"]

# (abbreviation, what must follow it, reading). The following words are looked at, not consumed.
_IN_CONTEXT = [
    (
        "BCH",
        r"\s+(?:(?i:quân sự|QS|phòng|PCTT|PCCC|TKCN|biên phòng|bộ đội|chữa cháy|cứu hộ|cứu nạn|tiền phương"
        r"|diễn tập|chiến dịch|đồn))",
        "Ban Chỉ huy",
    ),
    # "TT" is a circular (thông tư) in codes, but the standing committee before a council or a Party committee,
    # and a centre before the field it serves.
    ("TT", r"\s+(?:Đảng ủy|Đảng uỷ|ĐU|HĐND|Hội đồng|Huyện ủy|Huyện uỷ|HU|Tỉnh ủy|Tỉnh uỷ|TU|Thành ủy|UBND|MTTQ)\b",
     "Thường trực"),
    ("TT", r"\s+(?:Y tế|Văn hóa|Văn hoá|VH|GDNN|GDTX|Hành chính công|Dịch vụ|Chính trị|Phục vụ|Khuyến nông|"
           r"Truyền thông|Phát triển quỹ đất|Nước sạch)", "Trung tâm"),
    # "CT" is a directive (chỉ thị) in codes, but the chairman before the body he chairs: "CT UBND xã".
    ("CT", r"\s+(?:UBND|HĐND|UBMTTQ|MTTQ|Ủy ban|Uỷ ban|Hội đồng|Hội|HTX|CĐCS|xã|huyện|tỉnh|nước)\b", "Chủ tịch"),
    # "ĐT" is đào tạo in GD&ĐT but the telephone in "ĐT: 0912..." and "ĐT 0219...".
    ("ĐT", r"\s*(?::|\(?\d)", "điện thoại"),
    ("ĐT", r"\s+(?:(?i:di động|cố định|bàn))", "điện thoại"),
]


def merged_lexicon(lexicon: Mapping[str, str] | None) -> dict[str, str]:
    """The built-in lexicon with the caller's entries added, the caller winning on the same key."""
    return {**BUILT_IN_LEXICON, **(lexicon or {})}


def expand_code_part(part: str, lexicon: Mapping[str, str]) -> str:
    """Expand one part of a document code (the "BC" of "BC-UBND"); unknown parts stay as written.

    Editors' entries win; then the parts that mean something else in codes (TT-BTC is the Ministry of
    Finance, not a Ban Tổ chức); then the lexicon.
    """
    if part in lexicon and lexicon[part] != BUILT_IN_LEXICON.get(part):
        return lexicon[part]
    return CODE_PARTS.get(part) or lexicon.get(part, part)


def _in_context(text: str, lexicon: Mapping[str, str]) -> str:
    for key, following, reading in _IN_CONTEXT:
        if lexicon.get(key, BUILT_IN_LEXICON.get(key)) != BUILT_IN_LEXICON.get(key):
            continue  # the editors chose a reading: theirs applies everywhere
        text = re.sub(rf"(?<![\w&.]){re.escape(key)}(?={following})", reading, text)
    return text


@functools.lru_cache(maxsize=32)
def _keys_pattern(keys: frozenset[str]) -> re.Pattern[str]:
    """One pattern for every key, built once per set of keys (the lexicon changes far less often than texts)."""
    # Longest keys first so "TP.HCM" wins over "TP" where both could start at the same place.
    ordered = sorted(keys, key=lambda key: (-len(key), key))
    return re.compile(r"(?<![\w&.])(?:" + "|".join(re.escape(k) for k in ordered) + r")(?![\w&])")


def expand_abbreviations(text: str, lexicon: Mapping[str, str]) -> str:
    """Replace every whole-word occurrence of a lexicon key by its expansion, the context-read ones first."""
    text = _in_context(text, lexicon)
    if not lexicon:
        return text
    return _keys_pattern(frozenset(lexicon)).sub(lambda m: lexicon[m.group()], text)
