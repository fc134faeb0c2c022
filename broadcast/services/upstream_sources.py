"""Upstream sources of bulletins (the central source system, the provincial radio, the portal), kept by admins.

A source is pulled from its URL on a schedule, or pushes to us, or both. Its secret authenticates its pushes
(as a bearer token, or as the key of an HMAC over the body) and is shown once, in the answer to its creation.
Disabling a source stops its pulls and refuses its pushes; what it sent stays.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.channels import outbound
from broadcast.db.models import Area, Role, SourceKind, UpstreamSource, User
from broadcast.errors import Conflict, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import areas, scope
from broadcast.services.audit import record

MAX_URL = 500
MIN_INTERVAL_S, MAX_INTERVAL_S = 60, 24 * 3600


@dataclass(frozen=True)
class SourceFields:
    name: str
    kind: str
    url: str | None = None
    pull_token: str | None = None
    owner_area: str | None = None  # statistics-office code
    pull_interval_s: int = 300


@dataclass(frozen=True)
class Created:
    """A new source; ``secret`` is shown only in this answer."""

    source: UpstreamSource
    secret: str


def _check_url(url: str, policy: outbound.OutboundPolicy) -> str:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url) \
            or len(url) > MAX_URL:
        raise InvalidInput(_l("Give the source's full address, starting with https:// or http://, at most "
                              "%(count)s characters.", count=MAX_URL), field="url")
    try:
        policy.check_url(url)
    except outbound.Refused as exc:
        raise InvalidInput(_l("%(host)s is %(address)s, an internal address: the service fetches nothing from "
                              "there unless its network is allowed (OUTBOUND_ALLOW_NETWORKS).",
                              host=exc.host, address=exc.address), field="url") from None
    return url


def create_source(session: Session, user: User, data: SourceFields, *,
                  policy: outbound.OutboundPolicy = outbound.PUBLIC_ONLY, now: datetime) -> Created:
    """Add a source (admins only); it is pulled at once if it has a URL."""
    scope.require_role(user, Role.ADMIN)
    name = (data.name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput(_l("Give the source a name of at most 120 characters."), field="name")
    try:
        kind = SourceKind(data.kind)
    except ValueError:
        raise InvalidInput(_l("The kind is one of %(kinds)s.", kinds=", ".join(k.value for k in SourceKind)),
                           field="kind") from None
    url = _check_url(data.url.strip(), policy) if data.url and data.url.strip() else None
    if not MIN_INTERVAL_S <= data.pull_interval_s <= MAX_INTERVAL_S:
        raise InvalidInput(_l("Pull every %(low)s to %(high)s seconds.", low=MIN_INTERVAL_S, high=MAX_INTERVAL_S),
                           field="pull_interval_s")
    owner: Area | None = areas.find_area(session, data.owner_area.strip()) if data.owner_area else None
    if session.scalar(select(UpstreamSource.id).where(UpstreamSource.name == name)) is not None:
        raise Conflict(_l("A source named %(name)s exists already.", name=name), field="name")
    secret = secrets.token_urlsafe(32)
    source = UpstreamSource(name=name, kind=kind, url=url, pull_token=data.pull_token or None, secret=secret,
                            owner_area_id=owner.id if owner else None, active=True,
                            pull_interval_s=data.pull_interval_s, next_pull_at=now if url else None,
                            created_by_id=user.id)
    session.add(source)
    session.flush()
    record(session, user, "source.create", "upstream_source", source.id, {"name": name, "kind": kind.value,
                                                                          "url": url})
    session.commit()
    return Created(source, secret)


def list_sources(session: Session, user: User) -> list[UpstreamSource]:
    scope.require_role(user, Role.ADMIN)
    return list(session.scalars(select(UpstreamSource).order_by(UpstreamSource.name)))


def get_source(session: Session, user: User, source_id: int) -> UpstreamSource:
    scope.require_role(user, Role.ADMIN)
    source = session.get(UpstreamSource, source_id)
    if source is None:
        raise NotFound(_l("There is no source %(id)s.", id=source_id))
    return source


def set_active(session: Session, user: User, source_id: int, active: bool, *, now: datetime) -> UpstreamSource:
    """Disable a source (no pulls, pushes refused) or enable it again (pulled at once)."""
    source = get_source(session, user, source_id)
    if source.active != active:
        source.active = active
        source.next_pull_at = now if active and source.url else None
        record(session, user, "source.enable" if active else "source.disable", "upstream_source", source.id,
               {"name": source.name})
        session.commit()
    return source
