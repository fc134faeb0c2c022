"""Turning items into broadcast-ready audio: speech for written items, preparation for recordings.

Either way the result is one file in the station format, loudness-normalized, stored once under its
SHA-256, with its exact duration recorded on an AudioAsset. Failures are recorded on the item (never
silence): a fallback voice is a warning, a total failure leaves the item FAILED with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.processing import InvalidAudio, StationFormat, prepare, validate_upload
from audio.speech import LEAD_IN_MS, SpeechError, VoiceSettings
from broadcast.audio_setup import AudioTools
from broadcast.db.models import (
    AudioAsset,
    ContentSource,
    ItemStatus,
    NewsItem,
    Placement,
    RenderState,
    User,
    utcnow,
)
from broadcast.errors import Conflict, DomainError, InvalidInput
from broadcast.i18n import _l, format_decimal
from broadcast.services import items, webhooks
from broadcast.services.audit import record

log = logging.getLogger(__name__)


class UploadTooLarge(DomainError):
    status = 413
    code = "too_large"


def _format_key(fmt: StationFormat) -> str:
    return f"{fmt.codec}/{fmt.bitrate}/{fmt.sample_rate}/{fmt.channels}/{fmt.target_lufs}/{fmt.true_peak_db}"


def _asset_for(session: Session, tools: AudioTools, prepared_path: Path, duration_ms: int, origin: str,
               render_key: str | None) -> AudioAsset:
    stored = tools.store.put(prepared_path, tools.station_format.suffix)
    asset = session.scalar(select(AudioAsset).where(AudioAsset.sha256 == stored.sha256))
    if asset is None:
        asset = AudioAsset(sha256=stored.sha256, size_bytes=stored.size_bytes, duration_ms=duration_ms,
                           mime_type=tools.station_format.mime_type, origin=origin)
        session.add(asset)
    if render_key and asset.render_key is None:
        asset.render_key = render_key
    session.flush()
    return asset


def render_item(session: Session, item: NewsItem, tools: AudioTools, *, actor: str = "job:render") -> NewsItem:
    """Read a speech item aloud into the station format; reuses earlier audio for the same reading."""
    if item.content_source is not ContentSource.SPEECH:
        raise Conflict(_l("Only items read by a voice are rendered; this one is a recording."))
    text = items.reading_of(session, item.body)
    voice = VoiceSettings(voice=item.voice or tools.default_voice, rate=item.speaking_rate)
    renderer = tools.renderer
    key_source = (f"{renderer.cache_key(renderer.primary, text, voice)}|{_format_key(tools.station_format)}"
                  f"|lead{LEAD_IN_MS}")
    render_key = hashlib.sha256(key_source.encode()).hexdigest()
    asset = session.scalar(select(AudioAsset).where(AudioAsset.render_key == render_key))
    warning = None
    engine = renderer.primary.name
    if asset is None or not tools.store.exists(asset.sha256, tools.station_format.suffix):
        try:
            speech = renderer.render(text, voice)
        except SpeechError as exc:
            item.render_state, item.render_error = RenderState.FAILED, str(exc)
            record(session, actor, "item.render_failed", "item", item.id, {"error": str(exc)})
            session.commit()
            log.warning("item %s could not be rendered: %s", item.id, exc)
            return item
        warning, engine = speech.warning, speech.engine
        tools.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tools.work_dir) as work:
            # Speech starts with a lead-in silence so horns do not cut its first syllable.
            prepared = prepare(speech.path, tools.station_format, Path(work) / f"item{tools.station_format.suffix}",
                               lead_in_ms=LEAD_IN_MS)
            # Audio from a fallback voice is not filed under the primary's key: the primary is tried again.
            asset = _asset_for(session, tools, prepared.path, prepared.duration_ms, "tts",
                               None if warning else render_key)
    item.audio_asset = asset
    item.render_state, item.render_warning, item.render_error = RenderState.READY, warning, None
    item.rendered_engine, item.rendered_at = engine, utcnow()
    record(session, actor, "item.rendered", "item", item.id,
           {"sha256": asset.sha256, "duration_ms": asset.duration_ms, "engine": engine, "warning": warning})
    # An approved, placed item is published once its audio exists: tell the webhooks of its areas.
    webhooks.publish_item(session, item)
    session.commit()
    return item


def placements_of(session: Session, item: NewsItem) -> list[Placement]:
    return list(session.scalars(select(Placement).where(Placement.item_id == item.id)))


def render_pending(session: Session, tools: AudioTools, *, limit: int = 50, progress=None) -> list[NewsItem]:
    """Render the items waiting for it, oldest first; ``progress(item)`` is called after each."""
    waiting = list(session.scalars(select(NewsItem).where(NewsItem.render_state == RenderState.PENDING)
                                   .order_by(NewsItem.updated_at, NewsItem.id).limit(limit)))
    for item in waiting:
        render_item(session, item, tools)
        if progress is not None:
            progress(item)
    return waiting


def attach_recording(session: Session, user: User, item: NewsItem, upload: Path, tools: AudioTools) -> NewsItem:
    """Check an uploaded recording, bring it to the station format and attach it to the item.

    A bad file is refused with its reason and nothing is stored. A new recording on an approved item
    sends it back for approval, since what airs must be what was approved.
    """
    items.require_author(user, item)
    if item.content_source is not ContentSource.RECORDING:
        raise Conflict(_l("This item is read by a voice; switch it to a recording before uploading."),
                       field="content_source")
    if item.status is ItemStatus.ARCHIVED:
        raise Conflict(_l("An archived item cannot be changed."))
    asset = recording_asset(session, upload, tools)
    reopened = item.status is ItemStatus.APPROVED
    if reopened:
        item.status, item.approved_at, item.approved_by_id = ItemStatus.SUBMITTED, None, None
    item.audio_asset = asset
    item.render_state, item.render_warning, item.render_error = RenderState.READY, None, None
    item.rendered_at = utcnow()
    record(session, user, "item.recording", "item", item.id,
           {"sha256": asset.sha256, "duration_ms": asset.duration_ms, "reopened": reopened})
    session.commit()
    return item


def recording_asset(session: Session, upload: Path, tools: AudioTools, *, field: str = "file") -> AudioAsset:
    """Check a recording (an upload, or a CAP alert's audio) and store it in the station format; a bad file is
    refused with its reason and nothing is stored."""
    try:
        validate_upload(upload, max_bytes=tools.max_upload_bytes, max_seconds=tools.max_upload_seconds)
    except InvalidAudio as exc:
        error = UploadTooLarge if exc.reason == "too_large" else InvalidInput
        raise error(_upload_message(exc.reason, tools), field=field, details={"reason": exc.reason}) from None
    tools.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools.work_dir) as work:
        try:
            prepared = prepare(upload, tools.station_format, Path(work) / f"upload{tools.station_format.suffix}",
                               verify=True)
        except InvalidAudio as exc:  # silence only shows once trimmed: refused like any bad file
            raise InvalidInput(_upload_message(exc.reason, tools), field=field,
                               details={"reason": exc.reason}) from None
        return _asset_for(session, tools, prepared.path, prepared.duration_ms, "upload", None)


def _upload_message(reason: str, tools: AudioTools):
    """Why an upload was refused, in the reader's language, with the configured limits."""
    if reason == "empty":
        return _l("The file is empty.")
    if reason == "truncated":
        return _l("The audio file is cut short or damaged; export it again and upload the whole file.")
    if reason == "too_long":
        return _l("The recording is longer than %(minutes)s minutes.",
                  minutes=format_decimal(round(tools.max_upload_seconds / 60, 1)))
    if reason == "too_short":
        return _l("The recording is too short to broadcast.")
    if reason == "silent":
        return _l("The recording is silent: nothing was heard in it.")
    if reason == "too_large":
        return _l("The file is larger than %(mb)s MB.", mb=tools.max_upload_bytes // (1024 * 1024))
    return _l("The file is not audio that can be played (send MP3, WAV, OGG, M4A or FLAC).")
