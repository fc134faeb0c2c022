"""Official document numbers such as 485/BC-UBND, 39/2020/TT-BTTTT and 135/QĐ-TTg."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .lexicon import expand_code_part
from .numbers import read_integer

# A code part starts with a capital ("BC", "QĐ", "TTg", "TTr"); parts are joined by hyphens.
_CODE_PART = r"[A-ZĐ][A-Za-zĐđ&]*"
_DOCUMENT_NUMBER = re.compile(
    r"(?:(?P<so>(?i:số))\s+)?(?<![\w/])(?P<n>\d+)(?:/(?P<y>\d{4}))?/(?P<code>"
    + _CODE_PART
    + r"(?:-"
    + _CODE_PART
    + r")*)(?![\w-])"
)


def read_document_numbers(text: str, lexicon: Mapping[str, str]) -> str:
    """Read document numbers as "số <number> [năm <year>] <type> <issuer>", never as a fraction.

    "báo cáo số 485/BC-UBND" becomes "báo cáo số bốn trăm tám mươi lăm báo cáo Ủy ban nhân dân":
    the written "số" is kept rather than doubled, and each code part is expanded from the lexicon.
    """

    def spoken(match: re.Match[str]) -> str:
        words = [match["so"] or "số", read_integer(int(match["n"]))]
        if match["y"]:
            words += ["năm", read_integer(int(match["y"]))]
        words += [expand_code_part(part, lexicon) for part in match["code"].split("-")]
        return " ".join(words)

    return _DOCUMENT_NUMBER.sub(spoken, text)
