"""Which bulletins are published for an area: what the e-portal feed lists, the public audio serves and
webhooks announce.

The rule, in one place. An item is published for an area A when

- it is approved and its audio is ready (a rendered reading, or an uploaded recording), and
- it has a placement whose dates overlap the window (by default the last 30 days up to the schedule horizon)
  with a target that reaches A: a target that is A itself, an area above A (a province-wide item reaches every
  commune of the province) or an area below A (a province's or district's feed shows its communes' own items).
  A station target counts as its commune.

Areas of the two structures (legacy and 2025) are separate trees: an item placed on a 2025 commune does not
reach the legacy commune it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from broadcast.db.models import (
    Area,
    AudioAsset,
    ItemStatus,
    NewsItem,
    Placement,
    PlacementTarget,
    RenderState,
    Station,
)

PAST_DAYS = 30
FEED_LIMIT = 100
AUDIO_PATH = "/feeds/audio/{sha256}.mp3"  # the public route of broadcast.web.feeds


@dataclass(frozen=True)
class Window:
    """The local days whose placements count as published (both ends included)."""

    since: date
    until: date


def default_window(today: date, horizon_days: int, past_days: int = PAST_DAYS) -> Window:
    """The last ``past_days`` days up to the end of the schedule horizon (what stations have been sent)."""
    return Window(today - timedelta(days=past_days), today + timedelta(days=horizon_days))


def audio_path(sha256: str) -> str:
    """Where the public audio of a published item is served, relative to the service's root."""
    return AUDIO_PATH.format(sha256=sha256)


def ancestor_paths(path: str) -> list[str]:
    """``2025/08/00694/`` -> ``2025/``, ``2025/08/``, ``2025/08/00694/``: the area and every area above it."""
    parts = path.strip("/").split("/")
    return ["/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def reaches(column: ColumnElement[str], path: str) -> ColumnElement[bool]:
    """True where the area path in ``column`` is the area at ``path``, above it, or below it."""
    return or_(column.in_(ancestor_paths(path)), column.startswith(path, autoescape=True))


def _ready():
    return (NewsItem.status == ItemStatus.APPROVED, NewsItem.render_state == RenderState.READY,
            NewsItem.audio_asset_id.is_not(None))


def _placed_within(window: Window):
    """Item ids with a placement overlapping the window, joined to each target's area (a station's commune)."""
    return (select(Placement.item_id)
            .join(PlacementTarget, PlacementTarget.placement_id == Placement.id)
            .outerjoin(Station, Station.id == PlacementTarget.station_id)
            .join(Area, Area.id == func.coalesce(PlacementTarget.area_id, Station.commune_id))
            .where(Placement.date_from <= window.until, Placement.date_until >= window.since))


def published_at_column():
    """When an item counts as published: its approval (older rows without one: their last change)."""
    return func.coalesce(NewsItem.approved_at, NewsItem.updated_at)


def published_items(session: Session, area: Area, window: Window, *, limit: int = FEED_LIMIT) -> list[NewsItem]:
    """The items published for ``area``, newest approval first, at most ``limit``; audio assets loaded."""
    placed = _placed_within(window).where(reaches(Area.path, area.path))
    query = (select(NewsItem)
             .join(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
             .where(*_ready(), NewsItem.id.in_(placed))
             .options(contains_eager(NewsItem.audio_asset))
             .order_by(published_at_column().desc(), NewsItem.id.desc())
             .limit(limit))
    return list(session.scalars(query))


def published_audio(session: Session, sha256: str, window: Window) -> AudioAsset | None:
    """The audio asset ``sha256`` if it belongs to an item published somewhere; None otherwise.

    Only such audio may be served to the public: drafts, rejected items and items not (or no longer) on air
    stay private.
    """
    item = select(NewsItem.id).where(NewsItem.audio_asset_id == AudioAsset.id, *_ready(),
                                     NewsItem.id.in_(_placed_within(window)))
    return session.scalar(select(AudioAsset).where(AudioAsset.sha256 == sha256, item.exists()))
