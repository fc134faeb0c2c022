"""The e-portal channel: an RSS 2.0 podcast feed of an area's published bulletins, built with feedgen.

Each bulletin is one ``<item>`` whose ``<enclosure>`` points at its MP3 with the exact length in bytes and the
type, so podcast readers and the provincial e-portal's player can fetch it; ``<itunes:duration>`` gives the
measured length. The ``<guid>`` names the item and its audio: the same reading keeps the same guid across
rebuilds, and a new reading after an edit is a new episode for readers that cache by guid.

The output depends only on the data given (no clock, no randomness), so a caller can derive an ETag from the
bytes. This module knows nothing of the web application or the database: it gets plain data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

LANGUAGE = "vi"
AUDIO_TYPE = "audio/mpeg"


@dataclass(frozen=True)
class Channel:
    """The feed itself: what readers show as its name, and where it lives."""

    title: str
    link: str  # the site the feed belongs to (absolute URL)
    description: str
    self_url: str  # the feed's own absolute URL, recommended in RSS as an atom:link rel="self"
    updated: datetime  # when the content last changed: <lastBuildDate> (timezone-aware)
    language: str = LANGUAGE


@dataclass(frozen=True)
class Episode:
    """One published bulletin with its audio."""

    item_id: int
    title: str
    body: str
    published_at: datetime  # timezone-aware
    audio_url: str  # absolute
    audio_sha256: str
    size_bytes: int
    duration_ms: int
    mime_type: str = AUDIO_TYPE

    @property
    def guid(self) -> str:
        return f"urn:radio:item:{self.item_id}:{self.audio_sha256}"


def itunes_duration(duration_ms: int) -> str:
    """H:MM:SS, rounded to the nearest second (the form every podcast reader accepts)."""
    seconds = max(0, round(duration_ms / 1000))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


def _as_html(text: str) -> str:
    """Readers take an item's description as HTML: escape the text and keep its line breaks."""
    return "<br/>\n".join(html.escape(line, quote=False) for line in text.strip().splitlines())


def build_feed(channel: Channel, episodes: Sequence[Episode]) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes), episodes in the order given (callers pass newest first)."""
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(channel.title)
    # feedgen gives RSS's one <link> the last link set: the self link (atom:link) goes first.
    fg.link(href=channel.self_url, rel="self", type="application/rss+xml")
    fg.link(href=channel.link, rel="alternate")
    fg.description(channel.description)
    fg.language(channel.language)
    # Set explicitly: feedgen would otherwise stamp the current time and change the bytes on every build.
    fg.lastBuildDate(_aware(channel.updated, "Channel.updated"))
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_summary(channel.description)
    for episode in episodes:
        entry = fg.add_entry(order="append")
        entry.title(episode.title)
        entry.description(_as_html(episode.body or episode.title))
        entry.guid(episode.guid, permalink=False)
        entry.pubDate(_aware(episode.published_at, f"Episode {episode.item_id}.published_at"))
        entry.enclosure(episode.audio_url, str(episode.size_bytes), episode.mime_type)
        entry.podcast.itunes_duration(itunes_duration(episode.duration_ms))
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
