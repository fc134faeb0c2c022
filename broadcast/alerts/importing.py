"""Importing a CAP 1.2 alert: an emergency broadcast (or a bulletin for the editors), an update, a cancellation.

The rules, after the checks of :func:`broadcast.alerts.plan_import` (schema, hostile XML, expiry, areas):

- The sender must be accepted (``CAP_ACCEPTED_SENDERS``; empty accepts any). Alerts from a trusted sender
  (``CAP_TRUSTED_SENDERS``) are issued at once; any other waits for an approver, like a person's request.
- ``status`` Actual airs; Exercise and Test are kept (state ``test``) and shown, never aired; System and Draft
  are refused. ``msgType`` Alert creates; Update cancels the alerts it references and creates the new one;
  Cancel cancels the alerts it references; Ack and Error are refused. The same alert twice is recognised by its
  identifier and changes nothing.
- The class comes from severity and urgency (:func:`broadcast.alerts.cap.item_class`): an emergency becomes an
  emergency broadcast; a priority or normal alert becomes a submitted bulletin of that class for the editors to
  approve and place.
- The audio is the alert's audio ``resource`` when it has one we can get (one of our own files, or a download
  from its ``uri``); otherwise the speech of headline, description and instruction.
- Repeats come from the ``repeatCount`` / ``repeatIntervalSeconds`` parameters, else from the risk level: 4 and 5
  air three times ten minutes apart (as the expiry allows), lower levels once.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.alerts import ImportPlan, cap, plan_import
from broadcast.alerts.cap import CapAlert, CapError, CapInfo
from broadcast.audio_setup import AudioTools
from broadcast.channels import outbound
from broadcast.db.models import (
    Area,
    AudioAsset,
    ContentSource,
    EmergencyBroadcast,
    EmergencyState,
    ItemClass,
    ItemStatus,
    NewsItem,
    RenderState,
    Station,
)
from broadcast.errors import DomainError
from broadcast.i18n import _l
from broadcast.services import emergencies, rendering
from broadcast.services.audit import record
from broadcast.services.emergencies import Outgoing

log = logging.getLogger(__name__)

MAX_AUDIO_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_S = 15.0
_SHA256 = re.compile(r"[0-9a-f]{64}")

Fetch = Callable[[str, Path], None]  # download a URI into a file (raises OSError, or outbound.Refused)


@dataclass(frozen=True)
class CapPolicy:
    accepted_senders: tuple[str, ...] = ()  # empty: any sender
    trusted_senders: tuple[str, ...] = ()  # issued without an approver
    # Where an audio resource may be downloaded from: public addresses, and OUTBOUND_ALLOW_NETWORKS.
    outbound: outbound.OutboundPolicy = outbound.PUBLIC_ONLY


@dataclass
class ImportResult:
    action: str  # created, updated, cancelled, test, bulletin, duplicate
    plan: ImportPlan
    broadcast: EmergencyBroadcast | None = None
    item: NewsItem | None = None
    cancelled: list[int] = field(default_factory=list)
    outgoing: Outgoing = field(default_factory=Outgoing)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {**self.plan.as_json(), "action": self.action,
                "broadcast": self.broadcast.id if self.broadcast else None,
                "state": self.broadcast.state.value if self.broadcast else None,
                "item": self.item.id if self.item else None, "cancelled": self.cancelled,
                "warnings": self.warnings}


def fetcher(policy: outbound.OutboundPolicy) -> Fetch:
    """Download a URI (http or https only) into a file: at most MAX_AUDIO_BYTES within FETCH_TIMEOUT_S, and only
    from an address ``policy`` allows (a refused one raises outbound.Refused before anything is sent)."""

    def fetch_http(uri: str, target: Path) -> None:
        outbound.download(uri, target, policy, max_bytes=MAX_AUDIO_BYTES, timeout_s=FETCH_TIMEOUT_S)

    return fetch_http


def import_cap(session: Session, data: bytes, *, now: datetime, policy: CapPolicy, tools: AudioTools,
               fetch: Fetch | None = None) -> ImportResult:
    """Import one alert; the caller hands ``result.outgoing`` to the agents after this commits."""
    fetch = fetch or fetcher(policy.outbound)
    plan = plan_import(session, data, now=now)
    alert = plan.alert
    if policy.accepted_senders and alert.sender not in policy.accepted_senders:
        raise CapError("sender", _l("Alerts from %(sender)s are not accepted here (see CAP_ACCEPTED_SENDERS).",
                                    sender=alert.sender))
    if alert.status in ("System", "Draft"):
        raise CapError("status", _l("%(status)s messages are not broadcast; nothing was done.",
                                    status=alert.status))
    if alert.msg_type in ("Ack", "Error"):
        raise CapError("msgType", _l("%(type)s messages are answers between systems; nothing was done.",
                                     type=alert.msg_type))
    existing = session.scalar(select(EmergencyBroadcast).where(EmergencyBroadcast.cap_identifier == alert.identifier))
    if existing is not None:
        return ImportResult("duplicate", plan, broadcast=existing)
    actor = f"cap:{alert.sender}"
    referenced = _referenced(session, alert)
    if alert.msg_type == "Cancel":
        if not referenced:
            raise CapError("references", _l("The Cancel message references no alert imported here."))
        result = ImportResult("cancelled", plan)
        for broadcast in referenced:
            if broadcast.state in (EmergencyState.PENDING, EmergencyState.ISSUED):
                outgoing = emergencies.cancel(session, actor, broadcast, f"CAP Cancel {alert.identifier}", now=now)
                result.outgoing += outgoing
                result.cancelled.append(broadcast.id)
        return result
    info = _main_info(alert)
    if plan.item_class != "emergency":
        return _bulletin(session, plan, info, actor, tools, fetch, now)
    if not plan.stations:
        raise CapError("area", _l("The alert reaches no active station here."))
    item, warnings = _item(session, alert, info, ItemClass.EMERGENCY, tools, fetch)
    expires_at = _expiry(info, now)
    repeat, interval = _repeats(info, plan.risk_level, item.audio_asset.duration_ms, now, expires_at)
    communes = list(session.scalars(select(Area).join(Station, Station.commune_id == Area.id)
                                    .where(Station.code.in_(plan.stations)).distinct().order_by(Area.path)))
    broadcast = EmergencyBroadcast(
        item=item, areas=communes, risk_level=plan.risk_level, repeat_count=repeat, repeat_interval_s=interval,
        expires_at=expires_at, state=EmergencyState.PENDING, source="cap", cap_identifier=alert.identifier,
        cap_sender=alert.sender, cap_sent=alert.sent, cap_xml=data.decode("utf-8"),
        replaces=referenced[0] if referenced else None)
    session.add(broadcast)
    session.flush()
    record(session, actor, "emergency.cap_import", "emergency", broadcast.id,
           {"identifier": alert.identifier, "status": alert.status, "msg_type": alert.msg_type,
            "stations": len(plan.stations), "risk_level": plan.risk_level, **_noted(warnings)})
    result = ImportResult("updated" if alert.msg_type == "Update" else "created", plan, broadcast=broadcast,
                          item=item, warnings=warnings)
    for old in referenced:
        if old.state in (EmergencyState.PENDING, EmergencyState.ISSUED):
            outgoing = emergencies.cancel(session, actor, old, f"replaced by CAP Update {alert.identifier}",
                                          now=now)
            result.outgoing += outgoing
            result.cancelled.append(old.id)
    if not plan.airs:
        broadcast.state = EmergencyState.TEST
        result.action = "test"
    elif alert.sender in policy.trusted_senders:
        result.outgoing += emergencies.issue_now(session, broadcast, actor, now)
    else:
        emergencies.prepare(session, broadcast, now)
    session.commit()
    return result


def _main_info(alert: CapAlert) -> CapInfo:
    """The most urgent info block, Vietnamese first among equals."""
    if not alert.infos:
        raise CapError("info", _l("The alert %(identifier)s has no <info> to broadcast.",
                                  identifier=alert.identifier))
    return max(alert.infos, key=lambda i: (cap.CLASS_RANK[cap.item_class(i.severity, i.urgency)], cap.risk_level(i),
                                           i.language.lower().startswith("vi")))


def _referenced(session: Session, alert: CapAlert) -> list[EmergencyBroadcast]:
    """The broadcasts of the alerts named in ``references`` (``sender,identifier,sent`` each)."""
    identifiers = [ref.split(",")[1] for ref in alert.references if ref.count(",") >= 2]
    if not identifiers:
        return []
    return list(session.scalars(select(EmergencyBroadcast).where(EmergencyBroadcast.cap_identifier.in_(identifiers))
                                .order_by(EmergencyBroadcast.id)))


def _expiry(info: CapInfo, now: datetime) -> datetime:
    expires = info.expires or now + emergencies.DEFAULT_LIFETIME
    return min(expires, now + emergencies.MAX_LIFETIME)


def _int_param(info: CapInfo, name: str) -> int | None:
    value = info.parameters.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _repeats(info: CapInfo, risk: int, duration_ms: int, now: datetime, expires_at: datetime) -> tuple[int, int]:
    repeat = _int_param(info, "repeatCount")
    interval = _int_param(info, "repeatIntervalSeconds")
    if repeat is None:
        repeat, interval = (3, 600) if risk >= 4 else (1, 0)
    repeat = max(1, min(repeat, emergencies.MAX_REPEATS))
    interval = max(interval or 0, -(-duration_ms // 1000)) if repeat > 1 else 0
    while repeat > 1 and now + timedelta(seconds=interval * (repeat - 1), milliseconds=duration_ms) > expires_at:
        repeat -= 1  # fit the series into the alert's lifetime rather than refuse a warning
    return repeat, interval if repeat > 1 else 0


def _speech_text(info: CapInfo) -> str:
    parts = [info.headline or info.event, info.description, info.instruction]
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _item(session: Session, alert: CapAlert, info: CapInfo, item_class: ItemClass, tools: AudioTools, fetch: Fetch
          ) -> tuple[NewsItem, list[str]]:
    warnings: list[str] = []
    title = (info.headline or info.event or alert.identifier)[:300]
    asset = None
    for resource in info.resources:
        if resource.mime_type.startswith("audio/") and resource.uri:
            try:
                asset = _resource_audio(session, resource.uri, tools, fetch)
                break
            except outbound.Refused as exc:
                log.warning("CAP %s: audio %s refused: %s", alert.identifier, resource.uri, exc)
                warnings.append(f"audio {resource.uri} refused, nothing fetched: {exc}; read aloud instead")
            except (OSError, DomainError) as exc:
                warnings.append(f"audio {resource.uri} not used ({exc}); read aloud instead")
    item = NewsItem(title=title, body=_speech_text(info) if asset is None else (info.description or ""),
                    item_class=item_class, status=ItemStatus.APPROVED, source=f"CAP {alert.sender}",
                    content_source=ContentSource.RECORDING if asset else ContentSource.SPEECH,
                    render_state=RenderState.READY if asset else RenderState.NONE, audio_asset=asset,
                    language="vi", speaking_rate="+0%")
    session.add(item)
    session.flush()
    if asset is None:
        rendering.render_item(session, item, tools, actor=f"cap:{alert.sender}")
        if item.audio_asset is None:
            raise CapError("info", _l("The alert's text could not be read aloud: %(error)s",
                                      error=item.render_error or "?"))
    return item, warnings


def _noted(warnings: list[str]) -> dict:
    """The warnings for the audit record (a refused or failed audio link), kept with the import itself."""
    return {"warnings": warnings} if warnings else {}


def _resource_audio(session: Session, uri: str, tools: AudioTools, fetch: Fetch) -> AudioAsset:
    """Our own file when the URI names one we hold (an alert we exported), else a checked download."""
    name = uri.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]
    if _SHA256.fullmatch(name):
        asset = session.scalar(select(AudioAsset).where(AudioAsset.sha256 == name))
        if asset is not None and tools.store.exists(asset.sha256, tools.station_format.suffix):
            return asset
    tools.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools.work_dir) as work:
        target = Path(work) / "cap-resource"
        fetch(uri, target)
        return rendering.recording_asset(session, target, tools, field="resource")


def _bulletin(session: Session, plan: ImportPlan, info: CapInfo, actor: str, tools: AudioTools, fetch: Fetch,
              now: datetime) -> ImportResult:
    """A priority or normal alert: a bulletin submitted to the editors (not aired until approved and placed)."""
    item, warnings = _item(session, plan.alert, info, ItemClass(plan.item_class), tools, fetch)
    item.status = ItemStatus.SUBMITTED if plan.airs else ItemStatus.DRAFT
    item.submitted_at = now
    item.valid_until = info.expires.date() if info.expires else None
    record(session, actor, "item.cap_import", "item", item.id,
           {"identifier": plan.alert.identifier, "class": plan.item_class, "status": plan.alert.status,
            **_noted(warnings)})
    session.commit()
    return ImportResult("bulletin", plan, item=item, warnings=warnings)
