"""Who may fetch a stored audio file by its sha256: the audio is no more public than what it belongs to.

A station fetches what its manifest names (broadcast.web.api.station_sync); a signed link opens its one file. A
person may fetch the audio of

- an item they may read (owned in their area: their own drafts and recordings included),
- what the current playlist of a station in their area plays (items from above, fillers, jingles),
- what anyone may hear: a published bulletin or a sent warning, as /feeds serves them.
- the warning of an emergency broadcast they see, sent or still waiting (its approver hears it first).

Anything else is "not found", so that a digest does not tell whether another commune holds that recording.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, AudioAsset, NewsItem, Station, StationManifest, User
from broadcast.services import emergencies, exports, publication, scope

_MANIFESTS_CHECKED = 20  # candidates whose text names the digest; one that really plays it is enough


def _item_in_scope(session: Session, user: User, sha256: str) -> bool:
    query = (select(NewsItem.id).join(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
             .join(Area, NewsItem.owner_area_id == Area.id).where(AudioAsset.sha256 == sha256))
    return session.scalar(scope.limit_areas(user, query).limit(1)) is not None


def _played_in_scope(session: Session, user: User, sha256: str) -> bool:
    # The text search narrows the manifests cheaply; names_audio then reads the candidates' entries.
    query = scope.limit_stations(session, user, select(Station).join(StationManifest,
                                                                     StationManifest.station_id == Station.id)
                                 ).where(StationManifest.body.contains(sha256)).limit(_MANIFESTS_CHECKED)
    return any(exports.names_audio(session, station, sha256) for station in session.scalars(query))


def user_may_fetch(session: Session, user: User, sha256: str, window: publication.Window) -> bool:
    """Whether ``user`` may fetch the audio ``sha256`` (see the module's rules); ``window`` as for the feeds."""
    if scope.covers_everything(user):
        return True
    if user.scope_area is None:
        return False
    return (_item_in_scope(session, user, sha256) or _played_in_scope(session, user, sha256)
            or publication.published_audio(session, sha256, window) is not None
            or emergencies.public_audio(session, sha256) is not None
            or emergencies.audio_seen(session, user, sha256))
