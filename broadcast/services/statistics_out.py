"""Statistics out: the report figures per area, station and day as a versioned document, and its nightly push.

The document (``format`` "commune-radio.statistics", ``version`` 1; fields are only ever added within a version)::

    {"format": "commune-radio.statistics", "version": 1, "generated_at": "...",
     "area": {"code", "name", "level", "structure"}, "from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "zone": "...",
     "days": [{"day": "YYYY-MM-DD", "totals": {figures},
               "areas": [{"code", "name", "level", "depth", "stations", "figures"}],
               "stations": [{"code", "name", "commune": {"code", "name"}, "figures"}]}]}

The figures are broadcast.services.reports' (planned, delivered, aired, confirmed, emergency, "play now"), each
day a report of its own, so every number is per area, station and day.

Each night the previous day's document goes to STATISTICS_PUSH_URL: one ``statistics_pushes`` row per (day,
receiver), created once, holding the exact document; sent, and on failure retried with backoff
(broadcast.channels.retry) until the receiver acknowledges it with a 2xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from broadcast.channels import outbound
from broadcast.channels import statistics_push as channel
from broadcast.channels.retry import RetryPolicy
from broadcast.config import Settings
from broadcast.db.models import Area, DeliveryState, Level, Role, StatisticsPush, User
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import areas, reports

log = logging.getLogger(__name__)

FORMAT = "commune-radio.statistics"
VERSION = 1
MAX_DAYS = 31  # per request: each day is a report of its own
# Until acknowledged: the wait doubles from a minute up to an hour, for about a week.
POLICY = RetryPolicy(base_s=60.0, cap_s=3600.0, max_attempts=180)
# The previous day is pushed once this much of the new local day has passed (late as-run reports come in first).
PUSH_AFTER = timedelta(hours=1)


def _figures(figures: reports.Figures) -> dict:
    return {**asdict(figures), "played_ratio": figures.played_ratio}


def _area(area: Area) -> dict:
    return {"code": area.code, "name": area.name, "level": area.level.value, "structure": area.structure.value}


def document(session: Session, user: User, area: Area, first: date, last: date, *, default_zone: str,
             now: datetime, stations: bool = True) -> dict:
    """The statistics document of ``area`` for the local days first..last (at most MAX_DAYS)."""
    reports.check_period(first, last)
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(_l("Statistics cover at most %(days)s days per request.", days=MAX_DAYS), field="to")
    days = []
    zone = default_zone
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        report = reports.broadcast_report(session, user, area, day, day, default_zone=default_zone)
        zone = report.zone
        entry = {"day": day.isoformat(), "totals": _figures(report.totals),
                 "areas": [{**_area(total.area), "depth": total.depth, "stations": total.stations,
                            "figures": _figures(total.figures)} for total in report.areas]}
        if stations:
            entry["stations"] = [{"code": row.code, "name": row.name,
                                  "commune": {"code": row.commune_code, "name": row.commune_name},
                                  "figures": _figures(row.figures)} for row in report.stations]
        days.append(entry)
    return {"format": FORMAT, "version": VERSION, "generated_at": now.isoformat(timespec="seconds"),
            "area": _area(area), "from": first.isoformat(), "to": last.isoformat(), "zone": zone, "days": days}


# The nightly push ------------------------------------------------------------------------------------------------


def _system_user() -> User:
    """The push is the service's own act, not a person's: a transient admin whose scope is everything (never
    stored), so the report's scope checks pass as they do for an administrator."""
    return User(username="job:statistics", role=Role.ADMIN, scope_area=None, active=True)


def push_areas(session: Session, settings: Settings) -> list[Area]:
    """STATISTICS_PUSH_AREA, else every province that has stations (2025 structure first)."""
    if settings.statistics_push_area:
        return [areas.find_area(session, settings.statistics_push_area)]
    found = reports.report_areas(session, _system_user())
    return [a for a in found if a.level is Level.PROVINCE]


def credentials(settings: Settings) -> channel.Credentials:
    if settings.statistics_oauth_token_url:
        return channel.Credentials(oauth=channel.OAuthClient(
            settings.statistics_oauth_token_url, settings.statistics_oauth_client_id,
            settings.statistics_oauth_client_secret, settings.statistics_oauth_scope))
    return channel.Credentials(token=settings.statistics_push_token)


def queue_day(session: Session, settings: Settings, day: date, *, now: datetime) -> StatisticsPush | None:
    """Record the push of ``day``'s figures (None when it is recorded already, or no receiver is configured)."""
    target = settings.statistics_push_url
    if not target:
        return None
    existing = session.scalar(select(StatisticsPush).where(StatisticsPush.day == day, StatisticsPush.target == target))
    if existing is not None:
        return None
    user = _system_user()
    documents = [document(session, user, area, day, day, default_zone=settings.timezone, now=now)
                 for area in push_areas(session, settings)]
    payload = {"format": FORMAT, "version": VERSION, "day": day.isoformat(), "reports": documents}
    push = StatisticsPush(day=day, target=target, payload=payload, state=DeliveryState.QUEUED, attempts=0)
    session.add(push)
    session.commit()
    log.info("statistics of %s queued for %s", day, target)
    return push


def push_id(push: StatisticsPush) -> str:
    """Stable for the push, so a receiver that gets it twice (an answer lost on the way) drops the repeat."""
    return hashlib.sha256(f"statistics:{push.day.isoformat()}:{push.target}".encode()).hexdigest()[:32]


def body_of(push: StatisticsPush) -> bytes:
    return json.dumps({**push.payload, "push_id": push_id(push)}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


@dataclass(frozen=True)
class PushRun:
    sent: int
    failed: int


def deliver_due(session: Session, settings: Settings, now: datetime, *, policy: RetryPolicy = POLICY,
                tokens: channel.TokenCache = channel.TOKENS, timeout_s: float = 30.0) -> PushRun:
    """Send the queued pushes and the failed ones whose retry time has come; one commit each."""
    due = list(session.scalars(select(StatisticsPush).where(or_(
        StatisticsPush.state == DeliveryState.QUEUED,
        and_(StatisticsPush.state == DeliveryState.FAILED, StatisticsPush.next_retry_at <= now)))
        .order_by(StatisticsPush.day, StatisticsPush.id)))
    sent = failed = 0
    allowed = outbound.OutboundPolicy.from_text(settings.outbound_allow_networks)
    for push in due:
        push.attempts += 1
        try:
            status = channel.push(push.target, body_of(push), credentials(settings), push_id=push_id(push),
                                  policy=allowed, timeout_s=timeout_s, tokens=tokens)
        except channel.PushFailed as exc:
            push.state, push.last_error, push.response_status = DeliveryState.FAILED, exc.reason, exc.status
            push.next_retry_at = policy.next_retry(push.attempts, now)
            failed += 1
            log.warning("statistics of %s to %s failed (attempt %d): %s", push.day, push.target, push.attempts,
                        exc.reason)
        else:
            push.state, push.sent_at, push.response_status = DeliveryState.SENT, now, status
            push.last_error = push.next_retry_at = None
            sent += 1
        session.commit()
    return PushRun(sent, failed)


def run(session: Session, settings: Settings, now: datetime, **options) -> PushRun:
    """The job's work: queue yesterday's figures once the new day is an hour old, then send what is due."""
    local = now.astimezone(settings.zone)
    if local - local.replace(hour=0, minute=0, second=0, microsecond=0) >= PUSH_AFTER:
        queue_day(session, settings, local.date() - timedelta(days=1), now=now)
    return deliver_due(session, settings, now, **options)
