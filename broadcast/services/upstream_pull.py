"""Pulling upstream sources on a schedule: one conditional GET each, on its own interval.

The last full answer's ETag and Last-Modified go back as If-None-Match / If-Modified-Since, so a source with
nothing new answers 304. A source that is down, refuses us or answers something that is not its format is
recorded as failed with the reason and asked again later, the wait doubling with each failure in a row (up to
an hour). The validators of an answer are kept only when every bulletin in it was taken or refused for good, so
a bulletin that failed for a passing reason (its audio host down) comes again in the next full answer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.channels import outbound, upstream
from broadcast.db.models import UpstreamSource
from broadcast.services.bulletins_in import Batch, Context, take
from broadcast.services.inbound_formats import FormatError

log = logging.getLogger(__name__)

PULL_TIMEOUT_S = 20.0
# After failures a source waits longer, up to this (an upstream that is down is not hammered).
MAX_BACKOFF_S = 3600


def _backoff(source: UpstreamSource) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_S, source.pull_interval_s * 2 ** min(source.failures, 10)))


def pull_source(session: Session, source: UpstreamSource, context: Context, sender) -> Batch | None:
    """One conditional GET of the source and the intake of what it answered; None when it failed (recorded on
    the source with the reason, and tried again later, later still after each failure)."""
    source.last_pulled_at = context.now
    try:
        fetched = upstream.fetch(source.url, sender=sender, etag=source.etag, last_modified=source.last_modified,
                                 token=source.pull_token, timeout_s=PULL_TIMEOUT_S)
        batch = Batch() if fetched.not_modified else take(session, source, fetched.body, via="pull",
                                                                       context=context)
    except (upstream.UpstreamFailed, FormatError) as exc:
        session.rollback()
        source.failures += 1
        source.last_outcome, source.last_error = "failed", str(exc)[:2000]
        source.next_pull_at = context.now + _backoff(source)
        session.commit()
        log.warning("source %s: pull failed (%d in a row): %s", source.name, source.failures, exc)
        return None
    source.failures = 0
    source.last_outcome = "not_modified" if fetched.not_modified else "ok"
    source.last_error = "; ".join(batch.problems)[:2000] or None
    if not batch.transient:
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
    source.next_pull_at = context.now + timedelta(seconds=source.pull_interval_s)
    session.commit()
    if batch.created:
        log.info("source %s: %d new bulletins", source.name, batch.created)
    return batch


def due_sources(session: Session, now: datetime) -> list[UpstreamSource]:
    return list(session.scalars(select(UpstreamSource).where(
        UpstreamSource.active.is_(True), UpstreamSource.url.is_not(None), UpstreamSource.next_pull_at <= now)
        .order_by(UpstreamSource.next_pull_at, UpstreamSource.id)))


def pull_due(session: Session, context: Context) -> list[Batch | None]:
    """Pull every active source whose turn has come; one source's unexpected error does not stop the others."""
    batches: list[Batch | None] = []
    with outbound.session(context.policy) as sender:
        for source in due_sources(session, context.now):
            try:
                batches.append(pull_source(session, source, context, sender))
            except Exception:  # a bug or a database error with one source's document: logged, the rest go on
                log.exception("source %s: pull failed unexpectedly", source.name)
                session.rollback()
                source.failures += 1
                source.last_outcome, source.last_error = "failed", "internal error (see the service's log)"
                source.next_pull_at = context.now + _backoff(source)
                session.commit()
                batches.append(None)
    return batches

