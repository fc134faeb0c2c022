"""Lengths and days as people read them, in the reader's language: one helper for each, for pages and messages.

- ``spoken_length``: a length in words, for sentences ("2 phút 05 giây", "2 min 05 s");
- ``clock_length``: a length as a clock shows it, for tables ("2:05", "1:02:05");
- ``day``: a calendar day as people write it in Vietnam ("05/12/2026"), never ISO.
"""

from __future__ import annotations

from datetime import date, datetime

import schedules
from broadcast.i18n import in_english


def spoken_length(seconds: float | None) -> str:
    """A length in words in the reader's language, rounded up to the second (a shortfall never reads 0)."""
    return schedules.format_duration(round((seconds or 0) * 1000), "en" if in_english() else "vi")


def clock_length(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``), as people read a programme's length in a table."""
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def day(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy; ISO text (from a form or a compiled playlist) is read first."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%d/%m/%Y}"
