"""The editors' item pages: the list with search, the editor with its reading and player, the approval queue.

Server-rendered and usable without JavaScript (static/items.js only adds the live estimate while typing and
reloads the page once the voice has read the item; static/upload.js and recorder.js add the upload progress and
recording from the microphone, through the same routes). Scope is the service's: an item outside the user's area
is not found, a step the role does not allow is forbidden. The JSON equivalents are in broadcast.web.api.items.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from audio.normalize import mark_unread, unread_terms
from broadcast.db.models import ContentSource, ItemClass, ItemStatus, NewsItem, RenderState, Role, User
from broadcast.errors import Conflict, DomainError, InvalidInput
from broadcast.i18n import _
from broadcast.services import items, lexicon, rendering, scope
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import audio, db, settings
from broadcast.web.item_forms import CLASS_LABELS, SOURCE_LABELS, ItemForm
from broadcast.web.ui_media import UPLOAD_ACCEPT, answers_json, held_upload, upload_refused
from broadcast.web.ui_stations import duration

bp = Blueprint("items_ui", __name__)

PAGE_SIZE = 25
NAV_ROLES = (Role.EDITOR, Role.APPROVER)  # admins always; operators reach their commune's items from /items
EDITABLE = {ItemStatus.DRAFT, ItemStatus.SUBMITTED, ItemStatus.APPROVED, ItemStatus.REJECTED}
SUBMITTABLE = {ItemStatus.DRAFT, ItemStatus.REJECTED}
LEXICON_EDITORS = (Role.EDITOR, Role.APPROVER)


def may_author(user: User) -> bool:
    return scope.has_role(user, *items.AUTHORS)


def may_approve(user: User) -> bool:
    return scope.has_role(user, Role.APPROVER)


def _choice(kind, value: str | None):
    """An enum member from a query argument, or None (all) for anything else."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


@bp.route("/items")
@login_required
def item_list():
    user = signed_in_user()
    text = (request.args.get("q") or "").strip()[:200]
    status, item_class = _choice(ItemStatus, request.args.get("status")), _choice(ItemClass, request.args.get("class"))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = items.list_items(db(), user, status=status, text=text, item_class=item_class, limit=PAGE_SIZE + 1,
                             offset=(page - 1) * PAGE_SIZE)
    query = {"q": text or None, "status": status and status.value, "class": item_class and item_class.value}

    def page_url(number: int) -> str:
        return url_for(".item_list", **query, page=number if number > 1 else None)

    return render_template(
        "items/list.html", items=found[:PAGE_SIZE], page=page, more=len(found) > PAGE_SIZE, page_url=page_url,
        text=text, status=status, item_class=item_class, filtered=any(query.values()), may_author=may_author(user),
        waiting=len(items.approval_queue(db(), user)) if may_approve(user) else None)


@bp.route("/items/new", methods=["GET", "POST"])
@role_required(*items.AUTHORS)
def new_item():
    user = signed_in_user()
    form = ItemForm()
    if request.method == "GET":
        return _editor(user, None, form)
    if form.validate():
        try:
            item = items.create_item(db(), user, form.item_fields(), engine=settings().tts_engine)
        except InvalidInput as error:
            db().rollback()
            form.show_error(error)
        else:
            upload = request.files.get("file")
            if upload and upload.filename and item.content_source is ContentSource.RECORDING:
                # The item is saved either way; a refused file is said next to the file field of its page.
                try:
                    _attach(user, item, upload)
                except DomainError as error:
                    db().rollback()
                    _keep_recording_error(item, error)
            return _after_save(user, item)
    if answers_json():
        return jsonify({"message": _("The data sent is not valid.")}), 422
    return _editor(user, None, form), 422


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int):
    user = signed_in_user()
    item = items.get_item(db(), user, item_id)  # outside the user's area: 404, as in the API
    if request.method == "GET":
        return _editor(user, item, ItemForm(formdata=None, obj=item))
    items.require_author(user, item)
    if item.status not in EDITABLE:
        raise Conflict(_("An archived item cannot be changed."))
    form = ItemForm()
    if form.validate():
        try:
            items.update_item(db(), user, item, form.item_fields(), engine=settings().tts_engine,
                              clear=form.cleared())
        except InvalidInput as error:
            db().rollback()
            form.show_error(error)
        else:
            return _after_save(user, item)
    return _editor(user, item, form), 422


def _after_save(user: User, item: NewsItem):
    """Saved; then the button's own step: have it read aloud, or send it for approval."""
    action = request.form.get("action", "save")
    try:
        if action == "render":
            items.request_render(db(), user, item)
            flash(_("Saved. The voice reads it within a minute; the player appears here."), "info")
        elif action == "submit":
            items.submit(db(), user, item)
            flash(_("Saved and sent for approval."), "info")
        else:
            flash(_("Saved."), "info")
    except Conflict as error:
        db().rollback()
        flash(_("Saved, but: %(reason)s", reason=error.message), "error")
    if answers_json():
        return jsonify({"location": url_for(".edit_item", item_id=item.id)})
    return redirect(url_for(".edit_item", item_id=item.id))


def _attach(user: User, item: NewsItem, upload) -> NewsItem:
    with held_upload(upload) as held:
        return rendering.attach_recording(db(), user, item, held, audio())


def _keep_recording_error(item: NewsItem, error: DomainError) -> None:
    """Why a recording was refused, for the item page to show next to its file field after the redirect."""
    session["recording_error"] = {"item": item.id, "message": str(error.message)}


def _recording_error(item: NewsItem | None) -> str | None:
    kept = session.pop("recording_error", None)
    return kept["message"] if kept and item is not None and kept.get("item") == item.id else None


@bp.route("/items/<int:item_id>/recording", methods=["POST"])
@login_required
def upload_recording(item_id: int):
    """The recording of an item, from the page's file field or its microphone recorder: checked as the API
    checks it. The page's script gets JSON (the message, the duration, the player's address); a plain form
    comes back to the item page with the message."""
    user = signed_in_user()
    item = items.get_item(db(), user, item_id)
    try:
        _attach(user, item, request.files.get("file"))
    except DomainError as error:
        db().rollback()
        if answers_json():
            return upload_refused(error)
        _keep_recording_error(item, error)
        return redirect(url_for(".edit_item", item_id=item.id) + "#recording")
    asset = item.audio_asset
    message = _("Recording uploaded: %(length)s.", length=length(asset.duration_ms))
    if answers_json():
        return jsonify({"message": message, "duration_ms": asset.duration_ms, "duration": length(asset.duration_ms),
                        "audio_url": url_for("items.item_audio", item_id=item.id, v=asset.sha256[:12]),
                        "render": render_label(item.render_state)})
    flash(message, "info")
    return redirect(url_for(".edit_item", item_id=item.id) + "#recording")


def _editor(user: User, item: NewsItem | None, form: ItemForm, *, reject_error: str | None = None,
            reason: str = ""):
    """The editor page; what the voice will read is worked out from the text as typed, saved or not."""
    text = form.body.data or ""
    spoken = (form.language.data or "vi") in items.SPOKEN_LANGUAGES and (
        form.content_source.data or ContentSource.SPEECH) == ContentSource.SPEECH and (
        item is None or item.content_source is ContentSource.SPEECH)
    reading, estimate_ms = "", None
    if spoken and (text or "").strip():
        reading, estimate_ms = items.reading_with_estimate(db(), text, item.speaking_rate if item else "+0%",
                                                           settings().tts_engine)
    editable = may_author(user) and (item is None or item.status in EDITABLE)
    return render_template(
        "items/edit.html", item=item, form=form, reading=reading, estimate_ms=estimate_ms, spoken=spoken,
        reading_pieces=mark_unread(reading), unread=unread_terms(reading),
        may_edit_lexicon=scope.has_role(user, *LEXICON_EDITORS),
        editable=editable, may_submit=editable and (item is None or item.status in SUBMITTABLE),
        may_decide=item is not None and item.status is ItemStatus.SUBMITTED and may_approve(user),
        reject_error=reject_error, reason=reason, recording_error=_recording_error(item),
        source_choices=[(s.value, label) for s, label in SOURCE_LABELS.items()],
        spoken_languages=sorted(items.SPOKEN_LANGUAGES), upload_accept=UPLOAD_ACCEPT,
        max_upload_bytes=audio().max_upload_bytes, max_upload_seconds=int(audio().max_upload_seconds))


def _back(item: NewsItem) -> str:
    return url_for(".approval_queue") if request.form.get("back") == "queue" else url_for(".edit_item",
                                                                                         item_id=item.id)


@bp.route("/items/<int:item_id>/approve", methods=["POST"])
@login_required
def approve_item(item_id: int):
    user = signed_in_user()
    item = items.get_item(db(), user, item_id)
    try:
        items.approve(db(), user, item)
    except Conflict as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("Approved: %(title)s.", title=item.title), "info")
    return redirect(_back(item))


@bp.route("/items/<int:item_id>/reject", methods=["POST"])
@login_required
def reject_item(item_id: int):
    user = signed_in_user()
    item = items.get_item(db(), user, item_id)
    reason = (request.form.get("reason") or "").strip()[:2000]
    try:
        items.reject(db(), user, item, reason)
    except InvalidInput as error:
        db().rollback()
        if request.form.get("back") == "queue":
            return _queue(user, errors={item.id: str(error.message)}, reasons={item.id: reason}), 422
        return _editor(user, item, ItemForm(formdata=None, obj=item), reject_error=str(error.message),
                       reason=reason), 422
    except Conflict as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("Turned down: %(title)s. The author sees your reason.", title=item.title), "info")
    return redirect(_back(item))


@bp.route("/items/lexicon", methods=["POST"])
@role_required(*LEXICON_EDITORS)
def add_to_lexicon():
    """"Add to the lexicon" from the reading preview: how a term the rules left unread is to be said."""
    user = signed_in_user()
    term, reading = (request.form.get("term") or "").strip(), request.form.get("reading") or ""
    item_id = request.form.get("item_id", type=int)
    try:
        lexicon.set_entry(db(), user, term, reading, _("Added from the reading preview"))
    except InvalidInput as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        flash(_("From now on %(term)s is read “%(reading)s”.", term=term, reading=" ".join(reading.split())), "info")
    return redirect(url_for(".edit_item", item_id=item_id) if item_id else url_for(".new_item"))


@bp.route("/items/approvals")
@role_required(Role.APPROVER)
def approval_queue():
    return _queue(signed_in_user())


def _queue(user: User, *, errors: dict[int, str] | None = None, reasons: dict[int, str] | None = None):
    return render_template("items/approvals.html", items=items.approval_queue(db(), user), errors=errors or {},
                           reasons=reasons or {})


def status_label(status: ItemStatus) -> str:
    return str(items.STATUS_LABELS[status])


def class_label(item_class: ItemClass) -> str:
    return str(CLASS_LABELS[ItemClass(item_class)])


def render_label(state: RenderState) -> str:
    labels = {RenderState.NONE: _("Not read aloud yet"), RenderState.PENDING: _("Waiting for the voice"),
              RenderState.READY: _("Ready to broadcast"), RenderState.FAILED: _("The voice could not read it")}
    return labels[state]


def length(ms: int | None) -> str:
    return "—" if ms is None else duration(ms / 1000)


@bp.context_processor
def _helpers():
    return {"item_status_label": status_label, "item_class_label": class_label, "render_label": render_label,
            "length": length, "statuses": list(ItemStatus), "classes": list(ItemClass), "languages": items.LANGUAGES,
            "class_choices": [(c.value, label) for c, label in CLASS_LABELS.items()]}


@bp.app_context_processor
def _navigation():
    return {"may_see_items": lambda: current_user.is_authenticated and scope.has_role(current_user, *NAV_ROLES)}
