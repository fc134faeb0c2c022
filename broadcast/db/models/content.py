"""News items and the audio they become."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, Timestamped, str_enum, utcnow
from .users import User


class ItemStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class ItemClass(enum.StrEnum):
    """Bulletin classes of Circular 39/2020/TT-BTTTT."""

    NORMAL = "normal"
    PRIORITY = "priority"
    EMERGENCY = "emergency"


class RenderState(enum.StrEnum):
    """Where an item's broadcast-ready audio stands."""

    NONE = "none"  # nothing to render yet (a draft, or a recording still to upload)
    PENDING = "pending"  # waiting for the render job
    READY = "ready"
    FAILED = "failed"


class ContentSource(enum.StrEnum):
    SPEECH = "speech"  # read from the text by a speech engine
    RECORDING = "recording"  # an uploaded recording (Mông, Tày, Dao, Nùng programmes have no voice)
    STREAM = "stream"  # a live relay (VOV, the provincial station) aired from a URL for a set window


class AudioAsset(Base):
    """A broadcast-ready audio file, stored once under its SHA-256."""

    __tablename__ = "audio_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int]
    duration_ms: Mapped[int]
    mime_type: Mapped[str] = mapped_column(String(40), default="audio/mpeg")
    origin: Mapped[str] = mapped_column(String(20), doc="tts, upload or filler")
    # For speech: a hash of engine, voice, rate, text and station format, so the same reading is reused.
    render_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NewsItem(Timestamped, Base):
    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="vi", doc="vi, hmn (Mông), tay, dao, nut (Nùng)")
    category: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    item_class: Mapped[ItemClass] = mapped_column(str_enum(ItemClass), default=ItemClass.NORMAL)
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus), default=ItemStatus.DRAFT, index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    voice: Mapped[str | None] = mapped_column(String(80))
    speaking_rate: Mapped[str] = mapped_column(String(8), default="+0%")
    # The area whose editors and operators own the item (a commune for commune-local items).
    owner_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    audio_asset_id: Mapped[int | None] = mapped_column(ForeignKey("audio_assets.id", ondelete="SET NULL"))
    estimated_duration_ms: Mapped[int | None]
    content_source: Mapped[ContentSource] = mapped_column(str_enum(ContentSource), default=ContentSource.SPEECH)
    # A relay's stream (Icecast/HTTP MP3 or HLS) and its window: stations play it for that long.
    stream_url: Mapped[str | None] = mapped_column(String(1000))
    stream_duration_s: Mapped[int | None]
    render_state: Mapped[RenderState] = mapped_column(str_enum(RenderState), default=RenderState.NONE, index=True)
    # Set when the configured engine failed and the fallback read the item; shown to the editor.
    render_warning: Mapped[str | None] = mapped_column(Text)
    render_error: Mapped[str | None] = mapped_column(Text)
    rendered_engine: Mapped[str | None] = mapped_column(String(20))
    rendered_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    owner_area: Mapped[Area | None] = relationship()
    audio_asset: Mapped[AudioAsset | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def duration_ms(self) -> int | None:
        """The measured duration once rendered, else the estimate."""
        return self.audio_asset.duration_ms if self.audio_asset is not None else self.estimated_duration_ms


class LexiconEntry(Timestamped, Base):
    """How an abbreviation or a name is read aloud; editors maintain these beside the built-in lexicon."""

    __tablename__ = "lexicon_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(60), unique=True)
    reading: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(300))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
