"""Job targets. Each opens its own unit of work on the configured database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cache

from broadcast.audio_setup import audio_tools
from broadcast.config import load_settings
from broadcast.db.engine import Database
from broadcast.jobs import dispatch
from broadcast.services import asrun, compiler, emergency_delivery, pushing, rendering, scheduling, stations, webhooks

log = logging.getLogger(__name__)


@cache
def _database(url: str) -> Database:
    return Database(url)


def database(settings) -> Database:
    """The service's database, one engine per process."""
    return _database(settings.resolved_database_url)


def mark_offline_stations(now: datetime | None = None) -> int:
    """Show stations that stopped reporting as offline."""
    settings = load_settings()
    database = _database(settings.resolved_database_url)
    with database.session() as session:
        changed = stations.mark_silent_offline(session, now=now or datetime.now(UTC),
                                               silence=timedelta(seconds=settings.station_offline_after_s))
    if changed:
        log.info("%d stations went offline", changed)
    return changed


def render_pending_items(limit: int = 20) -> int:
    """Render the items waiting for audio; returns how many were handled."""
    settings = load_settings()
    if settings.task_broker_url:
        with database(settings).session() as session:
            return dispatch.renders(session, settings, now=datetime.now(UTC))
    tools = audio_tools(settings)  # cheap to build; a new one picks up configuration changes
    with database(settings).session() as session:
        done = rendering.render_pending(session, tools, limit=limit)
        # Stations airing these items now get real audio instead of an estimate: recompile them.
        affected = {s for item in done for placement in rendering.placements_of(session, item)
                    for s in scheduling.placement_stations(session, placement)}
        scheduling.after_change(session, settings, affected)
    if done:
        log.info("rendered %d items; %d stations to recompile", len(done), len(affected))
    return len(done)


def compile_queued() -> int:
    settings = load_settings()
    if settings.task_broker_url:
        with database(settings).session() as session:
            return dispatch.compiles(session, settings, now=datetime.now(UTC))
    with _database(settings.resolved_database_url).session() as session:
        return scheduling.compile_queued(session, settings)


def compile_all() -> int:
    settings = load_settings()
    if settings.task_broker_url:  # the queue's workers share it out
        with database(settings).session() as session:
            return scheduling.request_compile(session)
    with _database(settings.resolved_database_url).session() as session:
        return compiler.compile_stations(session, settings, now=datetime.now(UTC)).stations


def deliver_webhooks() -> int:
    """Send the webhook events that are due (new ones, and failed ones whose retry time has come)."""
    settings = load_settings()
    with _database(settings.resolved_database_url).session() as session:
        run = webhooks.deliver_webhooks(session, settings, now=datetime.now(UTC))
    if run.sent or run.failed:
        log.info("webhooks: %d sent, %d failed", run.sent, run.failed)
    return run.sent + run.failed


def push_deliveries() -> int:
    """Push the SFTP deliveries that are due (new versions, and failed ones whose retry time has come)."""
    settings = load_settings()
    if settings.task_broker_url:
        with database(settings).session() as session:
            return dispatch.pushes(session, settings, now=datetime.now(UTC))
    with _database(settings.resolved_database_url).session() as session:
        run = pushing.push_due(session, settings, now=datetime.now(UTC))
    return run.sent + run.failed


def push_emergencies() -> int:
    """Put live emergency commands into the inboxes of push stations over SFTP."""
    settings = load_settings()
    with _database(settings.resolved_database_url).session() as session:
        pushed, failed = emergency_delivery.push_pending(session, settings, now=datetime.now(UTC))
    return pushed + failed


def mark_missed_airings(now: datetime | None = None) -> int:
    """Record the sessions that ended with no playback reported as missed."""
    settings = load_settings()
    with _database(settings.resolved_database_url).session() as session:
        missed = asrun.mark_missed(session, now=now or datetime.now(UTC))
    if missed:
        log.info("%d sessions ended with nothing reported: missed", missed)
    return missed


def end_abandoned_live() -> int:
    """End the live announcements nobody feeds any more (their web worker died) and tell their stations to stop."""
    from broadcast.services import live_sessions
    from broadcast.services.emergencies import Outgoing

    settings = load_settings()
    config = live_sessions.LiveConfig.from_settings(settings)
    if config is None:
        return 0
    with _database(settings.resolved_database_url).session() as session:
        outgoing = live_sessions.sweep(session, now=datetime.now(UTC), config=config)
    emergency_delivery.dispatch(settings, Outgoing(tuple(outgoing)))
    return len(outgoing)
