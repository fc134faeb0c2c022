"""As-run: what stations report they played, per slot occurrence against the plan, and people's confirmations.

Agents deliver their as-run log in batches and redeliver after a reconnect; each event carries the agent's
own id, so a repeat is recognised and ignored (a unique constraint, inserted with ON CONFLICT DO NOTHING).
Each batch refreshes the airing record of the occurrences it touches; a job marks occurrences that ended
with nothing reported as missed. An agent offline for days reports late: its events then turn "missed" into
"aired" or "partial", as they should.

A session is the station's to air only when it has bulletins (item entries with audio, as the reports count
them) and the station's playlist of that day held it before it began. A station added in the evening gets that
day's playlist, morning sessions included, only then: those sessions began before the station was added and
are never missed. Airings outside the sessions (emergency broadcasts, an operator's "play now") carry keys of
their own (``emergency-<id>``, ``command-<id>``) and are shown apart.
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
    AudioAsset,
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
from broadcast.services import scheduling, scope
from broadcast.services.audit import record
from broadcast.services.playlist_content import before_relays

MAX_BATCH = 500
BEFORE_STATION = "before_station"  # began before the station's playlist of the day was first compiled
EMPTY = "empty"  # nothing to air: no bulletins in the session
PARTLY_RELAYED = "partly relayed"  # how stations.agent.relay begins the reason of a relay the stream carried in part


def is_session_key(key: str | None) -> bool:
    """Whether an occurrence key names a session (``<slot id>@<local start>``), not an airing outside them."""
    return key is not None and "@" in key


def is_bulletin(entry: dict) -> bool:
    """Whether a session is held to airing this entry: an item with audio (filler and items still without audio
    are not)."""
    return entry.get("kind", "item") == "item" and entry["audio"] is not None


def bulletins(entries: list[dict]) -> list[dict]:
    return [e for e in entries if is_bulletin(e)]


def began_before_plan(start: datetime, first_compiled: datetime | None) -> bool:
    """Whether a session began before the station's playlist of its day was first compiled: the station (added
    since, or planned for only since) never had it to air."""
    return first_compiled is not None and start < first_compiled


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
    cut_short: set[str] = set()
    for key, entry_id, seconds, kind, reason in session.execute(
            select(PlaybackEvent.occurrence_key, PlaybackEvent.entry_id, PlaybackEvent.seconds_played,
                   PlaybackEvent.kind, PlaybackEvent.reason)
            .where(PlaybackEvent.station_id == station_id, PlaybackEvent.occurrence_key.in_(keys),
                   PlaybackEvent.outcome == PlaybackOutcome.PLAYED)):
        entries, total = played[key]
        entries.add(entry_id or "")
        played[key] = (entries, total + seconds)
        if kind == "stream" and (reason or "").startswith(PARTLY_RELAYED):
            # The stream carried only part of the window, the filler the rest: listeners did not hear it all.
            cut_short.add(key)
    existing = {a.occurrence_key: a for a in session.scalars(
        select(OccurrenceAiring).where(OccurrenceAiring.station_id == station_id,
                                       OccurrenceAiring.occurrence_key.in_(keys)))}
    for key in keys:
        plan = planned.get(key)
        if plan is None or not bulletins(plan["entries"]):
            # Not a session (e.g. a command's "play now"), or one with nothing to air: nothing to compare with.
            continue
        entries, seconds = played.get(key, (set(), 0.0))
        airing = existing.get(key)
        if airing is None:
            airing = OccurrenceAiring(station_id=station_id, occurrence_key=key)
            session.add(airing)
        # Only the session's bulletins, by their ids in the manifest, count as aired: not its filler, nor the
        # filler pieces an agent too old to relay got in a relay's place (ids "<key>#<n>.<piece>").
        aired = len(entries & bulletin_ids(key, plan["entries"]))
        _fill(airing, plan, aired, int(seconds * 1000), now, cut_short=key in cut_short)


def bulletin_ids(key: str, entries: list[dict]) -> set[str]:
    """The manifest ids of a session's bulletins (an entry's id is its session's key and its place in it)."""
    return {f"{key}#{index}" for index, entry in enumerate(entries) if is_bulletin(entry)}


def _fill(airing: OccurrenceAiring, plan: dict, played_entries: int, played_ms: int, now: datetime, *,
          cut_short: bool = False) -> None:
    """``played_entries``: how many of the session's bulletins were played."""
    held_to = bulletins(plan["entries"])
    airing.slot_id, airing.day = plan["slot_id"], date.fromisoformat(plan["day"])
    airing.starts_at, airing.ends_at = datetime.fromisoformat(plan["start"]), datetime.fromisoformat(plan["end"])
    airing.planned_entries, airing.planned_ms = len(held_to), sum(e["play_ms"] for e in held_to)
    airing.played_entries, airing.played_ms = played_entries, played_ms
    if played_entries and played_entries >= len(held_to) and not cut_short:
        airing.state = AiringState.AIRED
    elif played_entries:
        airing.state = AiringState.PARTIAL
    else:
        airing.state = AiringState.MISSED
    airing.checked_at = now


def mark_missed(session: Session, *, now: datetime, grace: timedelta = timedelta(minutes=10),
                lookback: timedelta = timedelta(days=2)) -> int:
    """Record as missed every session that ended (plus ``grace``) within ``lookback`` with no airing record
    yet, i.e. nothing reported; returns how many. Late reports later turn them into aired or partial.

    Sessions with nothing to air, and those that began before the station's playlist of the day was first
    compiled (a station added since), are not the station's to miss.
    """
    first_day = (now - lookback).date() - timedelta(days=1)
    newest = (select(Playlist.station_id, Playlist.day, func.max(Playlist.version).label("version"),
                     func.min(Playlist.compiled_at).label("first_compiled"))
              .join(Station, Station.id == Playlist.station_id)
              .where(Station.active, Playlist.day >= first_day, Playlist.day <= now.date() + timedelta(days=1))
              .group_by(Playlist.station_id, Playlist.day).subquery())
    rows = session.execute(select(Playlist.station_id, Playlist.content, newest.c.first_compiled).join(
        newest, (Playlist.station_id == newest.c.station_id) & (Playlist.day == newest.c.day)
        & (Playlist.version == newest.c.version)))
    recorded = set(session.execute(select(OccurrenceAiring.station_id, OccurrenceAiring.occurrence_key)
                                   .where(OccurrenceAiring.day >= first_day)).all())
    missed = 0
    for station_id, content, first_compiled in rows:
        for occurrence in content["occurrences"]:
            end = datetime.fromisoformat(occurrence["end"])
            if (station_id, occurrence["key"]) in recorded or not (now - lookback <= end <= now - grace):
                continue
            if not bulletins(occurrence["entries"]) \
                    or began_before_plan(datetime.fromisoformat(occurrence["start"]), first_compiled):
                continue
            airing = OccurrenceAiring(station_id=station_id, occurrence_key=occurrence["key"])
            _fill(airing, {**occurrence, "day": content["day"]}, 0, 0, now)
            session.add(airing)
            missed += 1
    session.commit()
    return missed


def heartbeat(session: Session, station: Station, data: dict[str, Any], now: datetime) -> None:
    was = station.agent_version
    station.agent_version = data.get("agent_version") or station.agent_version
    station.disk_free_bytes = data.get("disk_free_bytes", station.disk_free_bytes)
    station.volume = data.get("volume", station.volume)
    if data.get("installed_version"):
        station.installed_version = data["installed_version"]
    station.status = StationStatus.PLAYING if data.get("state") in ("playing", "emergency") else StationStatus.ONLINE
    station.last_contact_at = now
    session.commit()
    if before_relays(was) != before_relays(station.agent_version):
        # An agent updated to relay streams (or replaced by an older one): its manifest is compiled again, with
        # the relays or with their windows as filler (see compiler), at the compile job's next round.
        scheduling.request_compile(session, [station.id])


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

    @property
    def confirmable(self) -> bool:
        """Whether people may confirm it: it was the station's to air (the template asks if it has begun)."""
        return self.state not in (BEFORE_STATION, EMPTY)


@dataclass
class OtherAiring:
    """A reported airing outside the day's sessions, with the title of what it played when known."""

    event: PlaybackEvent
    title: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "event":
            raise AttributeError(name)  # not set yet (a copy being made): no endless lookup
        return getattr(self.event, name)  # reads as the event it wraps (templates, schemas)


@dataclass
class DayView:
    station: Station
    day: date
    occurrences: list[OccurrenceView] = field(default_factory=list)
    emergencies: list[OtherAiring] = field(default_factory=list)  # emergency broadcasts
    play_now: list[OtherAiring] = field(default_factory=list)  # files an operator's "play now" brought
    unplanned: list[OtherAiring] = field(default_factory=list)  # anything else outside the sessions


def session_state(airing: OccurrenceAiring | None, start: datetime, entries: list[dict],
                  first_compiled: datetime | None, now: datetime) -> str:
    """What a session of a station's day shows: its airing record, else why it has none (yet)."""
    if airing is not None and airing.state is not AiringState.MISSED:
        return airing.state.value  # what the station reported stands
    if began_before_plan(start, first_compiled):
        return BEFORE_STATION  # even where an earlier check recorded it as missed
    if start > now:
        return "upcoming"  # an empty session may still be filled
    if not bulletins(entries):
        return EMPTY
    return airing.state.value if airing is not None else "awaiting_report"


def _first_compiled(session: Session, station_id: int, day: date) -> datetime | None:
    """When the station's playlist of ``day`` was first compiled: the earliest it could know that day's plan."""
    return session.scalar(select(func.min(Playlist.compiled_at))
                          .where(Playlist.station_id == station_id, Playlist.day == day))


def _titles(session: Session, events: list[PlaybackEvent]) -> dict[int, str]:
    """The title of what each event played, by event id: its item, else the item whose audio it played."""
    item_ids = {e.item_id for e in events if e.item_id is not None}
    shas = {e.audio_sha256 for e in events if e.item_id is None and e.audio_sha256}
    by_item = dict(session.execute(select(NewsItem.id, NewsItem.title).where(NewsItem.id.in_(item_ids))).all()) \
        if item_ids else {}
    by_sha = dict(session.execute(select(AudioAsset.sha256, NewsItem.title).join(
        NewsItem, NewsItem.audio_asset_id == AudioAsset.id).where(AudioAsset.sha256.in_(shas))).all()) if shas else {}
    found = {e.id: by_item.get(e.item_id) or by_sha.get(e.audio_sha256) for e in events}
    return {key: title for key, title in found.items() if title}


def _outside(session: Session, view: DayView, events: list[PlaybackEvent]) -> None:
    """Sort the airings outside the sessions into emergencies, "play now" and the rest."""
    titles = _titles(session, events)
    for event in events:
        wrapped = OtherAiring(event, titles.get(event.id))
        if event.kind == "emergency":
            view.emergencies.append(wrapped)
        elif event.kind == "command":
            view.play_now.append(wrapped)
        else:
            view.unplanned.append(wrapped)


def station_day(session: Session, user: User, station: Station, day: date, now: datetime, zone: ZoneInfo
                ) -> DayView:
    """Planned, reported and confirmed, per session of one station's day (what an operator checks), and what
    aired outside the sessions that day (emergency broadcasts, "play now"), by local time."""
    scope.require_area(user, station.commune)
    newest = session.scalar(select(Playlist).where(Playlist.station_id == station.id, Playlist.day == day)
                            .order_by(Playlist.version.desc()).limit(1))
    view = DayView(station, day)
    plan = newest.content["occurrences"] if newest is not None else []
    keys = [o["key"] for o in plan]
    tz = ZoneInfo(newest.content["zone"]) if newest is not None else zone
    begin = datetime.combine(day, time(0), tz)
    # When it was meant to air, as the reports count it: an event outside the sessions has no session's day.
    moment = func.coalesce(PlaybackEvent.scheduled_at, PlaybackEvent.started_at, PlaybackEvent.received_at)
    events = list(session.scalars(select(PlaybackEvent).where(
        PlaybackEvent.station_id == station.id,
        PlaybackEvent.occurrence_key.in_(keys) | ((moment >= begin) & (moment < begin + timedelta(days=1))))
        .order_by(moment, PlaybackEvent.id)))
    airings = {a.occurrence_key: a for a in session.scalars(select(OccurrenceAiring).where(
        OccurrenceAiring.station_id == station.id, OccurrenceAiring.occurrence_key.in_(keys)))} if keys else {}
    confirmations = {(c.slot_id, c.occurrence_start): c for c in session.scalars(
        select(Confirmation).where(Confirmation.station_id == station.id))} if keys else {}
    first_compiled = _first_compiled(session, station.id, day) if keys else None
    for occurrence in plan:
        start, end = datetime.fromisoformat(occurrence["start"]), datetime.fromisoformat(occurrence["end"])
        mine = [e for e in events if e.occurrence_key == occurrence["key"]]
        airing = airings.get(occurrence["key"])
        item = OccurrenceView(occurrence["key"], occurrence["slot_id"], start, end, occurrence["entries"], mine,
                              airing, confirmations.get((occurrence["slot_id"], start)))
        item.planned_s = sum(e["play_ms"] for e in occurrence["entries"] if e["audio"] is not None) / 1000
        item.played_s = sum(e.seconds_played for e in mine if e.outcome is PlaybackOutcome.PLAYED)
        item.state = session_state(airing, start, occurrence["entries"], first_compiled, now)
        view.occurrences.append(item)
    _outside(session, view, [e for e in events if e.occurrence_key not in keys
                             and not _session_of_another_day(e.occurrence_key, day)])
    return view


def _session_of_another_day(key: str | None, day: date) -> bool:
    """Whether a key names a session of another day: one that ran past midnight into ``day`` shows on its own."""
    return is_session_key(key) and not key.partition("@")[2].startswith(day.isoformat())


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
    if began_before_plan(start, _first_compiled(session, station.id, date.fromisoformat(plan["day"]))):
        raise InvalidInput(_l("This session began before the station was added: it was not the station's to air."),
                           field="occurrence_key")
    if not bulletins(plan["entries"]):
        raise InvalidInput(_l("There was nothing to air in this session."), field="occurrence_key")
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

