"""Delivery records: which manifest version reached which station over which channel, and what needs attention.

HTTP pull: a fetch of the manifest (200) records the version as sent over "http"; the station's receipt
(the version it installed) verifies it. SFTP push: a compile that changes a push station's manifest queues
a delivery; the push job sends it and verifies it by reading the manifest back. Older versions still on
their way are superseded: a station only ever needs its newest manifest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, joinedload

from broadcast.db.models import Area, Delivery, DeliveryState, Station, StationManifest, StationStatus, User
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import delivery_errors, scope

HTTP, SFTP = "http", "sftp"
OPEN = (DeliveryState.QUEUED, DeliveryState.FAILED)
_failed = aliased(Delivery)


def record_fetch(session: Session, station_id: int, version: int, now: datetime) -> None:
    """A station fetched ``version`` of its manifest over HTTP (kept once per version).

    Two fetches of a new version can arrive together (an agent's retry, a nudge racing a poll): the row is
    inserted with ON CONFLICT DO NOTHING, so the second one is a no-op, not an error."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(Delivery).values(station_id=station_id, manifest_version=version, channel=HTTP,
                                        state=DeliveryState.SENT, attempts=1, sent_at=now, bytes_sent=0,
                                        created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["station_id", "manifest_version", "channel"])
        .returning(Delivery.id)).first()
    if inserted is not None:
        _supersede_older(session, station_id, version, HTTP)
    session.commit()


def record_receipt(session: Session, station: Station, version: int, now: datetime) -> StationManifest | None:
    """The station says it installed ``version``: verify its deliveries, note the version and the contact."""
    current = session.get(StationManifest, station.id)
    if current is None or version > current.version:
        raise InvalidInput(_l("Version %(version)s was never sent to this station (the newest is %(newest)s).",
                              version=version, newest=current.version if current else 0), field="version")
    session.execute(update(Delivery)
                    .where(Delivery.station_id == station.id, Delivery.manifest_version == version,
                           Delivery.state != DeliveryState.VERIFIED)
                    .values(state=DeliveryState.VERIFIED, verified_at=now, next_retry_at=None, updated_at=now))
    for channel in (HTTP, SFTP):
        _supersede_older(session, station.id, version, channel)
    station.installed_version = max(version, station.installed_version or 0)
    station.last_contact_at = now
    if station.status in (StationStatus.UNKNOWN, StationStatus.OFFLINE):
        station.status = StationStatus.ONLINE
    session.commit()
    return current


def queue_pushes(session: Session, changed: dict[int, int], now: datetime) -> int:
    """Queue an SFTP delivery for each push station whose manifest changed (``{station_id: version}``)."""
    if not changed:
        return 0
    push = set(session.scalars(select(Station.id).where(Station.id.in_(list(changed)), Station.sftp_push,
                                                        Station.active)))
    for station_id in sorted(push):
        version = changed[station_id]
        session.add(Delivery(station_id=station_id, manifest_version=version, channel=SFTP,
                             state=DeliveryState.QUEUED, next_retry_at=now))
        _supersede_older(session, station_id, version, SFTP)
    return len(push)


def _supersede_older(session: Session, station_id: int, version: int, channel: str) -> None:
    session.execute(update(Delivery)
                    .where(Delivery.station_id == station_id, Delivery.channel == channel,
                           Delivery.manifest_version < version, Delivery.state.in_(OPEN))
                    .values(state=DeliveryState.SUPERSEDED, next_retry_at=None))


def due_pushes(session: Session, now: datetime, limit: int = 500, *, delivery_ids: Iterable[int] | None = None
               ) -> list[Delivery]:
    """SFTP deliveries to try now: queued, or failed with a retry time that has come (of ``delivery_ids``)."""
    query = (select(Delivery).options(joinedload(Delivery.station))
             .where(Delivery.channel == SFTP, Delivery.state.in_(OPEN), Delivery.next_retry_at <= now)
             .order_by(Delivery.next_retry_at, Delivery.id).limit(limit))
    if delivery_ids is not None:
        query = query.where(Delivery.id.in_(list(delivery_ids)))
    return list(session.scalars(query))


def flush_contacts(session: Session, contacts: dict[int, datetime]) -> None:
    """Write a batch of last-contact times (from the pull cache); never moves a time backwards."""
    if not contacts:
        return
    table = Station.__table__  # Core, for one executemany with a condition (ORM bulk updates go by key only)
    session.connection().execute(
        update(table).where(table.c.id == bindparam("sid"),
                            or_(table.c.last_contact_at.is_(None), table.c.last_contact_at < bindparam("seen")))
        .values(last_contact_at=bindparam("seen")),
        [{"sid": sid, "seen": seen} for sid, seen in contacts.items()])
    session.execute(
        update(Station).where(Station.id.in_(list(contacts)),
                              Station.status.in_([StationStatus.UNKNOWN, StationStatus.OFFLINE]))
        .values(status=StationStatus.ONLINE).execution_options(synchronize_session=False))
    session.commit()


@dataclass
class ChannelState:
    channel: str
    version: int
    state: str
    attempts: int
    last_error: str | None
    next_retry_at: datetime | None
    sent_at: datetime | None
    verified_at: datetime | None


@dataclass
class StationDelivery:
    code: str
    name: str
    commune: str
    status: str
    last_contact_at: datetime | None
    current_version: int | None
    installed_version: int | None
    up_to_date: bool
    channels: list[ChannelState]
    attention: list[str]


def delivery_status(session: Session, user: User, *, area: Area | None = None, attention_only: bool = False,
                    behind: bool | None = None, now: datetime, silence: timedelta, zone: ZoneInfo,
                    ) -> list[StationDelivery]:
    """Per station in the user's scope (or ``area``): last contact, installed vs current, open failures.

    ``behind`` True keeps the stations whose installed version is not the current one, False those up to date."""
    query = select(Station).options(joinedload(Station.commune)).where(Station.active).order_by(Station.code)
    query = scope.limit_stations(session, user, query)
    if area is not None:
        scope.require_area(user, area)
        query = query.where(Area.path.startswith(area.path))  # limit_stations joined the commune
    found = list(session.scalars(query))
    ids = [s.id for s in found]
    current = dict(session.execute(select(StationManifest.station_id, StationManifest.version)
                                   .where(StationManifest.station_id.in_(ids))).all()) if ids else {}
    latest: dict[int, list[Delivery]] = {}
    if ids:
        # Only each channel's newest record: the table keeps every version ever sent.
        newest = (select(Delivery.station_id, Delivery.channel,
                         func.max(Delivery.manifest_version).label("version"))
                  .where(Delivery.station_id.in_(ids), Delivery.state != DeliveryState.SUPERSEDED)
                  .group_by(Delivery.station_id, Delivery.channel).subquery())
        for delivery in session.scalars(select(Delivery).join(
                newest, (Delivery.station_id == newest.c.station_id) & (Delivery.channel == newest.c.channel)
                & (Delivery.manifest_version == newest.c.version))):
            latest.setdefault(delivery.station_id, []).append(delivery)
    result = []
    for station in found:
        channels = [_channel_state(d) for d in sorted(latest.get(station.id, ()), key=lambda d: d.channel)]
        attention = list(_attention(station, current.get(station.id), channels, now, silence, zone))
        if attention_only and not attention:
            continue
        version = current.get(station.id)
        up_to_date = version is not None and station.installed_version == version
        if behind is not None and (version is None or up_to_date == behind):
            continue
        result.append(StationDelivery(
            station.code, station.name, station.commune.name, station.status.value, station.last_contact_at,
            version, station.installed_version, up_to_date, channels, attention))
    return result


# The same rules in SQL, for counting and sorting thousands of stations at once (the dashboard): a query
# using them selects from Station outer-joined to its StationManifest. Keep them in step with the Python above.

def is_up_to_date() -> ColumnElement[bool]:
    """The station installed its current manifest version."""
    return and_(StationManifest.version.is_not(None), Station.installed_version == StationManifest.version)


def is_behind() -> ColumnElement[bool]:
    """The station has a current manifest version and has not installed it."""
    return and_(StationManifest.version.is_not(None),
                or_(Station.installed_version.is_(None), Station.installed_version != StationManifest.version))


def needs_attention(now: datetime, silence: timedelta) -> ColumnElement[bool]:
    """True where ``_attention`` names a reason: a changed host key, a channel's newest delivery failed for good
    (or three times), never heard from though a manifest waits, or silent for longer than ``silence``."""
    newer = (select(Delivery.id).where(Delivery.station_id == _failed.station_id, Delivery.channel == _failed.channel,
                                       Delivery.state != DeliveryState.SUPERSEDED,
                                       Delivery.manifest_version > _failed.manifest_version))
    # Failed deliveries are few, and reached through the (state, next_retry_at) index.
    failing = (select(_failed.station_id)
               .where(_failed.state == DeliveryState.FAILED,
                      or_(_failed.next_retry_at.is_(None), _failed.attempts >= 3), ~exists(newer)))
    return or_(Station.host_key_mismatch, Station.id.in_(failing),
               and_(Station.last_contact_at.is_(None), StationManifest.version.is_not(None)),
               Station.last_contact_at < now - silence)


def _channel_state(d: Delivery) -> ChannelState:
    return ChannelState(d.channel, d.manifest_version, d.state.value, d.attempts, d.last_error, d.next_retry_at,
                        d.sent_at, d.verified_at)


def _attention(station: Station, version: int | None, channels: Iterable[ChannelState], now: datetime,
               silence: timedelta, zone: ZoneInfo) -> Iterable[str]:
    """Reasons, in words an operator acts on, why this station needs someone."""
    if station.host_key_mismatch:
        yield str(_l("The station's SSH host key changed: check the box and pin the new key."))
    for channel in channels:
        if channel.state == DeliveryState.FAILED.value:
            error = delivery_errors.describe(channel.last_error)
            if channel.next_retry_at is None:
                yield str(_l("%(channel)s delivery gave up after %(attempts)s attempts: %(error)s",
                             channel=channel.channel.upper(), attempts=channel.attempts, error=error))
            elif channel.attempts >= 3:
                yield str(_l("%(channel)s delivery failed %(attempts)s times: %(error)s",
                             channel=channel.channel.upper(), attempts=channel.attempts, error=error))
    if station.last_contact_at is None:
        if version is not None:
            yield str(_l("Never heard from."))
    elif now - station.last_contact_at > silence:
        when = station.last_contact_at.astimezone(zone).strftime("%H:%M %d/%m/%Y")  # local time, as people read it
        yield str(_l("Silent since %(when)s.", when=when))



def pin_host_key(session: Session, station: Station, key_line: str, *, actor: User | str, now: datetime) -> None:
    """Pin a station's (new) SSH host key after someone checked the box, and push its current version again."""
    from broadcast.channels.sftp import parse_host_key
    from broadcast.services.audit import record

    if isinstance(actor, User):
        scope.require_area(actor, station.commune)
    try:
        parse_host_key(key_line.strip())
    except ValueError:
        raise InvalidInput(_l("The host key must look like 'ssh-ed25519 AAAA...'."), field="ssh_host_key") from None
    station.ssh_host_key, station.host_key_mismatch = key_line.strip(), False
    current = session.get(StationManifest, station.id)
    if current is not None and station.sftp_push:
        delivery = session.scalar(select(Delivery).where(Delivery.station_id == station.id, Delivery.channel == SFTP,
                                                         Delivery.manifest_version == current.version))
        if delivery is None:
            queue_pushes(session, {station.id: current.version}, now)
        elif delivery.state is DeliveryState.FAILED:
            delivery.state, delivery.next_retry_at, delivery.attempts = DeliveryState.QUEUED, now, 0
    record(session, actor, "station.host_key", "station", station.code)
    session.commit()
