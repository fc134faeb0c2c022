"""Vehicle registration plates in traffic notices: "29C-123.45", "51G-67890", "29H1-234.56".

A plate is an identifier, not a quantity: "123.45" in it is not a decimal and the letters are spelled with
their Vietnamese names. The province code is said as a number, as the police say it ("hai mươi chín xê"),
then the serial digit by digit.
"""

from __future__ import annotations

import re

from .numbers import read_digits, read_integer

LETTER_NAMES = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát", "K": "ca",
    "L": "e lờ", "M": "em mờ", "N": "en nờ", "P": "pê", "S": "ét", "T": "tê", "U": "u", "V": "vê", "X": "ích",
    "Y": "i dài", "Z": "dét",
}  # fmt: skip
_SERIES = "[" + "".join(LETTER_NAMES) + "]{1,2}"
_PLATE = re.compile(
    rf"(?<![\w.\-])(?P<province>\d{{2}})-?(?P<series>{_SERIES})(?P<series_digit>\d)?[- ]?"
    r"(?P<serial>\d{3}\.\d{2}|\d{5})(?![\w]|[.,]\d)"
)


def _plate(match: re.Match[str]) -> str:
    series = " ".join(LETTER_NAMES[letter] for letter in match["series"])
    if match["series_digit"]:
        series += f" {read_digits(match['series_digit'])}"
    serial = read_digits(match["serial"].replace(".", ""))
    return f"{read_integer(int(match['province']))} {series}, {serial}"


def read_plates(text: str) -> str:
    """Read registration plates: "29C-123.45" → "hai mươi chín xê, một hai ba bốn năm"."""
    return _PLATE.sub(_plate, text)
