"""The grouped queries behind broadcast reports: one statement per measure over all of an area's stations.

Used by broadcast.services.reports, which says what each measure means. Local days become UTC ranges in a
small VALUES table (one row per zone and day), so stations in other zones are counted by their own days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    JSON,
    TIMESTAMP,
    Date,
    Integer,
    String,
    Text,
    case,
    cast,
    column,
    distinct,
    func,
    literal,
    null,
    select,
    true,
    union_all,
    values,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from broadcast.db.models import (
    AiringState,
    Confirmation,
    ConfirmationStatus,
    Delivery,
    DeliveryState,
    OccurrenceAiring,
    PlaybackEvent,
    PlaybackOutcome,
    Playlist,
)
from broadcast.db.types import UTCDateTime

# As-run kinds of planned items (an emergency item reports "emergency", a relay "stream").
BULLETIN_KINDS = ("item", "emergency", "stream")
PLAY_NOW_KIND = "command"  # what the agent reports for a file an operator's "play now" brought


def _zone(name: str, default_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default_zone)  # a mistyped station zone must not stop the province's report


def _count(condition) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _seconds(condition) -> Any:
    return func.sum(case((condition, PlaybackEvent.seconds_played), else_=0.0))


def _in_a_session(event=PlaybackEvent) -> Any:
    """Whether an event aired in a session: its key is ``<slot id>@<local start>``. Emergency broadcasts
    (``emergency-<id>``) and "play now" (``command-<id>``) air outside the sessions, so outside the plan."""
    return event.occurrence_key.contains("@")


class Measures:
    """The grouped queries of one report, sharing the area's stations and the period's local days per zone."""

    def __init__(self, session: Session, stations, zones: Iterable[str], days: list[date], default_zone: str):
        self.session, self.stations = session, stations
        self._first, self._last = days[0], days[-1]
        bounds = [(name, day, datetime.combine(day, time(0), _zone(name, default_zone)),
                   datetime.combine(day + timedelta(days=1), time(0), _zone(name, default_zone)))
                  for name in sorted(zones) for day in days]
        day_columns = (column("zone", String), column("day", Date), column("starts", UTCDateTime()),
                       column("ends", UTCDateTime()))
        # Local days as UTC ranges, one row per zone and day (a small VALUES table; SQLite needs it as a CTE).
        self.days = values(*day_columns, name="report_days").data(bounds).cte("report_days")
        period = [(name, min(b[2] for b in bounds if b[0] == name), max(b[3] for b in bounds if b[0] == name))
                  for name in sorted(zones)]
        self.period = values(*day_columns[:1], *day_columns[2:], name="report_period").data(period) \
            .cte("report_period")
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _elements(self, document, key: str, name: str):
        """The elements of a JSON array member with their position, as a table joined to their row."""
        if self.postgres:
            return (func.jsonb_array_elements(document[key])
                    .table_valued(column("value", JSONB), with_ordinality="ordinality").lateral(name))
        # SQLite's json_each has the position as its "key" column.
        elements = func.json_each(document, f"$.{key}").table_valued(column("value", JSON), column("key", Integer))
        return elements.alias(name)

    def _position(self, elements):
        return elements.c.ordinality if self.postgres else elements.c.key

    def _not_before(self, start_text, moment):
        """Whether a session's start (ISO text with its offset, from a playlist) is not before ``moment``."""
        if self.postgres:
            return cast(start_text, TIMESTAMP(timezone=True)) >= moment
        # SQLite's julianday reads the offset of the text and the stored UTC alike.
        return func.julianday(start_text) >= func.julianday(moment)

    def _first_compiled(self):
        """When each station's playlist of each day of the period was first compiled."""
        s = self.stations
        return (select(Playlist.station_id, Playlist.day, func.min(Playlist.compiled_at).label("first_compiled"))
                .join(s, s.c.station_id == Playlist.station_id)
                .where(Playlist.day >= self._first, Playlist.day <= self._last)
                .group_by(Playlist.station_id, Playlist.day).subquery("first_compiled"))

    def _shape(self):
        """What a playlist plans, without the station's code: equal for the stations of a compile group.

        The compiler stores each day's canonical text, in which the code is the member
        ``"station":"<code>",`` between "occurrences" and "zone" (``schedules.SharedContent``); rows of
        earlier versions begin ``{"station": "<code>", `` instead. That member is cut; content written any
        other way is kept whole: never a wrong match, only less sharing. A quote inside a title is escaped,
        so neither pattern can match there. PostgreSQL compares digests (reading the text once), SQLite the
        text.
        """
        text_content = cast(Playlist.content, Text)
        if self.postgres:
            return func.md5(func.regexp_replace(text_content, r'^\{"station": "[^"\\]*", |"station":"[^"\\]*",', ""))
        code = self.stations.c.code
        old_prefix = literal('{"station": "', Text) + code + literal('", ', Text)
        member = literal('"station":"', Text) + code + literal('",', Text)
        return case((func.substr(text_content, 1, func.length(old_prefix)) == old_prefix,
                     func.substr(text_content, func.length(old_prefix) + 1)),
                    else_=func.replace(text_content, member, ""))

    def plan(self):
        """Planned and delivered per station, and seconds requested per day, in one statement.

        Yields ("station", station id, figures) and ("day", day, seconds requested). Most stations of a
        province share their day's playlist but for their code, and parsing the JSON is what costs (10,000
        stations a week are 500 MB of it), so each distinct playlist is parsed once, through a sample of it,
        and its sessions counted for every station day that has it. The steps are materialized: inlined, the
        delivery check and the parsing would run once per entry.
        """
        s = self.stations
        newest = (select(Playlist.station_id, Playlist.day, func.max(Playlist.version).label("version"),
                         func.min(Playlist.compiled_at).label("first_compiled"))
                  .join(s, s.c.station_id == Playlist.station_id)
                  .where(Playlist.day >= self._first, Playlist.day <= self._last)
                  .group_by(Playlist.station_id, Playlist.day).subquery("newest"))
        reached = (select(Delivery.id).where(
            Delivery.station_id == Playlist.station_id, Delivery.state == DeliveryState.VERIFIED,
            Delivery.sent_at >= Playlist.compiled_at, Delivery.sent_at < self.days.c.ends).exists())
        planned_days = (select(Playlist.station_id, Playlist.day, case((reached, 1), else_=0).label("delivered"),
                               func.min(Playlist.id).over(partition_by=self._shape()).label("sample"),
                               newest.c.first_compiled)
                        .join(newest, (Playlist.station_id == newest.c.station_id) & (Playlist.day == newest.c.day)
                              & (Playlist.version == newest.c.version))
                        .join(s, s.c.station_id == Playlist.station_id)
                        .join(self.days, (self.days.c.zone == s.c.zone) & (self.days.c.day == Playlist.day))
                        .cte("planned_days").prefix_with("MATERIALIZED"))
        samples = select(planned_days.c.sample).distinct().subquery("samples")
        content = cast(Playlist.content, JSONB) if self.postgres else Playlist.content
        occurrences = self._elements(content, "occurrences", "occurrence")
        entries = self._elements(occurrences.c.value, "entries", "entry")
        bulletin = (entries.c.value["kind"].as_string() == "item") & entries.c.value["audio"].as_string().is_not(None)
        # One row per session with bulletins (its position tells sessions apart without reading its key).
        sessions = (select(samples.c.sample, func.count().label("bulletins"),
                           func.sum(entries.c.value["play_ms"].as_integer()).label("ms"),
                           func.max(occurrences.c.value["start"].as_string()).label("starts"))
                    .select_from(samples).join(Playlist, Playlist.id == samples.c.sample)
                    .join(occurrences, true()).join(entries, true()).where(bulletin)
                    .group_by(samples.c.sample, self._position(occurrences))
                    .cte("planned_sessions").prefix_with("MATERIALIZED"))
        # A session that began before the station's playlist of its day was first compiled (a station added
        # since) was never the station's to air: not planned.
        station_sessions = (select(planned_days.c.station_id, planned_days.c.day, planned_days.c.delivered,
                                   sessions.c.bulletins, sessions.c.ms)
                            .join(sessions, (sessions.c.sample == planned_days.c.sample)
                                  & self._not_before(sessions.c.starts, planned_days.c.first_compiled))
                            .subquery("station_sessions"))
        t = station_sessions.c
        by_station = (select(literal("station"), t.station_id, cast(null(), Date), func.count(), func.sum(t.bulletins),
                             func.sum(t.ms), func.count(distinct(t.day)),
                             func.count(distinct(case((t.delivered == 1, t.day)))))
                      .group_by(t.station_id))
        by_day = (select(literal("day"), cast(null(), Integer), t.day, literal(0), literal(0), func.sum(t.ms),
                         literal(0), literal(0))
                  .group_by(t.day))
        for kind, station_id, day, count, bulletins, ms, days, delivered in self.session.execute(
                union_all(by_station, by_day)):
            if kind == "day":
                yield kind, day, int(ms or 0) / 1000
            else:
                yield kind, station_id, {
                    "planned_sessions": int(count), "planned_items": int(bulletins),
                    "seconds_requested": int(ms or 0) / 1000, "days_planned": int(days),
                    "days_delivered": int(delivered)}

    def airings(self):
        s, a, first = self.stations, OccurrenceAiring, self._first_compiled()
        # Records of sessions that began before the station's day was first compiled (an earlier check recorded
        # some as missed) are left out, as the plan leaves those sessions out.
        query = (select(a.station_id, _count(a.state == AiringState.AIRED), _count(a.state == AiringState.PARTIAL),
                        _count(a.state == AiringState.MISSED))
                 .join(s, s.c.station_id == a.station_id)
                 .outerjoin(first, (first.c.station_id == a.station_id) & (first.c.day == a.day))
                 .where(a.day >= self._first, a.day <= self._last,
                        first.c.first_compiled.is_(None) | (a.starts_at >= first.c.first_compiled))
                 .group_by(a.station_id))
        for station_id, aired, partial, missed in self.session.execute(query):
            yield station_id, {"sessions_aired": int(aired), "sessions_partial": int(partial),
                               "sessions_missed": int(missed)}

    def _event_moment(self):
        # When it was meant to air: what a day's plan is compared with; unplanned events have only the others.
        e = PlaybackEvent
        return func.coalesce(e.scheduled_at, e.started_at, e.received_at)

    def events(self):
        """Bulletins of the sessions (what the plan is compared with), and emergency and "play now" airings,
        each in figures of their own."""
        s, e, p = self.stations, PlaybackEvent, self.period
        bulletin = e.kind.in_(BULLETIN_KINDS) & _in_a_session()
        played = e.outcome == PlaybackOutcome.PLAYED
        emergency = e.kind == "emergency"
        play_now = e.kind == PLAY_NOW_KIND
        query = (select(e.station_id, _count(bulletin & played),
                        _count(bulletin & (e.outcome == PlaybackOutcome.FAILED)),
                        _count(bulletin & (e.outcome == PlaybackOutcome.SKIPPED)), _seconds(bulletin & played),
                        _count(emergency & played), _count(emergency & ~played), _seconds(emergency & played),
                        _count(play_now & played), _count(play_now & ~played), _seconds(play_now & played))
                 .join(s, s.c.station_id == e.station_id).join(p, p.c.zone == s.c.zone)
                 .where(self._event_moment() >= p.c.starts, self._event_moment() < p.c.ends)
                 .group_by(e.station_id))
        for station_id, ok, failed, skipped, seconds, *extra in self.session.execute(query):
            emergencies, missed, emergency_s, commands, commands_missed, command_s = extra
            yield station_id, {"items_played": int(ok), "items_failed": int(failed), "items_skipped": int(skipped),
                               "seconds_played": float(seconds or 0), "emergency_played": int(emergencies),
                               "emergency_not_played": int(missed), "emergency_seconds": float(emergency_s or 0),
                               "play_now_played": int(commands), "play_now_not_played": int(commands_missed),
                               "play_now_seconds": float(command_s or 0)}

    def played_per_day(self):
        s, e, d = self.stations, PlaybackEvent, self.days
        moment = self._event_moment()
        query = (select(d.c.day, func.sum(e.seconds_played))
                 .join(s, s.c.station_id == e.station_id).join(d, d.c.zone == s.c.zone)
                 .where(e.kind.in_(BULLETIN_KINDS), _in_a_session(),
                        e.outcome == PlaybackOutcome.PLAYED, moment >= d.c.starts, moment < d.c.ends)
                 .group_by(d.c.day))
        for day, seconds in self.session.execute(query):
            yield day, float(seconds or 0)

    def confirmations(self):
        s, c, p = self.stations, Confirmation, self.period
        query = (select(c.station_id, _count(c.status == ConfirmationStatus.AIRED),
                        _count(c.status == ConfirmationStatus.NOT_AIRED))
                 .join(s, s.c.station_id == c.station_id).join(p, p.c.zone == s.c.zone)
                 .where(c.occurrence_start >= p.c.starts, c.occurrence_start < p.c.ends)
                 .group_by(c.station_id))
        for station_id, aired, not_aired in self.session.execute(query):
            yield station_id, {"confirmed_aired": int(aired), "confirmed_not_aired": int(not_aired)}
