"""Problem summaries across stations, in Vietnamese and English, for the list shown before publishing.

"the 17:00 slot overflows at 12 stations by up to 2 min 10 s" /
"khung giờ 17:00 bị tràn ở 12 đài, nhiều nhất 2 phút 10 giây".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schedules.problems import KINDS, Problem

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """One kind of problem in one slot (named by local start time), across the stations that have it."""

    kind: str
    slot_time: str
    severity: str  # the worst among the stations
    stations: tuple[str, ...]
    max_amount_ms: int
    item_ids: tuple[int, ...]
    text_vi: str
    text_en: str

    @property
    def station_count(self) -> int:
        return len(self.stations)


def format_duration(milliseconds: int, lang: str = "en") -> str:
    """ "2 min 05 s" / "2 phút 05 giây"; rounded up to the second so a shortfall never reads as 0 s.

    After a larger unit the smaller ones take two digits, as people write a length ("1 giờ 02 phút 05 giây")."""
    seconds = -(-max(milliseconds, 0) // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    units = ("h", "min", "s") if lang == "en" else ("giờ", "phút", "giây")
    parts: list[str] = []
    for value, unit in zip((hours, minutes, secs), units, strict=True):
        if value:
            parts.append(f"{value:02d} {unit}" if parts else f"{value} {unit}")
    return " ".join(parts) if parts else f"0 {units[2]}"


def _stations_en(count: int) -> str:
    return f"{count} station" if count == 1 else f"{count} stations"


def _items_en(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _texts(kind: str, slot: str, stations: int, amount_ms: int, items: int) -> tuple[str, str]:
    en_amount, vi_amount = format_duration(amount_ms, "en"), format_duration(amount_ms, "vi")
    at_en, at_vi = _stations_en(stations), f"{stations} đài"
    if kind == "overflow":
        return (f"khung giờ {slot} bị tràn ở {at_vi}, nhiều nhất {vi_amount}",
                f"the {slot} slot overflows at {at_en} by up to {en_amount}")
    if kind == "underflow":
        return (f"khung giờ {slot} bị thiếu nội dung ở {at_vi}, nhiều nhất {vi_amount}",
                f"the {slot} slot is underfilled at {at_en} by up to {en_amount}")
    if kind == "dropped":
        return (f"đã bỏ {items} tin khỏi khung giờ {slot} ở {at_vi}, nhiều nhất {vi_amount}",
                f"{_items_en(items)} dropped from the {slot} slot at {at_en}, up to {en_amount}")
    if kind == "moved":
        return (f"đã chuyển {items} tin từ khung giờ {slot} sang buổi phát sau ở {at_vi}, nhiều nhất {vi_amount}",
                f"{_items_en(items)} moved from the {slot} slot to its next session at {at_en}, up to {en_amount}")
    if kind == "never_fits":
        return (f"{items} tin dài hơn cả khung giờ {slot} ở {at_vi}, dư nhiều nhất {vi_amount}",
                f"{_items_en(items)} longer than the whole {slot} slot at {at_en}, by up to {en_amount}")
    return (f"{items} tin trong khung giờ {slot} chưa có âm thanh ở {at_vi}",
            f"{_items_en(items)} in the {slot} slot not rendered yet at {at_en}")


def summarize_problems(problems_by_station: Mapping[str, Sequence[Problem]]) -> list[ProblemSummary]:
    """One summary per (kind, slot time); errors first, then by slot time and kind."""
    groups: dict[tuple[str, str], list[tuple[str, Problem]]] = {}
    for station, problems in problems_by_station.items():
        for problem in problems:
            groups.setdefault((problem.kind, problem.slot_time), []).append((station, problem))
    summaries = []
    for (kind, slot_time), found in groups.items():
        stations = tuple(sorted({station for station, _ in found}))
        amount = max(problem.amount_ms for _, problem in found)
        items = tuple(sorted({item for _, problem in found for item in problem.item_ids}))
        severity = min((problem.severity for _, problem in found), key=_SEVERITY_RANK.__getitem__)
        text_vi, text_en = _texts(kind, slot_time, len(stations), amount, len(items))
        summaries.append(ProblemSummary(kind, slot_time, severity, stations, amount, items, text_vi, text_en))
    summaries.sort(key=lambda s: (_SEVERITY_RANK[s.severity], s.slot_time, KINDS.index(s.kind)))
    return summaries
