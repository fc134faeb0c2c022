"""HTTP pull for stations: the manifest (ETag, 304), the audio it names (Range) and receipts.

Every request carries the station's own token (``Authorization: Bearer st_...``); a token reads only its
own station's data. Without one the answer is 401, given before the body is read; another station's token, or
a person, gets 403. A poll that finds nothing new is answered from the worker's memory, with no database query
(see ``broadcast.channels.http_pull``). An agent's long poll for commands waits without holding a thread or a
database connection (see ``broadcast.channels.wakeups``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from functools import wraps

from flask import Response, current_app, g, redirect, request, send_file
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from broadcast.channels import http_pull, wakeups
from broadcast.db.models import Station, StationManifest
from broadcast.errors import Forbidden, NotFound, Unauthenticated
from broadcast.i18n import _l
from broadcast.security import token_digest
from broadcast.services import asrun, audio_access, commands, deliveries, exports, publication, stations
from broadcast.storage import audio_store
from broadcast.web.api.sync_schemas import (
    AckSchema,
    CommandListSchema,
    CommandQuerySchema,
    CommandSchema,
    EventBatchSchema,
    EventResultSchema,
    HeartbeatResultSchema,
    HeartbeatSchema,
    ReceiptResultSchema,
    ReceiptSchema,
)
from broadcast.web.api.system import MANIFEST_SCHEMA_URL
from broadcast.web.auth import bearer_token, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today, utc_now
from stations import manifest as wire

log = logging.getLogger(__name__)
blp = Blueprint("station_sync", __name__, url_prefix="/api/v1", description="What stations fetch and report")


_starting = threading.Lock()


def pull_cache() -> http_pull.PullCache:
    cache = current_app.extensions.get("pull_cache")
    if cache is None:
        with _starting:
            cache = current_app.extensions.get("pull_cache") or _start_station_side(current_app)
    return cache


def long_polls() -> wakeups.LongPolls:
    pull_cache()
    return current_app.extensions["long_polls"]


def _start_station_side(app) -> http_pull.PullCache:
    """This worker's cache for polls, its long polls, and the watcher that keeps both current (started with
    the first station request, in the worker process itself: gunicorn forks before any request)."""
    instance_path = app.extensions["settings"].instance_path
    database = app.extensions["database"]
    cache = http_pull.PullCache(instance_path)
    polls = wakeups.LongPolls(announce=wakeups.announcer(instance_path))

    def pending(station_ids: list[int]) -> set[int]:
        with database.sessions() as session:
            return commands.stations_waiting(session, station_ids)

    watcher = wakeups.Watcher(instance_path, polls, pending, cache.drop, commands_kind=http_pull.COMMANDS,
                              cache_kinds=(http_pull.MANIFESTS, http_pull.STATIONS))
    watcher.start()
    app.extensions.update(long_polls=polls, wakeup_watcher=watcher)
    app.extensions["pull_cache"] = cache  # last: the others exist once the cache does
    return cache


def _load_station(digest: str) -> http_pull.StationRef | None:
    row = db().execute(select(Station.id, Station.code, Station.token_sha256, Station.previous_token_expires_at)
                       .where(stations.token_matches(digest, utc_now()), Station.active)).first()
    if row is None:
        return None
    # A replaced token is remembered with its end, so the cache cannot keep it working past its overlap.
    return http_pull.StationRef(row.id, row.code, None if row.token_sha256 == digest else row.previous_token_expires_at)


def _flush_contacts(batch) -> None:
    deliveries.flush_contacts(db(), batch)


def _station(code: str) -> http_pull.StationRef:
    """The station whose own token this request carries, or 401/403 (checked once per request)."""
    if "sync_station" not in g:
        g.sync_station = _authenticate(code)
    return g.sync_station


def _authenticate(code: str) -> http_pull.StationRef:
    token = bearer_token()
    station = pull_cache().station(token_digest(token), _load_station) if token and token.startswith("st_") else None
    if station is not None and station.expires_at is not None and station.expires_at <= utc_now():
        station = None
    if station is None:
        if current_user.is_authenticated:  # a person, signed in: known, but this is a station's route
            raise Forbidden(_l("Only the station itself, with its token, can do this."))
        raise Unauthenticated(_l("Send the station's token in the Authorization header."))
    if station.code != code:
        raise Forbidden(_l("A station's token reads only its own data."))
    pull_cache().contact(station.id, utc_now(), _flush_contacts)
    return station


def station_token_first(view):
    """Check the station's token before the body is parsed: a caller without one is told that (401), not what
    its body lacks (422). Goes right under ``blp.route``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        _station(kwargs["code"])
        return view(*args, **kwargs)

    return wrapper


def _current(station: http_pull.StationRef) -> tuple[http_pull.Current, StationManifest | None]:
    """The station's current manifest: from memory, or read (with its body) and remembered."""
    known = pull_cache().current(station.id)
    if known is not None:
        return known, None
    row = db().get(StationManifest, station.id)
    if row is None:
        raise NotFound(_l("No playlist has been compiled for this station yet."))
    return _remember(station.id, row), row


def _remember(station_id: int, row: StationManifest) -> http_pull.Current:
    audio = frozenset(audio["sha256"] for day in json.loads(row.body)["days"] for entry in day["entries"]
                      for audio in wire.entry_audio(entry))
    known = http_pull.Current(row.version, row.etag, audio)
    pull_cache().remember(station_id, known)
    return known


MANIFEST_ANSWER = {
    "description": f"The manifest: valid against the JSON Schema at {MANIFEST_SCHEMA_URL}, plus the rules that "
                   "schema states in its description.",
    "headers": {"ETag": {"description": "Strong; send it back in If-None-Match", "schema": {"type": "string"}}},
    "content": {"application/json": {"schema": {"type": "object", "description": "See externalDocs"}}},
}


@blp.route("/stations/<code>/manifest")
@blp.doc(security=[{"bearerAuth": []}],
         externalDocs={"description": "The manifest format (JSON Schema, draft 2020-12)", "url": MANIFEST_SCHEMA_URL},
         responses={"200": MANIFEST_ANSWER, "304": {"description": "Not modified (If-None-Match)"}})
def manifest(code: str):
    """The station's manifest (JSON, its schema at /api/v1/schemas/manifest.json); send If-None-Match to get 304."""
    station = _station(code)
    current, row = _current(station)
    headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
    if request.if_none_match.contains_weak(current.etag.strip('"')):
        return Response(status=304, headers=headers)
    if row is None:
        row = db().get(StationManifest, station.id)
        if row is None:
            raise NotFound(_l("No playlist has been compiled for this station yet."))
        if row.etag != current.etag:  # compiled after it was cached, before the bump reached this worker
            _remember(station.id, row)
    deliveries.record_fetch(db(), station.id, row.version, utc_now())
    headers["ETag"] = row.etag
    return Response(row.body, status=200, headers=headers, mimetype="application/json")


@blp.route("/audio/<sha256>")
@blp.route("/audio/<sha256>.mp3", endpoint="audio_mp3")
@blp.doc(security=[{"bearerAuth": []}, {"cookieAuth": []}])
def audio(sha256: str):
    """One audio file by its sha256, also named ``<sha256>.mp3`` (players judge a link by its extension); Range
    requests resume a broken download. A station may fetch only the files its current manifest names; anyone
    the one file of a signed link (``expires`` and ``signature`` in the query, as an exported M3U8 playlist gives
    them) until the link expires; a signed-in user the audio of items they may read, of what the stations in
    their area play, and what is public (broadcast.services.audio_access). Any other digest is 404."""
    token = bearer_token()
    if token and token.startswith("st_"):
        station = pull_cache().station(token_digest(token), _load_station)
        if station is None:
            raise Unauthenticated(_l("Send the station's token in the Authorization header."))
        current, _ = _current(station)
        if sha256 not in current.audio and not commands.asks_for_audio(db(), station.id, sha256, utc_now()):
            raise NotFound(_l("This station's playlist names no audio %(sha256)s.", sha256=sha256))
    elif not _signed_link(sha256):
        window = publication.default_window(local_today(), settings().schedule_days)
        if not audio_access.user_may_fetch(db(), signed_in_user(), sha256, window):
            raise NotFound(_l("No audio has the digest %(sha256)s.", sha256=sha256))
    store = current_app.extensions.get("audio_store")
    if store is None:
        store = current_app.extensions["audio_store"] = audio_store(settings())
    try:
        url = store.download_url(sha256) if store.exists(sha256) else None
        path = None if url else store.path_for(sha256)
    except ValueError:
        raise NotFound(_l("No audio has the digest %(sha256)s.", sha256=sha256)) from None
    if url:
        # An object store serves the bytes itself, by a short-lived presigned link: neither this answer nor the
        # link may be cached. The station still checks the sha256 of what it gets.
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "no-store"
        return response
    if not path.is_file():
        raise NotFound(_l("No audio has the digest %(sha256)s.", sha256=sha256))
    # Content-addressed: the bytes behind a name never change, so the sha256 is the ETag and caches may keep it.
    response = send_file(path, mimetype="audio/mpeg", conditional=True, etag=sha256, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _signed_link(sha256: str) -> bool:
    """Whether the request is a signed link to this audio: a player opening a playlist a person downloaded
    has no login to send. A wrong or expired link is 403, so the person knows to download the playlist again."""
    expires, signature = request.args.get("expires"), request.args.get("signature")
    if expires is None and signature is None:
        return False
    if not exports.audio_link_valid(settings().secret_key, sha256, expires or "", signature or "", utc_now()):
        raise Forbidden(_l("This audio link is wrong or has expired; download the playlist again."))
    return True


@blp.route("/stations/<code>/receipts", methods=["POST"])
@station_token_first
@blp.arguments(ReceiptSchema)
@blp.response(200, ReceiptResultSchema)
@blp.doc(security=[{"bearerAuth": []}])
def receipt(data, code: str):
    """The station installed a manifest version (all its audio verified)."""
    ref = _station(code)
    station = db().get(Station, ref.id)
    current = deliveries.record_receipt(db(), station, data["version"], utc_now())
    return {"installed_version": station.installed_version, "current_version": current.version,
            "up_to_date": station.installed_version == current.version}


@blp.route("/stations/<code>/events", methods=["POST"])
@station_token_first
@blp.arguments(EventBatchSchema)
@blp.response(200, EventResultSchema)
@blp.doc(security=[{"bearerAuth": []}])
def events(data, code: str):
    """A batch of the station's as-run log; events already received (same event_id) are counted, not stored."""
    ref = _station(code)
    accepted, duplicates = asrun.record_events(db(), db().get(Station, ref.id), data["events"], utc_now())
    return {"accepted": accepted, "duplicates": duplicates}


@blp.route("/stations/<code>/heartbeat", methods=["POST"])
@station_token_first
@blp.arguments(HeartbeatSchema)
@blp.response(200, HeartbeatResultSchema)
@blp.doc(security=[{"bearerAuth": []}])
def heartbeat(data, code: str):
    """The agent is alive: its version, free disk, volume and state."""
    ref = _station(code)
    now = utc_now()
    asrun.heartbeat(db(), db().get(Station, ref.id), data, now)
    return {"server_time": now.astimezone(settings().zone).isoformat(timespec="seconds")}


@blp.route("/stations/<code>/commands/<int:command_id>/ack", methods=["POST"])
@station_token_first
@blp.arguments(AckSchema)
@blp.response(200, CommandSchema)
@blp.doc(security=[{"bearerAuth": []}])
def acknowledge(data, code: str, command_id: int):
    """The agent carried out a command (ok) or could not (ok false, with the reason in detail)."""
    ref = _station(code)
    return commands.acknowledge(db(), ref.id, command_id, data["ok"], data["detail"], utc_now())


def wait_for_commands(station_id: int, wait_s: float) -> list:
    """Long-poll: answer as soon as a command arrives for the station, or with nothing after ``wait_s``.

    The wait holds no thread (a parked greenlet under gevent), no database connection and no query: the
    worker's one watcher wakes this poll when a bump brings a command for its station. It answers nothing at
    once when the station polls again, and is dropped when the client goes away."""
    if wait_s <= 0:
        return commands.waiting(db(), station_id, utc_now())
    polls = long_polls()
    waiter = polls.enter(station_id)  # before looking: a command issued from now on wakes it
    try:
        found = commands.waiting(db(), station_id, utc_now())
        deadline = time.monotonic() + wait_s
        sock = request.environ.get("gunicorn.socket")
        while not found:
            db().rollback()  # no connection held (nor, with SQLite, a snapshot pinning the WAL) while waiting
            reason = waiter.wait(deadline - time.monotonic(), sock)
            if reason != wakeups.COMMAND:
                if reason == wakeups.GONE:
                    log.debug("long poll of station %s dropped: the client went away", station_id)
                return []
            found = commands.waiting(db(), station_id, utc_now())
        return found
    finally:
        polls.leave(waiter)


@blp.route("/stations/<code>/commands")
@blp.arguments(CommandQuerySchema, location="query")
@blp.response(200, CommandListSchema)
@blp.doc(security=[{"bearerAuth": []}, {"cookieAuth": []}])
def station_commands(args, code: str):
    """With the station's token: its waiting commands, holding the request up to ``wait`` seconds (long-poll).
    Signed in: the station's recent commands and their acknowledgements."""
    token = bearer_token()
    if token and token.startswith("st_"):
        ref = _station(code)
        return {"commands": wait_for_commands(ref.id, args["wait"])}
    from broadcast.services import stations

    return {"commands": commands.recent(db(), signed_in_user(), stations.get_station(db(), code, signed_in_user()))}
