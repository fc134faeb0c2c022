"""Public feeds for other electronic channels: an RSS 2.0 podcast feed per area, and the audio it encloses.

No login: the provincial e-portal and podcast readers fetch these. Only published bulletins appear, by the rule
in broadcast.services.publication; any other audio is 404 here, whatever its hash.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, request, send_file, url_for

from broadcast.channels import feed
from broadcast.errors import NotFound
from broadcast.i18n import _, _l
from broadcast.services import areas, publication
from broadcast.web.context import audio, db, settings
from broadcast.web.time import local_today

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

RSS_TYPE = "application/rss+xml; charset=utf-8"
FEED_MAX_AGE_S = 60  # the e-portal polls; a minute of caching keeps a new bulletin's delay short
AUDIO_MAX_AGE_S = 3600  # content-addressed, but it may stop being published
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _window() -> publication.Window:
    return publication.default_window(local_today(), settings().schedule_days)


@bp.route("/<area_code>.rss")
def area_feed(area_code: str):
    """The bulletins published for an area (its own, those from above it and those of the areas below it)."""
    session = db()
    area = areas.find_area(session, area_code)
    zone = settings().zone
    episodes = [
        feed.Episode(item_id=item.id, title=item.title, body=item.body,
                     published_at=(item.approved_at or item.updated_at).astimezone(zone),
                     audio_url=url_for(".audio_file", sha256=item.audio_asset.sha256, _external=True),
                     audio_sha256=item.audio_asset.sha256, size_bytes=item.audio_asset.size_bytes,
                     duration_ms=item.audio_asset.duration_ms, mime_type=item.audio_asset.mime_type)
        for item in publication.published_items(session, area, _window())
    ]
    updated = max((e.published_at for e in episodes), default=area.updated_at.astimezone(zone))
    channel = feed.Channel(
        title=_("Radio bulletins — %(area)s", area=area.name),
        link=request.url_root,
        description=_("Bulletins broadcast on the commune loudspeakers of %(area)s, with their audio.",
                      area=area.name),
        self_url=url_for(".area_feed", area_code=area.code, _external=True),
        updated=updated,
    )
    body = feed.build_feed(channel, episodes)
    response = Response(body, content_type=RSS_TYPE)
    # The bytes depend only on the published data, so their hash is a strong validator.
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.last_modified = updated
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE_S
    return response.make_conditional(request)


@bp.route("/audio/<sha256>.mp3")
def audio_file(sha256: str):
    """The audio of a published bulletin, with Range support (players seek, readers resume downloads)."""
    asset = publication.published_audio(db(), sha256, _window()) if _SHA256.fullmatch(sha256) else None
    tools = audio()
    if asset is None or not tools.store.exists(asset.sha256, tools.station_format.suffix):
        raise NotFound(_l("No published bulletin has this audio."))
    response = send_file(tools.store.path_for(asset.sha256, tools.station_format.suffix), mimetype=asset.mime_type,
                         conditional=True, etag=asset.sha256, max_age=AUDIO_MAX_AGE_S,
                         download_name=f"{asset.sha256}{tools.station_format.suffix}")
    response.headers["Accept-Ranges"] = "bytes"
    response.cache_control.public = True
    return response
