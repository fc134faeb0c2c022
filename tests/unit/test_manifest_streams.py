"""Relay entries (kind ``stream``) in the station manifest: the wire form, what the schema and the rules refuse,
the files a station fetches for them, and the M3U rendering."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator

from stations.manifest import (
    Day,
    Entry,
    ManifestError,
    Stream,
    audio_files,
    entry_audio,
    from_json,
    schema,
    to_json,
    to_m3u8,
)
from tests.unit.test_manifest import DAY1, FILLER, NEWS, at, entry, sample

KEY = "4@2026-11-29"
VOV = "http://10.20.0.5:8000/vov1.mp3"


def relay(index: int, start: datetime, *, minutes: int = 30, url: str = VOV, fallback=FILLER, **changes) -> Entry:
    play_ms = minutes * 60_000
    end = (start.astimezone(UTC) + timedelta(milliseconds=play_ms)).astimezone(start.tzinfo)
    fields = {"id": f"{KEY}#{index}", "start": start, "end": end, "kind": "stream", "item_id": 21,
              "title": "Tiếp sóng VOV1", "item_class": "normal", "audio": None, "play_ms": play_ms, "slot_id": 4,
              "occurrence_key": KEY, "stream": Stream(url, fallback)} | changes
    return Entry(**fields)


def with_relay(*entries: Entry):
    return sample(days=(Day(DAY1, 1, entries),))


def relay_doc() -> dict:
    return json.loads(to_json(with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), relay(1, at(DAY1, 6, 5)))))


def test_a_relay_goes_over_the_wire_with_its_stream_instead_of_audio():
    manifest = with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), relay(1, at(DAY1, 6, 5)))
    body = to_json(manifest)
    doc = json.loads(body)
    wire = doc["days"][0]["entries"][1]
    assert "audio" not in wire
    assert wire["kind"] == "stream"
    assert wire["stream"] == {"fallback": {"duration_ms": FILLER.duration_ms, "sha256": FILLER.sha256,
                                           "size": FILLER.size, "url": FILLER.url}, "url": VOV}
    assert wire["play_ms"] == 30 * 60_000 and wire["end"] == "2026-11-29T06:35:00+07:00"
    # Canonical: sorted keys, and it reads back equal.
    assert body.decode() == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert from_json(body) == manifest
    assert not list(Draft202012Validator(schema()).iter_errors(doc))


def test_the_fallback_is_fetched_like_any_audio_and_a_relay_may_have_none():
    manifest = with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), relay(1, at(DAY1, 6, 5)),
                          relay(2, at(DAY1, 7), fallback=None, url="https://tinh.example.vn/live/index.m3u8"))
    assert audio_files(manifest) == [NEWS, FILLER]
    doc = json.loads(to_json(manifest))
    assert [entry_audio(e) for e in doc["days"][0]["entries"]] == [
        [doc["days"][0]["entries"][0]["audio"]], [doc["days"][0]["entries"][1]["stream"]["fallback"]], []]
    assert from_json(to_json(manifest)) == manifest


def test_a_relay_window_may_be_longer_than_its_fallback_which_loops():
    manifest = with_relay(relay(0, at(DAY1, 6), minutes=120))
    assert manifest.days[0].entries[0].play_ms > FILLER.duration_ms
    assert from_json(to_json(manifest)) == manifest


E1 = ("days", 0, "entries", 1)


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ((*E1, "stream"), None, "days[0].entries[1].stream", "must be object, not null"),
        ((*E1, "stream", "url"), "ftp://10.20.0.5/vov1.mp3", "days[0].entries[1].stream.url", "expected form"),
        ((*E1, "stream", "url"), "http://host/a b.mp3", "days[0].entries[1].stream.url", "expected form"),
        ((*E1, "stream", "url"), "http://user:pw@host/a.mp3", "days[0].entries[1].stream.url", "expected form"),
        ((*E1, "stream", "url"), "/relative/vov1.mp3", "days[0].entries[1].stream.url", "expected form"),
        ((*E1, "stream", "fallback", "sha256"), "x", "days[0].entries[1].stream.fallback", ""),
        ((*E1, "stream", "volume"), 5, "days[0].entries[1].stream.volume", "is not a field"),
        ((*E1, "item_id"), None, "days[0].entries[1].item_id", "must be integer, not null"),
        ((*E1, "kind"), "item", "days[0].entries[1].audio", "is missing"),
        ((*E1, "audio"), {"duration_ms": 1, "sha256": "a" * 64, "size": 1, "url": "x"}, "days[0].entries[1]", ""),
        (("days", 0, "entries", 0, "stream"), {"url": VOV, "fallback": None}, "days[0].entries[0]", ""),
    ],
)
def test_schema_rejects_broken_relays(path, value, field, message):
    doc = relay_doc()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert list(Draft202012Validator(schema()).iter_errors(doc)), "the schema itself must reject this"
    with pytest.raises(ManifestError) as caught:
        from_json(json.dumps(doc))
    assert caught.value.field.startswith(field)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (relay(1, at(DAY1, 6, 5), url="ftp://host/x"), "days[0].entries[1].stream.url", "absolute http://"),
        (relay(1, at(DAY1, 6, 5), url="http:///x"), "days[0].entries[1].stream.url", "with a host"),
        (relay(1, at(DAY1, 6, 5), item_id=None), "days[0].entries[1].item_id", "needs its item id"),
        (relay(1, at(DAY1, 6, 5), audio=FILLER), "days[0].entries[1].audio", "has a stream instead of audio"),
        (relay(1, at(DAY1, 6, 5), stream=None), "days[0].entries[1].stream", "needs its stream"),
        (relay(1, at(DAY1, 6, 5), kind="item"), "days[0].entries[1].stream", "only an entry of kind 'stream'"),
        (relay(1, at(DAY1, 6, 5), fallback=dataclasses.replace(NEWS, size=1)),
         "days[0].entries[1].stream.fallback", "differs from days[0].entries[0].audio"),
        (relay(1, at(DAY1, 6, 1)), "days[0].entries[1].start", "overlaps days[0].entries[0]"),
    ],
)
def test_writer_refuses_broken_relays(bad, field, message):
    with pytest.raises(ManifestError) as caught:
        with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), bad)
    assert caught.value.field == field
    assert message in caught.value.message


def test_the_m3u8_plays_a_relay_as_its_fallback_for_its_window_and_names_the_stream():
    """Players read each entry to its end: a live stream's address would hold them there for good."""
    manifest = with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), relay(1, at(DAY1, 6, 5), minutes=2, play_ms=100_000,
                                                              end=at(DAY1, 6, 5) + timedelta(seconds=100)),
                          relay(2, at(DAY1, 7), fallback=None))
    lines = to_m3u8(manifest, DAY1).splitlines()
    assert VOV not in [line for line in lines if not line.startswith("#")]
    assert "#RELAY:2026-11-29T06:05:00+07:00 100.000 s " + VOV in lines
    assert "#RELAY:2026-11-29T07:00:00+07:00 1800.000 s " + VOV in lines  # no fallback: the comment alone
    relayed = [n for n, line in enumerate(lines) if line.endswith(",Tiếp sóng VOV1")]
    assert [lines[n] for n in relayed] == ["#EXTINF:30.000,Tiếp sóng VOV1"] * 3 + ["#EXTINF:10.000,Tiếp sóng VOV1"]
    assert [lines[n - 1][-14:-6] for n in relayed] == ["06:05:00", "06:05:30", "06:06:00", "06:06:30"]
    assert lines[relayed[-1] + 1] == "#EXTVLCOPT:stop-time=10.000"
    assert lines[relayed[-1] + 2].endswith(FILLER.url) and lines[-1] == "#EXT-X-ENDLIST"


def test_a_pushed_manifest_names_the_fallback_beside_it_and_stays_valid():
    from broadcast.channels.sftp import inbox_manifest

    manifest = with_relay(entry(KEY, 0, at(DAY1, 6), NEWS), relay(1, at(DAY1, 6, 5)))
    pushed = from_json(inbox_manifest(to_json(manifest)))  # checked again, ETag included
    news, relayed = pushed.days[0].entries
    assert news.audio.url == f"audio/{NEWS.sha256}.mp3"
    assert relayed.stream.fallback.url == f"audio/{FILLER.sha256}.mp3" and relayed.stream.url == VOV
