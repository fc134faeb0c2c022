"""The built-in abbreviation lexicon of Vietnamese administration and its whole-word expansion."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Keys are matched whole-word and case-sensitively ("TT" is thông tư, "TTg" the Prime Minister).
# Institutions keep their capitals; document types and common nouns are lower case, as in running text.
BUILT_IN_LEXICON: Mapping[str, str] = {
    # State bodies and the Party
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "BTTTT": "Bộ Thông tin và Truyền thông",
    "TTg": "Thủ tướng Chính phủ",
    "CP": "Chính phủ",
    "TW": "trung ương",
    "TƯ": "trung ương",
    "BCH": "Ban chấp hành",
    "BTV": "Ban thường vụ",
    "UBKT": "Ủy ban kiểm tra",
    "QH": "Quốc hội",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội",
    "ĐBQH": "đại biểu Quốc hội",
    "VP": "Văn phòng",
    "BYT": "Bộ Y tế",
    "SYT": "Sở Y tế",
    "ĐCSVN": "Đảng Cộng sản Việt Nam",
    # Mass organisations
    "MTTQ": "Mặt trận Tổ quốc",
    "UBMTTQ": "Ủy ban Mặt trận Tổ quốc",
    "TNCS": "Thanh niên Cộng sản",
    "LHPN": "Liên hiệp Phụ nữ",
    "CCB": "Cựu chiến binh",
    "HTX": "hợp tác xã",
    # Security forces
    "CAND": "Công an nhân dân",
    "QĐND": "Quân đội nhân dân",
    "CSGT": "cảnh sát giao thông",
    # Document types (also the first part of document codes such as 485/BC-UBND)
    "QĐ": "quyết định",
    "TT": "thông tư",
    "BC": "báo cáo",
    "KH": "kế hoạch",
    "NĐ": "nghị định",
    "NQ": "nghị quyết",
    "CT": "chỉ thị",
    "TB": "thông báo",
    "CV": "công văn",
    "HD": "hướng dẫn",
    "TTr": "tờ trình",
    # Schools, insurance and campaigns commonly announced on commune radio
    "THCS": "trung học cơ sở",
    "THPT": "trung học phổ thông",
    "GD&ĐT": "giáo dục và đào tạo",
    "GDĐT": "giáo dục và đào tạo",
    "PCCC": "phòng cháy chữa cháy",
    "ATGT": "an toàn giao thông",
    "ANTT": "an ninh trật tự",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "NTM": "nông thôn mới",
    "NN&PTNT": "nông nghiệp và phát triển nông thôn",
    "PCTT": "phòng chống thiên tai",
    "TKCN": "tìm kiếm cứu nạn",
    "KT-XH": "kinh tế - xã hội",
    # Places and currency
    "TP.HCM": "Thành phố Hồ Chí Minh",
    "TP": "thành phố",
    "VN": "Việt Nam",
    "VNĐ": "đồng",
    "VND": "đồng",
    "USD": "đô la Mỹ",
}


def merged_lexicon(lexicon: Mapping[str, str] | None) -> dict[str, str]:
    """The built-in lexicon with the caller's entries added, the caller winning on the same key."""
    return {**BUILT_IN_LEXICON, **(lexicon or {})}


def expand_code_part(part: str, lexicon: Mapping[str, str]) -> str:
    """Expand one part of a document code (the "BC" of "BC-UBND"); unknown parts stay as written."""
    return lexicon.get(part, part)


def expand_abbreviations(text: str, lexicon: Mapping[str, str]) -> str:
    """Replace every whole-word occurrence of a lexicon key by its expansion."""
    if not lexicon:
        return text
    # Longest keys first so "TP.HCM" wins over "TP" where both could start at the same place.
    keys = sorted(lexicon, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w&.])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![\w&])")
    return pattern.sub(lambda m: lexicon[m.group()], text)
