"""What upstream sources send, read into plain bulletins: a JSON document, RSS/Atom, or CAP alerts.

The JSON format (pulled from a source's URL, or pushed to POST /api/v1/exchange/sources/<id>/bulletins)::

    {"bulletins": [{"id": "TW-2026-1204-01",          # the source's own id, required: a repeat is dropped
                    "title": "...", "body": "...",    # title required; body is read aloud unless there is audio
                    "class": "normal",                 # or "priority" (emergencies come as CAP alerts)
                    "language": "vi", "audio_url": "https://...",
                    "valid_from": "2026-12-05", "valid_until": "2026-12-10"}]}

A bare list of such objects, or one object, is accepted too. RSS 2.0 and Atom entries give id (guid), title,
summary as the text, and an ``audio/*`` enclosure as the recording. A CAP source sends one CAP 1.2 ``<alert>``
or an Atom/RSS feed whose entries link to alerts.

Nothing here touches the database or the network. One bad entry does not spoil the others: it is left out and
named in ``problems``; a document that is not what it should be at all raises FormatError.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date

import feedparser

MAX_ENTRIES = 200  # per answer: an upstream is a source of bulletins, not of bulk data
MAX_BODY = 20_000
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
CLASSES = ("normal", "priority")


class FormatError(ValueError):
    """The document is not the format the source is configured for."""


@dataclass(frozen=True)
class Incoming:
    """One bulletin as a source sent it."""

    ref: str
    title: str
    body: str = ""
    item_class: str = "normal"
    language: str = "vi"
    audio_url: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    cap_url: str | None = None  # a CAP feed's entry: the alert is at this address


@dataclass
class Parsed:
    entries: list[Incoming] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def bulletin_from_json(data: dict) -> Incoming:
    """One JSON bulletin; raises ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a bulletin is a JSON object")
    ref = data.get("id")
    ref = str(ref).strip() if isinstance(ref, str | int) and not isinstance(ref, bool) else ""
    if not ref or len(ref) > 300:
        raise ValueError("id is required (the source's own id, at most 300 characters)")
    title = _text(data.get("title"))
    if not title:
        raise ValueError(f"{ref}: title is required")
    item_class = _text(data.get("class")) or "normal"
    if item_class not in CLASSES:
        raise ValueError(f"{ref}: class {item_class!r} is not one of {', '.join(CLASSES)} "
                         "(emergencies come as CAP alerts)")
    audio = _text(data.get("audio_url")) or None
    body = _text(data.get("body"))
    if not body and not audio:
        raise ValueError(f"{ref}: neither body nor audio_url: nothing to broadcast")
    return Incoming(ref=ref, title=title[:300], body=body[:MAX_BODY], item_class=item_class,
                    language=_text(data.get("language")) or "vi", audio_url=audio,
                    valid_from=_date(data.get("valid_from"), f"{ref}: valid_from"),
                    valid_until=_date(data.get("valid_until"), f"{ref}: valid_until"))


def parse_json(body: bytes) -> Parsed:
    """A JSON document of bulletins (see the module's docstring)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"not JSON: {exc}") from None
    if isinstance(document, dict) and "bulletins" in document:
        document = document["bulletins"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise FormatError("expected {\"bulletins\": [...]}, a list of bulletins, or one bulletin")
    parsed = Parsed()
    for entry in document[:MAX_ENTRIES]:
        try:
            parsed.entries.append(bulletin_from_json(entry))
        except ValueError as exc:
            parsed.problems.append(str(exc))
    return parsed


def plain_text(markup: str) -> str:
    """The text of an HTML fragment (a feed's summary), paragraphs kept as line breaks."""
    # Line breaks in the markup are spaces; paragraphs and <br> are the breaks.
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", " ".join((markup or "").split()))))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def _feed(body: bytes):
    # feedparser ignores external entities; a DOCTYPE has no business in a feed we read, so none is taken.
    head = body[:4096].lstrip()
    if b"<!DOCTYPE" in body[:65536] or b"<!ENTITY" in body[:65536]:
        raise FormatError("document type declarations (DTD) and entities are not accepted")
    if not head.startswith(b"<"):
        raise FormatError("not an RSS or Atom feed (not XML)")
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise FormatError(f"not an RSS or Atom feed: {parsed.get('bozo_exception')}")
    if not parsed.version and not parsed.entries:
        raise FormatError("not an RSS or Atom feed")
    return parsed


def _links(entry) -> list[dict]:
    return list(entry.get("links") or []) + list(entry.get("enclosures") or [])


def parse_feed(body: bytes) -> Parsed:
    """RSS 2.0 or Atom: each entry a bulletin; an audio enclosure is its recording."""
    parsed = Parsed()
    for entry in _feed(body).entries[:MAX_ENTRIES]:
        ref = _text(entry.get("id")) or _text(entry.get("link"))
        title = plain_text(entry.get("title", ""))
        if not ref or not title:
            parsed.problems.append(f"an entry without {'id or link' if not ref else 'title'} was left out")
            continue
        text = entry.get("summary") or ""
        if entry.get("content"):
            text = entry.content[0].get("value") or text
        audio = next((link.get("href") for link in _links(entry)
                      if (link.get("type") or "").startswith("audio/") and link.get("href")), None)
        body_text = plain_text(text)[:MAX_BODY]
        if not body_text and not audio:
            parsed.problems.append(f"{ref[:300]}: neither text nor an audio enclosure: left out")
            continue
        language = (entry.get("language") or "vi").split("-")[0].lower() or "vi"
        parsed.entries.append(Incoming(ref=ref[:300], title=title[:300], body=body_text, audio_url=audio,
                                       language=language))
    return parsed


def is_cap(body: bytes) -> bool:
    """Whether the document is one CAP alert rather than a feed of them."""
    start = body[:2048]
    return b"<alert" in start and b"urn:oasis:names:tc:emergency:cap:1.2" in start


def parse_cap_feed(body: bytes) -> Parsed:
    """An Atom/RSS feed whose entries link to CAP alerts (the link typed application/cap+xml, else the first)."""
    parsed = Parsed()
    for entry in _feed(body).entries[:MAX_ENTRIES]:
        ref = _text(entry.get("id")) or _text(entry.get("link"))
        links = [link for link in _links(entry) if link.get("href")]
        typed = [link for link in links if "cap" in (link.get("type") or "")]
        target = (typed or links or [{}])[0].get("href")
        if not ref or not target:
            parsed.problems.append("an entry without id or link to its alert was left out")
            continue
        parsed.entries.append(Incoming(ref=ref[:300], title=plain_text(entry.get("title", ""))[:300] or ref[:300],
                                       cap_url=target))
    return parsed
