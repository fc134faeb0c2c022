"""A live relay in the scheduler: placed and fitted like any item by its window, given its slot's filler to fall
back on, stored and rebuilt, and turned into a manifest entry of kind ``stream``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from broadcast.services.playlist_content import day_from_content, manifest_day
from schedules import PlacementRule, StreamRef, canonical_content, check_fits, compile_days
from tests.unit.test_schedules_fit import HCM, MINUTE, audio, fit, make_slot, place, timeline

VOV = "http://10.20.0.5:8000/vov1.mp3"
FILLER = audio(99, 2 * MINUTE)


def relay(id: int, minutes: float, url: str = VOV) -> PlacementRule:
    return PlacementRule(id=id, item_id=100 + id, title="Tiếp sóng VOV1", item_class="normal",
                         audio=StreamRef(url, round(minutes * MINUTE)), estimated_ms=None, slot_id=1,
                         date_from=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("placements", "expected"),
    [
        # The relay counts for fit by its window; the filler fills what is left.
        ([place(1, 2), relay(2, 5)], [("item", 1, "06:00:00", "06:02:00", 120_000),
                                     ("item", 2, "06:02:00", "06:07:00", 300_000),
                                     ("filler", None, "06:07:00", "06:09:00", 120_000),
                                     ("filler", None, "06:09:00", "06:10:00", 60_000)]),
        # A relay filling the whole slot leaves no filler entry, yet keeps the filler to fall back on.
        ([relay(2, 10)], [("item", 2, "06:00:00", "06:10:00", 600_000)]),
        # Too long for a rejecting slot: left out like any item.
        ([place(1, 2), relay(2, 9)], [("item", 1, "06:00:00", "06:02:00", 120_000),
                                     ("filler", None, "06:02:00", "06:04:00", 120_000),
                                     ("filler", None, "06:04:00", "06:06:00", 120_000),
                                     ("filler", None, "06:06:00", "06:08:00", 120_000),
                                     ("filler", None, "06:08:00", "06:10:00", 120_000)]),
    ],
    ids=["with-an-item", "whole-slot", "too-long"],
)
def test_a_relay_is_fitted_by_its_window(placements, expected):
    filled = fit(make_slot("reject", filler=FILLER), placements)
    assert timeline(filled) == expected
    relays = [e.audio for e in filled.entries if isinstance(e.audio, StreamRef)]
    assert all(r.fallback == FILLER and r.url == VOV for r in relays)
    assert "not_rendered" not in {p.kind for p in filled.problems}


def test_a_window_longer_than_the_slot_never_fits():
    problem = check_fits(relay(2, 11), make_slot("reject"))
    assert problem is not None and problem.kind == "never_fits" and problem.amount_ms == MINUTE


def test_stored_content_keeps_the_stream_and_the_manifest_gets_a_stream_entry():
    slot = make_slot("reject", filler=FILLER)
    [day] = compile_days("HG1-01", date(2026, 3, 2), date(2026, 3, 2), HCM, [slot], [place(1, 2), relay(2, 5)],
                         now=datetime(2026, 3, 1, tzinfo=HCM))
    content = canonical_content(day)
    stored = content["occurrences"][0]["entries"][1]["audio"]
    assert stored == {"stream": VOV, "duration_ms": 300_000, "fallback": [FILLER.sha256, FILLER.size_bytes,
                                                                         FILLER.duration_ms]}
    rebuilt = day_from_content(content)
    assert rebuilt.occurrences[0].entries == day.occurrences[0].entries
    wire_day = manifest_day(day, 1)
    kinds = [(e.kind, e.audio is None, e.stream.url if e.stream else None) for e in wire_day.entries]
    assert kinds[:2] == [("item", False, None), ("stream", True, VOV)]
    stream_entry = wire_day.entries[1]
    assert stream_entry.stream.fallback.sha256 == FILLER.sha256
    assert stream_entry.end - stream_entry.start == timedelta(minutes=5) and stream_entry.play_ms == 300_000
    assert stream_entry.item_id == 102


@pytest.mark.parametrize(("url", "duration_ms"), [("ftp://x/y", 1000), ("/vov1.mp3", 1000), (VOV, 0)])
def test_a_stream_reference_refuses_what_no_station_can_play(url, duration_ms):
    with pytest.raises(ValueError):
        StreamRef(url, duration_ms)


@pytest.mark.parametrize(
    ("version", "old"),
    [("1.0.0", True), ("0.9", True), ("1.1.0", False), ("1.2.3", False), ("2.0.0", False), (None, False),
     ("dev", False)],
)
def test_which_agents_cannot_relay(version, old):
    from broadcast.services.playlist_content import before_relays

    assert before_relays(version) is old


def test_an_agent_that_cannot_relay_gets_the_window_as_its_filler():
    from stations import manifest as wire

    slot = make_slot("reject", filler=FILLER)
    [day] = compile_days("HG1-01", date(2026, 3, 2), date(2026, 3, 2), HCM, [slot], [place(1, 2), relay(2, 5)],
                         now=datetime(2026, 3, 1, tzinfo=HCM))
    old = manifest_day(day, 1, relays=False)
    assert all(e.stream is None for e in old.entries)
    pieces = [(e.id, e.kind, e.start.strftime("%H:%M:%S"), e.play_ms) for e in old.entries[:5]]
    key = day.occurrences[0].key
    assert pieces == [(f"{key}#0", "item", "06:00:00", 120_000), (f"{key}#1.0", "filler", "06:02:00", 120_000),
                      (f"{key}#1.1", "filler", "06:04:00", 120_000), (f"{key}#1.2", "filler", "06:06:00", 60_000),
                      (f"{key}#2", "filler", "06:07:00", 120_000)]
    # A valid manifest for an older reader: no stream anywhere.
    body = wire.to_json(wire.build_manifest("HG1-01", "Asia/Ho_Chi_Minh", datetime(2026, 3, 1, tzinfo=HCM), [old], 1))
    assert b'"stream"' not in body and wire.from_json(body).days[0] == old
