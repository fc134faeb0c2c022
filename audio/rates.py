"""Relative speech settings written the edge-tts way: "+10%", "-20%", "+5Hz"."""

from __future__ import annotations

import re

_PERCENT = re.compile(r"^([+-])(\d{1,3})%$")
_HERTZ = re.compile(r"^([+-])(\d{1,3})Hz$")
MIN_RATE_PERCENT = -50
MAX_RATE_PERCENT = 100


def parse_percent(value: str) -> int:
    """``"+10%"`` -> 10, ``"-20%"`` -> -20; ValueError for anything else."""
    match = _PERCENT.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a relative percentage such as +10% or -20%")
    number = int(match.group(2))
    return -number if match.group(1) == "-" else number


def parse_hertz(value: str) -> int:
    """``"+5Hz"`` -> 5, ``"-10Hz"`` -> -10; ValueError for anything else."""
    match = _HERTZ.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a relative pitch such as +5Hz or -10Hz")
    number = int(match.group(2))
    return -number if match.group(1) == "-" else number


def check_rate(value: str) -> str:
    """A speaking rate within what every engine can do; ValueError otherwise."""
    percent = parse_percent(value)
    if not MIN_RATE_PERCENT <= percent <= MAX_RATE_PERCENT:
        raise ValueError(f"rate {value} is outside {MIN_RATE_PERCENT:+d}%..{MAX_RATE_PERCENT:+d}%")
    return f"{percent:+d}%"
