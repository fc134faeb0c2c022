"""News items and their workflow: draft -> submitted -> approved, or rejected with a reason -> archived.

Editing an approved item sends it back for approval. Every transition lands in the audit log with who
and when. Saving text also refreshes the duration estimate, so editors see at once whether it fits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from audio.estimate import estimate_duration_ms
from audio.normalize import normalize
from audio.rates import check_rate
from broadcast.db.models import (
    Area,
    ContentSource,
    ItemClass,
    ItemStatus,
    NewsItem,
    RenderState,
    Role,
    User,
    utcnow,
)
from broadcast.errors import Conflict, InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.services import lexicon, relays, scope, webhooks
from broadcast.services.audit import record

LANGUAGES = {"vi": "Tiếng Việt", "hmn": "Tiếng Mông", "tay": "Tiếng Tày", "dao": "Tiếng Dao", "nut": "Tiếng Nùng"}
SPOKEN_LANGUAGES = {"vi"}  # the only language any speech engine reads; the others are recorded
AUTHORS = (Role.EDITOR, Role.OPERATOR)
STATUS_LABELS = {ItemStatus.DRAFT: _l("draft"), ItemStatus.SUBMITTED: _l("submitted"),
                 ItemStatus.APPROVED: _l("approved"), ItemStatus.REJECTED: _l("rejected"),
                 ItemStatus.ARCHIVED: _l("archived")}
# The past participle in "cannot be ...": each language words it its own way.
ACTION_LABELS = {"submit": _l("sent for approval"), "approve": _l("given approval"), "reject": _l("turned down"),
                 "archive": _l("put in the archive")}
CLEARABLE = {"category", "source", "valid_from", "valid_until", "voice"}  # optional fields an update may empty


@dataclass
class ItemFields:
    """What an author writes; ``None`` on an update means "leave as it is"."""

    title: str | None = None
    body: str | None = None
    language: str | None = None
    category: str | None = None
    source: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    item_class: ItemClass | None = None
    voice: str | None = None
    speaking_rate: str | None = None
    content_source: ContentSource | None = None
    stream_url: str | None = None  # a relay's stream (content source "stream")
    stream_duration_s: int | None = None  # and its window

    def given(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def _check(item: NewsItem) -> None:
    """Refuse an item with every field that is wrong, not only the first."""
    try:
        item.item_class = ItemClass(item.item_class)
        item.content_source = ContentSource(item.content_source)
    except ValueError:
        raise InvalidInput(_l("The data sent is not valid."), field="item_class") from None
    problems = Problems()
    if not item.title or not item.title.strip():
        problems.add("title", _l("Give the item a title."))
    elif len(item.title) > 300:
        problems.add("title", _l("A title has at most 300 characters."))
    if item.language not in LANGUAGES:
        problems.add("language", _l("Unknown language %(code)s; use one of %(codes)s.", code=item.language,
                                    codes=", ".join(LANGUAGES)))
    if item.content_source is ContentSource.SPEECH:
        if item.language in LANGUAGES and item.language not in SPOKEN_LANGUAGES:
            problems.add("content_source", _l("No voice reads %(language)s; upload a recording instead.",
                                              language=LANGUAGES[item.language]))
        if not (item.body or "").strip():
            problems.add("body", _l("Write the text to be read."))
    if item.content_source is ContentSource.STREAM:
        try:
            item.stream_url = relays.check_stream_url(item.stream_url)
        except InvalidInput as error:
            problems.add(error.field or "stream_url", error.message)
        try:
            item.stream_duration_s = relays.check_window(item.stream_duration_s)
        except InvalidInput as error:
            problems.add(error.field or "stream_duration_s", error.message)
    if item.valid_from and item.valid_until and item.valid_until < item.valid_from:
        problems.add("valid_until", _l("The item cannot stop being valid before it starts."))
    try:
        item.speaking_rate = check_rate(item.speaking_rate or "+0%")
    except ValueError:
        problems.add("speaking_rate", _l("The speaking rate is a change such as +10% or -20%, between -50% and "
                                         "+100%."))
    problems.raise_any()


def reading_of(session: Session, text: str) -> str:
    """Exactly what the speech engine will read for ``text``, with the editors' lexicon."""
    return normalize(text, lexicon.overrides(session))


def reading_with_estimate(session: Session, text: str, rate: str = "+0%", engine: str = "espeak"
                          ) -> tuple[str, int]:
    """What the voice will read for ``text`` and about how many milliseconds it takes (text not saved yet)."""
    reading = reading_of(session, text)
    return reading, estimate_duration_ms(reading, check_rate(rate or "+0%"), engine)


def _refresh_estimate(session: Session, item: NewsItem, engine: str) -> None:
    if item.content_source is ContentSource.SPEECH:
        item.estimated_duration_ms = estimate_duration_ms(reading_of(session, item.body), item.speaking_rate, engine)
    elif item.content_source is ContentSource.STREAM:  # a relay lasts its window, exactly
        item.estimated_duration_ms = item.stream_duration_s * 1000
    else:
        item.estimated_duration_ms = None


def create_item(session: Session, user: User, data: ItemFields, *, owner_area: Area | None = None,
                engine: str = "espeak") -> NewsItem:
    scope.require_role(user, *AUTHORS)
    owner_area = owner_area or user.scope_area
    if owner_area is not None:
        scope.require_area(user, owner_area)
    item = NewsItem(owner_area=owner_area, created_by=user, status=ItemStatus.DRAFT, speaking_rate="+0%",
                    language="vi", item_class=ItemClass.NORMAL, content_source=ContentSource.SPEECH,
                    render_state=RenderState.NONE)
    for name, value in data.given().items():
        setattr(item, name, value)
    _check(item)
    _refresh_estimate(session, item, engine)
    session.add(item)
    session.flush()
    record(session, user, "item.create", "item", item.id, {"title": item.title})
    session.commit()
    return item


def require_author(user: User, item: NewsItem) -> None:
    scope.require_role(user, *AUTHORS)
    if item.owner_area is not None:
        scope.require_area(user, item.owner_area)


def update_item(session: Session, user: User, item: NewsItem, data: ItemFields, *, engine: str = "espeak",
                clear: Iterable[str] = ()) -> NewsItem:
    """Change an item; an approved one goes back for approval, since what airs must be what was approved.

    ``clear`` names optional fields to empty (a ``None`` in ``data`` means "leave as it is").
    """
    require_author(user, item)
    if item.status is ItemStatus.ARCHIVED:
        raise Conflict(_l("An archived item cannot be changed."))
    changes = {name: value for name, value in data.given().items() if getattr(item, name) != value}
    changes.update({name: None for name in clear
                    if name in CLEARABLE and name not in changes and getattr(item, name) is not None})
    if not changes:
        return item
    before = {name: _plain(getattr(item, name)) for name in changes}
    for name, value in changes.items():
        setattr(item, name, value)
    _check(item)
    _refresh_estimate(session, item, engine)
    reopened = item.status is ItemStatus.APPROVED
    if reopened:
        item.status, item.approved_at, item.approved_by_id = ItemStatus.SUBMITTED, None, None
    if {"body", "voice", "speaking_rate", "content_source"} & changes.keys():
        # The old audio no longer says what the text says.
        item.audio_asset_id, item.render_state, item.render_warning = None, RenderState.NONE, None
    record(session, user, "item.update", "item", item.id,
           {"before": before, "after": {k: _plain(v) for k, v in changes.items()}, "reopened": reopened})
    session.commit()
    return item


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else getattr(value, "value", value)


def _transition(session: Session, user: User, item: NewsItem, action: str, allowed: set[ItemStatus],
                target: ItemStatus, details: dict | None = None) -> NewsItem:
    if item.status not in allowed:
        raise Conflict(_l("A %(status)s item cannot be %(action)s.", status=STATUS_LABELS[item.status],
                          action=ACTION_LABELS[action]), field="status")
    before = item.status
    item.status = target
    record(session, user, f"item.{action}", "item", item.id,
           {"from": before.value, "to": target.value, **(details or {})})
    session.commit()
    return item


def submit(session: Session, user: User, item: NewsItem) -> NewsItem:
    require_author(user, item)
    item.submitted_at = utcnow()
    item.rejection_reason = None
    return _transition(session, user, item, "submit", {ItemStatus.DRAFT, ItemStatus.REJECTED}, ItemStatus.SUBMITTED)


def approve(session: Session, user: User, item: NewsItem) -> NewsItem:
    """Approve for air; speech items are queued for rendering, recordings must already be uploaded."""
    scope.require_role(user, Role.APPROVER)
    if item.owner_area is not None:
        scope.require_area(user, item.owner_area)
    if item.content_source is ContentSource.RECORDING and item.audio_asset_id is None:
        raise Conflict(_l("Upload the recording before approving this item."), field="audio")
    item.approved_at, item.approved_by_id = utcnow(), user.id
    if item.content_source is ContentSource.SPEECH and item.render_state is not RenderState.READY:
        item.render_state = RenderState.PENDING
    item = _transition(session, user, item, "approve", {ItemStatus.SUBMITTED}, ItemStatus.APPROVED)
    # Placed and with its audio already (a recording, or speech rendered early): published now, tell webhooks.
    if webhooks.publish_item(session, item):
        session.commit()
    return item


def reject(session: Session, user: User, item: NewsItem, reason: str) -> NewsItem:
    scope.require_role(user, Role.APPROVER)
    if item.owner_area is not None:
        scope.require_area(user, item.owner_area)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the item is rejected, so its author can fix it."), field="reason")
    item.rejection_reason = reason
    return _transition(session, user, item, "reject", {ItemStatus.SUBMITTED}, ItemStatus.REJECTED,
                       {"reason": reason})


def archive(session: Session, user: User, item: NewsItem) -> NewsItem:
    if user.role is not Role.APPROVER:
        require_author(user, item)
    elif item.owner_area is not None:
        scope.require_area(user, item.owner_area)
    allowed = {ItemStatus.DRAFT, ItemStatus.SUBMITTED, ItemStatus.APPROVED, ItemStatus.REJECTED}
    return _transition(session, user, item, "archive", allowed, ItemStatus.ARCHIVED)


def request_render(session: Session, user: User, item: NewsItem) -> NewsItem:
    """Queue a speech item for rendering now (e.g. so the editor can listen before submitting)."""
    require_author(user, item)
    if item.content_source is ContentSource.STREAM:
        raise Conflict(_l("A relay has no audio to make: stations play its stream."))
    if item.content_source is not ContentSource.SPEECH:
        raise Conflict(_l("Only items read by a voice are rendered; this one is a recording."))
    if item.render_state is not RenderState.READY:
        item.render_state = RenderState.PENDING
        record(session, user, "item.render_requested", "item", item.id)
        session.commit()
    return item


def get_item(session: Session, user: User, item_id: int) -> NewsItem:
    item = session.scalar(select(NewsItem).where(NewsItem.id == item_id)
                          .options(joinedload(NewsItem.owner_area), joinedload(NewsItem.audio_asset)))
    if item is None or (item.owner_area is not None and not scope.covers(user, item.owner_area)) or (
            item.owner_area is None and not scope.covers_everything(user)):
        raise NotFound(_l("Item %(id)s does not exist.", id=item_id))
    return item


def _in_scope(user: User):
    """Items owned within the user's area (items without an owning area only for a global admin)."""
    query = select(NewsItem).outerjoin(Area, NewsItem.owner_area_id == Area.id).options(
        joinedload(NewsItem.owner_area), joinedload(NewsItem.audio_asset))
    return query if scope.covers_everything(user) else scope.limit_areas(user, query)


def list_items(session: Session, user: User, *, status: ItemStatus | None = None, text: str | None = None,
               item_class: ItemClass | None = None, limit: int = 100, offset: int = 0) -> list[NewsItem]:
    """Items owned within the user's area, newest first; ``text`` matches the title or the body."""
    query = _in_scope(user)
    if status is not None:
        query = query.where(NewsItem.status == status)
    if item_class is not None:
        query = query.where(NewsItem.item_class == item_class)
    if text and text.strip():
        # Escaped, so "100%" or "a_b" match themselves and not anything.
        words = text.strip()
        query = query.where(or_(NewsItem.title.icontains(words, autoescape=True),
                                NewsItem.body.icontains(words, autoescape=True)))
    return list(session.scalars(query.order_by(NewsItem.updated_at.desc(), NewsItem.id.desc())
                                .limit(limit).offset(offset)))


def approval_queue(session: Session, user: User, *, limit: int = 200) -> list[NewsItem]:
    """Items waiting for approval in the user's area, the longest-waiting first."""
    query = _in_scope(user).where(NewsItem.status == ItemStatus.SUBMITTED)
    waiting_since = func.coalesce(NewsItem.submitted_at, NewsItem.created_at)
    return list(session.scalars(query.order_by(waiting_since, NewsItem.id).limit(limit)))
