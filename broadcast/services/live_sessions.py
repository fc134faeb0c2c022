"""Live announcements ("speak now"): opening one, telling the stations, ending it, and what each station did.

A person speaks into the browser; :mod:`broadcast.services.live_relay` carries the voice to an Icecast mount of
its own. Once the mount is up (:func:`go_on_air`) every active station of the chosen areas gets a
``play_stream`` command with the mount's public address and the latest end; when it ends (:func:`end`) the
stations that fetched theirs get ``stop`` and the others' commands are withdrawn.

Whether it needs an approver: no. A live voice cannot be listened to before it airs, and the emergency rules'
second person (who approves a recorded warning) would only delay it. Instead only editors and approvers whose
areas cover every chosen area may speak, one voice at a time per station, each announcement is in the audit log
(who, where, how many stations, how long, how it ended), and any such person may stop another's from the page.

An announcement nobody feeds any more (its web worker died, or the browser never sent audio) is ended by
:func:`sweep`, which the scheduler runs every half minute and the page on each visit; the stations stop at
``until`` by themselves in any case.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from broadcast.config import Settings
from broadcast.db.models import (
    Area,
    CommandKind,
    CommandState,
    LiveEnd,
    LiveSession,
    LiveState,
    LiveTarget,
    Role,
    Station,
    StationCommand,
    User,
)
from broadcast.errors import Conflict, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import areas as area_service
from broadcast.services import commands, scope
from broadcast.services.audit import record

SPEAKERS = (Role.EDITOR, Role.APPROVER)  # admins too (they hold every role)
DEFAULT_MINUTES = 15
TITLE_LONGEST = commands.TITLE_LONGEST
STARTING_GRACE = timedelta(seconds=30)  # an announcement opened but never fed is closed after this
STOP_LIFETIME = timedelta(minutes=5)

Outgoing = list[tuple[str, dict[str, Any]]]  # (station code, command as agents read it)


@dataclass(frozen=True)
class LiveConfig:
    """Where announcements go: the Icecast server fed (with its source password) and the address stations use."""

    feed_base: str  # icecast://source:PASSWORD@host:port
    listen_base: str  # http(s)://host:port as stations reach it
    max_minutes: int
    silence_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveConfig | None:
        """None when no Icecast server is configured (the page then says so)."""
        if not settings.live_icecast_url:
            return None
        feed = settings.live_icecast_url.rstrip("/")
        listen = settings.live_listen_url.rstrip("/") or _probe_base(feed)
        return cls(feed, listen, settings.live_max_minutes, settings.live_silence_s)

    def feed_url(self, mount: str) -> str:
        return f"{self.feed_base}{mount}"

    def listen_url(self, mount: str) -> str:
        return f"{self.listen_base}{mount}"

    def probe_url(self, mount: str) -> str:
        """The mount as this service reaches it (the feed's host), to see whether it is up."""
        return f"{_probe_base(self.feed_base)}{mount}"


def _probe_base(feed_base: str) -> str:
    parts = urlsplit(feed_base)
    return f"http://{parts.hostname}:{parts.port or 8000}"


# -- opening, going on air, ending --------------------------------------------------------------------------------


def open_session(session: Session, user: User, area_codes: list[str], title: str, minutes: int | None, *,
                 now: datetime, config: LiveConfig) -> LiveSession:
    """Check and record a new announcement (no audio yet, no command sent); the caller then opens the audio."""
    scope.require_role(user, *SPEAKERS)
    title = (title or "").strip()
    problems: list[InvalidInput] = []
    if not title:
        problems.append(InvalidInput(_l("Give the announcement a title."), field="title"))
    elif len(title) > TITLE_LONGEST:
        problems.append(InvalidInput(_l("The title is at most %(n)s characters.", n=TITLE_LONGEST), field="title"))
    if minutes is None or not 1 <= minutes <= config.max_minutes:
        problems.append(InvalidInput(_l("The longest length is from 1 to %(max)s minutes.", max=config.max_minutes),
                                     field="minutes"))
    codes = list(dict.fromkeys(c.strip() for c in area_codes if c and c.strip()))
    if not codes:
        problems.append(InvalidInput(_l("Choose at least one area."), field="areas"))
    if problems:  # all at once, so the form shows every one of them
        raise InvalidInput(problems[0].message, field=problems[0].field,
                           details={"fields": {p.field: p.message for p in problems}})
    chosen = _areas(session, user, codes)
    stations = _stations(session, chosen)
    if not stations:
        raise InvalidInput(_l("No active station in the chosen areas."), field="areas")
    _refuse_overlap(session, [station_id for station_id, _ in stations])
    live = LiveSession(title=title, mount=f"/live-{secrets.token_hex(8)}", state=LiveState.STARTING,
                       started_by_id=user.id, opened_at=now, until=now + timedelta(minutes=minutes), areas=chosen)
    session.add(live)
    session.flush()
    record(session, user, "live.open", "live", live.id,
           {"title": title, "areas": [a.code for a in chosen], "stations": len(stations), "minutes": minutes})
    session.commit()
    return live


def _areas(session: Session, user: User, codes: list[str]) -> list[Area]:
    found, unknown = [], []
    for code in codes:
        try:
            found.append(area_service.find_area(session, code))
        except NotFound:
            unknown.append(code)
    if unknown:
        raise InvalidInput(_l("Unknown area: %(codes)s.", codes=", ".join(unknown)), field="areas")
    for area in found:
        scope.require_area(user, area)
    return found


def _stations(session: Session, chosen: list[Area]) -> list[tuple[int, str]]:
    """(id, code) of the active stations in the areas (a station under two chosen areas counted once)."""
    if not chosen:
        return []
    query = (select(Station.id, Station.code).join(Area, Station.commune_id == Area.id)
             .where(Station.active.is_(True), or_(*(Area.path.startswith(a.path) for a in chosen)))
             .order_by(Station.code).distinct())
    return [(station_id, code) for station_id, code in session.execute(query)]


def _refuse_overlap(session: Session, station_ids: list[int]) -> None:
    """One voice at a time per station: a second announcement would cut the first off mid-sentence."""
    busy = session.execute(
        select(LiveSession.title, Station.name).join(LiveTarget, LiveTarget.session_id == LiveSession.id)
        .join(Station, LiveTarget.station_id == Station.id)
        .where(LiveSession.state != LiveState.ENDED, LiveTarget.station_id.in_(station_ids[:2000])).limit(1)).first()
    if busy is None:  # an announcement still starting has no targets yet: compare its areas' stations
        for other in session.scalars(select(LiveSession).where(LiveSession.state == LiveState.STARTING)):
            overlap = {sid for sid, _ in _stations(session, other.areas)} & set(station_ids)
            if overlap:
                name = session.get(Station, min(overlap)).name
                busy = (other.title, name)
                break
    if busy is not None:
        raise Conflict(_l("“%(title)s” is live at %(station)s now: wait for it to end, or stop it.",
                          title=busy[0], station=busy[1]))


def go_on_air(session: Session, live: LiveSession, *, now: datetime, config: LiveConfig) -> Outgoing:
    """The mount is up: tell every station of the areas to relay it until ``until``; returns what to send."""
    if live.state is not LiveState.STARTING:
        return []
    stations = _stations(session, live.areas)
    args = commands.stream_args(config.listen_url(live.mount), live.until, live.title, now)
    outgoing = commands.issue_many(session, stations, CommandKind.PLAY_STREAM, args, issued_by_id=live.started_by_id,
                                   now=now, expires_at=live.until)
    session.add_all(LiveTarget(session_id=live.id, station_id=station_id, play_command_id=command["id"])
                    for (station_id, _), (_, command) in zip(stations, outgoing, strict=True))
    live.state, live.on_air_at, live.last_audio_at = LiveState.ON_AIR, now, now
    record(session, live.started_by or "service", "live.start", "live", live.id, {"stations": len(stations),
                                                                     "url": args["url"], "until": args["until"]})
    session.commit()
    return outgoing


def end(session: Session, live: LiveSession, reason: LiveEnd, *, now: datetime, by: User | None = None) -> Outgoing:
    """End it (once): commands not yet fetched are withdrawn, stations that fetched theirs are told to stop."""
    if live.state is LiveState.ENDED:
        return []
    was_on_air = live.state is LiveState.ON_AIR
    live.state, live.ended_at, live.end_reason = LiveState.ENDED, now, reason
    live.ended_by_id = by.id if by is not None else None
    targets = list(session.execute(select(LiveTarget, Station.code).join(Station)
                                   .where(LiveTarget.session_id == live.id).order_by(Station.code)).all())
    play_ids = [t.play_command_id for t, _ in targets if t.play_command_id is not None]
    if play_ids:
        session.execute(update(StationCommand).where(StationCommand.id.in_(play_ids),
                                                     StationCommand.state == CommandState.PENDING)
                        .values(state=CommandState.EXPIRED, detail="the announcement ended before delivery"))
    fetched = set(session.scalars(select(StationCommand.station_id).where(
        StationCommand.id.in_(play_ids), StationCommand.state != CommandState.EXPIRED))) if play_ids else set()
    told = [(t, code) for t, code in targets if t.station_id in fetched]
    # The stream's address goes with the stop, so an agent may stop that stream only (not an emergency since).
    url = session.scalar(select(StationCommand.args).where(StationCommand.id.in_(play_ids)).limit(1)) or {}
    outgoing = commands.issue_many(
        session, [(t.station_id, code) for t, code in told], CommandKind.STOP,
        {"live": live.id, "url": url.get("url", "")}, issued_by_id=live.ended_by_id or live.started_by_id,
        now=now, expires_at=now + STOP_LIFETIME)
    for (target, _), (_, command) in zip(told, outgoing, strict=True):
        target.stop_command_id = command["id"]
    spoke = (now - live.on_air_at).total_seconds() if was_on_air and live.on_air_at else 0
    record(session, by or live.started_by or "service", "live.end", "live", live.id,
           {"reason": reason.value, "seconds": round(spoke), "stations_stopped": len(outgoing)})
    session.commit()
    return outgoing


def heard(session: Session, live: LiveSession, now: datetime) -> None:
    live.last_audio_at = now
    session.commit()


def sweep(session: Session, *, now: datetime, config: LiveConfig) -> Outgoing:
    """End the announcements nobody feeds any more (their worker died, or a browser never sent audio)."""
    stale = now - timedelta(seconds=config.silence_s * 3)
    outgoing: Outgoing = []
    for live in session.scalars(select(LiveSession).where(LiveSession.state != LiveState.ENDED)).all():
        if live.until <= now:
            outgoing += end(session, live, LiveEnd.TIME_UP, now=now)
        elif live.state is LiveState.STARTING and live.opened_at < now - STARTING_GRACE:
            outgoing += end(session, live, LiveEnd.DROPPED, now=now)
        elif live.state is LiveState.ON_AIR and (live.last_audio_at or live.opened_at) < stale:
            outgoing += end(session, live, LiveEnd.DROPPED, now=now)
    return outgoing


# -- reading -----------------------------------------------------------------------------------------------------


def get_session(session: Session, user: User, live_id: int) -> LiveSession:
    live = session.get(LiveSession, live_id)
    if live is None or not (live.started_by_id == user.id or all(scope.covers(user, a) for a in live.areas)):
        raise NotFound(_l("There is no live announcement %(id)s.", id=live_id))
    return live


def may_stop(user: User, live: LiveSession) -> bool:
    return live.started_by_id == user.id or (scope.has_role(user, *SPEAKERS)
                                             and all(scope.covers(user, a) for a in live.areas))


def recent(session: Session, user: User, limit: int = 10) -> list[LiveSession]:
    found = session.scalars(select(LiveSession).order_by(LiveSession.id.desc()).limit(limit * 5))
    return [live for live in found if live.started_by_id == user.id or
            all(scope.covers(user, a) for a in live.areas)][:limit]


@dataclass(frozen=True)
class TargetRow:
    code: str
    name: str
    commune: str
    state: str  # pending, delivered, playing, failed, missed, stopping, stopped
    detail: str | None


def target_rows(session: Session, live: LiveSession) -> list[TargetRow]:
    """Each station of an announcement and where its commands stand (before going on air: none)."""
    rows = []
    found = session.execute(select(LiveTarget).join(Station).where(LiveTarget.session_id == live.id)
                            .order_by(Station.code)).scalars()
    for target in found:
        play, stop = target.play_command, target.stop_command
        station = target.station
        state = _target_state(live, play, stop)
        # Only what an agent answered is shown (in its words); the service's own notes are for the record.
        answered = stop if stop is not None and stop.state is CommandState.FAILED else play
        detail = answered.detail if state == "failed" or answered is stop else None
        rows.append(TargetRow(station.code, station.name, station.commune.name, state, detail))
    return rows


def _target_state(live: LiveSession, play: StationCommand | None, stop: StationCommand | None) -> str:
    if play is None or play.state is CommandState.EXPIRED:
        return "missed"
    if play.state is CommandState.FAILED:
        return "failed"
    if stop is not None:
        return "stopped" if stop.state in (CommandState.DONE, CommandState.FAILED) else "stopping"
    if live.state is LiveState.ENDED:
        return "stopped"
    return {CommandState.PENDING: "pending", CommandState.DELIVERED: "delivered"}.get(play.state, "playing")


def summary(rows: list[TargetRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts
