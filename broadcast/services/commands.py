"""Remote commands for stations (play now, stop, set volume, relay a stream): issued by people, fetched and
acknowledged by agents.

A command not fetched within its lifetime expires: "play now" an hour late would surprise a whole commune. A
``play_stream`` lives until its stream's end (``until``): a station that comes back meanwhile still joins in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from broadcast.db.models import AudioAsset, CommandKind, CommandState, Station, StationCommand, User
from broadcast.errors import Conflict, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import scope
from broadcast.services.audit import record

LIFETIME = timedelta(minutes=5)
STREAM_LONGEST = timedelta(hours=6)  # a relay longer than this is a schedule's job (a playlist stream entry)
TITLE_LONGEST = 200


def issue(session: Session, user: User, station: Station, kind: CommandKind, args: dict[str, Any], now: datetime
          ) -> StationCommand:
    scope.require_area(user, station.commune)
    if kind is CommandKind.SET_VOLUME:
        volume = args.get("volume")
        if not isinstance(volume, int) or isinstance(volume, bool) or not 0 <= volume <= 100:
            raise InvalidInput(_l("The volume is a whole number from 0 to 100."), field="volume")
        args = {"volume": volume}
    elif kind is CommandKind.PLAY_NOW:
        sha = args.get("sha256")
        if not isinstance(sha, str) or session.scalar(select(AudioAsset.id).where(AudioAsset.sha256 == sha)) is None:
            raise InvalidInput(_l("Choose audio the service holds (its sha256)."), field="sha256")
        args = {"sha256": sha, "url": f"/api/v1/audio/{sha}"}
    elif kind is CommandKind.PLAY_STREAM:
        args = stream_args(args.get("url"), args.get("until"), args.get("title"), now)
    else:
        args = {}
    expires_at = datetime.fromisoformat(args["until"]) if kind is CommandKind.PLAY_STREAM else now + LIFETIME
    command = StationCommand(station_id=station.id, kind=kind, args=args, issued_by_id=user.id, issued_at=now,
                             expires_at=expires_at)
    session.add(command)
    session.flush()
    record(session, user, f"station.command.{kind.value}", "station", station.code, details=args)
    session.commit()
    return command


def stream_args(url: Any, until: Any, title: Any, now: datetime) -> dict[str, str]:
    """The arguments of a ``play_stream`` command, checked: an http(s) stream address, the end as ISO 8601 with its
    offset (after now, within STREAM_LONGEST), and a title for the station's log."""
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise InvalidInput(_l("Give the stream's address (http:// or https://)."), field="url")
    end = None
    if isinstance(until, datetime):
        end = until
    elif isinstance(until, str):
        try:
            end = datetime.fromisoformat(until)
        except ValueError:
            end = None
    if end is None or end.tzinfo is None:
        raise InvalidInput(_l("Give the stream's end as a date and time with its offset (ISO 8601)."), field="until")
    if not now < end <= now + STREAM_LONGEST:
        raise InvalidInput(_l("The stream's end must be later than now and within 6 hours."), field="until")
    title = title.strip() if isinstance(title, str) else ""
    if len(title) > TITLE_LONGEST:
        raise InvalidInput(_l("The title is at most %(n)s characters.", n=TITLE_LONGEST), field="title")
    return {"url": url, "until": end.isoformat(timespec="seconds"), "title": title}


def issue_many(session: Session, stations: list[tuple[int, str]], kind: CommandKind, args: dict[str, Any], *,
               issued_by_id: int | None, now: datetime, expires_at: datetime) -> list[tuple[str, dict[str, Any]]]:
    """One command per station in a single statement (an announcement may reach thousands of stations); the
    caller records and commits. Returns (station code, the command as agents read it) for each."""
    if not stations:
        return []
    rows = [{"station_id": station_id, "kind": kind, "args": args, "state": CommandState.PENDING,
             "issued_by_id": issued_by_id, "issued_at": now, "expires_at": expires_at}
            for station_id, _ in stations]
    ids = list(session.scalars(insert(StationCommand).returning(StationCommand.id, sort_by_parameter_order=True),
                               rows))
    issued_at = now.isoformat()
    return [(code, {"id": command_id, "kind": kind.value, "args": args, "issued_at": issued_at})
            for (_, code), command_id in zip(stations, ids, strict=True)]


def waiting(session: Session, station_id: int, now: datetime) -> list[StationCommand]:
    """The station's commands not yet fetched (marked delivered now); stale ones expire instead.

    Every poll asks, and almost always there is nothing: then this is one read, and nothing is written."""
    found = list(session.scalars(select(StationCommand).where(
        StationCommand.station_id == station_id, StationCommand.state == CommandState.PENDING)
        .order_by(StationCommand.id)))
    if not found:
        return []
    live = []
    for command in found:
        if command.expires_at < now:
            command.state = CommandState.EXPIRED
        else:
            command.state, command.delivered_at = CommandState.DELIVERED, now
            live.append(command)
    session.commit()
    return live


def stations_waiting(session: Session, station_ids: Iterable[int]) -> set[int]:
    """Which of these stations have commands not yet fetched: one query for all the long polls of a worker."""
    ids = list(station_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):  # SQLite and drivers cap the parameters of one statement
        found.update(session.scalars(select(StationCommand.station_id).distinct().where(
            StationCommand.state == CommandState.PENDING, StationCommand.station_id.in_(ids[start:start + 500]))))
    return found


def any_waiting(session: Session, station_id: int) -> bool:
    return session.scalar(select(StationCommand.id).where(
        StationCommand.station_id == station_id, StationCommand.state == CommandState.PENDING).limit(1)) is not None


def asks_for_audio(session: Session, station_id: int, sha256: str, now: datetime) -> bool:
    """Whether a live "play now" or emergency command sends this station the audio ``sha256`` (so it may
    download it). An emergency stays live until it expires: an agent that was offline fetches it late."""
    live = session.scalars(select(StationCommand.args).where(
        StationCommand.station_id == station_id,
        or_(and_(StationCommand.kind == CommandKind.PLAY_NOW,
                 StationCommand.state.in_([CommandState.PENDING, CommandState.DELIVERED]),
                 StationCommand.issued_at >= now - LIFETIME * 2),
            and_(StationCommand.kind == CommandKind.EMERGENCY,
                 StationCommand.state.in_([CommandState.PENDING, CommandState.DELIVERED, CommandState.DONE]),
                 StationCommand.expires_at > now))))
    return any(args.get("sha256") == sha256 for args in live)


def wire(command: StationCommand) -> dict[str, Any]:
    """A command as agents read it (MQTT and SFTP inbox; the long poll sends the same fields)."""
    return {"id": command.id, "kind": command.kind.value, "args": command.args,
            "issued_at": command.issued_at.isoformat()}


def acknowledge(session: Session, station_id: int, command_id: int, ok: bool, detail: str | None, now: datetime
                ) -> StationCommand:
    command = session.get(StationCommand, command_id)
    if command is None or command.station_id != station_id:
        raise NotFound(_l("This station has no command %(id)s.", id=command_id))
    if command.state in (CommandState.DONE, CommandState.FAILED):
        if (command.state is CommandState.DONE) == ok:
            return command  # the same acknowledgement again, after a lost answer
        raise Conflict(_l("Command %(id)s was already acknowledged.", id=command_id))
    command.state = CommandState.DONE if ok else CommandState.FAILED
    command.acked_at, command.detail = now, (detail or None)
    session.commit()
    return command


def recent(session: Session, user: User, station: Station, limit: int = 50) -> list[StationCommand]:
    scope.require_area(user, station.commune)
    return list(session.scalars(select(StationCommand).where(StationCommand.station_id == station.id)
                                .order_by(StationCommand.id.desc()).limit(limit)))
