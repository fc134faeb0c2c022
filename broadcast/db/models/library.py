"""The media library's own entries: fillers and jingles uploaded to be chosen as a slot's filler.

Recordings of items need no entry here: the library finds them through the items that carry them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, utcnow
from .content import AudioAsset
from .users import User


class LibraryClip(Base):
    """A filler or a jingle in the library: its title and language, whose area it belongs to, who uploaded it."""

    __tablename__ = "library_clips"

    id: Mapped[int] = mapped_column(primary_key=True)
    audio_asset_id: Mapped[int] = mapped_column(ForeignKey("audio_assets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), doc="filler or jingle")
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(10), doc="as items: vi, hmn, tay, dao, nut; none for music")
    # Seen by the area's people and those below it (a province jingle is heard in every commune).
    owner_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    audio_asset: Mapped[AudioAsset] = relationship()
    owner_area: Mapped[Area | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
