"""Cardinal numbers in Vietnamese words: integers, thousands dots, decimal commas, digit strings."""

from __future__ import annotations

import re

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Northern broadcast usage: "một trăm linh năm"; the southern "lẻ" is equally correct but we pick one.
ZERO_TENS = "linh"

# Vietnamese writes 1.880 (thousands dot) and 98,5 (decimal comma); the first branch needs full
# three-digit groups so that a stray "2.5" is not mistaken for two thousand five hundred.
_GROUPED = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?"
_PLAIN = r"\d+(?:,\d+)?"
NUMBER = f"{_GROUPED}|{_PLAIN}"

# Past this many digits a number is an identifier (account, phone) rather than a quantity.
_MAX_QUANTITY_DIGITS = 15


def read_digits(digits: str) -> str:
    """Read a digit string one digit at a time, as for phone numbers and codes."""
    return " ".join(DIGITS[int(d)] for d in digits)


def _units(tens: int, units: int) -> list[str]:
    """The unit word after a tens word, with the spoken variants mốt, tư and lăm."""
    if units == 0:
        return []
    if units == 5:
        return ["lăm"]
    if tens >= 2 and units == 1:
        return ["mốt"]
    if tens >= 2 and units == 4:
        return ["tư"]
    return [DIGITS[units]]


def _below_thousand(n: int, full: bool) -> list[str]:
    """Read 0 < n < 1000; `full` reads empty hundreds ("không trăm") inside a larger number."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words += [ZERO_TENS, DIGITS[units]]
        elif units:
            words.append(DIGITS[units])
    elif tens == 1:
        words += ["mười", *_units(1, units)]
    else:
        words += [DIGITS[tens], "mươi", *_units(tens, units)]
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    """Read 0 < n < 10**9 as triệu / nghìn groups, skipping groups that are zero."""
    words: list[str] = []
    started = False
    for group, scale in (((n // 10**6) % 1000, "triệu"), ((n // 1000) % 1000, "nghìn"), (n % 1000, "")):
        if group == 0:
            continue
        words += _below_thousand(group, full=full or started)
        if scale:
            words.append(scale)
        started = True
    return words


def _integer_words(n: int, leading: bool) -> list[str]:
    if n >= 10**9:
        billions, rest = divmod(n, 10**9)
        words = [*_integer_words(billions, leading), "tỷ"]
        return words + _below_billion(rest, full=True) if rest else words
    return _below_billion(n, full=not leading)


def read_integer(n: int) -> str:
    """Read a non-negative integer: 1880 → "một nghìn tám trăm tám mươi"."""
    if n == 0:
        return DIGITS[0]
    return " ".join(_integer_words(n, leading=True))


def read_ordinal(n: int) -> str:
    """Read the number after "thứ": 1 → nhất, 4 → tư, otherwise the cardinal."""
    return {1: "nhất", 4: "tư"}.get(n, read_integer(n))


def read_number(token: str) -> str:
    """Read a written number such as "1.880", "98,5", "2019" or "0912345678"."""
    whole, _, fraction = token.partition(",")
    whole = whole.replace(".", "")
    if (len(whole) > 1 and whole.startswith("0")) or len(whole) > _MAX_QUANTITY_DIGITS:
        spoken = read_digits(whole)
    else:
        spoken = read_integer(int(whole))
    if not fraction:
        return spoken
    # "1,25" is said "một phẩy hai mươi lăm"; longer or zero-led decimals are said digit by digit.
    if len(fraction) <= 2 and not fraction.startswith("0"):
        return f"{spoken} phẩy {read_integer(int(fraction))}"
    return f"{spoken} phẩy {read_digits(fraction)}"


# "2.5" cannot be a thousands group; it comes from English-style sources and is said "hai chấm năm".
_NUMBER_TOKEN = re.compile(rf"(?<![\d.,])(?:{_GROUPED}|(?P<dotted>\d+\.\d+)|{_PLAIN})(?!\d)")


def _read_token(match: re.Match[str]) -> str:
    if match["dotted"]:
        whole, fraction = match["dotted"].split(".")
        return f"{read_number(whole)} chấm {read_digits(fraction)}"
    return read_number(match.group())


def spell_numbers(text: str) -> str:
    """Replace every remaining written number in `text` with its words."""
    return _NUMBER_TOKEN.sub(lambda m: pad_words(m, _read_token(m)), text)


def pad_words(match: re.Match[str], words: str) -> str:
    """Put spaces between spoken words and letters glued to the written form (10km, x2)."""
    text = match.string
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    prefix = " " if before.isalpha() else ""
    suffix = " " if after.isalpha() else ""
    return f"{prefix}{words}{suffix}"
