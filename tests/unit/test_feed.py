"""The RSS 2.0 podcast feed, built from plain data and read back with feedparser (an independent reader)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest

from broadcast.channels.feed import Channel, Episode, build_feed, itunes_duration

HANOI = timezone(timedelta(hours=7))
UPDATED = datetime(2026, 11, 28, 8, 30, tzinfo=HANOI)


def _channel(**changes) -> Channel:
    fields = {"title": "Bản tin phát thanh — Phường Nguyễn Trãi", "link": "https://radio.example.vn/",
              "description": "Các bản tin <của phường> & thông báo", "self_url": "https://radio.example.vn/feeds/00694.rss",
              "updated": UPDATED}
    return Channel(**{**fields, **changes})


def _episode(item_id: int, hour: int, **changes) -> Episode:
    sha = f"{item_id:064x}"
    fields = {"item_id": item_id, "title": f"Tin số {item_id}: phòng chống lũ & sạt lở",
              "body": "Bà con chú ý <mưa lớn> & lũ.\nSơ tán trước 17 giờ.",
              "published_at": datetime(2026, 11, 28, hour, 0, tzinfo=HANOI),
              "audio_url": f"https://radio.example.vn/feeds/audio/{sha}.mp3", "audio_sha256": sha,
              "size_bytes": 1000 + item_id, "duration_ms": 61_500}
    return Episode(**{**fields, **changes})


def test_feed_is_rss_2_with_podcast_enclosures():
    episodes = [_episode(2, 9), _episode(1, 7, duration_ms=3_725_400)]
    parsed = feedparser.parse(build_feed(_channel(), episodes))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Bản tin phát thanh — Phường Nguyễn Trãi"
    assert parsed.feed.link == "https://radio.example.vn/"
    assert parsed.feed.description == "Các bản tin <của phường> & thông báo"
    assert parsed.feed.language == "vi"
    assert [e.title for e in parsed.entries] == [f"Tin số {n}: phòng chống lũ & sạt lở" for n in (2, 1)]
    first = parsed.entries[0]
    assert first.id == f"urn:radio:item:2:{2:064x}" and first.guidislink is False
    # The description is HTML to readers: the text's own "<" and "&" stay text, its line breaks stay breaks.
    assert first.summary == "Bà con chú ý &lt;mưa lớn&gt; &amp; lũ.<br />\nSơ tán trước 17 giờ."
    assert first.enclosures == [{"href": f"https://radio.example.vn/feeds/audio/{2:064x}.mp3", "length": "1002",
                                 "type": "audio/mpeg"}]
    assert first.published_parsed[:5] == (2026, 11, 28, 2, 0)  # 09:00 in Hà Nội is 02:00 UTC
    assert [e.itunes_duration for e in parsed.entries] == ["0:01:02", "1:02:05"]


def test_same_data_gives_the_same_bytes():
    """No clock inside: an ETag taken from the bytes changes only when the content does."""
    first = build_feed(_channel(), [_episode(1, 7)])
    assert build_feed(_channel(), [_episode(1, 7)]) == first
    assert build_feed(_channel(), [_episode(1, 7, title="Khác")]) != first
    assert b"<lastBuildDate>Sat, 28 Nov 2026 08:30:00 +0700</lastBuildDate>" in first


def test_an_empty_feed_is_still_valid():
    parsed = feedparser.parse(build_feed(_channel(), []))
    assert not parsed.bozo and parsed.version == "rss20" and parsed.entries == []


@pytest.mark.parametrize(("ms", "text"), [(0, "0:00:00"), (499, "0:00:00"), (500, "0:00:00"), (1_500, "0:00:02"),
                                          (59_600, "0:01:00"), (3_600_000, "1:00:00"), (36_061_000, "10:01:01")])
def test_itunes_duration(ms, text):
    assert itunes_duration(ms) == text


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_feed(_channel(), [_episode(1, 7, published_at=datetime(2026, 11, 28, 7, 0))])
    with pytest.raises(ValueError, match="timezone-aware"):
        build_feed(_channel(updated=datetime(2026, 11, 28)), [])
    build_feed(_channel(updated=datetime(2026, 11, 28, tzinfo=UTC)), [])
