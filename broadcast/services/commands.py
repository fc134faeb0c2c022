"""Remote commands for stations (play now, stop, set volume): issued by people, fetched and acknowledged by agents.

A command not fetched within its lifetime expires: "play now" an hour late would surprise a whole commune.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from broadcast.db.models import AudioAsset, CommandKind, CommandState, Station, StationCommand, User
from broadcast.errors import Conflict, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import scope
from broadcast.services.audit import record

LIFETIME = timedelta(minutes=5)


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
    else:
        args = {}
    command = StationCommand(station_id=station.id, kind=kind, args=args, issued_by_id=user.id, issued_at=now,
                             expires_at=now + LIFETIME)
    session.add(command)
    session.flush()
    record(session, user, f"station.command.{kind.value}", "station", station.code, details=args)
    session.commit()
    return command


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
