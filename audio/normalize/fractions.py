"""Fractions and ratios that look like dates: "1/3 số hộ", "9/12 chỉ tiêu", "24/7", "1.452/1.520".

"9/12" alone is the ninth of December, but before a counted noun it is nine of twelve targets, and after
"đạt" or "chiếm" it is a share; those are read here, before the date rules. A proper fraction of an amount
with a small denominator is said with "phần" ("hai phần ba diện tích", "một nửa"); a count of things
achieved is said with "trên" ("chín trên mười hai chỉ tiêu"), as in the reports these come from.
"""

from __future__ import annotations

import re

from .numbers import NUMBER, read_number

# What a share of an amount is taken of: "1/3 số hộ", "2/3 diện tích".
_AMOUNTS = (
    r"số|tổng số|diện tích|dân số|sản lượng|khối lượng|kinh phí|nguồn vốn|vốn|thời gian|quãng đường|"
    r"lượng|giá trị|quỹ đất|dung tích|công suất"
)
# What is counted: "9/12 chỉ tiêu", "15/17 xã".
_COUNTS = (
    r"chỉ tiêu|tiêu chí|nhiệm vụ|mục tiêu|hộ|xã|phường|thị trấn|thôn|bản|ấp|làng|tổ|khu|khu dân cư|"
    r"người|trường|lớp|học sinh|đơn vị|cơ sở|thành viên|đại biểu|phiếu|cán bộ|đảng viên|hội viên|"
    r"đoàn viên|doanh nghiệp|hợp tác xã|dự án|công trình|hạng mục|thủ tục|hồ sơ|lao động|gia đình|trạm|"
    r"huyện|tỉnh|thành phố|địa phương|cơ quan|chi bộ|tổ chức|câu|môn|điểm|trận|bàn|ca|lượt|bệnh nhân|"
    r"ngày|tuần"
)
# Words that make what follows a share, never a date.
_SHARE_WORDS = r"đạt|chiếm|gần|hơn|khoảng|còn|chỉ|mới|lên|xuống|bằng|tăng|giảm"
_DAY_WORDS = r"ngày|mùng|mồng|hôm|sáng|trưa|chiều|tối|đêm|từ|đến|tới|và|dịp|lễ"

_COUNTED = re.compile(
    rf"(?<![\w/.,-])(?P<a>{NUMBER})/(?P<b>{NUMBER})(?![\w/]|[.,]\d)(?=\s+(?P<noun>(?i:{_AMOUNTS}|{_COUNTS}))\b)"
)
_SHARE = re.compile(rf"(?P<word>\b(?i:{_SHARE_WORDS})\s)(?P<a>{NUMBER})/(?P<b>{NUMBER})(?![\w/]|[.,]\d)")
_PREVIOUS_WORD = re.compile(r"(\w+)\s+$")
# "24/7" (round the clock) is an idiom, said "hai mươi tư trên bảy", unless it is the date 24 July.
_ROUND_THE_CLOCK = re.compile(r"(?<![\w/.,-])24/7(?![\w/]|[.,]\d)")
# House and lane numbers: "số nhà 12/5", "ngõ 34/2" are said "mười hai trên năm", never a date.
_ADDRESS = re.compile(
    r"(?P<word>\b(?i:số nhà|nhà số|ngõ|ngách|hẻm|kiệt|số)\s+)(?P<a>\d+)/(?P<b>\d+)(?![\w/]|[.,]\d)"
)
# Two numbers with thousands dots can never be a date: "1.452/1.520" is a ratio.
_GROUPED_RATIO = re.compile(
    r"(?<![\w/.,-])(?P<a>\d{1,3}(?:\.\d{3})+|\d+)/(?P<b>\d{1,3}(?:\.\d{3})+)(?![\w/]|[.,]\d)"
)


def read_fraction(numerator: str, denominator: str, of_amount: bool) -> str:
    """ "2/3" of an amount → "hai phần ba", "1/2" → "một nửa"; a count or a large denominator → "... trên ..."."""
    a, b = int(numerator.replace(".", "")), int(denominator.replace(".", ""))
    if of_amount and 0 < a < b <= 10:
        if (a, b) == (1, 2):
            return "một nửa"
        return f"{read_number(numerator)} phần {'tư' if b == 4 else read_number(denominator)}"
    return f"{read_number(numerator)} trên {read_number(denominator)}"


def _after_day_word(match: re.Match[str]) -> bool:
    before = _PREVIOUS_WORD.search(match.string, 0, match.start())
    return bool(before and re.fullmatch(_DAY_WORDS, before.group(1), re.IGNORECASE))


def read_counted_fractions(text: str) -> str:
    """Read the fractions dates would otherwise take: before counted nouns, after "đạt"/"chiếm", 24/7, 1.452/1.520."""

    def counted(match: re.Match[str]) -> str:
        if _after_day_word(match):
            return match.group()
        of_amount = re.fullmatch(_AMOUNTS, match["noun"], re.IGNORECASE) is not None
        return read_fraction(match["a"], match["b"], of_amount)

    text = _ADDRESS.sub(lambda m: f"{m['word']}{read_number(m['a'])} trên {read_number(m['b'])}", text)
    text = _COUNTED.sub(counted, text)
    text = _SHARE.sub(lambda m: m["word"] + read_fraction(m["a"], m["b"], of_amount=True), text)
    text = _ROUND_THE_CLOCK.sub(lambda m: m.group() if _after_day_word(m) else "hai mươi tư trên bảy", text)
    return _GROUPED_RATIO.sub(lambda m: read_fraction(m["a"], m["b"], of_amount=False), text)
