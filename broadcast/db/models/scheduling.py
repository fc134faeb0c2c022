"""Air-time slots, placements of items into them, and the compiled per-station day playlists."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, Timestamped, str_enum, utcnow
from .content import AudioAsset, NewsItem
from .stations import Station


class OverflowPolicy(enum.StrEnum):
    REJECT = "reject"
    MOVE_NEXT = "move_next"  # lowest-priority items move to the next occurrence
    DROP = "drop"  # lowest-priority items are dropped


class Slot(Timestamped, Base):
    """A recurring air-time window on an area (inherited by its subtree) or on one station.

    ``start_time`` is wall-clock time in the station's zone; recurrence is an iCalendar RRULE.
    """

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint("(area_id IS NULL) <> (station_id IS NULL)", name="area_xor_station"),
        CheckConstraint("duration_s > 0", name="positive_duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    # Set where this slot replaces an inherited one for its area or station.
    overrides_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    start_time: Mapped[time]
    duration_s: Mapped[int]
    rrule: Mapped[str] = mapped_column(String(500), default="FREQ=DAILY")
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    # {"cancelled": ["2026-01-01", ...], "extra": ["2026-02-03T19:00", ...]}
    exceptions: Mapped[dict] = mapped_column(JSON, default=dict)
    overflow_policy: Mapped[OverflowPolicy] = mapped_column(str_enum(OverflowPolicy), default=OverflowPolicy.REJECT)
    gap_ms: Mapped[int] = mapped_column(default=1000)
    filler_asset_id: Mapped[int | None] = mapped_column(ForeignKey("audio_assets.id", ondelete="SET NULL"))

    area: Mapped[Area | None] = relationship()
    station: Mapped[Station | None] = relationship()
    filler_asset: Mapped[AudioAsset | None] = relationship()


class PlacementTarget(Base):
    """One target of a placement: an area (with its subtree) or a single station."""

    __tablename__ = "placement_targets"
    __table_args__ = (CheckConstraint("(area_id IS NULL) <> (station_id IS NULL)", name="area_xor_station"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id", ondelete="CASCADE"), index=True)
    # Indexed: a compile finds the placements aimed at a station through these.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)

    area: Mapped[Area | None] = relationship()
    station: Mapped[Station | None] = relationship()

    @property
    def code(self) -> str:
        """How people and the API name the target: an area code, or station:<code>."""
        return f"station:{self.station.code}" if self.station_id else self.area.code


class Placement(Timestamped, Base):
    """An item placed into the occurrences of a slot, for chosen targets."""

    __tablename__ = "placements"
    __table_args__ = (CheckConstraint("repeat_count >= 1", name="at_least_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)
    date_from: Mapped[date]
    date_until: Mapped[date]
    weekdays: Mapped[str | None] = mapped_column(String(30), doc="e.g. MO,WE,FR; None: every day of the slot")
    repeat_count: Mapped[int] = mapped_column(default=1)
    repeat_gap_s: Mapped[int] = mapped_column(default=0)
    position: Mapped[int | None] = mapped_column(doc="fixed position in the occurrence; None: by priority")
    priority: Mapped[int] = mapped_column(default=0)
    # The area of whoever placed it: a commune's own items versus the province's (priority clash rule).
    placed_by_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    item: Mapped[NewsItem] = relationship()
    slot: Mapped[Slot] = relationship()
    targets: Mapped[list[PlacementTarget]] = relationship(cascade="all, delete-orphan")


class PriorityOrder(Base):
    """The order a commune operator set for priority items that clash in their commune (Circular 39)."""

    __tablename__ = "priority_orders"
    __table_args__ = (UniqueConstraint("commune_id", "placement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id", ondelete="CASCADE"))
    position: Mapped[int]


class CompileRequest(Base):
    """A station whose schedule changed and waits for the compile job (large changes are compiled there)."""

    __tablename__ = "compile_requests"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationManifest(Base):
    """The whole upcoming schedule of one station as it is sent: what polls and pushes serve."""

    __tablename__ = "station_manifests"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]
    etag: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, doc="the manifest JSON exactly as served")
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Playlist(Base):
    """One compiled version of a station's day; a new version only when the content changes."""

    __tablename__ = "playlists"
    __table_args__ = (UniqueConstraint("station_id", "day", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]
    version: Mapped[int]
    etag: Mapped[str] = mapped_column(String(80))
    content: Mapped[dict] = mapped_column(JSON)
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[Station] = relationship()
