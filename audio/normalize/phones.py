"""Telephone numbers and hotlines, read digit by digit in the groups a listener writes them down in.

A phone number is never a quantity: "0912 345 678" is not nine hundred twelve, "1900 9095" is not a year
and "113/114/115" is not a fraction or a date. Each group is followed by a comma so the voice pauses
between groups, as an announcer does; a group of one digit ("(0219) 3 862 567") joins the next one.
"""

from __future__ import annotations

import re

from .numbers import read_digits

_SEP = r"[ .\-]"
# Vietnamese numbers start with 0 (mobile 09x/03x/..., landline 02xx) and have 10 or 11 digits; the area
# code may stand in brackets. Hotlines start with 1800 (free) or 1900 (paid) and have 8 or 10 digits.
_NATIONAL = rf"\(0\d{{2,3}}\)\s?\d[\d .\-]{{5,11}}\d|0\d(?:{_SEP}?\d){{7,9}}"
_INTERNATIONAL = rf"\+84{_SEP}?\(?0?\)?\d(?:{_SEP}?\d){{7,9}}"
_HOTLINE = rf"1[89]00{_SEP}?\d(?:{_SEP}?\d){{3,5}}"
_PHONE = re.compile(rf"(?<![\w.,+/])(?P<phone>{_INTERNATIONAL}|{_NATIONAL}|{_HOTLINE})(?![\w/]|[.,]\d)")

# Emergency numbers: 111 child protection, 112 rescue, 113 police, 114 fire, 115 ambulance. Alone they are
# also ordinary quantities ("113 hộ"), so they are read as digits only in a list or after a calling word.
_EMERGENCY = r"11[1-5]"
_EMERGENCY_LIST = re.compile(rf"(?<![\w.,/])(?P<list>{_EMERGENCY}(?:\s?[/,;–-]\s?{_EMERGENCY})+)(?![\w/]|[.,]\d)")
_CALLING_WORDS = (
    # not "số" alone: "nhà số 113" is a house number
    r"(?i:gọi(?: ngay)?(?: số)?|quay số|bấm số|(?:qua|đến|tới|vào|theo) số|số điện thoại|số máy|đường dây nóng|"
    r"tổng đài|hotline|"
    r"liên hệ|báo(?: ngay)?(?: về)?(?: số)?|khẩn cấp|cấp cứu|cứu hỏa|cứu hộ|công an|cảnh sát|PCCC|SĐT|ĐT)"
)
_EMERGENCY_AFTER_WORD = re.compile(
    rf"(?<![\w])(?P<word>{_CALLING_WORDS})(?P<gap>:?\s)(?P<n>{_EMERGENCY})(?![\w/]|[.,]\d)"
)
# Short service numbers (1022, 18001091 is caught above) after a word that can only introduce a number to call.
_SERVICE_AFTER_WORD = re.compile(
    r"(?<![\w])(?P<word>(?i:tổng đài|đường dây nóng|hotline|gọi(?: ngay)?(?: số)?|quay số|bấm số|số điện thoại|SĐT))"
    r"(?P<gap>:?\s)(?P<n>1\d{3,4})(?![\w/]|[.,]\d)"
)
_GROUP = re.compile(r"\d+")


# How an unbroken run of digits after its first group is split: 7 digits as 4-3, 8 as 4-4, and so on.
_SPLITS = {1: [1], 2: [2], 3: [3], 4: [4], 5: [2, 3], 6: [3, 3], 7: [4, 3], 8: [4, 4], 9: [3, 3, 3]}


def _split(digits: str, head: int) -> list[str]:
    groups, rest = [digits[:head]], digits[head:]
    for size in _SPLITS.get(len(rest), [len(rest)]):
        groups.append(rest[:size])
        rest = rest[size:]
    return [group for group in groups if group]


def _groups(written: str) -> list[str]:
    """The digit groups as written, long runs split 4-3-3 and a one-digit group joined to the next."""
    written_groups = _GROUP.findall(written)
    groups = [part for group in written_groups for part in (_split(group, 4) if len(group) > 4 else [group])]
    merged: list[str] = []
    carry = ""
    for group in groups:
        if len(carry + group) == 1:
            carry = group
            continue
        merged.append(carry + group)
        carry = ""
    if carry:
        merged[-1] += carry
    return merged


def read_phone(written: str) -> str:
    """Read one phone number: "0912 345 678" → "không chín một hai, ba bốn năm, sáu bảy tám"."""
    if written.startswith("+84"):
        # "+84 912 345 678": the country code, then the national number without its leading 0.
        rest = re.sub(r"^\+84[ .\-]?(?:\(0\))?", "", written)
        groups = _GROUP.findall(rest)
        groups = _split(groups[0], 3) if len(groups) == 1 else _groups(rest)
        return ", ".join(["cộng tám bốn", *(read_digits(group) for group in groups)])
    return ", ".join(read_digits(group) for group in _groups(written))


def read_phone_numbers(text: str) -> str:
    """Read phone numbers, hotlines and emergency numbers digit by digit, before any number rule sees them."""
    text = _PHONE.sub(lambda m: read_phone(m["phone"]), text)
    text = _EMERGENCY_LIST.sub(lambda m: ", ".join(read_digits(n) for n in re.findall(r"\d+", m["list"])), text)
    text = _EMERGENCY_AFTER_WORD.sub(lambda m: f"{m['word']}{m['gap']}{read_digits(m['n'])}", text)
    return _SERVICE_AFTER_WORD.sub(lambda m: f"{m['word']}{m['gap']}{read_digits(m['n'])}", text)
