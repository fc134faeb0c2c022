"""Public e-boards (bảng tin điện tử): what a commune's display shows, the same for our page and vendors' players.

No login: the board shows what the commune's loudspeakers read aloud to everyone, and the same bulletins are in
the public feeds already (broadcast.web.feeds). Nothing unpublished appears: the bulletins are the entries of the
commune's compiled playlist (approved items with audio), the warnings are issued emergency broadcasts that reach
the commune and have not expired.

The document (``format`` "commune-radio.eboard", ``version`` 1)::

    {"format", "version", "generated_at", "commune": {"code", "name"},
     "warnings": [{"id", "title", "text", "risk_level", "colour", "issued_at", "expires_at"}],  # highest risk first
     "current": {"title", "text", "item_class", "start", "end"} or null,                       # airing now
     "next": [the same, up to NEXT_COUNT, soonest first]}
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, EmergencyState, Level, NewsItem, Playlist, Station
from broadcast.errors import NotFound
from broadcast.i18n import _l
from broadcast.services import emergencies

FORMAT = "commune-radio.eboard"
NEXT_COUNT = 3
# Decision 18/2021/QĐ-TTg's colours of the disaster risk levels 1 to 5.
RISK_COLOURS = {1: "#87ceeb", 2: "#fff176", 3: "#ff9800", 4: "#e53935", 5: "#8e24aa"}


def commune(session: Session, code: str) -> Area:
    """A commune (or ward) by its code; the 2025 unit wins when both structures have the code."""
    found = sorted(session.scalars(select(Area).where(Area.code == code, Area.level == Level.COMMUNE)),
                   key=lambda a: a.structure.value != "2025")
    if not found:
        raise NotFound(_l("No commune has the code %(code)s.", code=code))
    return found[0]


def _warnings(session: Session, area: Area, now: datetime) -> list[dict]:
    heard = emergencies.public_for_area(session, area, since=now - timedelta(days=3))
    live = [b for b in heard if b.state is EmergencyState.ISSUED and (b.expires_at is None or b.expires_at > now)]
    live.sort(key=lambda b: (-b.risk_level, -b.issued_at.timestamp()))
    return [{"id": b.id, "title": b.item.title, "text": b.item.body or "", "risk_level": b.risk_level,
             "colour": RISK_COLOURS.get(b.risk_level, RISK_COLOURS[5]),
             "issued_at": b.issued_at.isoformat(timespec="seconds"),
             "expires_at": b.expires_at.isoformat(timespec="seconds") if b.expires_at else None} for b in live]


def _entries(session: Session, area: Area, now: datetime) -> list[dict]:
    """The item entries of the commune's newest playlists around now (one station speaks for the commune: the
    first active one by code; its neighbours carry the same commune schedule)."""
    station = session.scalar(select(Station).where(Station.commune_id == area.id, Station.active.is_(True))
                             .order_by(Station.code).limit(1))
    if station is None:
        return []
    days = {now.date() - timedelta(days=1), now.date(), now.date() + timedelta(days=1)}  # any zone's local day
    newest: dict = {}
    for playlist in session.scalars(select(Playlist).where(Playlist.station_id == station.id,
                                                           Playlist.day.in_(days))):
        if playlist.day not in newest or playlist.version > newest[playlist.day].version:
            newest[playlist.day] = playlist
    entries = []
    for playlist in newest.values():
        for occurrence in playlist.content.get("occurrences", []):
            for entry in occurrence.get("entries", []):
                if entry.get("kind") in ("item", "emergency") and entry.get("item_id"):
                    entries.append({"item_id": entry["item_id"], "item_class": entry.get("item_class") or "normal",
                                    "start": datetime.fromisoformat(entry["start"]),
                                    "end": datetime.fromisoformat(entry["end"])})
    return sorted(entries, key=lambda e: e["start"])


def board(session: Session, code: str, *, now: datetime, zone) -> dict:
    """What the commune's e-board shows at ``now``."""
    area = commune(session, code)
    entries = [e for e in _entries(session, area, now) if e["end"] > now]
    current = next((e for e in entries if e["start"] <= now), None)
    upcoming, seen = [], {current["item_id"]} if current else set()
    for entry in entries:
        if entry["start"] > now and entry["item_id"] not in seen and len(upcoming) < NEXT_COUNT:
            upcoming.append(entry)
            seen.add(entry["item_id"])
    texts = {i.id: i for i in session.scalars(select(NewsItem).where(
        NewsItem.id.in_([e["item_id"] for e in ([current] if current else []) + upcoming])))}

    def shown(entry: dict) -> dict:
        item = texts.get(entry["item_id"])
        return {"title": item.title if item else "", "text": item.body if item else "",
                "item_class": entry["item_class"], "start": entry["start"].astimezone(zone).isoformat(),
                "end": entry["end"].astimezone(zone).isoformat()}

    return {"format": FORMAT, "version": 1, "generated_at": now.astimezone(zone).isoformat(timespec="seconds"),
            "commune": {"code": area.code, "name": area.name}, "warnings": _warnings(session, area, now),
            "current": shown(current) if current else None, "next": [shown(e) for e in upcoming]}
