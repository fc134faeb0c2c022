"""What the pure scheduler needs, read from the database in a few bulk queries.

Slots and placements become ``schedules`` rules; each station gets the chain of slots from its province
down to itself and the placements that target it (directly, or through any area above it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session, joinedload

import schedules
from broadcast.db.models import (
    Area,
    AudioAsset,
    ContentSource,
    ItemStatus,
    NewsItem,
    Placement,
    PlacementTarget,
    PriorityOrder,
    Slot,
    Station,
)

RECORDING = ContentSource.RECORDING.value
STREAM = ContentSource.STREAM.value
_CHUNK = 15_000  # ids in one IN (...) filter: SQLite 3.32+ allows 32,766 bound parameters, PostgreSQL 65,535
WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def depth(path: str) -> int:
    """0 for a province ("2025/08/"), 1 below it, and so on."""
    return path.count("/") - 2


def ancestor_paths(path: str) -> list[str]:
    """ "2025/08/00694/" -> ["2025/08/", "2025/08/00694/"]: root first, the area itself last."""
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(1, len(parts))]


def audio_ref(asset) -> schedules.AudioRef | None:
    return None if asset is None else schedules.AudioRef(asset.sha256, asset.size_bytes, asset.duration_ms)


def slot_rule(slot: Slot, level: int) -> schedules.SlotRule:
    exceptions = slot.exceptions or {}
    return schedules.SlotRule(
        id=slot.id, name=slot.name, start=slot.start_time, duration_s=slot.duration_s, rrule=slot.rrule,
        valid_from=slot.valid_from, valid_until=slot.valid_until,
        cancelled=frozenset(date.fromisoformat(d) for d in exceptions.get("cancelled", [])),
        extra=tuple(datetime.fromisoformat(e) for e in exceptions.get("extra", [])),
        overrides=slot.overrides_id, policy=slot.overflow_policy.value, gap_ms=slot.gap_ms,
        filler=audio_ref(slot.filler_asset), level=level,
    )


_PLACEMENT_COLUMNS = (
    Placement.id, Placement.item_id, Placement.slot_id, Placement.date_from, Placement.date_until,
    Placement.weekdays, Placement.repeat_count, Placement.repeat_gap_s, Placement.position, Placement.priority,
    # The enums as their plain values: converting 100,000 of them to members and back costs more than the rest.
    Placement.placed_by_area_id, NewsItem.title, type_coerce(NewsItem.item_class, String).label("item_class"),
    NewsItem.estimated_duration_ms, type_coerce(NewsItem.content_source, String).label("content_source"),
    AudioAsset.sha256, AudioAsset.size_bytes, AudioAsset.duration_ms, NewsItem.stream_url,
    NewsItem.stream_duration_s,
    PlacementTarget.area_id.label("target_area_id"), PlacementTarget.station_id.label("target_station_id"),
)


def placement_rule(row: tuple, level: int, audio: schedules.AudioRef | None) -> schedules.PlacementRule:
    """A rule from a row of :data:`_PLACEMENT_COLUMNS`, read by position (a compile reads 100,000 of them)."""
    (placement_id, item_id, slot_id, date_from, date_until, weekdays, repeat_count, repeat_gap_s, position,
     priority, _placed_by, title, item_class, estimated_ms, *_rest) = row
    if weekdays:
        weekdays = frozenset(WEEKDAY_INDEX[d] for d in weekdays.split(","))
    return schedules.PlacementRule(placement_id, item_id, title, item_class, audio, estimated_ms, slot_id,
                                   date_from, date_until, weekdays or None, repeat_count, repeat_gap_s, position,
                                   priority, level)


@dataclass
class StationInputs:
    """Everything one station's compile needs."""

    station: Station
    chain: list[list[schedules.SlotRule]]
    placements: list[schedules.PlacementRule]

    def group_key(self) -> tuple:
        """Stations with equal keys compile to the same content (all but the station code)."""
        return (tuple(tuple(r.id for r in level) for level in self.chain),
                tuple([(p.id, p.operator_order or 0) for p in self.placements]))  # placements are in id order


@dataclass
class ScheduleInputs:
    """Slots and placements of the whole service (or of some stations), indexed for per-station lookups."""

    areas_by_path: dict[str, Area]
    slots_by_area: dict[int, list[schedules.SlotRule]] = field(default_factory=lambda: defaultdict(list))
    slots_by_station: dict[int, list[schedules.SlotRule]] = field(default_factory=lambda: defaultdict(list))
    placements_by_area: dict[int, list[schedules.PlacementRule]] = field(default_factory=lambda: defaultdict(list))
    placements_by_station: dict[int, list[schedules.PlacementRule]] = field(
        default_factory=lambda: defaultdict(list))
    orders_by_commune: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def for_station(self, station: Station) -> StationInputs:
        chain_areas = [self.areas_by_path[p] for p in ancestor_paths(station.commune.path)
                       if p in self.areas_by_path]
        chain = [list(self.slots_by_area.get(a.id, ())) for a in chain_areas]
        chain.append(list(self.slots_by_station.get(station.id, ())))
        orders = self.orders_by_commune.get(station.commune_id, {})
        seen: dict[int, schedules.PlacementRule] = {}
        for area in chain_areas:
            for rule in self.placements_by_area.get(area.id, ()):
                seen[rule.id] = rule
        for rule in self.placements_by_station.get(station.id, ()):
            seen[rule.id] = rule
        rules = [replace(r, operator_order=orders[r.id]) if r.id in orders else r for r in seen.values()]
        return StationInputs(station, chain, sorted(rules, key=lambda r: r.id))


def load_inputs(session: Session, stations: list[Station], day_from: date, day_to: date) -> ScheduleInputs:
    """Bulk-read what compiling ``stations`` over ``day_from..day_to`` needs (a handful of queries)."""
    paths = {p for s in stations for p in ancestor_paths(s.commune.path)}
    areas = list(session.scalars(select(Area).where(Area.path.in_(paths)))) if paths else []
    inputs = ScheduleInputs(areas_by_path={a.path: a for a in areas})
    area_ids = [a.id for a in areas]
    station_ids = [s.id for s in stations]
    slot_query = select(Slot).options(joinedload(Slot.filler_asset)).where(
        Slot.area_id.in_(area_ids) | Slot.station_id.in_(station_ids))
    by_id = {a.id: a for a in areas}
    station_by_id = {s.id: s for s in stations}
    for slot in session.scalars(slot_query):
        if slot.station_id is not None:
            # A station's own slots rank below its commune: one level deeper than the commune.
            level = depth(station_by_id[slot.station_id].commune.path) + 1
            inputs.slots_by_station[slot.station_id].append(slot_rule(slot, level))
        else:
            inputs.slots_by_area[slot.area_id].append(slot_rule(slot, depth(by_id[slot.area_id].path)))
    # Only the targets aimed at these stations or the areas above them, so a commune's change reads little;
    # driven from the targets (a join): SQLite planned "id IN (subquery)" as a nested loop over items.
    query = (select(*_PLACEMENT_COLUMNS)
             .join(Placement, PlacementTarget.placement_id == Placement.id)
             .join(NewsItem, Placement.item_id == NewsItem.id)
             .outerjoin(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
             .where(NewsItem.status == ItemStatus.APPROVED, Placement.date_from <= day_to,
                    Placement.date_until >= day_from))
    wanted_areas, wanted_stations = set(area_ids), set(station_ids)
    if len(area_ids) + len(station_ids) <= _CHUNK:
        query = query.where(PlacementTarget.area_id.in_(area_ids) | PlacementTarget.station_id.in_(station_ids))
    # else: so many stations that nearly every target is wanted; filtering here is cheaper than IN lists.
    rows = [r for r in session.execute(query) if r[-2] in wanted_areas or r[-1] in wanted_stations]
    placed_by = {a.id: a.path for a in areas}
    missing = {r[10] for r in rows if r[10] and r[10] not in placed_by}
    if missing:
        placed_by.update(session.execute(select(Area.id, Area.path).where(Area.id.in_(missing)))
                         .all())
    levels = {area_id: depth(path) for area_id, path in placed_by.items()}
    rules: dict[int, schedules.PlacementRule] = {}
    files: dict[tuple, schedules.AudioRef] = {}  # one AudioRef per file, however many placements air it
    for row in rows:
        placement_id, placed_by_area, source, sha256 = row[0], row[10], row[14], row[15]
        if sha256 is None and source == RECORDING:
            continue  # a recording not uploaded yet has nothing to air, not even an estimate
        rule = rules.get(placement_id)
        if rule is None:
            audio = None
            if source == STREAM:  # a live relay: its stream for its window, in place of a file
                if row[18] is None or not row[19]:
                    continue
                audio = schedules.StreamRef(row[18], row[19] * 1000)
            elif sha256 is not None:
                audio = files.get(row[15:18])
                if audio is None:
                    audio = files[row[15:18]] = schedules.AudioRef(*row[15:18])
            rule = rules[placement_id] = placement_rule(row, levels.get(placed_by_area, 0), audio)
        target_area, target_station = row[20], row[21]
        if target_station is not None:
            inputs.placements_by_station[target_station].append(rule)
        else:
            inputs.placements_by_area[target_area].append(rule)
    communes = {s.commune_id for s in stations}
    for order in session.scalars(select(PriorityOrder).where(PriorityOrder.commune_id.in_(communes))):
        inputs.orders_by_commune[order.commune_id][order.placement_id] = order.position
    return inputs
