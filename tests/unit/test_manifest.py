"""Station manifest wire format: canonical JSON, round trips, content ETags, helpers and the M3U8 rendering.

The builders here are shared with test_manifest_validation.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from stations.manifest import (
    SCHEMA_ID,
    AudioFile,
    Day,
    Entry,
    Manifest,
    ManifestError,
    audio_files,
    build_manifest,
    content_etag,
    day_etag,
    from_json,
    schema,
    to_json,
    to_m3u8,
    upcoming,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
DAY1 = date(2026, 11, 29)
DAY2 = date(2026, 11, 30)


def audio(name: str, size: int, duration_ms: int) -> AudioFile:
    """An audio file named by the sha256 of ``name``, served by the HTTP API."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    return AudioFile(sha256=sha, size=size, duration_ms=duration_ms, url=f"/api/v1/audio/{sha}")


NEWS = audio("news", 1_524_006, 95_250)
FILLER = audio("filler", 480_000, 30_000)


def at(day: date, hour: int, minute: int = 0, second: int = 0, ms: int = 0, tz: ZoneInfo = HCM) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, ms * 1000, tzinfo=tz)


def entry(key: str, index: int, start: datetime, media: AudioFile, *, play_ms: int | None = None,
          kind: str = "item", item_id: int | None = 17, title: str = "Bản tin sáng",
          item_class: str = "normal", slot_id: int | None = 4) -> Entry:
    play_ms = media.duration_ms if play_ms is None else play_ms
    # Added in UTC: adding to a zoned time is wall-clock arithmetic, wrong across a DST change.
    end = (start.astimezone(UTC) + timedelta(milliseconds=play_ms)).astimezone(start.tzinfo)
    return Entry(id=f"{key}#{index}", start=start, end=end, kind=kind,
                 item_id=item_id, title=title, item_class=item_class, audio=media, play_ms=play_ms,
                 slot_id=slot_id, occurrence_key=key)


def sample_days() -> tuple[Day, ...]:
    """Two days: a bulletin then a filler cut to close the slot, and the bulletin again the next morning."""
    return (
        Day(DAY1, 3, (
            entry("4@2026-11-29", 0, at(DAY1, 6), NEWS),
            entry("4@2026-11-29", 1, at(DAY1, 6, 1, 36, 250), FILLER, play_ms=20_000, kind="filler",
                  item_id=None, title="Nhạc nền"),
        )),
        Day(DAY2, 1, (entry("4@2026-11-30", 0, at(DAY2, 6), NEWS),)),
    )


def sample(**changes) -> Manifest:
    """The sample manifest, with fields of ``build_manifest`` replaced by ``changes``."""
    fields = {"station": "HG1-01", "timezone": "Asia/Ho_Chi_Minh", "generated_at": at(date(2026, 11, 28), 22),
              "days": sample_days(), "version": 12} | changes
    return build_manifest(**fields)


SAMPLE_JSON = (
    '{"days":[{"date":"2026-11-29","entries":['
    '{"audio":{"duration_ms":95250,"sha256":"' + NEWS.sha256 + '","size":1524006,"url":"/api/v1/audio/'
    + NEWS.sha256 + '"},"end":"2026-11-29T06:01:35.250+07:00","id":"4@2026-11-29#0","item_class":"normal",'
    '"item_id":17,"kind":"item","occurrence_key":"4@2026-11-29","play_ms":95250,"slot_id":4,'
    '"start":"2026-11-29T06:00:00+07:00","title":"Bản tin sáng"},'
    '{"audio":{"duration_ms":30000,"sha256":"' + FILLER.sha256 + '","size":480000,"url":"/api/v1/audio/'
    + FILLER.sha256 + '"},"end":"2026-11-29T06:01:56.250+07:00","id":"4@2026-11-29#1","item_class":"normal",'
    '"item_id":null,"kind":"filler","occurrence_key":"4@2026-11-29","play_ms":20000,"slot_id":4,'
    '"start":"2026-11-29T06:01:36.250+07:00","title":"Nhạc nền"}],"version":3},'
    '{"date":"2026-11-30","entries":['
    '{"audio":{"duration_ms":95250,"sha256":"' + NEWS.sha256 + '","size":1524006,"url":"/api/v1/audio/'
    + NEWS.sha256 + '"},"end":"2026-11-30T06:01:35.250+07:00","id":"4@2026-11-30#0","item_class":"normal",'
    '"item_id":17,"kind":"item","occurrence_key":"4@2026-11-30","play_ms":95250,"slot_id":4,'
    '"start":"2026-11-30T06:00:00+07:00","title":"Bản tin sáng"}],"version":1}],'
    '"etag":"\\"ETAG\\"","generated_at":"2026-11-28T22:00:00+07:00","schema":"commune-radio/manifest/1",'
    '"station":"HG1-01","timezone":"Asia/Ho_Chi_Minh","version":12}'
)
# Fixed on purpose: any change to the canonical form or the ETag rule shows up here.
SAMPLE_ETAG = "c97b56e727d6692d3384e4d9f4d3e55f11bce474290110ad9d997fd8cfd862c6"


@pytest.fixture(params=["orjson", "pure"])
def writer(request, monkeypatch):
    """Days written by orjson (the server) and by json (a station box without orjson)."""
    from stations.manifest import wire

    if request.param == "pure":
        monkeypatch.setattr(wire, "orjson", None)
    else:
        assert wire.orjson is not None
    return request.param


def test_canonical_json_is_exact(writer):
    manifest = sample()
    assert manifest.etag == f'"{SAMPLE_ETAG}"'
    assert to_json(manifest) == SAMPLE_JSON.replace("ETAG", SAMPLE_ETAG).encode()


def test_canonical_json_is_sorted_compact_utf8_json():
    data = to_json(sample())
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "Bản tin sáng".encode() in data


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("text", [
    'Tin "lũ" ,"days":[]', "đường \\ dốc", "dòng 1\ndòng 2\ttab\r", "\x00\x01\x1f\x7f", "\u2028\u2029",
    "Cảnh báo 🌊 bão số 3", "", "ký tự \ufeff và \u00a0",
])
def test_the_text_is_json_dumps_of_the_document_with_either_writer(text, writer):
    odd = dataclasses.replace(NEWS, url=f"https://đài.vn/tệp/{NEWS.sha256}?tên=\"bản\"")
    days = (Day(DAY1, 3, (
        entry(f"4@{text}", 0, at(DAY1, 6), odd, title=text, item_class="priority"),
        entry(f"4@{text}", 1, at(DAY1, 6, 1, 36, 250), FILLER, play_ms=20_000, kind="filler", item_id=None,
              title=text, slot_id=None),
    )),)
    manifest = sample(days=days, station="HG1.01_x" if text else "XA-01")
    data = to_json(manifest)
    doc = json.loads(data)
    assert data == _dumps(doc).encode() and doc["days"][0]["entries"][0]["title"] == text
    content = {key: doc[key] for key in ("days", "schema", "station", "timezone")}
    assert manifest.etag == f'"{hashlib.sha256(_dumps(content).encode()).hexdigest()}"'
    day = {key: doc["days"][0][key] for key in ("date", "entries")}
    assert day_etag(days[0], "Asia/Ho_Chi_Minh") == f'"{hashlib.sha256(_dumps(day).encode()).hexdigest()}"'
    assert from_json(data) == manifest


def test_what_orjson_refuses_is_written_by_json(writer):
    days = (Day(DAY1, 3, (entry("4@2026-11-29", 0, at(DAY1, 6), NEWS, item_id=2**70),)),)  # beyond 64 bits
    data = to_json(sample(days=days))
    assert data == _dumps(json.loads(data)).encode() and json.loads(data)["days"][0]["entries"][0]["item_id"] == 2**70


def test_etag_is_sha256_of_the_canonical_content_object():
    doc = json.loads(to_json(sample()))
    content = {key: doc[key] for key in ("days", "schema", "station", "timezone")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode()).hexdigest()
    assert doc["etag"] == f'"{digest}"'
    assert content_etag("HG1-01", "Asia/Ho_Chi_Minh", sample_days()) == f'"{digest}"'


def test_round_trip():
    manifest = sample()
    data = to_json(manifest)
    back = from_json(data)
    assert back == manifest
    assert to_json(back) == data
    assert back.days[0].entries[0].start.tzinfo == HCM


def test_reader_accepts_any_json_layout_of_the_same_content():
    manifest = sample()
    pretty = json.dumps(json.loads(to_json(manifest)), indent=2, ensure_ascii=True)
    assert from_json(pretty) == manifest


def test_generated_manifests_match_the_schema():
    Draft202012Validator.check_schema(schema())
    assert list(Draft202012Validator(schema()).iter_errors(json.loads(to_json(sample())))) == []
    assert schema()["properties"]["schema"]["const"] == SCHEMA_ID


def test_every_schema_property_is_described():
    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            target = schema()["$defs"][sub["$ref"].rsplit("/", 1)[1]] if set(sub) == {"$ref"} else sub
            assert target.get("description"), f"{path}.{name} has no description"
        for name, sub in node.get("$defs", {}).items():
            walk(sub, f"$defs.{name}")

    walk(schema(), "")


@pytest.mark.parametrize(
    ("change", "same"),
    [
        (lambda m: {"generated_at": m.generated_at + timedelta(hours=5)}, True),
        (lambda m: {"version": m.version + 1}, True),
        (lambda m: {"days": (dataclasses.replace(m.days[0], version=4), m.days[1])}, False),
        (lambda m: {"days": m.days[:1]}, False),
        (lambda m: {"station": "HG1-02"}, False),
        (lambda m: {"timezone": "Asia/Bangkok"}, False),  # same offset, different zone
        (lambda m: {"days": _edit_first_entry(m, title="Bản tin chiều")}, False),
        (lambda m: {"days": _edit_first_entry(m, item_class="priority")}, False),
        (lambda m: {"days": _move_audio(m, NEWS, f"audio/{NEWS.sha256}.mp3")}, False),
        (lambda m: {"days": _shift_first_entry(m, timedelta(milliseconds=-1))}, False),
    ],
    ids=["generated_at", "version", "day-version", "day-dropped", "station", "timezone", "title", "class",
         "url", "start-1ms"],
)
def test_etag_follows_content_only(change, same):
    base = sample()
    changed = sample(**change(base))
    assert (changed.etag == base.etag) is same


def _edit_first_entry(manifest: Manifest, **changes) -> tuple[Day, ...]:
    first = manifest.days[0]
    entries = (dataclasses.replace(first.entries[0], **changes), *first.entries[1:])
    return (dataclasses.replace(first, entries=entries), *manifest.days[1:])


def _move_audio(manifest: Manifest, media: AudioFile, url: str) -> tuple[Day, ...]:
    moved = dataclasses.replace(media, url=url)
    return tuple(
        dataclasses.replace(day, entries=tuple(
            dataclasses.replace(e, audio=moved) if e.audio == media else e for e in day.entries))
        for day in manifest.days
    )


def _shift_first_entry(manifest: Manifest, delta: timedelta) -> tuple[Day, ...]:
    old = manifest.days[0].entries[0]
    return _edit_first_entry(manifest, start=old.start + delta, end=old.end + delta)


def test_the_same_instant_in_another_zone_gives_the_same_bytes():
    in_utc = tuple(
        dataclasses.replace(day, entries=tuple(
            dataclasses.replace(e, start=e.start.astimezone(ZoneInfo("UTC")), end=e.end.astimezone(ZoneInfo("UTC")))
            for e in day.entries))
        for day in sample_days()
    )
    assert to_json(sample(days=in_utc)) == to_json(sample())


def test_day_etag_ignores_the_day_version_only():
    day = sample_days()[0]
    assert day_etag(day, "Asia/Ho_Chi_Minh") == day_etag(dataclasses.replace(day, version=9), "Asia/Ho_Chi_Minh")
    assert day_etag(day, "Asia/Ho_Chi_Minh") != day_etag(dataclasses.replace(day, entries=day.entries[:1]),
                                                         "Asia/Ho_Chi_Minh")
    assert day_etag(day, "Asia/Ho_Chi_Minh").startswith('"') and len(day_etag(day, "Asia/Ho_Chi_Minh")) == 66


def test_a_manifest_made_without_build_manifest_is_checked_and_written_the_same():
    built = sample()
    plain = Manifest(built.station, built.timezone, built.generated_at, built.days, built.version, built.etag)
    assert plain == built
    assert to_json(plain) == to_json(built)


def test_to_json_refuses_a_stale_etag():
    stale = dataclasses.replace(sample(), days=sample_days()[:1])
    with pytest.raises(ManifestError) as caught:
        to_json(stale)
    assert caught.value.field == "etag"


def test_daylight_saving_night_keeps_each_offset(writer):
    # 2026-10-25 in Berlin: 02:00-03:00 happens twice, first at +02:00, then at +01:00.
    night = date(2026, 10, 25)
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    days = (Day(night, 1, (entry("9@2026-10-25", 0, first, NEWS), entry("9@2026-10-25", 1, second, NEWS))),)
    manifest = sample(timezone="Europe/Berlin", generated_at=datetime(2026, 10, 24, 20, tzinfo=BERLIN), days=days)
    doc = json.loads(to_json(manifest))
    assert [(e["start"], e["end"]) for e in doc["days"][0]["entries"]] == [
        ("2026-10-25T02:30:00+02:00", "2026-10-25T02:31:35.250+02:00"),
        ("2026-10-25T02:30:00+01:00", "2026-10-25T02:31:35.250+01:00"),
    ]
    back = from_json(to_json(manifest))
    assert back == manifest
    # Equality and subtraction within one zone go by wall clock, so check fold and the UTC instants too.
    assert [e.start.fold for e in back.days[0].entries] == [0, 1]
    assert [e.start.astimezone(UTC) for e in back.days[0].entries] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
    # At 02:31 in the second pass of the hour, the first entry is long over though its wall-clock end is later.
    now = datetime(2026, 10, 25, 2, 31, fold=1, tzinfo=BERLIN)
    assert [e.id for e in upcoming(back, now)] == ["9@2026-10-25#1"]


def test_audio_files_are_unique_in_order_of_first_use():
    assert audio_files(sample()) == [NEWS, FILLER]


@pytest.mark.parametrize(
    ("now", "ids", "files"),
    [
        (at(DAY1, 5), ["4@2026-11-29#0", "4@2026-11-29#1", "4@2026-11-30#0"], [NEWS, FILLER]),
        (at(DAY1, 6, 1), ["4@2026-11-29#0", "4@2026-11-29#1", "4@2026-11-30#0"], [NEWS, FILLER]),  # playing
        (at(DAY1, 6, 1, 35, 250), ["4@2026-11-29#1", "4@2026-11-30#0"], [FILLER, NEWS]),  # just ended
        (at(DAY1, 12), ["4@2026-11-30#0"], [NEWS]),
        (at(DAY2, 12), [], []),
    ],
)
def test_upcoming_entries_and_the_audio_still_needed(now, ids, files):
    assert [e.id for e in upcoming(sample(), now)] == ids
    assert audio_files(sample(), now) == files


def test_m3u8_is_exact():
    text = to_m3u8(sample(), DAY1)
    assert text == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        "#EXT-X-TARGETDURATION:96\n"  # the longest entry, rounded up
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#PLAYLIST:HG1-01 2026-11-29\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T06:00:00+07:00\n"
        "#EXTINF:95.250,Bản tin sáng\n"
        f"/api/v1/audio/{NEWS.sha256}\n"
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T06:01:36.250+07:00\n"
        "#EXTINF:20.000,Nhạc nền\n"
        "#EXTVLCOPT:stop-time=20.000\n"
        f"/api/v1/audio/{FILLER.sha256}\n"
        "#EXT-X-ENDLIST\n"
    )


def test_m3u8_takes_each_url_from_the_callers_function():
    text = to_m3u8(sample(), DAY1, "https://ignored.example",
                   audio_url=lambda media: f"https://radio.example/a/{media.sha256}.mp3?k={media.size}")
    urls = [line for line in text.splitlines() if not line.startswith("#")]
    assert urls == [f"https://radio.example/a/{NEWS.sha256}.mp3?k=1524006",
                    f"https://radio.example/a/{FILLER.sha256}.mp3?k=480000"]


@pytest.mark.parametrize(
    ("base_url", "url", "expected"),
    [
        ("", "/api/v1/audio/x", "/api/v1/audio/x"),
        ("https://radio.example", "/api/v1/audio/x", "https://radio.example/api/v1/audio/x"),
        ("https://radio.example/api/v1/stations/HG1-01/manifest", "/api/v1/audio/x",
         "https://radio.example/api/v1/audio/x"),
        ("file:///var/lib/radio/", "audio/x.mp3", "file:///var/lib/radio/audio/x.mp3"),
    ],
)
def test_m3u8_resolves_urls_against_the_base(base_url, url, expected):
    media = dataclasses.replace(NEWS, url=url)
    days = (Day(DAY1, 1, (entry("4@2026-11-29", 0, at(DAY1, 6), media),)),)
    assert to_m3u8(sample(days=days), DAY1, base_url).splitlines()[-2] == expected  # before #EXT-X-ENDLIST


def test_m3u8_keeps_each_title_on_one_line_and_refuses_unknown_days():
    days = (Day(DAY1, 1, (entry("4@2026-11-29", 0, at(DAY1, 6), NEWS, title="Tin\nkhẩn,  cấp"),)),)
    assert to_m3u8(sample(days=days), DAY1).splitlines()[6] == "#EXTINF:95.250,Tin khẩn, cấp"
    assert to_m3u8(sample(days=(Day(DAY1, 1, ()),)), DAY1) == (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#PLAYLIST:HG1-01 2026-11-29\n#EXT-X-ENDLIST\n")
    with pytest.raises(ManifestError, match="no schedule for 2026-12-01"):
        to_m3u8(sample(), date(2026, 12, 1))


def test_for_station_reuses_the_days_with_the_stations_own_etag():
    from stations.manifest import build_manifest, for_station, from_json, to_json

    original = sample()
    other = for_station(original, "HG1-02", version=7, generated_at=original.generated_at)
    assert other.station == "HG1-02" and other.version == 7 and other.days == original.days
    assert other.etag != original.etag
    rebuilt = build_manifest("HG1-02", original.timezone, original.generated_at, original.days, 7)
    assert to_json(other) == to_json(rebuilt)
    assert from_json(to_json(other)) == rebuilt
