"""Units of measure after a number, and "/" read as "per" ("đồng/kg", "người/năm").

A unit symbol is expanded only right after a number (or a range, or a scale word after a number), because
the same letters are words or other abbreviations elsewhere: "ha" is a laugh, "m" a letter, "l" a typo.
After a number nothing else can be meant. espeak-ng spells unknown symbols letter by letter in English
or Vietnamese ("km" as "ca em mờ") and drops "°", so every unit gets its Vietnamese name here.
"""

from __future__ import annotations

import re

from .numbers import NUMBER

# Symbol → Vietnamese name. Compound units (km/h, m³/s) are listed whole: their "/" is part of the unit
# and is said "trên", as weather and hydrology bulletins say it, not the "một" of prices.
UNITS = {
    "km": "ki lô mét",
    "Km": "ki lô mét",  # capitals are a common slip in typed bulletins: after a number they mean the same
    "Kg": "ki lô gam",
    "KG": "ki lô gam",
    "KW": "ki lô oát",
    "KWh": "ki lô oát giờ",
    "m": "mét",
    "dm": "đề xi mét",
    "cm": "xăng ti mét",
    "mm": "mi li mét",
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "cm²": "xăng ti mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "g": "gam",
    "mg": "mi li gam",
    "µg": "mi crô gam",
    "μg": "mi crô gam",
    "l": "lít",
    "ml": "mi li lít",
    "°C": "độ xê",
    "ºC": "độ xê",
    "oC": "độ xê",
    "độ C": "độ xê",
    "°": "độ",
    "km/h": "ki lô mét trên giờ",
    "km/giờ": "ki lô mét trên giờ",
    "m/s": "mét trên giây",
    "l/s": "lít trên giây",
    "m³/s": "mét khối trên giây",
    "m3/s": "mét khối trên giây",
    "mm/h": "mi li mét trên giờ",
    "µg/m³": "mi crô gam trên mét khối",
    "μg/m³": "mi crô gam trên mét khối",
    "µg/m3": "mi crô gam trên mét khối",
    "kbps": "ki lô bít trên giây",
    "Mbps": "mê ga bít trên giây",
    "Gbps": "gi ga bít trên giây",
    "MB": "mê ga bai",
    "GB": "gi ga bai",
    "W": "oát",
    "kW": "ki lô oát",
    "MW": "mê ga oát",
    "GW": "gi ga oát",
    "Wp": "oát đỉnh",
    "kWp": "ki lô oát đỉnh",
    "MWp": "mê ga oát đỉnh",
    "kWh": "ki lô oát giờ",
    "MWh": "mê ga oát giờ",
    "GWh": "gi ga oát giờ",
    "V": "vôn",
    "kV": "ki lô vôn",
    "kVA": "ki lô vôn am pe",
    "Hz": "héc",
    "MHz": "mê ga héc",
    "GHz": "gi ga héc",
    "hPa": "héc tô pát xcan",
    "dB": "đề xi ben",
    "mmHg": "mi li mét thủy ngân",
}

# Nouns a quantity is counted per: "đồng/người/năm", "lượt/ngày", "kg/ha", "con/m²".
_PER_NOUNS = (
    "năm", "tháng", "quý", "tuần", "ngày đêm", "ngày", "giờ", "phút", "giây", "buổi", "ca", "lần", "vụ", "đợt",
    "người", "khẩu", "hộ", "lao động", "học sinh", "hội viên", "đoàn viên", "đảng viên", "xã", "thôn", "trường",
    "lớp", "con", "cây", "gốc", "khóm", "khoá", "khóa", "lượt", "xe", "chuyến", "suất", "phần", "chiếc", "bao",
    "gói", "hộp", "chai", "bình", "sào", "mẫu", "tấn", "tạ", "yến", "lít", "cân", "kg", "ha", "m²", "m2", "m³",
    "m3", "km²", "km2", "km", "m", "con", "trâu", "bò", "lợn",
)

_SCALE = r"(?:\s?(?:nghìn|ngàn|triệu|tỷ|trăm)\b)?"
_NUMBER_OR_RANGE = rf"(?:{NUMBER})(?:\s?[-–]\s?(?:{NUMBER}))?"
_UNIT_KEYS = sorted(UNITS, key=len, reverse=True)
_UNIT = "|".join(re.escape(u) for u in _UNIT_KEYS)
_PER_WORD = "|".join(re.escape(w) for w in sorted({*_PER_NOUNS, *UNITS}, key=len, reverse=True))
# The unit must end there: not the "m" of "mét" or "m²". A "/" may follow only before what it is counted
# per ("300 kg/ha"), not in "12 V/v" (về việc, "regarding").
_END = rf"(?![\w²³])(?!/(?!(?:{_PER_WORD})(?![\w²³])|\s?\d))"
_AFTER_NUMBER = re.compile(rf"(?<![\w.,])(?P<q>{_NUMBER_OR_RANGE}{_SCALE})\s?(?P<unit>{_UNIT}){_END}")
# "/" glued between a word (or %, ², ³) and a counted noun or unit: "đồng/kg", "%/năm", "tấn/ha".
_PER = re.compile(rf"(?<=[^\W\d_]|[%²³])\s?/\s?(?P<per>{_PER_WORD})(?![\w²³])")


# "-2°C" is a temperature below zero, said "âm hai độ xê"; the dash must stand alone before the number.
_BELOW_ZERO = re.compile(r"(?:(?<=\s)|^)[-–−](?=\d+(?:,\d+)?\s?(?:°C|ºC|oC|độ)(?![\w]))")
# "12°C - 14°C": a range written with its unit on both ends.
_QUANTITY_DASH = re.compile(
    rf"(?P<left>(?<![\w.,])(?:{NUMBER})\s?(?:{_UNIT}){_END})\s?[-–]\s?(?=(?:{NUMBER})\s?(?:{_UNIT}){_END})"
)
# "50mm/24h": so much in so many hours, said "trong": "năm mươi mi li mét trong hai mươi tư giờ".
_PER_HOURS = re.compile(rf"(?<=\d)(?P<unit>\s?(?:{_UNIT}))/(?P<n>\d+)\s?(?:h|giờ)(?!\w)")


def read_amounts_per_hours(text: str) -> str:
    """Rewrite "50mm/24h" as "50mm trong 24 giờ", before the clock rules take "24h" for a time."""
    return _PER_HOURS.sub(lambda m: f"{m['unit']} trong {m['n']} giờ", text)


def read_units(text: str) -> str:
    """Expand unit symbols after a number: "100-150mm" → "100-150 mi li mét", "35°C" → "35 độ xê"."""
    text = _BELOW_ZERO.sub("âm ", text)
    text = _QUANTITY_DASH.sub(lambda m: f"{m['left']} đến ", text)
    return _AFTER_NUMBER.sub(lambda m: f"{m['q']} {UNITS[m['unit']]}", text)


# "0,4 mg/1 lít khí thở": per a stated amount, said "trên".
_PER_AMOUNT = re.compile(r"(?<=[^\W\d_])\s?/\s?(?=\d)")


def read_per(text: str) -> str:
    """Read "/" between a word and what it is counted per as "một": "đồng/kg" → "đồng một ki lô gam"."""
    text = _PER.sub(lambda m: f" một {UNITS.get(m['per'], m['per'])}", text)
    return _PER_AMOUNT.sub(" trên ", text)
