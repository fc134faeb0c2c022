"""The pronunciation lexicon: built-in readings and the editors' own."""

from __future__ import annotations

from flask_smorest import Blueprint

from audio.normalize import BUILT_IN_LEXICON
from broadcast.db.models import Role
from broadcast.services import lexicon
from broadcast.web.api.item_schemas import LexiconEntrySchema, LexiconWriteSchema
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db

blp = Blueprint("lexicon", __name__, url_prefix="/api/v1/lexicon", description="How abbreviations are read")


@blp.route("")
@blp.response(200, LexiconEntrySchema(many=True))
@login_required
def list_entries():
    own = {e.term: e for e in lexicon.entries(db())}
    rows = [{"term": t, "reading": r, "note": None, "built_in": True} for t, r in BUILT_IN_LEXICON.items()
            if t not in own]
    rows += [{"term": e.term, "reading": e.reading, "note": e.note, "built_in": False} for e in own.values()]
    return sorted(rows, key=lambda row: row["term"])


@blp.route("/<term>", methods=["PUT"])
@blp.arguments(LexiconWriteSchema)
@blp.response(200, LexiconEntrySchema)
@role_required(Role.EDITOR, Role.APPROVER)
def set_entry(data, term: str):
    entry = lexicon.set_entry(db(), signed_in_user(), term, data["reading"], data["note"])
    return {"term": entry.term, "reading": entry.reading, "note": entry.note, "built_in": False}


@blp.route("/<term>", methods=["DELETE"])
@blp.response(204)
@role_required(Role.EDITOR, Role.APPROVER)
def delete_entry(term: str):
    lexicon.delete_entry(db(), signed_in_user(), term)
