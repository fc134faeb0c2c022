"""The report's per-day bar chart: axis scale and unit, bar geometry, and day labels that do not crowd."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from broadcast.web.report_chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, bar_chart, nice_ceiling

DAY = date(2026, 11, 29)


@pytest.mark.parametrize(("value", "ceiling"), [
    (0, 1), (0.3, 0.5), (1, 1), (1.2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (480, 500), (501, 1000)])
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(("tallest", "unit", "top"), [
    (0, "seconds", 1), (90, "seconds", 100), (119, "seconds", 200), (480, "minutes", 10),
    (7200, "hours", 2), (72_000_000, "hours", 20_000)])
def test_the_axis_counts_in_a_unit_people_read(tallest, unit, top):
    chart = bar_chart([(DAY, tallest, tallest / 2)])
    assert chart.unit == unit
    assert [t.value for t in chart.ticks] == pytest.approx([top * n / 4 for n in range(5)])
    assert chart.ticks[0].y == TOP + (HEIGHT - TOP - BOTTOM) and chart.ticks[-1].y == TOP


def test_two_bars_per_day_scaled_to_the_axis():
    chart = bar_chart([(DAY, 480, 175), (DAY + timedelta(days=1), 0, 0)])
    plot_h = HEIGHT - TOP - BOTTOM
    requested, played, *empty = chart.bars
    assert (requested.series, played.series) == ("requested", "played")
    assert requested.height == pytest.approx(plot_h * 8 / 10)  # 8 of 10 minutes
    assert played.height == pytest.approx(plot_h * (175 / 60) / 10, abs=0.01)
    assert requested.y + requested.height == pytest.approx(chart.bottom)
    assert played.x == pytest.approx(requested.x + requested.width)
    assert [b.height for b in empty] == [0, 0]
    assert all(LEFT <= b.x and b.x + b.width <= WIDTH - RIGHT for b in chart.bars)


def test_day_labels_thin_out_on_long_periods():
    year = [(DAY + timedelta(days=n), 60, 60) for n in range(366)]
    chart = bar_chart(year)
    assert len(chart.bars) == 732
    assert len(chart.labels) <= 10 and chart.labels[0].day == DAY
    assert bar_chart([(DAY, 1, 1)]).labels[0].day == DAY


def test_no_days_draws_an_empty_axis():
    chart = bar_chart([])
    assert chart.bars == [] and chart.labels == [] and len(chart.ticks) == 5
