"""Public feeds for other electronic channels: an RSS 2.0 podcast feed per area and the audio it encloses, and
the emergency warnings as OASIS CAP 1.2 alerts with an Atom feed of them per area.

No login: the provincial e-portal and podcast readers fetch these. Only published bulletins appear, by the rule
in broadcast.services.publication; any other audio is 404 here, whatever its hash.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask import Blueprint, Response, request, send_file, url_for

from broadcast.alerts import export
from broadcast.channels import feed
from broadcast.db.models import EmergencyState
from broadcast.errors import NotFound
from broadcast.i18n import _, _l
from broadcast.services import areas, emergencies, publication
from broadcast.web.context import audio, db, settings
from broadcast.web.time import local_today, utc_now

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
    asset = None
    if _SHA256.fullmatch(sha256):
        asset = publication.published_audio(db(), sha256, _window()) or emergencies.public_audio(db(), sha256)
    tools = audio()
    if asset is None or not tools.store.exists(asset.sha256, tools.station_format.suffix):
        raise NotFound(_l("No published bulletin has this audio."))
    response = send_file(tools.store.path_for(asset.sha256, tools.station_format.suffix), mimetype=asset.mime_type,
                         conditional=True, etag=asset.sha256, max_age=AUDIO_MAX_AGE_S,
                         download_name=f"{asset.sha256}{tools.station_format.suffix}")
    response.headers["Accept-Ranges"] = "bytes"
    response.cache_control.public = True
    return response


CAP_TYPE = "application/cap+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
ALERT_FEED_DAYS = 7


def _cap(broadcast) -> bytes:
    return export.to_cap(broadcast, sender=settings().cap_sender, sender_name=settings().cap_sender_name,
                         zone=settings().zone,
                         audio_url=lambda sha: url_for(".audio_file", sha256=sha, _external=True))


def _cached(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = ALERT_MAX_AGE_S
    return response.make_conditional(request)


ALERT_MAX_AGE_S = 30  # a warning's feed must not be stale for long


@bp.route("/alerts/<int:broadcast_id>.xml")
def alert_file(broadcast_id: int):
    """One emergency broadcast that was sent, as a CAP 1.2 alert."""
    return _cached(_cap(emergencies.public_broadcast(db(), broadcast_id)), CAP_TYPE)


@bp.route("/alerts/<int:broadcast_id>-cancel.xml")
def alert_cancel_file(broadcast_id: int):
    """The CAP Cancel message of a withdrawn emergency broadcast."""
    broadcast = emergencies.public_broadcast(db(), broadcast_id)
    if broadcast.state is not EmergencyState.CANCELLED:
        raise NotFound(_l("This emergency broadcast was not cancelled."))
    return _cached(export.to_cap_cancel(broadcast, sender=settings().cap_sender, zone=settings().zone), CAP_TYPE)


@bp.route("/<area_code>/alerts.atom")
def area_alerts(area_code: str):
    """The warnings of the last week for an area (sent to it, above it or inside it), as an Atom feed of CAP
    alerts; a withdrawn warning also has its Cancel message."""
    session = db()
    area = areas.find_area(session, area_code)
    zone = settings().zone
    since = utc_now() - timedelta(days=ALERT_FEED_DAYS)
    entries = []
    for broadcast in emergencies.public_for_area(session, area, since=since):
        if broadcast.state is EmergencyState.CANCELLED:
            entries.append((f"{url_for('.alert_cancel_file', broadcast_id=broadcast.id, _external=True)}",
                            _("Cancelled: %(title)s", title=broadcast.title), broadcast.closed_at,
                            url_for(".alert_cancel_file", broadcast_id=broadcast.id, _external=True),
                            export.to_cap_cancel(broadcast, sender=settings().cap_sender, zone=zone)))
        link = url_for(".alert_file", broadcast_id=broadcast.id, _external=True)
        entries.append((link, broadcast.title, broadcast.issued_at, link, _cap(broadcast)))
    updated = max((e[2] for e in entries), default=area.updated_at)
    body = export.atom_feed(title=_("Emergency warnings — %(area)s", area=area.name),
                            feed_id=url_for(".area_alerts", area_code=area.code, _external=True),
                            self_url=url_for(".area_alerts", area_code=area.code, _external=True),
                            updated=updated, zone=zone, entries=entries)
    return _cached(body, ATOM_TYPE)
