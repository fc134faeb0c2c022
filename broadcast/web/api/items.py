"""News items: writing, the approval workflow, readings, recordings and rendered audio."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import send_file
from flask_smorest import Blueprint

from audio.normalize import unread_terms
from broadcast.db.models import Level, Role
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import areas, items, rendering
from broadcast.web.api.item_schemas import (
    ItemCreateSchema,
    ItemQuerySchema,
    ItemSchema,
    ItemWriteSchema,
    ReadingRequestSchema,
    ReadingSchema,
    RecordingSchema,
    RejectSchema,
)
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import audio, db, settings

blp = Blueprint("items", __name__, url_prefix="/api/v1", description="News items and their audio")


def _fields(data: dict) -> tuple[items.ItemFields, object]:
    owner_code = data.pop("owner_area", None)
    owner = areas.find_area(db(), owner_code) if owner_code else None
    if owner is not None and owner.level is Level.DISTRICT:
        raise InvalidInput(_l("Items belong to a province or a commune."), field="owner_area")
    return items.ItemFields(**data), owner


@blp.route("/items")
@blp.arguments(ItemQuerySchema, location="query")
@blp.response(200, ItemSchema(many=True))
@login_required
def list_items(args):
    return items.list_items(db(), signed_in_user(), status=args.get("status"), text=args.get("q"),
                            limit=args["limit"])


@blp.route("/items", methods=["POST"])
@blp.arguments(ItemCreateSchema)
@blp.response(201, ItemSchema)
@role_required(*items.AUTHORS)
def create_item(data):
    fields, owner = _fields(data)
    return items.create_item(db(), signed_in_user(), fields, owner_area=owner, engine=settings().tts_engine)


@blp.route("/items/<int:item_id>")
@blp.response(200, ItemSchema)
@login_required
def get_item(item_id: int):
    return items.get_item(db(), signed_in_user(), item_id)


@blp.route("/items/<int:item_id>", methods=["PATCH"])
@blp.arguments(ItemWriteSchema)
@blp.response(200, ItemSchema)
@login_required
def update_item(data, item_id: int):
    item = items.get_item(db(), signed_in_user(), item_id)
    fields, owner = _fields(data)
    if owner is not None and owner.id != item.owner_area_id:
        raise InvalidInput(_l("An item's owning area cannot be changed."), field="owner_area")
    return items.update_item(db(), signed_in_user(), item, fields, engine=settings().tts_engine)


def _transition(name: str):
    def view(item_id: int):
        item = items.get_item(db(), signed_in_user(), item_id)
        return getattr(items, name)(db(), signed_in_user(), item)

    view.__name__ = f"{name}_item"
    view.__doc__ = {"submit": "Send a draft or rejected item for approval.",
                    "approve": "Approve a submitted item for air (approvers); speech items are queued for rendering.",
                    "archive": "Archive an item.",
                    "request_render": "Queue the item for rendering now, e.g. to listen before submitting."}[name]
    return view


for _action, _name in (("submit", "submit"), ("approve", "approve"), ("archive", "archive"),
                       ("render", "request_render")):
    blp.route(f"/items/<int:item_id>/{_action}", methods=["POST"], endpoint=f"{_action}_item")(
        blp.response(200, ItemSchema)(login_required(_transition(_name))))


@blp.route("/items/<int:item_id>/reject", methods=["POST"])
@blp.arguments(RejectSchema)
@blp.response(200, ItemSchema)
@role_required(Role.APPROVER)
def reject_item(data, item_id: int):
    item = items.get_item(db(), signed_in_user(), item_id)
    return items.reject(db(), signed_in_user(), item, data["reason"])


@blp.route("/items/<int:item_id>/reading")
@blp.response(200, ReadingSchema)
@login_required
def item_reading(item_id: int):
    """Exactly what the voice will read for this item, and how long it should take."""
    item = items.get_item(db(), signed_in_user(), item_id)
    text = items.reading_of(db(), item.body)
    return {"text": text, "estimated_duration_ms": item.estimated_duration_ms or 0, "unread": unread_terms(text)}


@blp.route("/reading", methods=["POST"])
@blp.arguments(ReadingRequestSchema)
@blp.response(200, ReadingSchema)
@login_required
def reading(data):
    """The reading and duration estimate of text being typed, before it is saved."""
    from audio.estimate import estimate_duration_ms
    from audio.rates import check_rate

    try:
        rate = check_rate(data["rate"])
    except ValueError:
        raise InvalidInput(_l("The speaking rate is a change such as +10% or -20%, between -50% and +100%."),
                           field="rate") from None
    text = items.reading_of(db(), data["text"])
    return {"text": text, "estimated_duration_ms": estimate_duration_ms(text, rate, settings().tts_engine),
            "unread": unread_terms(text)}


@blp.route("/items/<int:item_id>/recording", methods=["POST"])
@blp.arguments(RecordingSchema, location="files")
@blp.response(200, ItemSchema)
@login_required
def upload_recording(files, item_id: int):
    """Upload the recording of an item (programmes in Mông, Tày, Dao, Nùng; any recorded bulletin)."""
    item = items.get_item(db(), signed_in_user(), item_id)
    upload = files["file"]
    tools = audio()
    tools.work_dir.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename or "").suffix[:8]
    with tempfile.NamedTemporaryFile(dir=tools.work_dir, suffix=suffix) as held:
        upload.save(held)
        held.flush()
        return rendering.attach_recording(db(), signed_in_user(), item, Path(held.name), tools)


@blp.route("/items/<int:item_id>/audio")
@login_required
def item_audio(item_id: int):
    """The item's broadcast-ready audio (Range requests supported)."""
    item = items.get_item(db(), signed_in_user(), item_id)
    tools = audio()
    if item.audio_asset is None or not tools.store.exists(item.audio_asset.sha256, tools.station_format.suffix):
        raise NotFound(_l("This item has no audio yet."))
    asset = item.audio_asset
    response = send_file(tools.store.path_for(asset.sha256, tools.station_format.suffix), mimetype=asset.mime_type,
                         conditional=True, etag=asset.sha256, max_age=3600,
                         download_name=f"item-{item.id}{tools.station_format.suffix}")
    response.headers["Accept-Ranges"] = "bytes"
    return response



