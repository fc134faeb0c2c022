"""Public feeds for other electronic channels: an RSS 2.0 podcast feed per area and the audio it encloses, and
the emergency warnings as OASIS CAP 1.2 alerts with an Atom feed of them per area.

No login: the provincial e-portal and podcast readers fetch these. Only published bulletins appear, by the rule
in broadcast.services.publication; any other audio is 404 here, whatever its hash.

A warning whose CAP document cannot be built is left out of the Atom feeds (and logged) rather than failing them:
one bad record must not hide every other warning from the people it is meant to reach.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Blueprint, Response, request, send_file, url_for
from sqlalchemy.exc import SQLAlchemyError

from broadcast.alerts import export
from broadcast.channels import feed
from broadcast.db.models import EmergencyBroadcast, EmergencyState
from broadcast.errors import NotFound
from broadcast.i18n import _, _l
from broadcast.services import areas, emergencies, publication
from broadcast.web.context import audio, db, settings
from broadcast.web.time import local_today, utc_now

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
logger = logging.getLogger(__name__)

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


def _cap(broadcast: EmergencyBroadcast) -> bytes:
    """The broadcast's CAP alert; raises :class:`export.ExportError` if its data cannot make one."""
    return export.to_cap(broadcast, sender=settings().cap_sender, sender_name=settings().cap_sender_name,
                         zone=settings().zone,
                         audio_url=lambda sha: url_for(".audio_file", sha256=sha, _external=True))


def _cap_cancel(broadcast: EmergencyBroadcast) -> bytes:
    """The broadcast's CAP Cancel message; raises :class:`export.ExportError` if its data cannot make one."""
    return export.to_cap_cancel(broadcast, sender=settings().cap_sender, zone=settings().zone)


def _published(broadcast: EmergencyBroadcast, build: Callable[[EmergencyBroadcast], bytes]) -> bytes:
    """One alert's own document for its own URL: a failure is logged, then answered with its clear message."""
    try:
        return build(broadcast)
    except export.ExportError:
        logger.exception("CAP document of emergency broadcast %s cannot be built", broadcast.id)
        raise


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
    return _cached(_published(emergencies.public_broadcast(db(), broadcast_id), _cap), CAP_TYPE)


@bp.route("/alerts/<int:broadcast_id>-cancel.xml")
def alert_cancel_file(broadcast_id: int):
    """The CAP Cancel message of a withdrawn emergency broadcast."""
    broadcast = emergencies.public_broadcast(db(), broadcast_id)
    if broadcast.state is not EmergencyState.CANCELLED:
        raise NotFound(_l("This emergency broadcast was not cancelled."))
    return _cached(_published(broadcast, _cap_cancel), CAP_TYPE)


Entry = tuple[str, str, datetime, str, bytes]  # as export.atom_feed takes them


def _listed(broadcast: EmergencyBroadcast, build: Callable[[EmergencyBroadcast], bytes]) -> bytes | None:
    """One alert's document for a feed listing many, or None (logged) if it cannot be built."""
    try:
        return build(broadcast)
    except export.ExportError as exc:
        logger.warning("Emergency broadcast %s left out of %s: %s", broadcast.id, request.path, exc.detail)
    except SQLAlchemyError:
        raise  # the database, not this alert, is at fault: an empty feed would wrongly say "no warnings"
    except Exception:
        logger.exception("Emergency broadcast %s left out of %s", broadcast.id, request.path)
    return None


def _alert_entries(broadcast: EmergencyBroadcast) -> list[Entry]:
    """A warning's feed entries, newest first: its Cancel message if it was withdrawn, then the alert itself.

    Either may be left out on its own when it cannot be built, except that a withdrawn warning without its
    Cancel is left out whole: readers would take the alert alone as still in force.
    """
    entries: list[Entry] = []
    if broadcast.state is EmergencyState.CANCELLED:
        cancel = _listed(broadcast, _cap_cancel)
        if cancel is None:
            return []
        link = url_for(".alert_cancel_file", broadcast_id=broadcast.id, _external=True)
        entries.append((link, _("Cancelled: %(title)s", title=broadcast.title), broadcast.closed_at, link, cancel))
    alert = _listed(broadcast, _cap)
    if alert is not None:
        link = url_for(".alert_file", broadcast_id=broadcast.id, _external=True)
        entries.append((link, broadcast.title, broadcast.issued_at, link, alert))
    return entries


@bp.route("/<area_code>/alerts.atom")
def area_alerts(area_code: str):
    """The warnings of the last week for an area (sent to it, above it or inside it), as an Atom feed of CAP
    alerts; a withdrawn warning also has its Cancel message."""
    session = db()
    area = areas.find_area(session, area_code)
    zone = settings().zone
    since = utc_now() - timedelta(days=ALERT_FEED_DAYS)
    entries = [entry for broadcast in emergencies.public_for_area(session, area, since=since)
               for entry in _alert_entries(broadcast)]
    updated = max((e[2] for e in entries), default=area.updated_at)
    body = export.atom_feed(title=_("Emergency warnings — %(area)s", area=area.name),
                            author=settings().cap_sender_name or settings().cap_sender,
                            feed_id=url_for(".area_alerts", area_code=area.code, _external=True),
                            self_url=url_for(".area_alerts", area_code=area.code, _external=True),
                            updated=updated, zone=zone, entries=entries)
    return _cached(body, ATOM_TYPE)
