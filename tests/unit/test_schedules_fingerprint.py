"""Content fingerprints (new versions only when content changes) and problem summaries in two languages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, time

import pytest

from schedules import (
    AudioRef,
    PlacementRule,
    Problem,
    SharedContent,
    SlotRule,
    canonical_content,
    compile_day,
    content_text,
    fingerprint,
    fingerprint_content,
    format_duration,
    playlist_text,
    summarize_problems,
)
from schedules.occurrences import as_zone

HCM = as_zone("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)
EARLY = datetime(2026, 3, 1, 12, 0, tzinfo=HCM)
SLOT = SlotRule(id=1, name="Buổi sáng", start=time(6, 0), duration_s=300, rrule="FREQ=DAILY",
                valid_from=date(2026, 3, 1))


def audio(n: int, duration_ms: int) -> AudioRef:
    return AudioRef(f"{n:064x}", 16_000 + n, duration_ms)


def place(id, sound=None, slot_id=1, **fields) -> PlacementRule:
    return PlacementRule(id=id, item_id=100 + id, title=f"tin {id}", item_class="normal",
                         audio=sound if sound is not None else audio(id, 60_000), estimated_ms=None,
                         slot_id=slot_id, date_from=date(2026, 3, 1), **fields)


def compile_with(placements, slots=(SLOT,), **kwargs):
    return compile_day("HG-01", DAY, HCM, list(slots), placements, now=kwargs.pop("now", EARLY), **kwargs)


def test_canonical_content_holds_what_stations_air():
    playlist = compile_with([place(1)])
    assert canonical_content(playlist) == {
        "station": "HG-01", "day": "2026-03-02", "zone": "Asia/Ho_Chi_Minh",
        "occurrences": [{
            "key": "1@2026-03-02T06:00:00", "slot_id": 1,
            "start": "2026-03-02T06:00:00+07:00", "end": "2026-03-02T06:05:00+07:00",
            "entries": [{"start": "2026-03-02T06:00:00+07:00", "end": "2026-03-02T06:01:00+07:00", "kind": "item",
                         "item_id": 101, "placement_id": 1, "repeat": 0, "title": "tin 1", "item_class": "normal",
                         "play_ms": 60_000, "audio": ["0" * 63 + "1", 16_001, 60_000]}],
        }],
    }
    assert len(fingerprint(playlist)) == 64
    assert int(fingerprint(playlist), 16) >= 0


@pytest.mark.parametrize("code", ["XA-01", "x.y_z", "Đài-1"])
def test_shared_content_gives_each_station_the_text_and_fingerprint_of_its_own_content(code):
    playlist = compile_with([place(1), replace(place(2), title='Tin "lũ" ,"zone":"x"')])
    content = canonical_content(playlist)
    text, digest = SharedContent(content).for_station(code)
    own = {**content, "station": code}
    assert text == content_text(own) == json.dumps(own, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert digest == fingerprint_content(own) == hashlib.sha256(text.encode()).hexdigest()
    assert json.loads(text) == own


HOSTILE_TITLES = [
    'Tin "lũ" ,"zone":"x"', "đường \\ dốc", "dòng 1\ndòng 2\ttab\r", "\x00\x01\x1f\x7f", "\u2028\u2029",
    "Cảnh báo 🌊 bão số 3", "", "ký tự \ufeff và \u00a0",
]


def _dumps(content) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_text_of_a_day_is_json_dumps_of_its_content(title):
    filler = replace(SLOT, id=2, start=time(17, 0), gap_ms=0, filler=audio(9, 20_000))
    emergency = replace(place(3, slot_id=2), item_class="emergency", priority=5)
    unrendered = replace(place(4, slot_id=2), audio=None, estimated_ms=30_000)
    playlist = compile_with([replace(place(1), title=title), place(2, repeat_count=2, repeat_gap_s=10), emergency,
                             unrendered], slots=(SLOT, filler))
    kinds = {e.kind for occ in playlist.occurrences for e in occ.entries}
    assert kinds == {"item", "filler"} and len(playlist.occurrences) == 2
    assert any(e.audio is None for occ in playlist.occurrences for e in occ.entries)
    assert playlist_text(playlist) == _dumps(canonical_content(playlist)) == content_text(canonical_content(playlist))
    for code in ("XA-01", "Đài-1"):
        own = {**canonical_content(playlist), "station": code}
        assert SharedContent.of(playlist).for_station(code) == SharedContent(own).for_station(code)
        assert SharedContent.of(playlist).for_station(code)[0] == _dumps(own)


def test_the_text_of_a_day_without_sessions_and_of_unusual_values():
    empty = compile_with([], slots=())
    assert empty.occurrences == ()
    assert playlist_text(empty) == _dumps(canonical_content(empty))
    playlist = compile_with([place(1)])
    entry = playlist.occurrences[0].entries[0]
    # Values of other types than the dataclasses promise are still written exactly as json writes them.
    odd = replace(playlist, occurrences=(replace(playlist.occurrences[0], entries=(
        entry._replace(repeat=True, play_ms=60_000.0, title=None), entry)),))
    assert playlist_text(odd) == _dumps(canonical_content(odd))
    assert fingerprint(odd) == hashlib.sha256(_dumps(canonical_content(odd)).encode()).hexdigest()


@pytest.mark.parametrize(("zone", "day", "start", "title", "item_id"), [
    pytest.param("Europe/Berlin", date(2026, 10, 25), time(2, 0), "tin", 101, id="clocks-back-repeated-hour"),
    pytest.param("Europe/Berlin", date(2026, 3, 29), time(1, 30), "tin", 101, id="clocks-forward-missing-hour"),
    pytest.param("America/St_Johns", date(2026, 11, 1), time(1, 0), "tin", 101, id="half-hour-zone-clocks-back"),
    pytest.param("Asia/Ho_Chi_Minh", date(1900, 1, 1), time(6, 0), "tin", 101, id="offset-with-seconds"),
    pytest.param("Asia/Ho_Chi_Minh", DAY, time(6, 0), "nửa \ud800 ký tự", 101, id="lone-surrogate"),
    pytest.param("Asia/Ho_Chi_Minh", DAY, time(6, 0), "tin", 2**70, id="integer-beyond-64-bits"),
])
def test_the_text_is_json_dumps_of_the_content_in_every_zone_and_for_odd_values(zone, day, start, title, item_id):
    tz = as_zone(zone)
    slot = replace(SLOT, start=start, duration_s=3 * 3600, valid_from=date(1899, 1, 1))
    items = [replace(place(n, sound=audio(n, 1_800_250)), title=title, item_id=item_id + n,
                     date_from=date(1899, 1, 1)) for n in range(1, 6)]
    playlist = compile_day("HG-01", day, tz, [slot], items, now=datetime(1899, 1, 1, tzinfo=tz))
    entries = [e for occ in playlist.occurrences for e in occ.entries]
    assert len(entries) >= 5 and {e.start.utcoffset() for e in entries} and entries[1].start.microsecond == 250_000
    assert playlist_text(playlist) == _dumps(canonical_content(playlist))
    if title.isprintable():  # a lone surrogate has no UTF-8 form, so no fingerprint: the database never holds one
        own = {**canonical_content(playlist), "station": "XA-01"}
        assert SharedContent.of(playlist).for_station("XA-01")[0] == _dumps(own)


def test_unchanged_when_nothing_changed():
    assert fingerprint(compile_with([place(1), place(2)])) == fingerprint(compile_with([place(2), place(1)]))


def test_unchanged_when_only_problems_or_lock_state_differ():
    playlist = compile_with([place(1)])
    problems = (Problem("overflow", "error", 1, "1@2026-03-02T06:00:00", "06:00", 5_000),)
    altered = replace(playlist, problems=problems,
                      occurrences=tuple(replace(o, problems=problems, locked=True) for o in playlist.occurrences))
    assert altered != playlist
    assert fingerprint(altered) == fingerprint(playlist)
    # A real recompile inside the showlock: same content, now marked locked.
    locked = compile_with([place(1)], now=datetime(2026, 3, 2, 5, 50, tzinfo=HCM), previous=playlist)
    assert locked.occurrences[0].locked is True
    assert fingerprint(locked) == fingerprint(playlist)


def test_unchanged_when_an_unrelated_placement_for_another_slot_changes():
    assert fingerprint(compile_with([place(1), place(5, slot_id=9)])) == fingerprint(compile_with([place(1)]))


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param([place(1, sound=AudioRef("f" * 64, 16_001, 60_000))], id="audio-sha"),
        pytest.param([place(1, sound=AudioRef("0" * 63 + "1", 16_002, 60_000))], id="audio-size"),
        pytest.param([place(1, sound=AudioRef("0" * 63 + "1", 16_001, 61_000))], id="audio-duration"),
        pytest.param([place(1), place(2)], id="item-added"),
        pytest.param([place(1, repeat_count=2)], id="repeat"),
        pytest.param([replace(place(1), title="tin mới")], id="title"),
        pytest.param([replace(place(1), audio=None, estimated_ms=60_000)], id="not-rendered-any-more"),
    ],
)
def test_changed_when_content_changes(changed):
    assert fingerprint(compile_with(changed)) != fingerprint(compile_with([place(1)]))


def test_changed_when_times_change():
    later = replace(SLOT, start=time(6, 30))
    assert fingerprint(compile_with([place(1)], slots=(later,))) != fingerprint(compile_with([place(1)]))
    assert fingerprint(compile_with([place(1)], slots=(replace(SLOT, gap_ms=0, filler=audio(9, 1000)),))) != \
        fingerprint(compile_with([place(1)]))


@pytest.mark.parametrize(
    ("milliseconds", "en", "vi"),
    [
        (0, "0 s", "0 giây"),
        (1, "1 s", "1 giây"),
        (999, "1 s", "1 giây"),
        (45_000, "45 s", "45 giây"),
        (120_000, "2 min", "2 phút"),
        (130_000, "2 min 10 s", "2 phút 10 giây"),
        (129_001, "2 min 10 s", "2 phút 10 giây"),
        (125_000, "2 min 05 s", "2 phút 05 giây"),
        (3_725_000, "1 h 02 min 05 s", "1 giờ 02 phút 05 giây"),
        (3_605_000, "1 h 05 s", "1 giờ 05 giây"),
        (3_600_000, "1 h", "1 giờ"),
    ],
)
def test_format_duration(milliseconds, en, vi):
    assert format_duration(milliseconds, "en") == en
    assert format_duration(milliseconds, "vi") == vi


def _problem(kind, slot_time, amount_ms, severity="warning", items=()):
    return Problem(kind, severity, 7, f"7@2026-03-02T{slot_time}:00", slot_time, amount_ms, items)


def test_summarize_problems():
    by_station = {
        "HG-03": [_problem("overflow", "17:00", 45_000, "error"), _problem("underflow", "06:00", 300_000)],
        "HG-01": [_problem("overflow", "17:00", 130_000, "error"), _problem("not_rendered", "06:00", 0, items=(5, 6))],
        "HG-02": [_problem("overflow", "17:00", 2_000, "error"), _problem("dropped", "06:00", 60_000, items=(9,))],
        "HG-04": [],
    }
    summaries = summarize_problems(by_station)
    assert [(s.kind, s.slot_time, s.severity, s.stations, s.max_amount_ms, s.item_ids) for s in summaries] == [
        ("overflow", "17:00", "error", ("HG-01", "HG-02", "HG-03"), 130_000, ()),
        ("dropped", "06:00", "warning", ("HG-02",), 60_000, (9,)),
        ("underflow", "06:00", "warning", ("HG-03",), 300_000, ()),
        ("not_rendered", "06:00", "warning", ("HG-01",), 0, (5, 6)),
    ]
    assert [(s.text_en, s.text_vi) for s in summaries] == [
        ("the 17:00 slot overflows at 3 stations by up to 2 min 10 s",
         "khung giờ 17:00 bị tràn ở 3 đài, nhiều nhất 2 phút 10 giây"),
        ("1 item dropped from the 06:00 slot at 1 station, up to 1 min",
         "đã bỏ 1 tin khỏi khung giờ 06:00 ở 1 đài, nhiều nhất 1 phút"),
        ("the 06:00 slot is underfilled at 1 station by up to 5 min",
         "khung giờ 06:00 bị thiếu nội dung ở 1 đài, nhiều nhất 5 phút"),
        ("2 items in the 06:00 slot not rendered yet at 1 station",
         "2 tin trong khung giờ 06:00 chưa có âm thanh ở 1 đài"),
    ]
    assert summaries[0].station_count == 3


@pytest.mark.parametrize(
    ("kind", "en", "vi"),
    [
        ("moved", "2 items moved from the 17:00 slot to its next session at 2 stations, up to 1 min",
         "đã chuyển 2 tin từ khung giờ 17:00 sang buổi phát sau ở 2 đài, nhiều nhất 1 phút"),
        ("never_fits", "2 items longer than the whole 17:00 slot at 2 stations, by up to 1 min",
         "2 tin dài hơn cả khung giờ 17:00 ở 2 đài, dư nhiều nhất 1 phút"),
    ],
)
def test_summary_sentences(kind, en, vi):
    by_station = {"A": [_problem(kind, "17:00", 60_000, items=(1,))],
                  "B": [_problem(kind, "17:00", 30_000, items=(2,))]}
    [summary] = summarize_problems(by_station)
    assert (summary.text_en, summary.text_vi) == (en, vi)


def test_summary_of_a_whole_compile():
    crowded = [place(i, audio(i, 120_000)) for i in range(1, 4)]  # 6 min in a 5-min slot
    by_station = {code: compile_day(code, DAY, HCM, [SLOT], crowded, now=EARLY).problems for code in ("A", "B")}
    overflow, left_out, underflow = summarize_problems(by_station)
    assert overflow.text_en == "the 06:00 slot overflows at 2 stations by up to 1 min"
    # The slot rejects overflow: the third item is left out rather than aired past the end.
    assert (left_out.kind, left_out.severity, left_out.item_ids) == ("dropped", "error", (103,))
    assert underflow.text_en == "the 06:00 slot is underfilled at 2 stations by up to 1 min"
