"""The media library page (/media): recordings, fillers and jingles with search, a player, reuse and uploads.

Server-rendered and usable without JavaScript: uploads are plain multipart forms that come back with a message;
static/media.js adds a progress bar (the same routes answer JSON to it). Also the upload helpers the item page
shares: an uploaded file is held in a temporary file of the work folder while it is checked, then removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from broadcast.db.models import Role
from broadcast.errors import DomainError, InvalidInput, NotFound
from broadcast.i18n import _, format_datetime
from broadcast.services import items, media_library, scope
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import audio, db, settings
from broadcast.web.time import local_today, utc_now
from broadcast.web.ui_stations import duration

bp = Blueprint("media_ui", __name__)

PAGE_SIZE = 20
UPLOAD_ACCEPT = "audio/*,.mp3,.wav,.ogg,.oga,.opus,.m4a,.flac,.webm"


def answers_json() -> bool:
    """Whether the request comes from the page's script (it asks for JSON) rather than a plain form."""
    return request.accept_mimetypes.best == "application/json"


def upload_refused(error: DomainError):
    """A refused upload, for the page's script: the service's message and status, as the API gives them."""
    return jsonify({"message": str(error.message), "field": error.field}), error.status


@contextmanager
def held_upload(upload: FileStorage | None) -> Iterator[Path]:
    """The uploaded file in a temporary file (its name keeps the suffix ffmpeg may need), removed afterwards."""
    if upload is None or not upload.filename:
        raise InvalidInput(_("Choose an audio file to upload."), field="file")
    tools = audio()
    tools.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tools.work_dir, suffix=Path(upload.filename).suffix[:8]) as held:
        upload.save(held)
        held.flush()
        yield Path(held.name)


def _choice(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


@bp.route("/media")
@login_required
def library_page():
    user = signed_in_user()
    text = (request.args.get("q") or "").strip()[:200]
    language = _choice(request.args.get("language"), items.LANGUAGES)
    kind = _choice(request.args.get("kind"), media_library.KIND_LABELS)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = media_library.search(db(), user, text=text, language=language, kind=kind, limit=PAGE_SIZE + 1,
                                 offset=(page - 1) * PAGE_SIZE)
    query = {"q": text or None, "language": language, "kind": kind}

    def page_url(number: int) -> str:
        return url_for(".library_page", **query, page=number if number > 1 else None)

    may_upload = scope.has_role(user, *media_library.UPLOADERS)
    return render_template(
        "media/library.html", entries=found[:PAGE_SIZE], page=page, more=len(found) > PAGE_SIZE,
        page_url=page_url, text=text, language=language, kind=kind, filtered=any(query.values()),
        may_upload=may_upload, slots=media_library.fillable_slots(db(), user, today=local_today()),
        changeable=media_library.changeable(db(), user, [e.clip_id for e in found[:PAGE_SIZE] if e.clip_id]),
        back=request.full_path.rstrip("?"),
        accept=UPLOAD_ACCEPT, max_bytes=audio().max_upload_bytes)


@bp.route("/media/clips", methods=["POST"])
@role_required(*media_library.UPLOADERS)
def add_clip():
    """A filler or jingle uploaded to the library."""
    user = signed_in_user()
    try:
        with held_upload(request.files.get("file")) as held:
            clip = media_library.add_clip(db(), user, held, audio(), title=request.form.get("title", ""),
                                          kind=request.form.get("kind", ""), language=request.form.get("language"))
    except DomainError as error:
        db().rollback()
        if answers_json():
            return upload_refused(error)
        flash(str(error.message), "error")
        return redirect(url_for(".library_page"))
    message = _("Added to the library: %(title)s (%(length)s).", title=clip.title,
                length=duration(clip.audio_asset.duration_ms / 1000))
    if answers_json():
        flash(message, "info")
        return jsonify({"message": message, "location": url_for(".library_page")})
    flash(message, "info")
    return redirect(url_for(".library_page"))


@bp.route("/media/clips/<int:clip_id>/audio")
@login_required
def clip_audio(clip_id: int):
    """A filler or jingle's audio, for the library's player (Range requests supported)."""
    clip = media_library.get_clip(db(), signed_in_user(), clip_id)
    tools = audio()
    if not tools.store.exists(clip.audio_asset.sha256, tools.station_format.suffix):
        raise NotFound(_("The library has no such recording."))
    response = send_file(tools.store.path_for(clip.audio_asset.sha256, tools.station_format.suffix),
                         mimetype=clip.audio_asset.mime_type, conditional=True, etag=clip.audio_asset.sha256,
                         max_age=3600, download_name=f"clip-{clip.id}{tools.station_format.suffix}")
    response.headers["Accept-Ranges"] = "bytes"
    return response


@bp.route("/media/reuse", methods=["POST"])
@role_required(*media_library.UPLOADERS)
def reuse():
    """"Use in a new item": a draft carrying the same recording, opened for the editor to finish."""
    item = media_library.reuse(db(), signed_in_user(), item_id=request.form.get("item_id", type=int),
                               clip_id=request.form.get("clip_id", type=int), engine=settings().tts_engine)
    flash(_("A new draft carries this recording, with the original's title; change the title if needed, then send "
            "it for approval."), "info")
    return redirect(url_for("items_ui.edit_item", item_id=item.id))


@bp.route("/media/clips/<int:clip_id>/filler", methods=["POST"])
@role_required(Role.EDITOR, Role.OPERATOR)
def use_as_filler(clip_id: int):
    """Make a filler or jingle the filler of a slot the user plans."""
    user = signed_in_user()
    clip = media_library.get_clip(db(), user, clip_id)
    slot_id = request.form.get("slot_id", type=int)
    try:
        if slot_id is None:
            raise InvalidInput(_("Choose a slot."), field="slot_id")
        slot = media_library.use_as_filler(db(), settings(), user, clip, slot_id, today=local_today(),
                                           now=utc_now())
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("%(title)s now fills the gaps of the slot %(slot)s.", title=clip.title, slot=slot.name), "info")
    return redirect(url_for(".library_page"))


@bp.route("/media/clips/<int:clip_id>/rename", methods=["POST"])
@role_required(*media_library.UPLOADERS)
def rename_clip(clip_id: int):
    user = signed_in_user()
    clip = media_library.get_clip(db(), user, clip_id)
    media_library.require_change(user, clip)  # not theirs: 403, not a message on the page
    before = clip.title
    try:
        media_library.rename_clip(db(), user, clip, request.form.get("title", ""))
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("Renamed: %(old)s is now %(new)s.", old=before, new=clip.title), "info")
    return redirect(request.form.get("back") if _own(request.form.get("back")) else url_for(".library_page"))


@bp.route("/media/clips/<int:clip_id>/remove", methods=["POST"])
@role_required(*media_library.UPLOADERS)
def remove_clip(clip_id: int):
    user = signed_in_user()
    clip = media_library.get_clip(db(), user, clip_id)
    media_library.require_change(user, clip)  # not theirs: 403, not a message on the page
    try:
        title = media_library.remove_clip(db(), user, clip)
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("Removed from the library: %(title)s.", title=title), "info")
    return redirect(request.form.get("back") if _own(request.form.get("back")) else url_for(".library_page"))


def _own(path: str | None) -> bool:
    """Whether a page to go back to is one of the library's own (no redirect elsewhere)."""
    return bool(path) and path.startswith("/media") and not path.startswith("//")


def day_of(moment) -> str:
    """The local day of a stored moment, as dd/mm/yyyy."""
    return "—" if moment is None else format_datetime(moment, "dd/MM/yyyy")


def length(ms: int | None) -> str:
    return "—" if ms is None else duration(ms / 1000)


def kind_label(kind: str) -> str:
    return str(media_library.KIND_LABELS.get(kind, kind))


def entry_audio_url(entry: media_library.Entry) -> str:
    if entry.item_id is not None:
        return url_for("items.item_audio", item_id=entry.item_id, v=entry.sha256[:12])
    return url_for(".clip_audio", clip_id=entry.clip_id)


@bp.context_processor
def _helpers():
    return {"kind_label": kind_label, "entry_audio_url": entry_audio_url, "languages": items.LANGUAGES,
            "day_of": day_of, "length": length,
            "kinds": media_library.KIND_LABELS, "clip_kinds": media_library.CLIP_KINDS}


@bp.app_context_processor
def _navigation():
    # Every role reads the library (an operator: what their commune may hear); scope narrows what is listed.
    return {"may_see_media": lambda: current_user.is_authenticated}
