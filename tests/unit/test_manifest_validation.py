"""Station manifest validation: what the JSON Schema rejects, the rules beyond it, and the errors people see."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator

from stations.manifest import Day, ManifestError, build_manifest, from_json, schema, to_json
from tests.unit.test_manifest import DAY1, DAY2, FILLER, HCM, NEWS, at, entry, sample

FIRST = "days[0].entries[0]"


def canonical_doc() -> dict:
    return json.loads(to_json(sample()))


def set_path(doc: dict, path: tuple, value) -> dict:
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


DELETE = object()
E0 = ("days", 0, "entries", 0)


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("etag",), DELETE, "etag", "is missing"),
        (("days",), DELETE, "days", "is missing"),
        ((*E0, "audio", "size"), DELETE, f"{FIRST}.audio.size", "is missing"),
        ((*E0, "item_id"), DELETE, f"{FIRST}.item_id", "is missing"),
        ((*E0, "audio", "sha256"), "ABC", f"{FIRST}.audio.sha256", "64 lowercase hex digits"),
        ((*E0, "audio", "sha256"), NEWS.sha256.upper(), f"{FIRST}.audio.sha256", "64 lowercase hex digits"),
        ((*E0, "audio", "duration_ms"), -5, f"{FIRST}.audio.duration_ms", "-5 is less than the minimum of 1"),
        ((*E0, "play_ms"), 0, f"{FIRST}.play_ms", "0 is less than the minimum of 1"),
        ((*E0, "audio", "size"), "1000", f"{FIRST}.audio.size", "must be integer, not string"),
        ((*E0, "start"), "2026-11-29 06:00:00", f"{FIRST}.start", "expected form"),
        ((*E0, "start"), "2026-11-28T23:00:00Z", f"{FIRST}.start", "expected form"),
        ((*E0, "start"), "2026-11-29T06:00+07:00", f"{FIRST}.start", "expected form"),
        (("generated_at",), 1764370800, "generated_at", "must be string, not integer"),
        ((*E0, "item_class"), "urgent", f"{FIRST}.item_class", "'urgent' is not one of"),
        ((*E0, "kind"), "jingle", f"{FIRST}.kind", "'jingle' is not one of"),
        ((*E0, "item_id"), None, f"{FIRST}.item_id", "must be integer, not null"),
        ((*E0, "audio", "url"), "../../etc/passwd", f"{FIRST}.audio.url", "'..' segments"),
        ((*E0, "audio", "url"), "audio/a b.mp3", f"{FIRST}.audio.url", "without whitespace"),
        (("comment",), "hello", "comment", "is not a field of commune-radio/manifest/1"),
        ((*E0, "volume"), 7, f"{FIRST}.volume", "is not a field"),
        (("days", 0, "date"), "29/11/2026", "days[0].date", "expected form"),
        (("version",), 0, "version", "0 is less than the minimum of 1"),
        (("version",), True, "version", "must be integer, not boolean"),
        (("station",), "HG 1", "station", "expected form"),
        (("days",), {}, "days", "must be array, not object"),
    ],
)
def test_schema_rejects(path, value, field, message):
    doc = set_path(canonical_doc(), path, value)
    assert list(Draft202012Validator(schema()).iter_errors(doc)), "the schema itself must reject this"
    with pytest.raises(ManifestError) as caught:
        from_json(json.dumps(doc))
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (b"[]", "manifest", "must be object, not array"),
        (b"{", "manifest", "is not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        (b"\xff{}", "manifest", "is not UTF-8 (invalid start byte at byte 0)"),
        (b'{"version":1,"version":2}', "version", "appears twice in one object"),
        (b'{"version":NaN}', "manifest", "NaN is not a JSON number"),
        (b'{"schema":"commune-radio/manifest/2"}', "schema",
         "'commune-radio/manifest/2' is not a format this reader knows (commune-radio/manifest/1)"),
    ],
)
def test_reader_rejects_what_is_not_a_manifest(data, field, message):
    with pytest.raises(ManifestError) as caught:
        from_json(data)
    assert (caught.value.field, caught.value.message) == (field, message)


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ((*E0, "start"), "2026-11-29T07:00:00+08:00", f"{FIRST}.start",
         "'2026-11-29T07:00:00+08:00' does not use the station's offset (Asia/Ho_Chi_Minh is at +07:00 then)"),
        ((*E0, "start"), "2026-11-29T06:00:00.000+07:00", f"{FIRST}.start",
         "'2026-11-29T06:00:00.000+07:00' is not in canonical form ('2026-11-29T06:00:00+07:00')"),
        ((*E0, "start"), "2026-11-29T25:00:00+07:00", f"{FIRST}.start",
         "'2026-11-29T25:00:00+07:00' is not a valid time"),
        (("days", 0, "date"), "2026-02-30", "days[0].date", "'2026-02-30' is not a calendar date"),
        (("timezone",), "Mars/Olympus_Mons", "timezone", "unknown zone 'Mars/Olympus_Mons'"),
        ((*E0, "end"), "2026-11-29T06:01:35+07:00", f"{FIRST}.end",
         "must be start + play_ms (95250 ms), not start + 95000 ms"),
        ((*E0, "title"), "Bản tin đã sửa", "etag", "does not match the content"),
        (("etag",), '"' + "0" * 64 + '"', "etag", "does not match the content"),
        (("days", 1, "version"), 2, "etag", "does not match the content"),
        ((*E0, "title"), "Tin \ud800", "manifest", "text holds '\\ud800', which is not a Unicode character"),
    ],
)
def test_reader_applies_the_rules_beyond_the_schema(path, value, field, message):
    doc = set_path(canonical_doc(), path, value)
    assert not list(Draft202012Validator(schema()).iter_errors(doc)), "this one passes the schema"
    with pytest.raises(ManifestError) as caught:
        from_json(json.dumps(doc))
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_zone_with_the_same_offset_is_caught_by_the_etag():
    doc = canonical_doc()
    doc["timezone"] = "Asia/Bangkok"  # same offset, so only the ETag can tell
    with pytest.raises(ManifestError) as caught:
        from_json(json.dumps(doc))
    assert caught.value.field == "etag"


KEY = "4@2026-11-29"


def one_day(*entries, day: date = DAY1) -> tuple[Day, ...]:
    return (Day(day, 1, tuple(entries)),)


def late_by(item, delta: timedelta):
    return dataclasses.replace(item, start=item.start + delta, end=item.end + delta)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS), entry(KEY, 1, at(DAY1, 6, 1), FILLER))},
         "days[0].entries[1].start",
         "2026-11-29T06:01:00+07:00 overlaps days[0].entries[0], which ends at 2026-11-29T06:01:35.250+07:00"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 7), NEWS), entry(KEY, 1, at(DAY1, 6), FILLER))},
         "days[0].entries[1].start",
         "2026-11-29T06:00:00+07:00 is before the start of days[0].entries[0]: entries are in start order"),
        ({"days": (Day(DAY1, 1, (entry(KEY, 0, at(DAY1, 8), NEWS),)), Day(DAY2, 1, (entry(KEY, 1, at(DAY1, 7),
                                                                                            FILLER),)))},
         "days[1].entries[0].start", "starts on 2026-11-29, outside its day 2026-11-30"),
        ({"days": one_day(dataclasses.replace(entry(KEY, 0, at(DAY1, 6), NEWS), end=at(DAY1, 6, 2)))},
         f"{FIRST}.end", "must be start + play_ms (95250 ms), not start + 120000 ms"),
        ({"days": one_day(dataclasses.replace(entry(KEY, 0, at(DAY1, 6), NEWS), end=at(DAY1, 5)))},
         f"{FIRST}.end", "must be after start"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), FILLER, play_ms=30_001))},
         f"{FIRST}.play_ms", "30001 is longer than the audio (30000)"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS),
                          entry(KEY, 1, at(DAY1, 7), dataclasses.replace(NEWS, size=1)))},
         "days[0].entries[1].audio", f"file {NEWS.sha256} differs from days[0].entries[0].audio"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS), entry(KEY, 0, at(DAY1, 7), NEWS))},
         "days[0].entries[1].id", "'4@2026-11-29#0' is already the id of days[0].entries[0]"),
        ({"days": (Day(DAY2, 1, ()), Day(DAY1, 1, ()))}, "days[1].date", "2026-11-29 must come after 2026-11-30"),
        ({"days": (Day(DAY1, 1, ()), Day(DAY1, 2, ()))}, "days[1].date", "2026-11-29 must come after 2026-11-29"),
        ({"days": (Day(DAY1, 0, ()),)}, "days[0].version", "must be an integer of at least 1, not 0"),
        ({"days": one_day(entry(KEY, 0, datetime(2026, 11, 29, 6), NEWS))},  # noqa: DTZ001 - naive on purpose
         f"{FIRST}.start", "must be a datetime with a time zone"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6).replace(microsecond=1), NEWS))},
         f"{FIRST}.start", "must be a whole number of milliseconds"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS, item_id=None))},
         f"{FIRST}.item_id", "an entry of kind 'item' needs its item id"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS, kind="jingle"))},
         f"{FIRST}.kind", "'jingle' is not one of item, filler"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS, item_class="urgent"))},
         f"{FIRST}.item_class", "'urgent' is not one of normal, priority, emergency"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), dataclasses.replace(NEWS, sha256="x" * 64)))},
         f"{FIRST}.audio.sha256", "must be 64 lowercase hex digits"),
        ({"days": one_day(entry(KEY, 0, at(DAY1, 6), NEWS, item_class="emergency"),
                          entry(KEY, 1, at(DAY1, 6, 1), FILLER, item_class="emergency"))},
         "days[0].entries[1].start", "overlaps days[0].entries[0]"),
        ({"station": "HG 1"}, "station", "must be 2 to 40 letters"),
        ({"timezone": "Asia/Nowhere"}, "timezone", "unknown zone 'Asia/Nowhere'"),
        ({"version": 0}, "version", "must be an integer of at least 1, not 0"),
        ({"generated_at": datetime(2026, 11, 28, 22)}, "generated_at",  # noqa: DTZ001 - naive on purpose
         "must be a datetime with a time zone"),
    ],
)
def test_writer_refuses_a_broken_manifest(changes, field, message):
    with pytest.raises(ManifestError) as caught:
        sample(**changes)
    assert caught.value.field == field
    assert message in caught.value.message
    assert str(caught.value) == f"{field}: {caught.value.message}"


@pytest.mark.parametrize(
    "entries",
    [
        # An emergency interrupts whatever is playing, so it alone may overlap.
        (entry(KEY, 0, at(DAY1, 6), NEWS), entry(KEY, 1, at(DAY1, 6, 1), FILLER, item_class="emergency"),
         entry(KEY, 2, at(DAY1, 6, 2), FILLER)),
        # A session that began before midnight may run into the next date.
        (entry(KEY, 0, at(DAY1, 23, 59), NEWS), entry(KEY, 1, at(DAY2, 0, 0, 35, 250), FILLER)),
        # An emergency outside any slot, a filler that is a library item, and back-to-back entries.
        (entry(KEY, 0, at(DAY1, 6), NEWS, item_class="emergency", slot_id=None),
         entry(KEY, 1, at(DAY1, 6, 1, 35, 250), FILLER, kind="filler", item_id=99)),
    ],
    ids=["emergency-overlap", "past-midnight", "no-slot"],
)
def test_rules_allow(entries):
    manifest = sample(days=one_day(*entries))
    assert from_json(to_json(manifest)) == manifest


def test_an_empty_manifest_and_an_empty_day_are_valid():
    for days in [(), (Day(DAY1, 1, ()),)]:
        manifest = build_manifest("HG1-01", "Asia/Ho_Chi_Minh", datetime(2026, 11, 28, 22, tzinfo=HCM), days, 1)
        assert from_json(to_json(manifest)) == manifest
