"""Live announcements: a person speaks into the browser, the stations of chosen areas relay it at once.

The voice goes through an Icecast mount of its own; each station gets a ``play_stream`` command naming the
mount's listen address and the latest end, then a ``stop`` when the speaker ends (or is cut off).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, str_enum
from .delivery import StationCommand
from .stations import Station
from .users import User


class LiveState(enum.StrEnum):
    STARTING = "starting"  # opened; waiting for the speaker's first audio and the mount to come up
    ON_AIR = "on_air"  # the mount is fed and the stations were told to relay it
    ENDED = "ended"


class LiveEnd(enum.StrEnum):
    STOPPED = "stopped"  # the speaker (or another person) pressed stop
    DROPPED = "dropped"  # the speaker's browser went away or sent no audio for too long
    TIME_UP = "time_up"  # the maximum length was reached
    FAILED = "failed"  # the relay to the stream server failed


live_areas = Table(
    "live_areas",
    Base.metadata,
    Column("session_id", Integer, ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="RESTRICT"), primary_key=True),
)


class LiveSession(Base):
    """One live announcement: who speaks, where to, on which mount, until when at the latest, how it ended."""

    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    mount: Mapped[str] = mapped_column(String(100), unique=True, doc="the Icecast mount, e.g. /live-3f9a...")
    state: Mapped[LiveState] = mapped_column(str_enum(LiveState), default=LiveState.STARTING, index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    on_air_at: Mapped[datetime | None]
    until: Mapped[datetime] = mapped_column(doc="the latest end: stations stop by themselves then")
    last_audio_at: Mapped[datetime | None] = mapped_column(doc="the last audio heard from the speaker")
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    end_reason: Mapped[LiveEnd | None] = mapped_column(str_enum(LiveEnd))

    areas: Mapped[list[Area]] = relationship(secondary=live_areas, order_by=Area.path)
    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])


class LiveTarget(Base):
    """One station a live announcement went to: its ``play_stream`` command, and the ``stop`` that ended it."""

    __tablename__ = "live_targets"
    __table_args__ = (UniqueConstraint("session_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    play_command_id: Mapped[int | None] = mapped_column(ForeignKey("station_commands.id", ondelete="SET NULL"))
    stop_command_id: Mapped[int | None] = mapped_column(ForeignKey("station_commands.id", ondelete="SET NULL"))

    station: Mapped[Station] = relationship()
    play_command: Mapped[StationCommand | None] = relationship(foreign_keys=[play_command_id])
    stop_command: Mapped[StationCommand | None] = relationship(foreign_keys=[stop_command_id])
