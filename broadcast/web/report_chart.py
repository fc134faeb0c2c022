"""The per-day bar chart of a report (seconds requested against seconds played), laid out for inline SVG.

Pure geometry: the page's template draws it, so no JavaScript and nothing from a CDN; text is escaped there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 24, 36
MAX_LABELS = 10  # day labels under the axis; more would overlap
# (unit, seconds per unit): the axis counts in the largest unit the tallest bar reaches twice.
UNITS = (("hours", 3600), ("minutes", 60), ("seconds", 1))


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str  # "requested" or "played"
    day: date
    seconds: float


@dataclass
class Tick:
    y: float
    value: float  # in the chart's unit


@dataclass
class DayLabel:
    x: float
    day: date


@dataclass
class Chart:
    width: int
    height: int
    left: int  # x where the plot starts (the axis labels lie to its left)
    right: int  # x where it ends
    bottom: float  # y of the axis
    unit: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[DayLabel] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power + 1e-9:
            return float(step * power)
    return 10.0 * power  # not reached


def bar_chart(days: Sequence[tuple[date, float, float]]) -> Chart:
    """Two bars per day, (day, seconds requested, seconds played), on a shared axis starting at zero."""
    tallest = max((max(requested, played) for _, requested, played in days), default=0.0)
    unit, per = next(((name, s) for name, s in UNITS if tallest >= 2 * s), UNITS[-1])
    top_value = nice_ceiling(tallest / per)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    axis = TOP + plot_h
    chart = Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, axis, unit)
    for n in range(5):
        value = top_value * n / 4
        chart.ticks.append(Tick(round(axis - plot_h * n / 4, 2), value))
    if not days:
        return chart
    group = plot_w / len(days)
    bar = group * 0.4
    every = math.ceil(len(days) / MAX_LABELS)
    for index, (day, requested, played) in enumerate(days):
        x = LEFT + index * group + group * 0.1
        for offset, series, seconds in ((0.0, "requested", requested), (bar, "played", played)):
            height = plot_h * (seconds / per) / top_value
            chart.bars.append(Bar(round(x + offset, 2), round(axis - height, 2), round(bar, 2), round(height, 2),
                                  series, day, seconds))
        if index % every == 0:
            chart.labels.append(DayLabel(round(x + bar, 2), day))
    return chart
