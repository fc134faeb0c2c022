"""Webhooks: other systems registered for an area, the events queued for them, and their signed delivery.

A webhook registered for an area hears of every bulletin published there, by the reach rule of
broadcast.services.publication: an item placed for the webhook's area, for an area above it (a province-wide
item reaches a commune's webhook) or for an area below it (a province's webhook hears of its communes' items).

Each event is queued once per webhook: its id is derived from what was published (the item and its audio), and
(webhook, event id) is unique, so publishing the same reading again, from another placement, the render job or a
second process, queues nothing new. The delivery job sends what is due with broadcast.channels.webhook and
retries failures with backoff (broadcast.channels.retry) until the attempts run out.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, contains_eager, selectinload

from broadcast.channels import outbound
from broadcast.channels import webhook as channel
from broadcast.channels.retry import RetryPolicy
from broadcast.config import Settings
from broadcast.db.models import (
    Area,
    DeliveryState,
    ItemStatus,
    NewsItem,
    Placement,
    PlacementTarget,
    RenderState,
    Role,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import areas, publication, scope
from broadcast.services.audit import record

log = logging.getLogger(__name__)

BULLETIN_PUBLISHED = "bulletin.published"
TIMEOUT_S = 10.0
POLICY = RetryPolicy()
MAX_URL = 500
MAX_DESCRIPTION = 200
# What makes an address internal (broadcast.channels.outbound), in the reader's language.
ADDRESS_KINDS = {"loopback": _l("this machine itself"), "private": _l("a private network"),
                 "link-local": _l("link-local"), "multicast": _l("multicast"), "unspecified": _l("unspecified"),
                 "reserved": _l("reserved"), "non-public": _l("not public")}


@dataclass(frozen=True)
class Registration:
    """A webhook with its area; ``secret`` is set only in the answer to its registration."""

    webhook: Webhook
    area: Area
    secret: str | None = None


@dataclass(frozen=True)
class DeliveryRun:
    sent: int
    failed: int


def _check_url(url: str, policy: outbound.OutboundPolicy) -> str:
    url = (url or "").strip()
    bad = InvalidInput(_l("Give the receiver's full address, starting with https:// or http:// "
                          "(e.g. https://congthongtin.example.vn/radio)."), field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise bad
    if parts.username or parts.password:
        raise InvalidInput(_l("Put no user name or password in the address: every request is signed instead."),
                           field="url")
    if len(url) > MAX_URL:
        raise InvalidInput(_l("The address has at most %(count)s characters.", count=MAX_URL), field="url")
    try:
        policy.check_url(url)
    except outbound.Refused as exc:
        # Checked again before every request (a name may resolve elsewhere later); here to say so at once.
        raise InvalidInput(_l("%(host)s is %(address)s, an internal address (%(kind)s): the service sends nothing "
                              "there. Give the receiver's public address, or ask the administrator to allow its "
                              "network (OUTBOUND_ALLOW_NETWORKS).", host=exc.host, address=exc.address,
                              kind=ADDRESS_KINDS.get(exc.kind, exc.kind)), field="url") from None
    return url


def register(session: Session, user: User, *, area_code: str, url: str, description: str = "",
             policy: outbound.OutboundPolicy = outbound.PUBLIC_ONLY) -> Registration:
    """Register a receiver for an area in the user's scope; the answer carries its secret, shown only this once.

    ``policy`` says which addresses receivers may have (public ones, and the networks of OUTBOUND_ALLOW_NETWORKS).
    """
    scope.require_role(user, Role.EDITOR)
    area = areas.find_area(session, (area_code or "").strip())
    scope.require_area(user, area)
    url = _check_url(url, policy)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(_l("The description has at most %(count)s characters.", count=MAX_DESCRIPTION),
                           field="description")
    secret = secrets.token_urlsafe(32)
    hook = Webhook(area_id=area.id, url=url, secret=secret, description=description, active=True)
    session.add(hook)
    session.flush()
    # The secret stays out of the audit log: it is for the receiver only.
    record(session, user, "webhook.create", "webhook", hook.id, {"area": area.code, "url": url})
    session.commit()
    return Registration(hook, area, secret)


def list_webhooks(session: Session, user: User) -> list[Registration]:
    """The webhooks of areas in the user's scope (without their secrets)."""
    scope.require_role(user, Role.EDITOR)
    query = scope.limit_areas(user, select(Webhook, Area).join(Area, Webhook.area_id == Area.id))
    return [Registration(hook, area) for hook, area in session.execute(query.order_by(Area.path, Webhook.id))]


def get_webhook(session: Session, user: User, webhook_id: int) -> Registration:
    """A webhook the user may manage; another area's is "not found", so its existence does not leak."""
    scope.require_role(user, Role.EDITOR)
    hook = session.get(Webhook, webhook_id)
    area = session.get(Area, hook.area_id) if hook is not None else None
    if hook is None or area is None or not scope.covers(user, area):
        raise NotFound(_l("Webhook %(id)s does not exist.", id=webhook_id))
    return Registration(hook, area)


def deactivate(session: Session, user: User, webhook_id: int) -> Registration:
    """Stop sending to a webhook; what is queued for it stays, unsent."""
    found = get_webhook(session, user, webhook_id)
    if found.webhook.active:
        found.webhook.active = False
        record(session, user, "webhook.deactivate", "webhook", webhook_id, {"area": found.area.code})
        session.commit()
    return found


def delete_webhook(session: Session, user: User, webhook_id: int) -> None:
    """Remove a webhook and its delivery records."""
    found = get_webhook(session, user, webhook_id)
    record(session, user, "webhook.delete", "webhook", webhook_id, {"area": found.area.code, "url": found.webhook.url})
    session.delete(found.webhook)  # its deliveries go with it (ON DELETE CASCADE)
    session.commit()


def event_id_for(event: str, item_id: int, audio_sha256: str) -> str:
    """The same item with the same audio is one event, however often it is published."""
    return hashlib.sha256(f"{event}:{item_id}:{audio_sha256}".encode()).hexdigest()


def _insert_once(session: Session, values: dict) -> int:
    """Insert a delivery unless (webhook, event id) exists: 1 when inserted, 0 when it was there already.

    ON CONFLICT DO NOTHING rather than a check then an insert, so that two processes publishing the same item
    at once (a placement in a request, the render job) neither queue it twice nor fail the other's transaction.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = WebhookDelivery.__table__
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(
        index_elements=["webhook_id", "event_id"]).returning(table.c.id)
    # RETURNING, not rowcount: a skipped row returns nothing on both databases, while rowcount varies by driver.
    return len(session.execute(statement).all())


def enqueue(session: Session, event: str, payload: dict, area_ids: Iterable[int], *, event_id: str) -> int:
    """Queue ``event`` for every active webhook that the areas reach (same, above, below); returns how many."""
    paths = list(session.scalars(select(Area.path).where(Area.id.in_(set(area_ids)))))
    if not paths:
        return 0
    hooks = session.scalars(select(Webhook.id).join(Area, Webhook.area_id == Area.id).where(
        Webhook.active.is_(True), or_(*(publication.reaches(Area.path, path) for path in paths))))
    queued = sum(_insert_once(session, {"webhook_id": hook_id, "event": event, "event_id": event_id,
                                        "payload": payload}) for hook_id in hooks.all())
    if queued:
        log.info("queued %s %s for %d webhooks", event, event_id[:12], queued)
    return queued


def publish_item(session: Session, item: NewsItem, *, today: date | None = None) -> int:
    """Queue ``bulletin.published`` for an approved item with audio and current placements; returns how many.

    Called where an item can become published: a new placement, its approval, its audio being rendered. Does
    nothing for an item not (yet) published. ``today`` is the local day; without it the UTC date less a day is
    used (a placement ending today anywhere still counts; one that ended yesterday may too, harmlessly).
    """
    asset = item.audio_asset
    if item.status is not ItemStatus.APPROVED or item.render_state is not RenderState.READY or asset is None:
        return 0
    cutoff = today or utcnow().date() - timedelta(days=1)
    placed = list(session.scalars(select(Placement).where(Placement.item_id == item.id, Placement.date_until >= cutoff)
                                  .options(selectinload(Placement.targets).selectinload(PlacementTarget.station),
                                           selectinload(Placement.targets).selectinload(PlacementTarget.area))))
    if not placed:
        return 0
    targets = [t for p in placed for t in p.targets]
    area_ids = {t.area_id if t.area_id is not None else t.station.commune_id for t in targets}
    published_at = item.approved_at or item.updated_at
    payload = {
        "id": item.id,
        "title": item.title,
        "body": item.body,
        "language": item.language,
        "item_class": item.item_class.value,
        "published_at": published_at.isoformat(timespec="seconds"),
        # A path: the service's own address is not known outside a request; receivers prefix their base URL.
        "audio": {"url": publication.audio_path(asset.sha256), "sha256": asset.sha256, "size": asset.size_bytes,
                  "duration_ms": asset.duration_ms, "mime_type": asset.mime_type},
        "areas": sorted({t.code for t in targets}),
        "date_from": min(p.date_from for p in placed).isoformat(),
        "date_until": max(p.date_until for p in placed).isoformat(),
    }
    return enqueue(session, BULLETIN_PUBLISHED, payload, area_ids,
                   event_id=event_id_for(BULLETIN_PUBLISHED, item.id, asset.sha256))


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed) for a delivery: the same on every attempt."""
    envelope = {"event": delivery.event, "event_id": delivery.event_id, "data": delivery.payload}
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def due_deliveries(session: Session, now: datetime, *, limit: int = 100) -> list[WebhookDelivery]:
    """Queued deliveries, and failed ones whose retry time has come, of active webhooks; oldest first."""
    query = (select(WebhookDelivery).join(Webhook, WebhookDelivery.webhook_id == Webhook.id)
             .where(Webhook.active.is_(True),
                    or_(WebhookDelivery.state == DeliveryState.QUEUED,
                        and_(WebhookDelivery.state == DeliveryState.FAILED, WebhookDelivery.next_retry_at <= now)))
             .options(contains_eager(WebhookDelivery.webhook))
             .order_by(WebhookDelivery.id).limit(limit))
    return list(session.scalars(query))


def deliver_webhooks(session: Session, settings: Settings, now: datetime, *, policy: RetryPolicy = POLICY,
                     timeout_s: float = TIMEOUT_S, limit: int = 100, rng: random.Random | None = None) -> DeliveryRun:
    """Send the due deliveries, one commit each, so an interrupted run resends nothing already sent.

    ``now`` is when the run starts; each request is stamped with it plus the time the run has taken, so a run
    slowed by receivers that time out still signs with a current timestamp. Requests go only to public addresses
    and to the networks of ``settings.outbound_allow_networks``, checked as each connection is made.
    """
    started = time.monotonic()
    sent = failed = 0
    sender = outbound.session(outbound.OutboundPolicy.from_text(settings.outbound_allow_networks))
    for delivery in due_deliveries(session, now, limit=limit):
        moment = now + timedelta(seconds=time.monotonic() - started)
        delivery.attempts += 1
        try:
            status = channel.post(delivery.webhook.url, body_of(delivery), delivery.webhook.secret, delivery.event,
                                  delivery.event_id, timeout=timeout_s, now=moment, session=sender)
        except channel.WebhookFailed as exc:
            delivery.state, delivery.last_error, delivery.response_status = DeliveryState.FAILED, exc.reason, exc.status
            delivery.next_retry_at = policy.next_retry(delivery.attempts, moment, rng)
            failed += 1
            log.warning("webhook %s: %s %s failed (attempt %d): %s", delivery.webhook_id, delivery.event,
                        delivery.event_id[:12], delivery.attempts, exc.reason)
        else:
            delivery.state, delivery.sent_at, delivery.response_status = DeliveryState.SENT, moment, status
            delivery.last_error = delivery.next_retry_at = None
            sent += 1
        session.commit()
    sender.close()
    return DeliveryRun(sent, failed)
