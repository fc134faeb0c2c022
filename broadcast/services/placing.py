"""Placing an item and saying truthfully what will air: its sessions, the ones it cannot reach, what gave way.

An editor reads "placed" as a promise. So a placement is checked against the schedule it would make before it
is kept (flushed, previewed, then committed or rolled back), and refused when it would never air:

- its days hold no session of the slot;
- every session on its days is locked by the showlock (or over) and the item is not an emergency;
- it would overflow a slot whose policy rejects overflow, at any station it reaches (within the days compiled).

Otherwise the answer names what the editor would not guess: days without a session, locked sessions with the
first real airing, and the items the slot's policy dropped or moved to make room.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

import schedules
from broadcast.config import Settings
from broadcast.db.models import NewsItem, Placement, Slot, User
from broadcast.errors import Conflict, DomainError, InvalidInput
from broadcast.i18n import _l, in_english
from broadcast.services import compiler, placements, scheduling
from broadcast.services.schedule_inputs import slot_rule

DAYS_LISTED = 5  # dates named in a note; more become "…"


@dataclass(frozen=True)
class Note:
    """Something the editor must know about a placement that was kept, in both languages."""

    kind: str  # "no_session", "locked", "dropped" or "moved"
    severity: str  # "warning" or "info"
    text_vi: str
    text_en: str


@dataclass
class PlacementAnswer:
    placement: Placement
    report: compiler.CompileReport | None
    first_airing: datetime | None  # local time of the first session that will carry it
    days: list[date] = field(default_factory=list)  # the days it airs on
    days_without_session: list[date] = field(default_factory=list)
    locked: list[datetime] = field(default_factory=list)  # its sessions the showlock keeps as they were
    notes: list[Note] = field(default_factory=list)


def place(session: Session, settings: Settings, user: User, spec: placements.PlacementSpec, *, today: date,
          now: datetime) -> PlacementAnswer:
    """Place an item (see ``placements.create_placement``), keep it only if it airs, and compile its stations."""
    placement = placements.create_placement(session, user, spec, today=today, commit=False)
    return _keep_if_it_airs(session, settings, placement, now, set())


def change(session: Session, settings: Settings, user: User, placement: Placement, changes: dict, *,
           today: date, now: datetime) -> PlacementAnswer:
    """Change a placement in place (see ``placements.update_placement``) under the same checks as a new one."""
    before = scheduling.placement_stations(session, placement)
    placements.update_placement(session, user, placement, changes, today=today, commit=False)
    return _keep_if_it_airs(session, settings, placement, now, before)


def _keep_if_it_airs(session: Session, settings: Settings, placement: Placement, now: datetime,
                     also: set[int]) -> PlacementAnswer:
    try:
        answer = _sessions(placement, settings, now)
        station_ids = scheduling.placement_stations(session, placement)
        answer.notes += _fit(session, settings, placement, station_ids, now)
    except DomainError:
        session.rollback()
        raise
    session.commit()
    answer.report = scheduling.after_change(session, settings, station_ids | also, now=now)
    return answer


def _zone(slot: Slot, settings: Settings) -> ZoneInfo:
    if slot.station_id is not None:
        return ZoneInfo(slot.station.timezone or slot.station.commune.timezone or settings.timezone)
    return ZoneInfo(slot.area.timezone or settings.timezone)


def _on_weekdays(placement: Placement, day: date) -> bool:
    return not placement.weekdays or placements.WEEKDAYS[day.weekday()] in placement.weekdays.split(",")


def _sessions(placement: Placement, settings: Settings, now: datetime) -> PlacementAnswer:
    """The slot's sessions on the placement's days: refuse when none would carry it, else note the gaps."""
    slot, zone = placement.slot, _zone(placement.slot, settings)
    span = (placement.date_until - placement.date_from).days + 1
    chosen = [day for day in (placement.date_from + timedelta(days=n) for n in range(span))
              if _on_weekdays(placement, day)]
    found = [occ for occ in schedules.occurrences([slot_rule(slot, 0)], placement.date_from, placement.date_until, zone)
             if _on_weekdays(placement, occ.local_date)]
    if not found:
        raise InvalidInput(_l("The slot %(slot)s has no session between %(first)s and %(last)s: the item would "
                              "never air. Choose days on which the slot airs.", slot=slot.name,
                              first=_day(placement.date_from), last=_day(placement.date_until)), field="date_from")
    showlock = timedelta(minutes=settings.showlock_minutes)
    emergency = placement.item.item_class.value == "emergency"
    locked = [occ for occ in found if (schedules.is_over(occ, now) if emergency
                                       else schedules.is_locked(occ, now, showlock))]
    airing = [occ for occ in found if occ not in locked]
    if not airing:
        raise Conflict(_l("Every session of %(slot)s on these days is locked (it starts within %(minutes)s minutes "
                          "or has begun) or over: the item would never air. Choose later days.", slot=slot.name,
                          minutes=settings.showlock_minutes), field="date_from")
    days = sorted({occ.local_date for occ in airing})
    without = [day for day in chosen if day not in {occ.local_date for occ in found}]
    first = airing[0].start.astimezone(zone)
    answer = PlacementAnswer(placement, None, first, days, without, [occ.start.astimezone(zone) for occ in locked])
    if without:
        answer.notes.append(_note("no_session", "warning", _l(
            "The slot has no session on %(count)s of the %(total)s days chosen (%(days)s); the item airs on "
            "%(airs)s.", count=len(without), total=len(chosen), days=_days(without), airs=_days(days))))
    if locked:
        answer.notes.append(_note("locked", "warning", _l(
            "The session at %(sessions)s is locked (it starts within %(minutes)s minutes or has begun) and keeps "
            "what stations already have; first airing: %(first)s.", minutes=settings.showlock_minutes,
            sessions=", ".join(_moment(occ.start.astimezone(zone)) for occ in locked[:DAYS_LISTED])
            + ("…" if len(locked) > DAYS_LISTED else ""), first=_moment(first))))
    return answer


def _fit(session: Session, settings: Settings, placement: Placement, station_ids: set[int], now: datetime
         ) -> list[Note]:
    """Compile its stations in memory: refuse an overflow of a rejecting slot, note what gave way elsewhere."""
    showlock = timedelta(minutes=settings.showlock_minutes)
    rejecting = placement.slot.overflow_policy.value == "reject"
    involved: dict[tuple[str, str, int], tuple[set[str], set[date]]] = defaultdict(lambda: (set(), set()))
    rejected: dict[str, list[schedules.Problem]] = defaultdict(list)
    for codes, days in compiler.preview(session, settings, now=now, station_ids=station_ids,
                                        slot_id=placement.slot_id, first=placement.date_from,
                                        last=placement.date_until):
        for day in days:
            for filled in day.occurrences:
                if filled.locked or schedules.is_locked(filled.occurrence, now, showlock):
                    continue
                if placement.id not in {e.placement_id for e in filled.entries} and not any(
                        placement.id in p.placement_ids for p in filled.problems):
                    continue  # a session this placement does not reach
                for problem in filled.problems:
                    # Only a rejecting slot refuses: under drop or move_next an error here (an emergency that
                    # alone overruns, an item that grew longer than the slot) is not this placement's to settle.
                    if rejecting and problem.kind in ("never_fits", "overflow", "dropped") \
                            and problem.severity == "error":
                        for code in codes:
                            rejected[code].append(problem)
                    elif problem.kind in ("dropped", "moved"):
                        for item_id in problem.item_ids:
                            stations, dates = involved[(problem.kind, problem.slot_time, item_id)]
                            stations.update(codes)
                            dates.add(filled.occurrence.local_date)
    if rejected:
        raise _no_room(placement, rejected)
    titles = dict(session.execute(select(NewsItem.id, NewsItem.title)
                                  .where(NewsItem.id.in_({key[2] for key in involved}))).all())
    notes = []
    for (kind, slot_time, item_id), (stations, dates) in sorted(involved.items()):
        values = {"title": titles.get(item_id, item_id), "time": slot_time, "stations": len(stations),
                  "days": _days(sorted(dates))}
        if kind == "dropped":
            message = _l("«%(title)s» is dropped from the %(time)s session at %(stations)s station(s) on %(days)s: "
                         "the slot is full.", **values)
        else:
            message = _l("«%(title)s» moves from the %(time)s session to the slot's next session at %(stations)s "
                         "station(s) on %(days)s: the slot is full.", **values)
        notes.append(_note(kind, "warning", message))
    return notes


def _no_room(placement: Placement, rejected: dict[str, list[schedules.Problem]]) -> Conflict:
    summaries = schedules.summarize_problems(rejected)
    english = in_english()
    dates = sorted({p.occurrence_key.split("@")[1][:10] for problems in rejected.values() for p in problems
                    if "@" in p.occurrence_key})
    error = Conflict(_l(
        "The %(time)s session of %(slot)s has no room left for this item at %(stations)s station(s) (%(days)s): "
        "%(problems)s. The slot refuses what does not fit: shorten the items, choose another slot or other days, "
        "or change the slot's overflow policy.", time=f"{placement.slot.start_time:%H:%M}", slot=placement.slot.name,
        stations=len(rejected), days=_days([date.fromisoformat(d) for d in dates]),
        problems="; ".join(s.text_en if english else s.text_vi for s in summaries)), field="slot_id")
    error.details = {"problems": [{"kind": s.kind, "severity": s.severity, "slot_time": s.slot_time,
                                   "stations": len(s.stations), "text": s.text_vi, "text_en": s.text_en}
                                  for s in summaries]}
    return error


def _note(kind: str, severity: str, message) -> Note:
    with force_locale("vi"):
        vi = str(message)
    with force_locale("en"):
        en = str(message)
    return Note(kind, severity, vi, en)


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _days(days: list[date]) -> str:
    shown = ", ".join(_day(d) for d in days[:DAYS_LISTED])
    return shown + ("…" if len(days) > DAYS_LISTED else "")


def _moment(moment: datetime) -> str:
    return moment.strftime("%H:%M %d/%m/%Y")
