"""Money, percentages, ranges, ordinals and fractions: the rules that sit on top of plain numbers."""

from __future__ import annotations

import re

from .numbers import NUMBER, pad_words, read_number, read_ordinal

_SCALE = r"(?:\s?(?P<scale>nghìn|ngàn|triệu|tỷ))?"
# "50.000đ", "50.000 đ", "2 triệu VNĐ": the currency sign becomes "đồng"; "50.000 đồng" needs nothing.
_MONEY_DONG = re.compile(rf"(?<![\d.,])(?P<n>{NUMBER}){_SCALE}\s?(?:đ|VNĐ|VND|vnđ)(?!\w)")
# "55.000-58.000đ/kg": a range of prices with the currency written once, after the second amount.
_MONEY_DONG_RANGE = re.compile(
    rf"(?<![\d.,])(?P<a>{NUMBER})\s?[-–]\s?(?P<n>{NUMBER}){_SCALE}\s?(?:đ|VNĐ|VND|vnđ)(?!\w)"
)
_MONEY_DOLLAR = re.compile(rf"\$\s?(?P<n>{NUMBER}){_SCALE}(?!\w)")
_ORDINAL = re.compile(r"(?P<word>(?i:thứ))\s+(?P<n>\d{1,3})(?![\d.,/])")
_RANGE = re.compile(rf"(?<![\w/.,])(?P<a>{NUMBER})\s?[-–—]\s?(?P<b>{NUMBER})(?![\w/]|[.,]\d)")
_FRACTION = re.compile(r"(?<![\w/.,])(?P<a>\d+)/(?P<b>\d+)(?![\w/]|[.,]\d)")
_PERCENT = re.compile(r"\s?%")


def _with_scale(match: re.Match[str]) -> str:
    scale = match["scale"]
    return read_number(match["n"]) + (f" {scale}" if scale else "")


def read_money(text: str) -> str:
    """Read amounts written with đ, VNĐ or $ as "... đồng" / "... đô la"."""
    text = _MONEY_DONG_RANGE.sub(
        lambda m: pad_words(m, f"{read_number(m['a'])} đến {_with_scale(m)} đồng"), text
    )
    text = _MONEY_DONG.sub(lambda m: pad_words(m, f"{_with_scale(m)} đồng"), text)
    return _MONEY_DOLLAR.sub(lambda m: pad_words(m, f"{_with_scale(m)} đô la"), text)


def read_ordinals(text: str) -> str:
    """Read "thứ 2" as "thứ hai" and "lần thứ 4" as "lần thứ tư"; "thứ 1" is "thứ nhất"."""
    return _ORDINAL.sub(lambda m: f"{m['word']} {read_ordinal(int(m['n']))}", text)


def read_ranges(text: str) -> str:
    """Read "5-7" as "năm đến bảy" and "2020-2025" as a span of years."""
    return _RANGE.sub(lambda m: pad_words(m, f"{read_number(m['a'])} đến {read_number(m['b'])}"), text)


def read_fractions(text: str) -> str:
    """Read "193/193" as "một trăm chín mươi ba trên một trăm chín mươi ba" (dates are read before)."""
    return _FRACTION.sub(lambda m: pad_words(m, f"{read_number(m['a'])} trên {read_number(m['b'])}"), text)


def read_percent_signs(text: str) -> str:
    """Read "%" as "phần trăm", after the number before it has become words."""
    return _PERCENT.sub(" phần trăm", text)
