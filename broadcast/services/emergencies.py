"""Emergency broadcasts: requested, approved by a second person, sent to every station of the chosen areas at
once, tracked per station, re-sent to stragglers, cancelled.

Each target station gets one ``emergency`` command (see :mod:`broadcast.services.commands`), so every path
that carries commands carries the warning: MQTT (QoS 1) and the HTTP long poll at once, and an SFTP push into
the inbox of stations that receive by push (:mod:`broadcast.services.emergency_push`). The agent acts once per
broadcast whichever path brings it first, acknowledges receipt, and reports each airing in its as-run log as
``emergency-<broadcast>-<n>``; the tracking reads those, so it never disagrees with the as-run log.

The functions here change the database and return what must be sent; :func:`dispatch` sends it after the
commit, so an agent never hears of a command the database does not hold.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from broadcast import formats
from broadcast.alerts import cap as cap_format
from broadcast.alerts import matching
from broadcast.db.models import (
    Area,
    AudioAsset,
    CommandKind,
    CommandState,
    EmergencyBroadcast,
    EmergencyState,
    EmergencyTarget,
    ItemClass,
    NewsItem,
    PlaybackEvent,
    PlaybackOutcome,
    Role,
    Station,
    StationCommand,
    User,
    emergency_areas,
)
from broadcast.errors import Conflict, Forbidden, InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.services import areas as area_service
from broadcast.services import scope, webhooks
from broadcast.services.audit import record

MAX_REPEATS = 20
MAX_LIFETIME = timedelta(hours=72)
DEFAULT_LIFETIME = timedelta(hours=2)
RISK_LEVELS = range(1, 6)
PENDING_EVENT = "emergency.pending"  # the webhook event of a broadcast that waits for its approver
# A state inside a sentence ("This emergency broadcast is cancelled already."), in the reader's language.
STATE_NAMES = {EmergencyState.PENDING: _l("waiting for approval"), EmergencyState.ISSUED: _l("sent"),
               EmergencyState.REJECTED: _l("rejected"), EmergencyState.CANCELLED: _l("cancelled"),
               EmergencyState.TEST: _l("an exercise, not aired")}


@dataclass(frozen=True)
class EmergencyFields:
    item_id: int
    area_codes: list[str]
    risk_level: int
    repeat_count: int = 1
    repeat_interval_s: int = 0
    expires_at: datetime | None = None  # default: two hours from now


@dataclass(frozen=True)
class Outgoing:
    """Commands committed to the database, to hand to the agents: (station code, the command as agents read it)."""

    commands: tuple[tuple[str, dict], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.commands)

    def __add__(self, other: Outgoing) -> Outgoing:
        return Outgoing(self.commands + other.commands)


# -- reading ---------------------------------------------------------------------------------------------------


def get_broadcast(session: Session, user: User, broadcast_id: int) -> EmergencyBroadcast:
    broadcast = session.get(EmergencyBroadcast, broadcast_id)
    if broadcast is None or not _sees(user, broadcast):
        raise NotFound(_l("There is no emergency broadcast %(id)s.", id=broadcast_id))
    return broadcast


def list_broadcasts(session: Session, user: User, *, limit: int = 100) -> list[EmergencyBroadcast]:
    found = session.scalars(select(EmergencyBroadcast).options(selectinload(EmergencyBroadcast.areas))
                            .order_by(EmergencyBroadcast.id.desc()).limit(limit * 4))
    return [b for b in found if _sees(user, b)][:limit]


PUBLIC_STATES = (EmergencyState.ISSUED, EmergencyState.CANCELLED)


def public_for_area(session: Session, area: Area, *, since: datetime, limit: int = 50) -> list[EmergencyBroadcast]:
    """The warnings people in ``area`` heard (or would have), newest first: those sent to it, to an area above
    it or to one inside it, issued since ``since``; for the public alert feed."""
    ancestors = [area.path[:i + 1] for i, ch in enumerate(area.path) if ch == "/"]
    reaches = or_(Area.path.startswith(area.path), Area.path.in_(ancestors))
    ids = select(emergency_areas.c.broadcast_id).join(Area, Area.id == emergency_areas.c.area_id).where(reaches)
    return list(session.scalars(select(EmergencyBroadcast).where(
        EmergencyBroadcast.id.in_(ids), EmergencyBroadcast.state.in_(PUBLIC_STATES),
        EmergencyBroadcast.issued_at >= since).order_by(EmergencyBroadcast.issued_at.desc()).limit(limit)))


def public_broadcast(session: Session, broadcast_id: int) -> EmergencyBroadcast:
    broadcast = session.get(EmergencyBroadcast, broadcast_id)
    if broadcast is None or broadcast.state not in PUBLIC_STATES:
        raise NotFound(_l("There is no emergency broadcast %(id)s.", id=broadcast_id))
    return broadcast


def public_audio(session: Session, sha256: str) -> AudioAsset | None:
    """The audio of a warning that was sent: public, like the warning itself."""
    return session.scalar(select(AudioAsset).join(NewsItem, NewsItem.audio_asset_id == AudioAsset.id)
                          .join(EmergencyBroadcast, EmergencyBroadcast.item_id == NewsItem.id)
                          .where(AudioAsset.sha256 == sha256, EmergencyBroadcast.state.in_(PUBLIC_STATES)).limit(1))


def pending_count(session: Session, user: User, now: datetime) -> int:
    """How many broadcasts wait for an approver in the user's area (one counting query, for the banner on every
    page): those with an area inside the user's, or all of them for whoever covers everything."""
    query = (select(func.count(func.distinct(EmergencyBroadcast.id)))
             .where(EmergencyBroadcast.state == EmergencyState.PENDING, EmergencyBroadcast.expires_at > now))
    if not scope.covers_everything(user):
        if user.scope_area is None:
            return 0
        query = (query.join(emergency_areas, emergency_areas.c.broadcast_id == EmergencyBroadcast.id)
                 .join(Area, Area.id == emergency_areas.c.area_id)
                 .where(Area.path.startswith(user.scope_area.path)))
    return session.scalar(query) or 0


def audio_seen(session: Session, user: User, sha256: str) -> bool:
    """Whether the audio is that of a broadcast the user sees: the approver hears what will air before approving,
    even when the item belongs to an area above theirs."""
    found = session.scalars(select(EmergencyBroadcast).join(NewsItem, EmergencyBroadcast.item_id == NewsItem.id)
                            .join(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
                            .where(AudioAsset.sha256 == sha256).order_by(EmergencyBroadcast.id.desc()).limit(20))
    return any(_sees(user, broadcast) for broadcast in found)


def _sees(user: User, broadcast: EmergencyBroadcast) -> bool:
    """Whoever covers one of its areas, or whose area lies inside one of them (a commune hears a province's)."""
    if scope.covers_everything(user):
        return True
    mine = user.scope_area
    return mine is not None and any(a.path.startswith(mine.path) or mine.path.startswith(a.path)
                                    for a in broadcast.areas)


# -- requesting, approving, rejecting -------------------------------------------------------------------------


def _areas(session: Session, user: User, codes: list[str], problems: Problems) -> list[Area]:
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        problems.add("areas", _l("Choose at least one area to warn."))
    found, unknown = {}, []
    for code in codes:
        try:
            found[code] = area_service.find_area(session, code)  # the current unit when a legacy one shares the code
        except NotFound:
            unknown.append(code)
    if unknown:
        problems.add("areas", _l("Unknown area: %(codes)s.", codes=", ".join(unknown)))
    for area in found.values():
        scope.require_area(user, area)
    return list(found.values())


def _item(session: Session, user: User, item_id: int, problems: Problems) -> NewsItem:
    item = session.get(NewsItem, item_id)
    if item is None or (item.owner_area is not None and not scope.covers(user, item.owner_area)
                        and not scope.covers_everything(user)):
        raise NotFound(_l("There is no item %(id)s.", id=item_id))
    if item.item_class is not ItemClass.EMERGENCY:
        problems.add("item_id", _l("Only an item of the emergency class can be broadcast as an emergency."))
    if item.audio_asset is None:
        problems.add("item_id", _l("The item has no audio yet: have its text read or upload a recording first."))
    return item


def check_fields(fields: EmergencyFields, duration_ms: int | None, now: datetime,
                 problems: Problems | None = None) -> datetime:
    """Validate risk level, repeats and expiry (pure); returns the expiry to store. Given ``problems``, adds to
    it instead of refusing (the caller refuses with everything found); without a length (no audio yet) the
    repeats are not judged against it."""
    found = problems if problems is not None else Problems()
    if fields.risk_level not in RISK_LEVELS:
        found.add("risk_level", _l("The risk level is a whole number from 1 to 5."))
    if not 1 <= fields.repeat_count <= MAX_REPEATS:
        found.add("repeat_count", _l("It airs from 1 to %(n)s times.", n=MAX_REPEATS))
    expires_at = fields.expires_at or now + DEFAULT_LIFETIME
    if expires_at.tzinfo is None:
        found.add("expires_at", _l("Give the expiry with its time zone."))
    elif expires_at <= now:
        found.add("expires_at", _l("The expiry has already passed."))
    elif expires_at - now > MAX_LIFETIME:
        found.add("expires_at", _l("An emergency broadcast lasts at most %(h)s hours; issue a new one after.",
                                   h=int(MAX_LIFETIME.total_seconds() // 3600)))
    if 1 < fields.repeat_count <= MAX_REPEATS and duration_ms is not None:
        if fields.repeat_interval_s * 1000 < duration_ms:
            found.add("repeat_interval_s", _l("Between two airings leave at least the item's length (%(length)s).",
                                              length=formats.spoken_length(duration_ms / 1000)))
        elif "expires_at" not in found:
            last_start = timedelta(seconds=fields.repeat_interval_s * (fields.repeat_count - 1))
            if now + last_start + timedelta(milliseconds=duration_ms) > expires_at:
                found.add("repeat_count", _l("The last repeat would end after the expiry: fewer repeats, a shorter "
                                             "gap or a later expiry."))
    elif fields.repeat_count <= 1 and fields.repeat_interval_s < 0:
        found.add("repeat_interval_s", _l("The gap between airings cannot be negative."))
    if problems is None:
        found.raise_any()
    return expires_at


def request(session: Session, user: User, fields: EmergencyFields, *, now: datetime, two_person: bool = True
            ) -> tuple[EmergencyBroadcast, Outgoing]:
    """Record a request; with the two-person rule off, an approver's own request is issued at once."""
    scope.require_role(user, Role.EDITOR, Role.APPROVER)
    problems = Problems()
    item = _item(session, user, fields.item_id, problems)
    expires_at = check_fields(fields, item.audio_asset.duration_ms if item.audio_asset else None, now, problems)
    areas = _areas(session, user, fields.area_codes, problems)
    problems.raise_any()
    broadcast = EmergencyBroadcast(item=item, areas=areas, risk_level=fields.risk_level,
                                   repeat_count=fields.repeat_count,
                                   repeat_interval_s=fields.repeat_interval_s if fields.repeat_count > 1 else 0,
                                   expires_at=expires_at, state=EmergencyState.PENDING, requested_by_id=user.id,
                                   source="manual")
    stations = _stations_for(session, broadcast)
    if not stations:
        raise InvalidInput(_l("No active station in the chosen areas."), field="areas")
    session.add(broadcast)
    session.flush()
    record(session, user, "emergency.request", "emergency", broadcast.id,
           {"item": item.id, "areas": [a.code for a in areas], "risk_level": fields.risk_level})
    outgoing = Outgoing()
    if not two_person and user.role in (Role.APPROVER, Role.ADMIN):
        outgoing = _issue(session, broadcast, user, now)
    else:
        prepare(session, broadcast, now, stations)
    session.commit()
    return broadcast, outgoing


def approve(session: Session, user: User, broadcast: EmergencyBroadcast, *, now: datetime, two_person: bool = True
            ) -> Outgoing:
    scope.require_role(user, Role.APPROVER)
    for area in broadcast.areas:
        scope.require_area(user, area)
    if broadcast.state is not EmergencyState.PENDING:
        raise Conflict(_l("This emergency broadcast is %(state)s, not waiting for approval.",
                          state=STATE_NAMES[broadcast.state]))
    if two_person and broadcast.requested_by_id == user.id:
        raise Forbidden(_l("Another approver must approve an emergency broadcast you requested (two-person "
                           "rule)."))
    if broadcast.expires_at <= now:
        raise Conflict(_l("It expired before it was approved; request a new one."))
    outgoing = _issue(session, broadcast, user, now)
    session.commit()
    return outgoing


def reject(session: Session, user: User, broadcast: EmergencyBroadcast, reason: str, *, now: datetime) -> None:
    scope.require_role(user, Role.APPROVER)
    if broadcast.state is not EmergencyState.PENDING:
        raise Conflict(_l("This emergency broadcast is %(state)s, not waiting for approval.",
                          state=STATE_NAMES[broadcast.state]))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why it is rejected."), field="reason")
    broadcast.state, broadcast.closed_by_id, broadcast.closed_at, broadcast.close_reason = (
        EmergencyState.REJECTED, user.id, now, reason)
    _withdraw_held(session, broadcast, "rejected")
    record(session, user, "emergency.reject", "emergency", broadcast.id, {"reason": reason})
    session.commit()


def command_args(broadcast: EmergencyBroadcast) -> dict:
    """What an agent needs to air it: the audio, how often, until when (the agent's wire format)."""
    asset = broadcast.item.audio_asset
    return {
        "broadcast": broadcast.id, "title": broadcast.item.title, "risk_level": broadcast.risk_level,
        "item_id": broadcast.item_id, "sha256": asset.sha256, "url": f"/api/v1/audio/{asset.sha256}",
        "size": asset.size_bytes, "duration_ms": asset.duration_ms, "repeat": broadcast.repeat_count,
        "interval_s": broadcast.repeat_interval_s, "expires_at": broadcast.expires_at.isoformat(),
    }


def issue_now(session: Session, broadcast: EmergencyBroadcast, actor: User | str, now: datetime) -> Outgoing:
    """Send a broadcast no person needs to approve (a CAP alert from a trusted sender); the caller commits."""
    return _issue(session, broadcast, actor, now)


def _stations_for(session: Session, broadcast: EmergencyBroadcast) -> list[tuple[int, str]]:
    """(id, code) of its active stations: those of its areas, or for a CAP alert those its areas, polygons and
    circles reach (matched again when it is issued, so a station added meanwhile is not forgotten)."""
    query = select(Station.id, Station.code).where(Station.active.is_(True)).order_by(Station.code)
    if broadcast.source == "cap" and broadcast.cap_xml:
        codes = matching.target_stations(session, cap_format.parse_cap(broadcast.cap_xml.encode("utf-8")))
        return [tuple(row) for row in session.execute(query.where(Station.code.in_(codes)))]
    if not broadcast.areas:
        return []
    return [tuple(row) for row in session.execute(
        query.join(Area, Station.commune_id == Area.id).where(or_(*(Area.path.startswith(a.path)
                                                                     for a in broadcast.areas))))]


def _insert_commands(session: Session, stations: list[tuple[int, str]], kind: CommandKind, args: dict, *,
                     issued_by_id: int | None, now: datetime, expires_at: datetime,
                     state: CommandState = CommandState.PENDING) -> tuple[list[int], Outgoing]:
    """One command per station in a single statement (a province has thousands of stations, and a warning's
    delay is the time this takes); returns their ids and the messages for the agents."""
    if not stations:
        return [], Outgoing()
    rows = [{"station_id": station_id, "kind": kind, "args": args, "state": state,
             "issued_by_id": issued_by_id, "issued_at": now, "expires_at": expires_at}
            for station_id, _ in stations]
    ids = list(session.scalars(insert(StationCommand).returning(StationCommand.id, sort_by_parameter_order=True),
                               rows))
    issued_at = now.isoformat()
    return ids, Outgoing(tuple((code, {"id": command_id, "kind": kind.value, "args": args, "issued_at": issued_at})
                               for (_, code), command_id in zip(stations, ids, strict=True)))


def prepare(session: Session, broadcast: EmergencyBroadcast, now: datetime,
            stations: list[tuple[int, str]] | None = None) -> None:
    """Make each station's command ready, held, while the broadcast waits for its approver: approving then only
    releases them (one UPDATE), so the warning leaves within milliseconds of the approver's click instead of
    after thousands of inserts. ``stations``: its (id, code) pairs when the caller has them already."""
    stations = _stations_for(session, broadcast) if stations is None else stations
    ids, _ = _insert_commands(session, stations, CommandKind.EMERGENCY, command_args(broadcast),
                              issued_by_id=broadcast.requested_by_id, now=now, expires_at=broadcast.expires_at,
                              state=CommandState.HELD)
    _insert_targets(session, broadcast, stations, ids, now)
    announce_pending(session, broadcast)


def announce_pending(session: Session, broadcast: EmergencyBroadcast) -> int:
    """Queue ``emergency.pending`` for the webhooks its areas reach, once per broadcast; returns how many."""
    payload = {"id": broadcast.id, "title": broadcast.item.title, "risk_level": broadcast.risk_level,
               "areas": [a.code for a in broadcast.areas], "source": broadcast.source,
               "expires_at": broadcast.expires_at.isoformat(timespec="seconds"),
               "path": f"/emergencies/{broadcast.id}"}
    event_id = hashlib.sha256(f"{PENDING_EVENT}:{broadcast.id}".encode()).hexdigest()
    return webhooks.enqueue(session, PENDING_EVENT, payload, [a.id for a in broadcast.areas], event_id=event_id)


def _insert_targets(session: Session, broadcast: EmergencyBroadcast, stations: list[tuple[int, str]],
                    command_ids: list[int], now: datetime) -> None:
    if stations:
        session.execute(insert(EmergencyTarget), [
            {"broadcast_id": broadcast.id, "station_id": station_id, "command_id": command_id, "sends": 1,
             "last_sent_at": now} for (station_id, _), command_id in zip(stations, command_ids, strict=True)])


def _withdraw_held(session: Session, broadcast: EmergencyBroadcast, why: str) -> None:
    held = select(EmergencyTarget.command_id).where(EmergencyTarget.broadcast_id == broadcast.id)
    session.execute(update(StationCommand).where(StationCommand.id.in_(held), StationCommand.state == CommandState.HELD)
                    .values(state=CommandState.EXPIRED, detail=why))


def _issue(session: Session, broadcast: EmergencyBroadcast, actor: User | str, now: datetime) -> Outgoing:
    """Release the prepared commands (and make those of stations added since), then say what to send."""
    stations = _stations_for(session, broadcast)
    if not stations:
        raise Conflict(_l("No active station in the chosen areas."))
    broadcast.state, broadcast.issued_at = EmergencyState.ISSUED, now
    if isinstance(actor, User):
        broadcast.approved_by_id = actor.id
    session.flush()
    args = command_args(broadcast)  # as it is now: the item's audio may have been replaced since the request
    prepared = dict(session.execute(select(EmergencyTarget.station_id, EmergencyTarget.command_id)
                                    .where(EmergencyTarget.broadcast_id == broadcast.id)).all())
    active = {station_id for station_id, _ in stations}
    gone = [station_id for station_id in prepared if station_id not in active]
    if gone:  # switched off since the request: theirs are never sent, and they are no target
        session.execute(update(StationCommand).where(StationCommand.id.in_([prepared[s] for s in gone]))
                        .values(state=CommandState.EXPIRED, detail="the station was switched off before the approval"))
        session.execute(delete(EmergencyTarget).where(EmergencyTarget.broadcast_id == broadcast.id,
                                                      EmergencyTarget.station_id.in_(gone)))
    held = select(EmergencyTarget.command_id).where(EmergencyTarget.broadcast_id == broadcast.id)
    session.execute(update(StationCommand).where(StationCommand.id.in_(held), StationCommand.state == CommandState.HELD)
                    .values(state=CommandState.PENDING, issued_at=now, args=args))
    session.execute(update(EmergencyTarget).where(EmergencyTarget.broadcast_id == broadcast.id)
                    .values(last_sent_at=now))
    added = [(station_id, code) for station_id, code in stations if station_id not in prepared]
    ids, _ = _insert_commands(session, added, CommandKind.EMERGENCY, args, issued_by_id=broadcast.requested_by_id,
                              now=now, expires_at=broadcast.expires_at)
    _insert_targets(session, broadcast, added, ids, now)
    issued_at = now.isoformat()
    outgoing = Outgoing(tuple(
        (code, {"id": command_id, "kind": CommandKind.EMERGENCY.value, "args": args, "issued_at": issued_at})
        for code, command_id in session.execute(
            select(Station.code, StationCommand.id).join(StationCommand, StationCommand.station_id == Station.id)
            .join(EmergencyTarget, EmergencyTarget.command_id == StationCommand.id)
            .where(EmergencyTarget.broadcast_id == broadcast.id, StationCommand.state == CommandState.PENDING)
            .order_by(Station.code))))
    record(session, actor, "emergency.issue", "emergency", broadcast.id,
           {"stations": len(outgoing.commands), "risk_level": broadcast.risk_level})
    return outgoing


# -- after issue ----------------------------------------------------------------------------------------------


def cancel(session: Session, actor: User | str, broadcast: EmergencyBroadcast, reason: str, *, now: datetime
           ) -> Outgoing:
    """Withdraw it: commands not yet fetched never go out, and every station is told to drop the rest."""
    if isinstance(actor, User):
        scope.require_role(actor, Role.APPROVER)
        for area in broadcast.areas:
            scope.require_area(actor, area)
    if broadcast.state not in (EmergencyState.PENDING, EmergencyState.ISSUED):
        raise Conflict(_l("This emergency broadcast is %(state)s already.", state=STATE_NAMES[broadcast.state]))
    was_issued = broadcast.state is EmergencyState.ISSUED
    broadcast.state, broadcast.closed_at = EmergencyState.CANCELLED, now
    broadcast.closed_by_id = actor.id if isinstance(actor, User) else None
    broadcast.close_reason = (reason or "").strip() or None
    record(session, actor, "emergency.cancel", "emergency", broadcast.id, {"reason": broadcast.close_reason})
    if not was_issued:
        _withdraw_held(session, broadcast, "cancelled before approval")
        session.commit()
        return Outgoing()
    targets = _targets(session, broadcast)
    command_ids = [t.command_id for t, _ in targets if t.command_id is not None]
    if command_ids:
        session.execute(update(StationCommand)
                        .where(StationCommand.id.in_(command_ids), StationCommand.state == CommandState.PENDING)
                        .values(state=CommandState.EXPIRED, detail="cancelled before delivery"))
    _, outgoing = _insert_commands(session, [(s.id, s.code) for _, s in targets], CommandKind.CANCEL_EMERGENCY,
                                   {"broadcast": broadcast.id}, issued_by_id=broadcast.closed_by_id, now=now,
                                   expires_at=max(broadcast.expires_at, now + timedelta(minutes=5)))
    session.commit()
    return outgoing


def resend(session: Session, user: User, broadcast: EmergencyBroadcast, *, now: datetime,
           silent_after: timedelta) -> Outgoing:
    """Send it again to each station that has not acknowledged it (silent, or still waiting)."""
    scope.require_role(user, Role.APPROVER, Role.EDITOR)
    if broadcast.state is not EmergencyState.ISSUED:
        raise Conflict(_l("Only an issued emergency broadcast can be sent again."))
    if broadcast.expires_at <= now:
        raise Conflict(_l("It has expired; request a new one."))
    status = {row.station_id: row.status for row in tracking(session, broadcast, now=now, silent_after=silent_after)}
    stragglers = [(t, s) for t, s in _targets(session, broadcast) if status.get(s.id) in ("sent", "silent")]
    old = [t.command_id for t, _ in stragglers if t.command_id is not None]
    if old:
        session.execute(update(StationCommand).where(StationCommand.id.in_(old),
                                                     StationCommand.state == CommandState.PENDING)
                        .values(state=CommandState.EXPIRED, detail="superseded by a re-send"))
    ids, outgoing = _insert_commands(session, [(s.id, s.code) for _, s in stragglers], CommandKind.EMERGENCY,
                                     command_args(broadcast), issued_by_id=user.id, now=now,
                                     expires_at=broadcast.expires_at)
    for (target, _), command_id in zip(stragglers, ids, strict=True):
        target.command_id, target.sends, target.last_sent_at = command_id, target.sends + 1, now
    record(session, user, "emergency.resend", "emergency", broadcast.id, {"stations": len(stragglers)})
    session.commit()
    return outgoing


def _targets(session: Session, broadcast: EmergencyBroadcast) -> list[tuple[EmergencyTarget, Station]]:
    return list(session.execute(select(EmergencyTarget, Station).join(Station)
                                .where(EmergencyTarget.broadcast_id == broadcast.id).order_by(Station.code)).all())


# -- tracking -------------------------------------------------------------------------------------------------

STATUSES = ("played", "received", "sent", "silent", "failed")


@dataclass(frozen=True)
class StationTrack:
    station_id: int
    code: str
    name: str
    commune: str
    status: str  # one of STATUSES
    sends: int
    last_sent_at: datetime
    received_at: datetime | None
    plays: int
    detail: str | None


def occurrence_key(broadcast_id: int) -> str:
    """The as-run occurrence key of a broadcast's airings (each entry is ``emergency-<id>-<n>``)."""
    return f"emergency-{broadcast_id}"


def tracking(session: Session, broadcast: EmergencyBroadcast, *, now: datetime, silent_after: timedelta
             ) -> list[StationTrack]:
    """Per target station: played (an airing reported), received (acknowledged), sent (not yet), silent (no word
    ``silent_after`` after the last send, or the command expired unfetched), or failed (with the reason).
    Nothing before it is issued."""
    if broadcast.issued_at is None:
        return []
    rows = session.execute(
        select(EmergencyTarget, Station.code, Station.name, Area.name, StationCommand.state,
               StationCommand.acked_at, StationCommand.detail, StationCommand.push_error)
        .join(Station, EmergencyTarget.station_id == Station.id).join(Area, Station.commune_id == Area.id)
        .outerjoin(StationCommand, EmergencyTarget.command_id == StationCommand.id)
        .where(EmergencyTarget.broadcast_id == broadcast.id).order_by(Station.code)).all()
    plays: Counter[int] = Counter()
    failures: dict[int, str] = {}
    for station_id, outcome, reason in session.execute(
            select(PlaybackEvent.station_id, PlaybackEvent.outcome, PlaybackEvent.reason)
            .where(PlaybackEvent.occurrence_key == occurrence_key(broadcast.id),
                   PlaybackEvent.station_id.in_([r[0].station_id for r in rows] or [0]))):
        if outcome is PlaybackOutcome.PLAYED:
            plays[station_id] += 1
        else:
            failures.setdefault(station_id, reason or outcome.value)
    out = []
    for target, code, name, commune, state, acked_at, detail, push_error in rows:
        sid = target.station_id
        if plays[sid]:
            status, why = "played", None
        elif state is CommandState.FAILED:
            status, why = "failed", detail
        elif sid in failures:
            status, why = "failed", failures[sid]
        elif state is CommandState.DONE:
            status, why = "received", detail
        elif state is CommandState.EXPIRED or now - target.last_sent_at > silent_after:
            status, why = "silent", push_error
        else:
            status, why = "sent", push_error
        out.append(StationTrack(sid, code, name, commune, status, target.sends, target.last_sent_at, acked_at,
                                plays[sid], why))
    return out


def summary(tracks: list[StationTrack]) -> dict[str, int]:
    counts = Counter(t.status for t in tracks)
    return {"stations": len(tracks), **{s: counts.get(s, 0) for s in STATUSES}}


def by_commune(tracks: list[StationTrack]) -> list[dict]:
    groups: dict[str, list[StationTrack]] = {}
    for track in tracks:
        groups.setdefault(track.commune, []).append(track)
    return [{"area": commune, **summary(items)} for commune, items in sorted(groups.items())]
