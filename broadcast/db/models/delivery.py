"""What reached each station, what it played, and what people confirmed."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, str_enum, utcnow
from .scheduling import Slot
from .stations import Station
from .users import User


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    VERIFIED = "verified"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer version was queued before this one got through: nothing to do


class Delivery(Timestamped, Base):
    """One manifest version on its way to one station over one channel (sftp, http).

    queued -> sent -> verified, or failed with the reason, the attempts so far and the next retry (none when
    retrying cannot help, e.g. a host key mismatch, until someone acts).
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("station_id", "manifest_version", "channel"),
                      Index("ix_deliveries_due", "state", "next_retry_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    manifest_version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)

    station: Mapped[Station] = relationship()


class Webhook(Timestamped, Base):
    """Another system told of every bulletin published for an area (and its subtree), signed with HMAC-SHA256."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    # Kept readable: signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(Timestamped, Base):
    """One event for one webhook; the event id lets the receiver drop a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"), Index("ix_webhook_deliveries_due", "state",
                                                                          "next_retry_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]
    next_retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship()


class PlaybackOutcome(enum.StrEnum):
    PLAYED = "played"
    SKIPPED = "skipped"
    FAILED = "failed"


class PlaybackEvent(Base):
    """One line of a station's as-run log; the agent's event id makes redelivery harmless."""

    __tablename__ = "playback_events"
    __table_args__ = (UniqueConstraint("station_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[PlaybackOutcome] = mapped_column(str_enum(PlaybackOutcome))
    kind: Mapped[str] = mapped_column(String(20), default="item", doc="item, filler, emergency, command")
    entry_id: Mapped[str | None] = mapped_column(String(200), doc="the manifest entry, e.g. 12@...#0")
    occurrence_key: Mapped[str | None] = mapped_column(String(120), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id", ondelete="SET NULL"))
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    seconds_played: Mapped[float] = mapped_column(default=0.0)
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConfirmationStatus(enum.StrEnum):
    AIRED = "aired"
    NOT_AIRED = "not_aired"


class Confirmation(Base):
    """A person's word that a slot occurrence aired at a station (or why it did not)."""

    __tablename__ = "confirmations"
    __table_args__ = (UniqueConstraint("station_id", "slot_id", "occurrence_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    occurrence_start: Mapped[datetime]
    status: Mapped[ConfirmationStatus] = mapped_column(str_enum(ConfirmationStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship()
    slot: Mapped[Slot] = relationship()
    confirmed_by: Mapped[User | None] = relationship()


class AiringState(enum.StrEnum):
    AIRED = "aired"  # every planned entry was reported played
    PARTIAL = "partial"  # some were
    MISSED = "missed"  # the occurrence is over and the station reported nothing played


class OccurrenceAiring(Base):
    """What a station reported for one slot occurrence, against what was planned (the missed-airing check)."""

    __tablename__ = "occurrence_airings"
    __table_args__ = (UniqueConstraint("station_id", "occurrence_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    occurrence_key: Mapped[str] = mapped_column(String(120))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    day: Mapped[date]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    planned_entries: Mapped[int] = mapped_column(default=0)
    planned_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    played_entries: Mapped[int] = mapped_column(default=0)
    played_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[AiringState] = mapped_column(str_enum(AiringState))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommandKind(enum.StrEnum):
    PLAY_NOW = "play_now"
    STOP = "stop"
    SET_VOLUME = "set_volume"
    EMERGENCY = "emergency"  # air an emergency broadcast at once, repeating as told
    CANCEL_EMERGENCY = "cancel_emergency"  # drop the rest of one (and stop it if on air)
    PLAY_STREAM = "play_stream"  # relay a live stream (args url, until, title) until told to stop or until passes


class CommandState(enum.StrEnum):
    PENDING = "pending"  # waiting for the station to fetch it
    DELIVERED = "delivered"  # the station fetched it
    DONE = "done"  # acknowledged as carried out
    FAILED = "failed"  # acknowledged as not carried out
    EXPIRED = "expired"  # not fetched in time: a late "play now" would surprise people
    HELD = "held"  # an emergency's command made ready while it waits for approval: never fetched as it is


class StationCommand(Base):
    """A remote command for one station (play now, stop, set volume), acknowledged by its agent."""

    __tablename__ = "station_commands"
    __table_args__ = (Index("ix_station_commands_waiting", "station_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[CommandKind] = mapped_column(str_enum(CommandKind))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[CommandState] = mapped_column(str_enum(CommandState), default=CommandState.PENDING)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(Text)
    # Emergency commands also go to stations that receive by SFTP push, into their inbox.
    pushed_at: Mapped[datetime | None]
    push_error: Mapped[str | None] = mapped_column(Text)

    station: Mapped[Station] = relationship()
    issued_by: Mapped[User | None] = relationship()
