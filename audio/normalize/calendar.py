"""Dates and clock times read the way a Vietnamese announcer says them."""

from __future__ import annotations

import re

from .numbers import read_integer
from .units import UNITS

# A date already introduced by "ngày" (or "mùng"/"mồng") must not get a second "ngày".
_DAY_WORD = r"(?:(?P<day_word>(?i:ngày|mùng|mồng))\s+)?"
_FULL_DATE = re.compile(
    _DAY_WORD + r"(?<![\d/.])(?P<d>\d{1,2})\s?(?P<sep>[/-])\s?(?P<m>\d{1,2})\s?(?P=sep)\s?(?P<y>\d{4})(?![\d/])"
)
_DAY_RANGE = re.compile(
    _DAY_WORD + r"(?<![\d/.])(?P<d1>\d{1,2})\s?[-–]\s?(?P<d2>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}))?(?![\d/])"
)
_DAY_MONTH = re.compile(_DAY_WORD + r"(?<![\d/.,])(?P<d>\d{1,2})/(?P<m>\d{1,2})(?![\d/]|,\d)")
_MONTH_YEAR = re.compile(r"(?:(?P<month_word>(?i:tháng))\s+)?(?<![\d/.])(?P<m>\d{1,2})/(?P<y>\d{4})(?![\d/])")
# "tháng 5-6": a span of months, said with the month word on both ends ("tháng năm đến tháng sáu").
_MONTH_SPAN = re.compile(r"(?P<month_word>(?i:tháng))\s+(?P<a>\d{1,2})\s?[-–]\s?(?P<b>\d{1,2})(?![\d/-]|[.,]\d)")
# "tháng 12-2025" (with its word: "12-2025" alone could be a range)
_MONTH_YEAR_HYPHEN = re.compile(r"(?P<month_word>(?i:tháng))\s+(?P<m>\d{1,2})\s?[-–]\s?(?P<y>\d{4})(?![\d/-])")

_ONE_DATE = r"\d{1,2}/\d{1,2}(?:/\d{4})?"
_DATE_SPAN = re.compile(rf"(?<![\d/.,])(?P<a>{_ONE_DATE})\s?[-–]\s?(?P<b>{_ONE_DATE})(?![\d/])")

# "14-12" is written for a date as often as "14/12", but "5-7" is also a range ("5-7 người"). A hyphen pair
# is a date when a day word stands before it ("ngày 14-12", "sáng 20-11", "dịp 2-9"), or when it can only be
# a date: the first number larger than the second (no one writes a range backwards) or a national day,
# and no unit or counted noun follows. After "tỷ số"/"thắng" it is a score.
_HYPHEN_CONTEXT = (
    r"ngày|mùng|mồng|hôm|sáng|trưa|chiều|tối|đêm|rạng sáng|dịp|lễ|kỷ niệm|Tết|Quốc khánh|"
    r"Giải phóng miền Nam|Quốc tế Lao động|Nhà giáo Việt Nam|Thương binh - Liệt sĩ|Phụ nữ Việt Nam|"
    r"Quốc tế Phụ nữ|Quốc tế Thiếu nhi|Thầy thuốc Việt Nam|Gia đình Việt Nam|Báo chí Cách mạng Việt Nam"
)
_HYPHEN_DATE = re.compile(
    r"(?:(?P<context>(?i:" + _HYPHEN_CONTEXT + r"))(?P<gap>\s+))?"
    r"(?<![\w/.,:-])(?P<d>\d{1,2})\s?[-–]\s?(?P<m>\d{1,2})(?![\d/.,]\d|[-–/]\d|\d)"
)
_TIME_OF_DAY = frozenset({"hôm", "sáng", "trưa", "chiều", "tối", "đêm", "rạng sáng"})
# National days, read as dates even with no day word before them: 30-4, 1-5, 2-9 and the like.
_NATIONAL_DAYS = frozenset({(3, 2), (8, 3), (26, 3), (30, 4), (1, 5), (19, 5), (1, 6), (21, 6), (28, 6), (27, 7),
                            (19, 8), (2, 9), (13, 10), (20, 10), (20, 11), (22, 12)})
_NATIONAL_BEFORE = re.compile(r"(?i:\bvà|\bhoặc|mừng|Tết|chào)\s+$")
_SCORE_WORDS = re.compile(r"(?i:tỷ số|tỉ số|thắng|thua|hòa|hoà|kết quả)\s+$")
_FOLLOWED_BY_COUNT = re.compile(r"\s+(?:người|hộ|ngày|tháng|năm|giờ|phút|lần|con|cây|xã|thôn|học sinh|km|tấn|ha|"
                                r"triệu|nghìn|tỷ|độ|cấp|mét|lượt|trường|em|cháu|tuổi)\b", re.IGNORECASE)

_FOLLOWED_BY_UNIT = re.compile(
    r"\s?(?:%|[^\W\d_]+/|(?:" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")(?![\w²³]))"
)

# "7g15" is a common spelling of 7h15, but a bare "5g" is five grams, so "g" needs its minutes.
_CLOCK_H = re.compile(r"(?<![\w.,])(?P<h>\d{1,2})(?:h(?P<min>\d{2})?|g(?=\d{2})(?P<min_g>\d{2}))(?:p|')?(?!\w)")
_TIME_SPAN_DASH = re.compile(r"(?:(?<=giờ)|(?<=phút))\s?[-–]\s?(?=\w+ )")
_CLOCK_COLON = re.compile(r"(?<![\w.,:])(?P<h>\d{1,2}):(?P<min>\d{2})(?::(?P<s>\d{2}))?(?![\w:])")


def _valid(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def month_words(month: int) -> str:
    """Name a month: "tháng tư" (never "tháng bốn"), otherwise the cardinal."""
    return "tháng tư" if month == 4 else f"tháng {read_integer(month)}"


def _day_words(match: re.Match[str], day: int) -> str:
    return f"{match.group('day_word') or 'ngày'} {read_integer(day)}"


def _year_words(year: str | None) -> str:
    return f" năm {read_integer(int(year))}" if year else ""


def _full_date(match: re.Match[str]) -> str:
    day, month = int(match["d"]), int(match["m"])
    if not _valid(day, month):
        return match.group()
    return f"{_day_words(match, day)} {month_words(month)}{_year_words(match['y'])}"


def _day_range(match: re.Match[str]) -> str:
    first, last, month = int(match["d1"]), int(match["d2"]), int(match["m"])
    if not (_valid(first, month) and _valid(last, month) and first < last):
        return match.group()
    return f"{_day_words(match, first)} đến {read_integer(last)} {month_words(month)}{_year_words(match['y'])}"


def _month_year(match: re.Match[str]) -> str:
    month = int(match["m"])
    if not 1 <= month <= 12:
        return match.group()
    spoken = month_words(month)
    if match["month_word"]:
        spoken = match["month_word"] + spoken.removeprefix("tháng")
    return f"{spoken}{_year_words(match['y'])}"


def _hyphen_date(match: re.Match[str]) -> str:
    day, month = int(match["d"]), int(match["m"])
    if not _valid(day, month) or _SCORE_WORDS.search(match.string, 0, match.start()):
        return match.group()
    context = match["context"]
    if not context:
        # 1-5, 1-6 and 2-9 also read as ranges ("lớp 1-5"): national days only after "và" or "mừng".
        national = (day, month) in _NATIONAL_DAYS and (day > month or _NATIONAL_BEFORE.search(
            match.string, 0, match.start()))
        if not (day > month or national):
            return match.group()
        if _FOLLOWED_BY_COUNT.match(match.string, match.end()) or _FOLLOWED_BY_UNIT.match(match.string, match.end()):
            return match.group()
    date = f"{read_integer(day)} {month_words(month)}"
    if not context:
        return f"ngày {date}"
    if context.lower() in _TIME_OF_DAY:
        return f"{context}{match['gap']}ngày {date}"  # "sáng 14-12" is said "sáng ngày mười bốn..."
    return f"{context}{match['gap']}{date}"  # "ngày 14-12", "mùng 2-9", "Quốc khánh 2-9"


def read_dates(text: str) -> str:
    """Read 13/12/2019, 25-26/12, 3/2, 14-12 and 12/2019 as dates; impossible dates are left for fractions."""
    # "20/10/1930-20/10/2024", "20/10-25/10": two dates joined by a dash are a span, said with "đến".
    text = _DATE_SPAN.sub(lambda m: f"{m['a']} đến {m['b']}", text)
    # Day ranges first: in "25-26/12/2023" the full-date rule would otherwise take "26/12/2023" alone.
    text = _DAY_RANGE.sub(_day_range, text)
    text = _FULL_DATE.sub(_full_date, text)
    text = _HYPHEN_DATE.sub(_hyphen_date, text)
    text = _MONTH_YEAR.sub(_month_year, text)
    text = _MONTH_YEAR_HYPHEN.sub(_month_year, text)
    text = _MONTH_SPAN.sub(_month_span, text)
    return _DAY_MONTH.sub(_full_date_no_year, text)


def _month_span(match: re.Match[str]) -> str:
    first, last = int(match["a"]), int(match["b"])
    if not 1 <= first < last <= 12:
        return match.group()
    word = match["month_word"]
    return f"{word}{month_words(first).removeprefix('tháng')} đến {month_words(last)}"


def _full_date_no_year(match: re.Match[str]) -> str:
    day, month = int(match["d"]), int(match["m"])
    if not _valid(day, month):
        return match.group()
    return f"{_day_words(match, day)} {month_words(month)}"


def _clock(match: re.Match[str]) -> str:
    groups = match.groupdict()
    hour, minute = int(match["h"]), int(groups.get("min") or groups.get("min_g") or 0)
    second = int(groups.get("s") or 0)
    if hour > 24 or minute > 59 or second > 59:
        return match.group()
    spoken = f"{read_integer(hour)} giờ"
    if minute:
        spoken += f" {read_integer(minute)} phút"
    if second:
        spoken += f" {read_integer(second)} giây"
    return spoken


def read_times(text: str) -> str:
    """Read 17h30, 7h, 7g15, 14:30(:05) and spans such as 7h00-9h30 as clock times."""
    text = _CLOCK_H.sub(_clock, text)
    text = _CLOCK_COLON.sub(_clock, text)
    # "7h00-9h30" is a time span: the dash left between two readings means "đến".
    return _TIME_SPAN_DASH.sub(" đến ", text)
