"""As-run: what stations report they played, per slot occurrence against the plan, and people's confirmations.

Agents deliver their as-run log in batches and redeliver after a reconnect; each event carries the agent's
own id, so a repeat is recognised and ignored (a unique constraint, inserted with ON CONFLICT DO NOTHING).
Each batch refreshes the airing record of the occurrences it touches; a job marks occurrences that ended
with nothing reported as missed. An agent offline for days reports late: its events then turn "missed" into
"aired" or "partial", as they should.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from broadcast.db.models import (
    AiringState,
    Confirmation,
    ConfirmationStatus,
    NewsItem,
    OccurrenceAiring,
    PlaybackEvent,
    PlaybackOutcome,
    Playlist,
    Slot,
    Station,
    StationStatus,
    User,
)
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import scope
from broadcast.services.audit import record

MAX_BATCH = 500


def _insert(session: Session):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def record_events(session: Session, station: Station, events: list[dict[str, Any]], now: datetime
                  ) -> tuple[int, int]:
    """Store a batch of as-run events; returns (new, already known). Unknown item or slot ids (deleted since)
    are kept as null rather than refusing the station's whole log."""
    if len(events) > MAX_BATCH:
        raise InvalidInput(_l("At most %(n)s events per request.", n=MAX_BATCH), field="events")
    item_ids = {e["item_id"] for e in events if e.get("item_id")}
    slot_ids = {e["slot_id"] for e in events if e.get("slot_id")}
    known_items = set(session.scalars(select(NewsItem.id).where(NewsItem.id.in_(item_ids)))) if item_ids else set()
    known_slots = set(session.scalars(select(Slot.id).where(Slot.id.in_(slot_ids)))) if slot_ids else set()
    rows = [{
        "station_id": station.id, "event_id": e["event_id"], "outcome": PlaybackOutcome(e["outcome"]).value,
        "kind": e.get("kind") or "item", "entry_id": e.get("entry_id"), "occurrence_key": e.get("occurrence_key"),
        "slot_id": e["slot_id"] if e.get("slot_id") in known_slots else None,
        "item_id": e["item_id"] if e.get("item_id") in known_items else None,
        "audio_sha256": e.get("audio_sha256"), "scheduled_at": e.get("scheduled_at"),
        "started_at": e.get("started_at"), "ended_at": e.get("ended_at"),
        "seconds_played": float(e.get("seconds_played") or 0), "reason": e.get("reason"), "received_at": now,
    } for e in events]
    accepted = 0
    if rows:
        statement = _insert(session)(PlaybackEvent).on_conflict_do_nothing(
            index_elements=["station_id", "event_id"]).returning(PlaybackEvent.id)
        accepted = len(session.execute(statement, rows).all()) if session.get_bind().dialect.name == "postgresql" \
            else sum(len(session.execute(statement.values(**row)).all()) for row in rows)
    keys = {e["occurrence_key"] for e in events if e.get("occurrence_key")}
    station.last_contact_at = max(now, station.last_contact_at or now)
    refresh_airings(session, station.id, keys, now)
    session.commit()
    return accepted, len(rows) - accepted


def _planned(session: Session, station_id: int, keys: set[str]) -> dict[str, dict]:
    """The planned occurrence (from the newest compiled day) for each key."""
    days = {date.fromisoformat(key.split("@", 1)[1][:10]) for key in keys if "@" in key}
    if not days:
        return {}
    newest = (select(Playlist.day, func.max(Playlist.version).label("version"))
              .where(Playlist.station_id == station_id, Playlist.day.in_(days)).group_by(Playlist.day).subquery())
    found = {}
    for content in session.scalars(select(Playlist.content).join(
            newest, (Playlist.day == newest.c.day) & (Playlist.version == newest.c.version))
            .where(Playlist.station_id == station_id)):
        for occurrence in content["occurrences"]:
            if occurrence["key"] in keys:
                found[occurrence["key"]] = {**occurrence, "day": content["day"]}
    return found


def refresh_airings(session: Session, station_id: int, keys: set[str], now: datetime) -> None:
    """Recount what was played in these occurrences and store the airing state."""
    if not keys:
        return
    planned = _planned(session, station_id, keys)
    played: dict[str, tuple[set[str], float]] = defaultdict(lambda: (set(), 0.0))
    for key, entry_id, seconds in session.execute(
            select(PlaybackEvent.occurrence_key, PlaybackEvent.entry_id, PlaybackEvent.seconds_played)
            .where(PlaybackEvent.station_id == station_id, PlaybackEvent.occurrence_key.in_(keys),
                   PlaybackEvent.outcome == PlaybackOutcome.PLAYED)):
        entries, total = played[key]
        entries.add(entry_id or "")
        played[key] = (entries, total + seconds)
    existing = {a.occurrence_key: a for a in session.scalars(
        select(OccurrenceAiring).where(OccurrenceAiring.station_id == station_id,
                                       OccurrenceAiring.occurrence_key.in_(keys)))}
    for key in keys:
        plan = planned.get(key)
        if plan is None:
            continue  # not a scheduled occurrence (e.g. a command's "play now"): nothing to compare with
        entries, seconds = played.get(key, (set(), 0.0))
        airing = existing.get(key)
        if airing is None:
            airing = OccurrenceAiring(station_id=station_id, occurrence_key=key)
            session.add(airing)
        _fill(airing, plan, len(entries), int(seconds * 1000), now)


def _fill(airing: OccurrenceAiring, plan: dict, played_entries: int, played_ms: int, now: datetime) -> None:
    audible = [e for e in plan["entries"] if e["audio"] is not None]
    airing.slot_id, airing.day = plan["slot_id"], date.fromisoformat(plan["day"])
    airing.starts_at, airing.ends_at = datetime.fromisoformat(plan["start"]), datetime.fromisoformat(plan["end"])
    airing.planned_entries, airing.planned_ms = len(audible), sum(e["play_ms"] for e in audible)
    airing.played_entries, airing.played_ms = played_entries, played_ms
    if played_entries and played_entries >= len(audible):
        airing.state = AiringState.AIRED
    elif played_entries:
        airing.state = AiringState.PARTIAL
    else:
        airing.state = AiringState.MISSED
    airing.checked_at = now


def mark_missed(session: Session, *, now: datetime, grace: timedelta = timedelta(minutes=10),
                lookback: timedelta = timedelta(days=2)) -> int:
    """Record as missed every occurrence that ended (plus ``grace``) within ``lookback`` with no airing record
    yet, i.e. nothing reported; returns how many. Late reports later turn them into aired or partial."""
    first_day = (now - lookback).date() - timedelta(days=1)
    newest = (select(Playlist.station_id, Playlist.day, func.max(Playlist.version).label("version"))
              .join(Station, Station.id == Playlist.station_id)
              .where(Station.active, Playlist.day >= first_day, Playlist.day <= now.date() + timedelta(days=1))
              .group_by(Playlist.station_id, Playlist.day).subquery())
    rows = session.execute(select(Playlist.station_id, Playlist.content).join(
        newest, (Playlist.station_id == newest.c.station_id) & (Playlist.day == newest.c.day)
        & (Playlist.version == newest.c.version)))
    recorded = set(session.execute(select(OccurrenceAiring.station_id, OccurrenceAiring.occurrence_key)
                                   .where(OccurrenceAiring.day >= first_day)).all())
    missed = 0
    for station_id, content in rows:
        for occurrence in content["occurrences"]:
            end = datetime.fromisoformat(occurrence["end"])
            if (station_id, occurrence["key"]) in recorded or not (now - lookback <= end <= now - grace):
                continue
            if not any(e["audio"] is not None for e in occurrence["entries"]):
                continue  # nothing was to air
            airing = OccurrenceAiring(station_id=station_id, occurrence_key=occurrence["key"])
            _fill(airing, {**occurrence, "day": content["day"]}, 0, 0, now)
            session.add(airing)
            missed += 1
    session.commit()
    return missed


def heartbeat(session: Session, station: Station, data: dict[str, Any], now: datetime) -> None:
    station.agent_version = data.get("agent_version") or station.agent_version
    station.disk_free_bytes = data.get("disk_free_bytes", station.disk_free_bytes)
    station.volume = data.get("volume", station.volume)
    if data.get("installed_version"):
        station.installed_version = data["installed_version"]
    station.status = StationStatus.PLAYING if data.get("state") in ("playing", "emergency") else StationStatus.ONLINE
    station.last_contact_at = now
    session.commit()


@dataclass
class OccurrenceView:
    key: str
    slot_id: int | None
    starts_at: datetime
    ends_at: datetime
    entries: list[dict]
    events: list[PlaybackEvent]
    airing: OccurrenceAiring | None
    confirmation: Confirmation | None
    planned_s: float = 0.0
    played_s: float = 0.0
    state: str = "planned"


@dataclass
class DayView:
    station: Station
    day: date
    occurrences: list[OccurrenceView] = field(default_factory=list)
    unplanned: list[PlaybackEvent] = field(default_factory=list)


def station_day(session: Session, user: User, station: Station, day: date, now: datetime, zone: ZoneInfo
                ) -> DayView:
    """Planned, reported and confirmed, per occurrence of one station's day (what an operator checks)."""
    scope.require_area(user, station.commune)
    newest = session.scalar(select(Playlist).where(Playlist.station_id == station.id, Playlist.day == day)
                            .order_by(Playlist.version.desc()).limit(1))
    view = DayView(station, day)
    plan = newest.content["occurrences"] if newest is not None else []
    keys = [o["key"] for o in plan]
    tz = ZoneInfo(newest.content["zone"]) if newest is not None else zone
    begin = datetime.combine(day, time(0), tz)
    events = list(session.scalars(select(PlaybackEvent).where(
        PlaybackEvent.station_id == station.id,
        PlaybackEvent.occurrence_key.in_(keys) | (PlaybackEvent.occurrence_key.is_(None)
                                                  & (PlaybackEvent.scheduled_at >= begin)
                                                  & (PlaybackEvent.scheduled_at < begin + timedelta(days=1))))
        .order_by(PlaybackEvent.scheduled_at, PlaybackEvent.id)))
    airings = {a.occurrence_key: a for a in session.scalars(select(OccurrenceAiring).where(
        OccurrenceAiring.station_id == station.id, OccurrenceAiring.occurrence_key.in_(keys)))} if keys else {}
    confirmations = {(c.slot_id, c.occurrence_start): c for c in session.scalars(
        select(Confirmation).where(Confirmation.station_id == station.id))} if keys else {}
    for occurrence in plan:
        start, end = datetime.fromisoformat(occurrence["start"]), datetime.fromisoformat(occurrence["end"])
        mine = [e for e in events if e.occurrence_key == occurrence["key"]]
        airing = airings.get(occurrence["key"])
        item = OccurrenceView(occurrence["key"], occurrence["slot_id"], start, end, occurrence["entries"], mine,
                              airing, confirmations.get((occurrence["slot_id"], start)))
        item.planned_s = sum(e["play_ms"] for e in occurrence["entries"] if e["audio"] is not None) / 1000
        item.played_s = sum(e.seconds_played for e in mine if e.outcome is PlaybackOutcome.PLAYED)
        item.state = airing.state.value if airing else ("upcoming" if start > now else "awaiting_report")
        view.occurrences.append(item)
    view.unplanned = [e for e in events if e.occurrence_key is None]
    return view


def confirm(session: Session, user: User, station: Station, occurrence_key: str, status: ConfirmationStatus,
            reason: str | None, now: datetime) -> Confirmation:
    """An operator's word on one occurrence: aired, or not aired and why. A second word replaces the first."""
    scope.require_area(user, station.commune)
    reason = (reason or "").strip() or None
    if status is ConfirmationStatus.NOT_AIRED and reason is None:
        raise InvalidInput(_l("Say why it did not air."), field="reason")
    plan = _planned(session, station.id, {occurrence_key}).get(occurrence_key)
    if plan is None:
        raise NotFound(_l("This station has no session %(key)s.", key=occurrence_key))
    start = datetime.fromisoformat(plan["start"])
    if start > now:
        raise InvalidInput(_l("A session can be confirmed only once it has begun."), field="occurrence_key")
    confirmation = session.scalar(select(Confirmation).where(
        Confirmation.station_id == station.id, Confirmation.slot_id == plan["slot_id"],
        Confirmation.occurrence_start == start))
    if confirmation is None:
        confirmation = Confirmation(station_id=station.id, slot_id=plan["slot_id"], occurrence_start=start)
        session.add(confirmation)
    confirmation.status, confirmation.reason = status, reason
    confirmation.confirmed_by_id, confirmation.confirmed_at = user.id, now
    record(session, user, "airing.confirm", "station", station.code,
           details={"occurrence": occurrence_key, "status": status.value, "reason": reason})
    session.commit()
    return confirmation

