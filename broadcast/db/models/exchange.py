"""Data exchange with other systems: upstream sources of bulletins, what they sent, and the statistics pushed up."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, str_enum, utcnow
from .content import NewsItem
from .delivery import DeliveryState
from .emergency import EmergencyBroadcast


class SourceKind(enum.StrEnum):
    """How an upstream source's endpoint speaks."""

    JSON = "json"  # {"bulletins": [{"id", "title", "body", ...}]} (see broadcast.exchange.bulletins)
    RSS = "rss"  # RSS 2.0 or Atom; an audio enclosure is the recording, else the text is read aloud
    CAP = "cap"  # one CAP 1.2 alert, or an Atom/RSS feed whose entries link to CAP alerts


class UpstreamSource(Timestamped, Base):
    """A system that sends us bulletins: pulled from ``url`` on a schedule, or pushing to us with ``secret``."""

    __tablename__ = "upstream_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind))
    # None: the source only pushes.
    url: Mapped[str | None] = mapped_column(String(500))
    # Sent as a bearer token when pulling, if the upstream wants one.
    pull_token: Mapped[str | None] = mapped_column(String(500))
    # What the source signs its pushes with (HMAC) or sends as its bearer token; readable, since HMAC needs it.
    secret: Mapped[str] = mapped_column(String(128))
    # The area whose editors receive the items (None: the province's, i.e. editors with the whole scope).
    owner_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    pull_interval_s: Mapped[int] = mapped_column(default=300)
    next_pull_at: Mapped[datetime | None]
    # The validators of the last full answer, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_pulled_at: Mapped[datetime | None]
    # ok, not_modified or failed, with the reason of the last failure.
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReceivedBulletin(Base):
    """One bulletin a source sent, by the source's own id: the same id again is recognised and changes nothing."""

    __tablename__ = "received_bulletins"
    __table_args__ = (UniqueConstraint("source_id", "source_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("upstream_sources.id", ondelete="CASCADE"))
    source_ref: Mapped[str] = mapped_column(String(300))
    via: Mapped[str] = mapped_column(String(10), doc="pull or push")
    title: Mapped[str] = mapped_column(String(300))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id", ondelete="SET NULL"), index=True)
    # A CAP emergency becomes an emergency broadcast (waiting for an approver unless its sender is trusted).
    emergency_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_broadcasts.id", ondelete="SET NULL"))
    # What was not taken as sent (an audio enclosure refused, so the text is read aloud instead).
    warning: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[UpstreamSource] = relationship()
    item: Mapped[NewsItem | None] = relationship()
    emergency: Mapped[EmergencyBroadcast | None] = relationship()


class StatisticsPush(Timestamped, Base):
    """One day's figures sent to the statistics receiver (LGSP/NGSP), retried with backoff until acknowledged."""

    __tablename__ = "statistics_pushes"
    __table_args__ = (UniqueConstraint("day", "target"), Index("ix_statistics_pushes_due", "state", "next_retry_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    target: Mapped[str] = mapped_column(String(500))
    # The exact document sent, the same on every attempt (the receiver drops a repeat by its push_id).
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]
    next_retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
