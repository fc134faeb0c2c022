"""The media library: the recordings items carry and the fillers and jingles uploaded for slots.

A recording is listed once per audio file, under the first item (in the reader's area) that carries it; "use in a
new item" makes a draft carrying the same audio (no copy). Fillers and jingles are LibraryClip rows; one can be
chosen as a slot's filler. What a person sees follows the item rules for recordings (items of their area) and, for
clips, their area, the areas above it (a province jingle plays in every commune) and service-wide ones.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Integer, String, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from broadcast.audio_setup import AudioTools
from broadcast.config import Settings
from broadcast.db.models import (
    Area,
    AudioAsset,
    AuditLog,
    ContentSource,
    Level,
    LibraryClip,
    NewsItem,
    RenderState,
    Role,
    Slot,
    User,
    utcnow,
)
from broadcast.errors import Conflict, Forbidden, InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import items, rendering, scheduling, scope, slots
from broadcast.services.audit import record

RECORDING = "recording"
CLIP_KINDS = ("filler", "jingle")
KIND_LABELS = {RECORDING: _l("Recording"), "filler": _l("Filler"), "jingle": _l("Jingle")}
UPLOADERS = items.AUTHORS  # who may add to the library and reuse from it (admins too)


@dataclass(frozen=True)
class Entry:
    """One row of the library: a recording (``item_id``) or a filler/jingle (``clip_id``)."""

    kind: str
    title: str
    language: str | None
    duration_ms: int
    uploaded_at: datetime
    uploaded_by: str | None  # full name, else login; None when nobody is known (an imported filler)
    asset_id: int
    sha256: str
    item_id: int | None = None
    clip_id: int | None = None


def _recording_items(user: User):
    """The first item, per audio file, among the user's items that air a recording."""
    query = (select(func.min(NewsItem.id)).where(NewsItem.content_source == ContentSource.RECORDING,
                                                 NewsItem.audio_asset_id.is_not(None))
             .group_by(NewsItem.audio_asset_id))
    if scope.covers_everything(user):
        return query
    return scope.limit_areas(user, query.join(Area, NewsItem.owner_area_id == Area.id))


def _visible_clips(session: Session, user: User, query):
    """Clips of the user's area and below, of the areas above it, and service-wide ones."""
    if scope.covers_everything(user):
        return query
    if user.scope_area is None:
        return query.where(False)
    above = [area.id for area in slots.ancestors_and_self(session, user.scope_area)]
    return query.outerjoin(Area, LibraryClip.owner_area_id == Area.id).where(or_(
        LibraryClip.owner_area_id.is_(None), Area.id.in_(above),
        Area.path.startswith(user.scope_area.path, autoescape=True)))


def folded(text: str) -> str:
    """``text`` without tone marks, with đ as d and in lower case: what people type without a Vietnamese keyboard
    ("mong" for "Mông", "dai tinh" for "đài tỉnh") compares equal to what is written."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(bare.replace("đ", "d").replace("Đ", "D").casefold().split())


def _matches(words: str, row) -> bool:
    """Whether the folded ``words`` are in the row's title, its language's name or its kind's name."""
    return any(words in folded(str(label)) for label in (
        row.title, items.LANGUAGES.get(row.language, ""), KIND_LABELS.get(row.kind, "")))


def search(session: Session, user: User, *, text: str = "", language: str | None = None, kind: str | None = None,
           limit: int = 25, offset: int = 0) -> list[Entry]:
    """What the user may see, newest first; ``text`` matches the title, the language or the kind."""
    recordings = (select(literal(RECORDING).label("kind"), NewsItem.title, NewsItem.language,
                         NewsItem.audio_asset_id.label("asset_id"), AudioAsset.created_at.label("uploaded_at"),
                         NewsItem.id.label("item_id"), cast(None, Integer).label("clip_id"))
                  .join(AudioAsset, NewsItem.audio_asset_id == AudioAsset.id)
                  .where(NewsItem.id.in_(_recording_items(user))))
    clips = _visible_clips(session, user, select(
        cast(LibraryClip.kind, String).label("kind"), LibraryClip.title, LibraryClip.language,
        LibraryClip.audio_asset_id.label("asset_id"), LibraryClip.created_at.label("uploaded_at"),
        cast(None, Integer).label("item_id"), LibraryClip.id.label("clip_id")))
    rows = union_all(recordings, clips).subquery()
    query = select(rows)
    if language:
        query = query.where(rows.c.language == language)
    if kind:
        query = query.where(rows.c.kind == kind)
    query = query.order_by(rows.c.uploaded_at.desc(), rows.c.asset_id.desc(), rows.c.item_id, rows.c.clip_id)
    words = folded(text)
    if not words:
        found = session.execute(query.limit(limit).offset(offset)).all()
    else:
        # Compared in Python: neither SQLite nor PostgreSQL (without the unaccent extension) drops tone marks, and
        # SQLite's lower() knows only ASCII. The rows are light (no audio) and a province's library is small.
        found = [row for row in session.execute(query).all() if _matches(words, row)][offset:offset + limit]
    return _entries(session, found)


def _entries(session: Session, found) -> list[Entry]:
    assets = {a.id: a for a in session.scalars(select(AudioAsset).where(
        AudioAsset.id.in_({row.asset_id for row in found})))}
    uploaders = _recording_uploaders(session, [row.item_id for row in found if row.item_id is not None])
    clip_ids = [row.clip_id for row in found if row.clip_id is not None]
    clip_uploaders = dict(session.execute(select(LibraryClip.id, func.coalesce(User.full_name, User.username))
                                          .join(User, LibraryClip.uploaded_by_id == User.id)
                                          .where(LibraryClip.id.in_(clip_ids))).all()) if clip_ids else {}
    return [Entry(kind=row.kind, title=row.title, language=row.language,
                  duration_ms=assets[row.asset_id].duration_ms, uploaded_at=row.uploaded_at,
                  uploaded_by=uploaders.get(row.item_id) if row.item_id else clip_uploaders.get(row.clip_id),
                  asset_id=row.asset_id, sha256=assets[row.asset_id].sha256, item_id=row.item_id,
                  clip_id=row.clip_id) for row in found]


def _recording_uploaders(session: Session, item_ids: list[int]) -> dict[int, str]:
    """Who uploaded each item's recording: the audit log says (the latest upload), else the item's author."""
    if not item_ids:
        return {}
    name = func.coalesce(User.full_name, User.username)
    found = {int(entity): who for entity, who in session.execute(
        select(AuditLog.entity_id, name).join(User, AuditLog.user_id == User.id)
        .where(AuditLog.action == "item.recording", AuditLog.entity_type == "item",
               AuditLog.entity_id.in_([str(i) for i in item_ids])).order_by(AuditLog.id))}
    authors = dict(session.execute(select(NewsItem.id, name).join(User, NewsItem.created_by_id == User.id)
                                   .where(NewsItem.id.in_(item_ids))).all())
    return {item_id: found.get(item_id) or authors.get(item_id) for item_id in item_ids}


def get_clip(session: Session, user: User, clip_id: int) -> LibraryClip:
    """A filler or jingle the user may see; any other is "not found"."""
    clip = session.scalar(_visible_clips(session, user, select(LibraryClip)).where(LibraryClip.id == clip_id))
    if clip is None:
        raise NotFound(_l("The library has no such recording."))
    return clip


def add_clip(session: Session, user: User, upload: Path, tools: AudioTools, *, title: str, kind: str,
             language: str | None = None) -> LibraryClip:
    """Check an uploaded filler or jingle as a recording is checked, store it and list it in the user's area."""
    scope.require_role(user, *UPLOADERS)
    title = _title(title)
    if kind not in CLIP_KINDS:
        raise InvalidInput(_l("Choose filler or jingle."), field="kind")
    if language and language not in items.LANGUAGES:
        raise InvalidInput(_l("Choose a language from the list."), field="language")
    asset = rendering.recording_asset(session, upload, tools)
    if asset.origin == "upload" and session.scalar(
            select(func.count(NewsItem.id)).where(NewsItem.audio_asset_id == asset.id)) == 0:
        asset.origin = "filler"
    clip = LibraryClip(audio_asset=asset, kind=kind, title=title, language=language or None,
                       owner_area=user.scope_area, uploaded_by=user)
    session.add(clip)
    session.flush()
    record(session, user, "library.add", "library_clip", clip.id,
           {"kind": kind, "title": title, "sha256": asset.sha256, "duration_ms": asset.duration_ms})
    session.commit()
    return clip


def _title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_l("Give the recording a title."), field="title")
    if len(title) > 300:
        raise InvalidInput(_l("A title has at most 300 characters."), field="title")
    return title


def may_change(user: User, clip: LibraryClip) -> bool:
    """Whether the user may rename or remove a filler or jingle: one of their area or below (a service-wide one,
    only an administrator of everything). Clips of the areas above are theirs to use, not to change."""
    if not scope.has_role(user, *UPLOADERS):
        return False
    if clip.owner_area is None:
        return scope.covers_everything(user)
    return scope.covers(user, clip.owner_area)


def changeable(session: Session, user: User, clip_ids: list[int]) -> set[int]:
    """Of these clips, those the user may rename or remove."""
    if not clip_ids:
        return set()
    return {clip.id for clip in session.scalars(select(LibraryClip).where(LibraryClip.id.in_(clip_ids)))
            if may_change(user, clip)}


def require_change(user: User, clip: LibraryClip) -> None:
    if not may_change(user, clip):
        raise Forbidden(_l("Only the people of the area that added it change or remove this recording."))


def rename_clip(session: Session, user: User, clip: LibraryClip, title: str) -> LibraryClip:
    require_change(user, clip)
    new = _title(title)
    record(session, user, "library.rename", "library_clip", clip.id, {"from": clip.title, "to": new})
    clip.title = new
    session.commit()
    return clip


def remove_clip(session: Session, user: User, clip: LibraryClip) -> str:
    """Take a filler or jingle out of the library; refused while a slot plays it as its filler (the audio file
    stays: items or playlists may still name it). Returns its title."""
    require_change(user, clip)
    using = list(session.scalars(select(Slot).where(Slot.filler_asset_id == clip.audio_asset_id)
                                 .order_by(Slot.name).limit(4)))
    if using:
        names = ", ".join(s.name for s in using[:3]) + (" …" if len(using) > 3 else "")
        raise Conflict(_l("%(title)s is the filler of the sessions %(slots)s: choose another filler for them first.",
                          title=clip.title, slots=names))
    title = clip.title
    record(session, user, "library.remove", "library_clip", clip.id,
           {"title": title, "kind": clip.kind, "sha256": clip.audio_asset.sha256})
    session.delete(clip)
    session.commit()
    return title


def reuse(session: Session, user: User, *, item_id: int | None = None, clip_id: int | None = None,
          engine: str = "espeak") -> NewsItem:
    """A new draft item carrying the same audio as a library entry the user may see (the file is not copied)."""
    scope.require_role(user, *UPLOADERS)
    if item_id is not None:
        source = items.get_item(session, user, item_id)
        if source.audio_asset is None or source.content_source is not ContentSource.RECORDING:
            raise NotFound(_l("The library has no such recording."))
        title, language, asset = source.title, source.language, source.audio_asset
    elif clip_id is not None:
        clip = get_clip(session, user, clip_id)
        title, language, asset = clip.title, clip.language or "vi", clip.audio_asset
    else:
        raise NotFound(_l("The library has no such recording."))
    item = items.create_item(session, user, items.ItemFields(title=title, language=language,
                                                             content_source=ContentSource.RECORDING), engine=engine)
    item.audio_asset = asset
    item.render_state, item.rendered_at = RenderState.READY, utcnow()
    record(session, user, "item.recording", "item", item.id,
           {"sha256": asset.sha256, "duration_ms": asset.duration_ms, "from_item": item_id, "from_clip": clip_id})
    session.commit()
    return item


def fillable_slots(session: Session, user: User, *, today: date) -> list[Slot]:
    """The slots whose filler the user may choose: their own area's and below (an operator: their commune's)."""
    if not scope.has_role(user, Role.EDITOR, Role.OPERATOR):
        return []

    def plans(slot: Slot) -> bool:
        area = slot.station.commune if slot.station_id else slot.area
        return scope.covers(user, area) and (user.role is not Role.OPERATOR or area.level is Level.COMMUNE)

    return [slot for slot in slots.usable_slots(session, user, today=today) if plans(slot)]


def use_as_filler(session: Session, settings: Settings, user: User, clip: LibraryClip, slot_id: int, *,
                  today: date, now: datetime) -> Slot:
    """Make a filler or jingle the filler of a slot; the stations it reaches are recompiled."""
    slot = slots.get_slot(session, user, slot_id)
    before = scheduling.slot_stations(session, slot)
    slots.update_slot(session, user, slot, {"filler_asset_id": clip.audio_asset_id},
                      check_overlaps=lambda s, x: scheduling.check_overlaps(s, x, settings, today=today))
    scheduling.after_change(session, settings, before | scheduling.slot_stations(session, slot), now=now)
    return slot
