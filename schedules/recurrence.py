"""Parse RFC 5545 recurrence rules once and list the local dates a slot recurs on.

A slot's time of day is a field of its own, so a rule here only chooses dates: frequencies finer than a
day and BYHOUR/BYMINUTE/BYSECOND are refused. Both parsing and date lists are cached, because thousands of
stations inherit the same few provincial rules and a compile run asks for the same dates again and again.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

_DATE_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_REFUSED_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"})


def normalize_rule(body: str) -> str:
    """The bare RRULE body: surrounding space and an optional "RRULE:" prefix removed."""
    text = body.strip()
    if text[:6].upper() == "RRULE:":
        text = text[6:]
    return text


@lru_cache(maxsize=4096)
def parse_rule(body: str, first_day: date) -> rrule:
    """The dateutil rule for ``body`` counted from ``first_day`` (INTERVAL and COUNT count from there).

    Raises ValueError with the reason when the body is not a date-level RRULE.
    """
    text = normalize_rule(body)
    if not text or "\n" in text or "\r" in text:
        raise ValueError(f"not a single RRULE body: {body!r}")
    names = {part.split("=", 1)[0].strip().upper() for part in text.split(";") if part.strip()}
    refused = sorted(names & _REFUSED_PARTS)
    if refused:
        raise ValueError(f"the slot's start time sets the time of day; remove {', '.join(refused)} from {body!r}")
    freq = next((part.split("=", 1)[1].strip().upper() for part in text.split(";")
                 if part.strip().upper().startswith("FREQ=")), None)
    if freq not in _DATE_FREQUENCIES:
        raise ValueError(f"FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY in {body!r}")
    try:
        rule = rrulestr(text, dtstart=datetime.combine(first_day, time.min))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid RRULE {body!r}: {exc}") from None
    if not isinstance(rule, rrule):  # pragma: no cover - a single body always gives one rule
        raise ValueError(f"invalid RRULE {body!r}")
    return rule


@lru_cache(maxsize=65536)
def recurring_dates(body: str, first_day: date, day_from: date, day_to: date) -> tuple[date, ...]:
    """Dates in [day_from, day_to] on which the rule (counted from ``first_day``) recurs."""
    if day_to < day_from:
        return ()
    rule = parse_rule(body, first_day)
    found = rule.between(datetime.combine(day_from, time.min), datetime.combine(day_to, time.max), inc=True)
    return tuple(moment.date() for moment in found)
