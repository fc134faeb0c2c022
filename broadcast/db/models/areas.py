"""Administrative units, as a tree keyed by official statistics-office codes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, str_enum, utcnow


class Structure(enum.StrEnum):
    """Which administrative map a unit belongs to: before or after the reform of 1 July 2025."""

    LEGACY = "legacy"  # province -> district -> commune
    CURRENT = "2025"  # province -> commune


class Level(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class Area(Timestamped, Base):
    """One administrative unit. ``path`` lists the codes from the root, so a subtree is a prefix match.

    Codes are unique only within a structure and level (a 2025 commune may reuse a legacy code).
    """

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("structure", "level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    structure: Mapped[Structure] = mapped_column(str_enum(Structure))
    level: Mapped[Level] = mapped_column(str_enum(Level))
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40), doc="Tỉnh, Thành phố, Huyện, Xã, Phường, Thị trấn ...")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(String(80), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # None: the service's default zone.
    timezone: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.code")

    @staticmethod
    def path_for(structure: Structure, codes: list[str]) -> str:
        return "/".join([structure.value, *codes]) + "/"

    def __repr__(self) -> str:
        return f"<Area {self.structure}:{self.level}:{self.code} {self.name}>"


class AreaSuccession(Base):
    """A legacy commune whose territory went (wholly or partly) into a 2025 commune."""

    __tablename__ = "area_successions"

    legacy_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    current_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    is_default: Mapped[bool] = mapped_column(default=True, doc="False where only part of the unit went there")


class AreaOutline(Base):
    """An area's boundary, imported from a boundary file (GeoJSON in WGS 84) for the station map.

    Kept simplified for drawing (tens of metres), not for measuring. Areas without one are drawn from their
    centres (broadcast.services.outline_geometry.estimated_cells).
    """

    __tablename__ = "area_outlines"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    geometry: Mapped[str] = mapped_column(Text, doc="a GeoJSON Polygon or MultiPolygon, [lon, lat] in WGS 84")
    source: Mapped[str] = mapped_column(String(200), doc="the file it came from")
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
