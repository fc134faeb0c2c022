"""What the station page's remote control offers: the audio a person may play now at a station, and the titles
of what recent commands played. Issuing and acknowledging are broadcast.services.commands."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session, joinedload

from broadcast.db.models import Area, AudioAsset, ItemStatus, NewsItem, Station, User
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import scope

LIMIT = 200


def playable_items(session: Session, user: User, station: Station, limit: int = LIMIT) -> list[NewsItem]:
    """Approved items with audio that belong to the station's area: owned by its commune or an area above it
    (the district's, the province's), newest first. Another area's items are not offered."""
    scope.require_area(user, station.commune)
    # The owner's path is a prefix of the commune's: the commune itself or one of the areas it lies in.
    query = (select(NewsItem).join(Area, NewsItem.owner_area_id == Area.id)
             .join(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
             .where(NewsItem.status == ItemStatus.APPROVED,
                    literal(station.commune.path).startswith(Area.path))
             .options(joinedload(NewsItem.audio_asset)).order_by(NewsItem.id.desc()).limit(limit))
    return list(session.scalars(query))


def playable_item(session: Session, user: User, station: Station, item_id: int | None) -> NewsItem:
    """The item chosen to play now, if the station's remote control offers it."""
    found = next((item for item in playable_items(session, user, station) if item.id == item_id), None)
    if found is None:
        raise InvalidInput(_l("Choose a bulletin to play."), field="item_id")
    return found


def titles_by_sha(session: Session, shas: set[str]) -> dict[str, str]:
    """The title of an item whose audio is each of ``shas`` (what a "play now" command played)."""
    if not shas:
        return {}
    rows = session.execute(select(AudioAsset.sha256, NewsItem.title).join(
        NewsItem, NewsItem.audio_asset_id == AudioAsset.id).where(AudioAsset.sha256.in_(shas)))
    return {sha: title for sha, title in rows}
