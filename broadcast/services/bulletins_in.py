"""Bulletins in: what upstream sources send becomes submitted items for the editors, each bulletin once.

A bulletin is known by (source, the source's own id). The first time, a row in ``received_bulletins`` claims
that pair (INSERT … ON CONFLICT DO NOTHING, so two pushes or a push and a pull at once cannot both win) and the
bulletin becomes a submitted item with its source recorded, for editors to approve and place: its audio (an
enclosure, ``audio_url``) checked like an upload, else its text read aloud after approval. A CAP alert goes
through broadcast.alerts.importing, which makes an emergency broadcast or a submitted bulletin by its rules.
Every later arrival of the same id is answered "duplicate" and changes nothing.

Pulling on a schedule is broadcast.services.upstream_pull's; pushes arrive through the API. Both hand the
document to :func:`take`.
"""

from __future__ import annotations

import hmac
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from broadcast.alerts import cap, importing
from broadcast.audio_setup import AudioTools
from broadcast.channels import outbound
from broadcast.channels import webhook as signing
from broadcast.config import Settings
from broadcast.db.models import (
    ContentSource,
    ItemClass,
    ItemStatus,
    NewsItem,
    ReceivedBulletin,
    RenderState,
    SourceKind,
    UpstreamSource,
)
from broadcast.errors import DomainError, InvalidInput
from broadcast.i18n import N_, vietnamese
from broadcast.services import items, rendering
from broadcast.services.audit import record
from broadcast.services.emergencies import Outgoing
from broadcast.services.inbound_formats import (
    Incoming,
    Parsed,
    is_cap,
    parse_cap_feed,
    parse_feed,
    parse_json,
)

log = logging.getLogger(__name__)

CAP_TIMEOUT_S = 20.0  # for each alert a CAP feed links to


@dataclass
class Received:
    """What became of one bulletin: ``duplicate`` when its id had come before."""

    record: ReceivedBulletin
    duplicate: bool


@dataclass
class Batch:
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    transient: bool = False  # a bulletin failed for a reason that may pass: keep asking for the full answer
    outgoing: Outgoing = field(default_factory=Outgoing)

    @property
    def created(self) -> int:
        return sum(not r.duplicate for r in self.received)


@dataclass(frozen=True)
class Context:
    """What intake needs besides the database: audio tools, where downloads may go, the CAP rules, the clock."""

    tools: AudioTools
    policy: outbound.OutboundPolicy
    cap_policy: importing.CapPolicy
    now: datetime
    fetch: importing.Fetch | None = None

    @classmethod
    def from_settings(cls, settings: Settings, tools: AudioTools, now: datetime) -> Context:
        policy = outbound.OutboundPolicy.from_text(settings.outbound_allow_networks)
        return cls(tools, policy, importing.CapPolicy(tuple(settings.cap_accepted_senders),
                                                      tuple(settings.cap_trusted_senders), policy), now)

    def download(self, url: str, target: Path) -> None:
        (self.fetch or importing.fetcher(self.policy))(url, target)


# Authentication of pushes ---------------------------------------------------------------------------------------


def push_authentic(source: UpstreamSource, *, authorization: str, timestamp: str, signature: str, body: bytes,
                   now: datetime) -> bool:
    """A push carries the source's secret as a bearer token, or signs the body with it: ``X-Radio-Timestamp`` and
    ``X-Radio-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body)``, as our own webhooks do."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return hmac.compare_digest(token.strip().encode(), source.secret.encode())
    if signature and timestamp.strip().isdigit():
        return signing.verify(source.secret, int(timestamp), body, signature, now=now)
    return False


# Intake -----------------------------------------------------------------------------------------------------------


def _claim(session: Session, source: UpstreamSource, ref: str, title: str, via: str, now: datetime
           ) -> ReceivedBulletin | None:
    """The new row for (source, ref), or None when that bulletin came before."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ReceivedBulletin.__table__
    statement = dialect.insert(table).values(source_id=source.id, source_ref=ref, via=via, title=title[:300],
                                             received_at=now).on_conflict_do_nothing(
        index_elements=["source_id", "source_ref"]).returning(table.c.id)
    new_id = session.execute(statement).scalar()
    return session.get(ReceivedBulletin, new_id) if new_id is not None else None


def _refused(session: Session, source: UpstreamSource, ref: str, title: str, via: str, now: datetime,
             reason: str) -> ReceivedBulletin:
    """Record a bulletin refused for good (expired, not audio, no voice), so that it is not tried again."""
    session.rollback()
    claimed = _claim(session, source, ref, title, via, now) or _existing(session, source, ref)
    claimed.warning = reason[:2000]
    session.commit()
    return claimed


def _existing(session: Session, source: UpstreamSource, ref: str) -> ReceivedBulletin | None:
    return session.scalar(select(ReceivedBulletin).where(ReceivedBulletin.source_id == source.id,
                                                         ReceivedBulletin.source_ref == ref))


def _recording(session: Session, url: str, context: Context):
    """The enclosure checked like an upload and stored in the station format."""
    context.tools.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=context.tools.work_dir) as work:
        target = Path(work) / "enclosure"
        context.download(url, target)
        return rendering.recording_asset(session, target, context.tools, field="audio_url")


def _item(session: Session, source: UpstreamSource, bulletin: Incoming, context: Context) -> tuple[NewsItem, str]:
    """A submitted item for the bulletin, and what was not taken as sent ("" when all was)."""
    warning = ""
    asset = None
    if bulletin.audio_url:
        transient = False
        try:
            asset = _recording(session, bulletin.audio_url, context)
        except outbound.Refused as exc:
            warning = vietnamese(N_("The audio %(url)s was refused, nothing fetched: %(reason)s"),
                                 url=bulletin.audio_url, reason=str(exc))
        except DomainError as exc:  # not audio we can air: as an upload would be refused
            warning = vietnamese(N_("The audio %(url)s is not used: %(reason)s"), url=bulletin.audio_url,
                                 reason=str(exc.message))
        except OSError as exc:
            warning = vietnamese(N_("The audio %(url)s could not be downloaded: %(reason)s"),
                                 url=bulletin.audio_url, reason=str(exc))
            transient = True
        if asset is None and not bulletin.body:
            if transient:
                raise _Transient(warning)
            raise InvalidInput(warning, field="audio_url")
        if asset is None:
            warning = vietnamese(N_("%(warning)s; the text is read aloud instead."), warning=warning)
    if asset is None and bulletin.language != "vi":
        raise InvalidInput(vietnamese(N_("No voice reads the language %(language)s and there is no usable audio."),
                                      language=bulletin.language), field="language")
    item = NewsItem(title=bulletin.title, body=bulletin.body, language=bulletin.language, source=source.name[:200],
                    item_class=ItemClass(bulletin.item_class), status=ItemStatus.SUBMITTED,
                    submitted_at=context.now, valid_from=bulletin.valid_from, valid_until=bulletin.valid_until,
                    owner_area_id=source.owner_area_id, speaking_rate="+0%",
                    content_source=ContentSource.RECORDING if asset else ContentSource.SPEECH,
                    render_state=RenderState.READY if asset else RenderState.NONE, audio_asset=asset)
    if asset is not None:
        item.rendered_at = context.now
    elif warning:
        item.render_warning = warning  # shown to the editors beside the item
    else:
        item.estimated_duration_ms = items.reading_with_estimate(session, bulletin.body)[1]
    session.add(item)
    session.flush()
    return item, warning


class _Transient(Exception):
    """A bulletin that could not be taken now for a reason that may pass (a download failed)."""


def _cap_document(session: Session, source: UpstreamSource, data: bytes, via: str, context: Context,
                  batch: Batch, ref: str | None = None) -> None:
    """One CAP alert: claimed by its identifier (or the feed entry's id), imported by broadcast.alerts."""
    try:
        alert = cap.parse_cap(data)
    except DomainError as exc:
        batch.problems.append(f"{ref or 'alert'}: {exc}")
        return
    ref = ref or alert.identifier
    claimed = _claim(session, source, ref, alert.infos[0].headline or alert.identifier if alert.infos
                     else alert.identifier, via, context.now)
    if claimed is None:
        batch.received.append(Received(_existing(session, source, ref), True))
        return
    try:
        result = importing.import_cap(session, data, now=context.now, policy=context.cap_policy,
                                      tools=context.tools, fetch=context.fetch or importing.fetcher(context.policy))
    except DomainError as exc:  # refused for good (expired, unknown area, not accepted): said once, not retried
        batch.problems.append(f"{ref}: {exc}")
        batch.received.append(Received(_refused(session, source, ref, alert.identifier, via, context.now,
                                                str(exc)), False))
        return
    claimed.item_id = result.item.id if result.item else (result.broadcast.item_id if result.broadcast else None)
    claimed.emergency_id = result.broadcast.id if result.broadcast else None
    claimed.warning = "; ".join(result.warnings) or None
    session.commit()
    batch.outgoing += result.outgoing
    batch.received.append(Received(claimed, False))


def _bulletin(session: Session, source: UpstreamSource, bulletin: Incoming, via: str, context: Context,
              batch: Batch) -> None:
    if bulletin.cap_url:
        if _existing(session, source, bulletin.ref) is not None:
            batch.received.append(Received(_existing(session, source, bulletin.ref), True))
            return
        with tempfile.TemporaryDirectory() as work:
            target = Path(work) / "alert.xml"
            try:
                outbound.download(bulletin.cap_url, target, context.policy, max_bytes=cap.MAX_BYTES,
                                  timeout_s=CAP_TIMEOUT_S)
            except OSError as exc:
                batch.problems.append(f"{bulletin.ref}: {exc}")
                batch.transient = True
                return
            data = target.read_bytes()
        _cap_document(session, source, data, via, context, batch, ref=bulletin.ref)
        return
    claimed = _claim(session, source, bulletin.ref, bulletin.title, via, context.now)
    if claimed is None:
        batch.received.append(Received(_existing(session, source, bulletin.ref), True))
        return
    try:
        item, warning = _item(session, source, bulletin, context)
    except _Transient as exc:
        session.rollback()
        batch.problems.append(f"{bulletin.ref}: {exc}")
        batch.transient = True
        return
    except DomainError as exc:
        batch.problems.append(f"{bulletin.ref}: {exc}")
        batch.received.append(Received(_refused(session, source, bulletin.ref, bulletin.title, via, context.now,
                                                str(exc)), False))
        return
    claimed.item_id, claimed.warning = item.id, warning or None
    record(session, f"source:{source.name}"[:64], "item.received", "item", item.id,
           {"source": source.name, "ref": bulletin.ref, "via": via, "warning": warning or None})
    session.commit()
    batch.received.append(Received(claimed, False))


def parse(source: UpstreamSource, body: bytes) -> Parsed:
    """The bulletins of a document in the source's format; raises FormatError when it is not that format."""
    if source.kind is SourceKind.JSON:
        return parse_json(body)
    if source.kind is SourceKind.RSS:
        return parse_feed(body)
    if is_cap(body):
        return Parsed()  # handled whole by take(): one alert
    return parse_cap_feed(body)


def take(session: Session, source: UpstreamSource, body: bytes, *, via: str, context: Context) -> Batch:
    """Take every bulletin of a document (pulled or pushed); raises FormatError for a document that is not one."""
    batch = Batch()
    if source.kind is SourceKind.CAP and is_cap(body):
        _cap_document(session, source, body, via, context, batch)
        return batch
    parsed = parse(source, body)
    batch.problems.extend(parsed.problems)
    for bulletin in parsed.entries:
        _bulletin(session, source, bulletin, via, context, batch)
    return batch
