"""A report's period: completed with defaults, forward only, at most a year."""

from __future__ import annotations

from datetime import date

import pytest

from broadcast.errors import InvalidInput
from broadcast.services.reports import MAX_DAYS, check_period, default_period

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(("first", "last", "period"), [
    (None, None, (date(2026, 11, 23), TODAY)),  # the last seven days, today included
    (date(2026, 11, 1), None, (date(2026, 11, 1), TODAY)),
    (None, date(2026, 11, 10), (date(2026, 11, 4), date(2026, 11, 10))),
    (date(2026, 1, 1), date(2026, 1, 31), (date(2026, 1, 1), date(2026, 1, 31))),
])
def test_default_period(first, last, period):
    assert default_period(TODAY, first, last) == period


@pytest.mark.parametrize(("first", "last"), [
    (TODAY, TODAY), (date(2024, 1, 1), date(2024, 12, 31)),  # a leap year: 366 days
])
def test_periods_accepted(first, last):
    check_period(first, last)


@pytest.mark.parametrize(("first", "last", "field"), [
    (date(2026, 11, 30), TODAY, "from"),
    (date(2025, 11, 28), TODAY, "to"),  # 367 days
])
def test_periods_refused_name_the_field(first, last, field):
    with pytest.raises(InvalidInput) as refused:
        check_period(first, last)
    assert refused.value.field == field
    assert MAX_DAYS == 366
