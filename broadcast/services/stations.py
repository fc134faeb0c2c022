"""Stations: adding them, listing them within a user's area, tokens, and their online status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from broadcast.db.models import Area, Level, Role, Station, StationStatus, User, utcnow
from broadcast.errors import Conflict, InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.security import new_token, token_digest
from broadcast.services import scope
from broadcast.services.audit import record

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")


@dataclass
class StationSpec:
    """What a person gives to add a station."""

    code: str
    commune: Area
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    http_pull: bool = True
    sftp_push: bool = False
    ssh_host: str | None = None
    ssh_port: int = 22
    ssh_user: str | None = None
    ssh_remote_dir: str | None = None
    ssh_host_key: str | None = None
    speakers: int = 0


def _check(spec: StationSpec) -> None:
    """Refuse a station with every field that is wrong, not only the first."""
    problems = Problems()
    if not CODE_PATTERN.match(spec.code):
        problems.add("code", _l("A station code is 2 to 40 letters, digits, dots, dashes or underscores."))
    if spec.commune.level is not Level.COMMUNE:
        problems.add("commune", _l("A station belongs to a commune; %(name)s is a %(level)s.",
                                   name=spec.commune.name, level=spec.commune.level.value))
    if (spec.lat is None) != (spec.lon is None):
        problems.add("lat", _l("Give both latitude and longitude, or neither."))
    elif spec.lat is not None and not (-90 <= spec.lat <= 90 and -180 <= spec.lon <= 180):
        problems.add("lat", _l("Latitude must lie within -90..90 and longitude within -180..180."))
    if not (spec.http_pull or spec.sftp_push):
        problems.add("delivery_modes", _l("Choose at least one delivery mode (http-pull, sftp-push)."))
    if spec.sftp_push and not (spec.ssh_host and spec.ssh_user and spec.ssh_remote_dir):
        problems.add("ssh_host", _l("SFTP push needs the SSH host, user and remote directory."))
    if not 1 <= spec.ssh_port <= 65535:
        problems.add("ssh_port", _l("The SSH port must lie within 1..65535."))
    if spec.ssh_host_key and not re.match(r"^(ssh-|ecdsa-)\S+ [A-Za-z0-9+/=]+$", spec.ssh_host_key.strip()):
        problems.add("ssh_host_key", _l("The host key must look like 'ssh-ed25519 AAAA...'."))
    problems.raise_any()


def add_station(session: Session, spec: StationSpec, *, actor: User | str = "cli") -> Station:
    if isinstance(actor, User):
        scope.require_role(actor, Role.EDITOR)
        scope.require_area(actor, spec.commune)
    _check(spec)
    if session.scalar(select(Station.id).where(Station.code == spec.code)):
        raise Conflict(_l("The station code %(code)s is already taken.", code=spec.code), field="code")
    station = Station(
        code=spec.code, name=spec.name or f"{spec.commune.name} ({spec.code})", commune=spec.commune,
        lat=spec.lat if spec.lat is not None else spec.commune.lat,
        lon=spec.lon if spec.lon is not None else spec.commune.lon,
        http_pull=spec.http_pull, sftp_push=spec.sftp_push, ssh_host=spec.ssh_host, ssh_port=spec.ssh_port,
        ssh_user=spec.ssh_user, ssh_remote_dir=spec.ssh_remote_dir,
        ssh_host_key=spec.ssh_host_key.strip() if spec.ssh_host_key else None, speakers=spec.speakers,
    )
    session.add(station)
    session.flush()
    record(session, actor, "station.add", "station", station.code, {"commune": spec.commune.code})
    session.commit()
    return station


def list_stations(session: Session, user: User, *, area: Area | None = None, status: StationStatus | None = None,
                  ) -> list[Station]:
    query = scope.limit_stations(session, user, select(Station)).options(joinedload(Station.commune))
    if area is not None:
        scope.require_area(user, area)
        query = query.where(Area.path.startswith(area.path))
    if status is not None:
        query = query.where(Station.status == status)
    return list(session.scalars(query.order_by(Station.code)))


def get_station(session: Session, code: str, user: User | None = None) -> Station:
    station = session.scalar(select(Station).where(Station.code == code).options(joinedload(Station.commune)))
    # Another area's station is reported as missing, not forbidden, so codes cannot be probed.
    if station is None or (user is not None and not scope.covers(user, station.commune)):
        raise NotFound(_l("No station has the code %(code)s.", code=code))
    return station


def issue_token(session: Session, station: Station, *, actor: User | str = "cli") -> str:
    """A new bearer token for the station, replacing any old one at once; shown once, stored as a digest."""
    return rotate_token(session, station, overlap=timedelta(0), actor=actor)


MAX_TOKEN_OVERLAP = timedelta(days=7)


def rotate_token(session: Session, station: Station, *, overlap: timedelta, actor: User | str = "cli",
                 now: datetime | None = None) -> str:
    """A new token for the station; the one it replaces keeps working for ``overlap`` (0: stops at once), so
    the agent can be given the new one without a gap. Shown once, stored as a digest."""
    if isinstance(actor, User):
        scope.require_area(actor, station.commune)
    if not timedelta(0) <= overlap <= MAX_TOKEN_OVERLAP:
        raise InvalidInput(_l("The old token may keep working from 0 to %(n)s hours.",
                              n=int(MAX_TOKEN_OVERLAP.total_seconds() // 3600)), field="overlap_hours")
    now = now or utcnow()
    token = new_token("st")
    keep = station.token_sha256 is not None and overlap > timedelta(0)
    station.previous_token_sha256 = station.token_sha256 if keep else None
    station.previous_token_expires_at = now + overlap if keep else None
    station.token_sha256 = token_digest(token)
    station.token_issued_at = now
    record(session, actor, "station.token", "station", station.code,
           {"overlap_s": int(overlap.total_seconds())} if keep else None)
    session.commit()
    return token


def revoke_token(session: Session, station: Station, *, actor: User | str = "cli") -> None:
    """The station's tokens, current and previous, stop working at once; it needs a new one to connect."""
    if isinstance(actor, User):
        scope.require_area(actor, station.commune)
    station.token_sha256 = station.previous_token_sha256 = station.previous_token_expires_at = None
    record(session, actor, "station.token_revoke", "station", station.code)
    session.commit()


def token_matches(token_digest_: str, now: datetime):
    """The SQL condition: a station's current token, or its previous one still inside the overlap."""
    return (Station.token_sha256 == token_digest_) | (
        (Station.previous_token_sha256 == token_digest_) & (Station.previous_token_expires_at > now))


def station_for_token(session: Session, token: str, *, now: datetime | None = None) -> Station | None:
    return session.scalar(select(Station).where(token_matches(token_digest(token), now or utcnow()),
                                                Station.active))


def mark_silent_offline(session: Session, *, now: datetime, silence: timedelta) -> int:
    """Stations not heard from within ``silence`` become offline; returns how many changed."""
    result = session.execute(
        update(Station)
        .where(Station.status.in_([StationStatus.ONLINE, StationStatus.PLAYING]),
               Station.last_contact_at < now - silence)
        .values(status=StationStatus.OFFLINE)
    )
    session.commit()
    return result.rowcount or 0


def status_counts(session: Session, user: User) -> dict[str, int]:
    query = scope.limit_stations(session, user, select(Station.status, func.count()).select_from(Station))
    found = {status: n for status, n in session.execute(query.group_by(Station.status))}
    return {s.value: found.get(s, 0) for s in StationStatus}


def all_stations(session: Session) -> list[Station]:
    """Every station, for administrators' command-line listings."""
    return list(session.scalars(select(Station).options(joinedload(Station.commune)).order_by(Station.code)))
