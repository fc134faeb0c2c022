"""Emergency broadcasts in the agent: reading the command, interrupting, repeating, cancelling, restarts."""

from __future__ import annotations

from datetime import datetime

import pytest

from stations.agent.emergencies import Book, parse_broadcast
from tests.unit.test_agent_playout import TZ, Station, at, brief

SHA = "a" * 64


def args(**changes) -> dict:
    base = {"broadcast": 7, "title": "Lũ quét", "risk_level": 4, "item_id": 12, "sha256": SHA,
            "url": f"/api/v1/audio/{SHA}", "size": 1000, "duration_ms": 30_000, "repeat": 3, "interval_s": 600,
            "expires_at": at(60).isoformat()}
    return {**base, **changes}


@pytest.mark.parametrize(("changes", "problem"), [
    ({"broadcast": 0}, "broadcast must be a whole number at least 1"),
    ({"sha256": "XYZ"}, "sha256 must be 64 lowercase hex digits"),
    ({"repeat": 0}, "repeat must be a whole number from 1 to 50"),
    ({"risk_level": 6}, "risk_level must be a whole number from 1 to 5"),
    ({"interval_s": -1}, "interval_s must be a whole number at least 0"),
    ({"expires_at": "soon"}, "expires_at 'soon' is not an ISO 8601 time"),
    ({"expires_at": "2026-11-29T07:00:00"}, "expires_at must carry its offset"),
    ({"size": True}, "size must be a whole number at least 1"),
])
def test_bad_emergency_args_are_refused_with_the_reason(changes, problem):
    with pytest.raises(ValueError, match=problem):
        parse_broadcast(args(**changes), at(0))


@pytest.mark.parametrize(("received", "repeat", "interval_s", "starts"), [
    (0, 3, 600, [0, 10, 20]),  # the series starts on receipt
    (45, 3, 600, [45, 55]),  # heard late: the third airing would start after the expiry at 60
    (0, 1, 0, [0]),
    (61, 3, 600, []),  # expired before it arrived: nothing to air
])
def test_airings_start_on_receipt_and_none_after_the_expiry(received, repeat, interval_s, starts):
    broadcast = parse_broadcast(args(repeat=repeat, interval_s=interval_s), at(received))
    assert [s.astimezone(TZ) for s in broadcast.starts] == [at(m) for m in starts]
    assert [job.entry_id for job in broadcast.jobs()] == [f"emergency-7-{n}" for n in range(len(starts))]


def test_the_book_keeps_live_broadcasts_and_cancelled_ids_across_a_restart():
    live = parse_broadcast(args(), at(0))
    old = parse_broadcast(args(broadcast=8, expires_at=at(5).isoformat()), at(0))
    book = Book({7: live, 8: old}, {3})
    again = Book.load(book.dump(at(10)), at(10))
    assert list(again.active) == [7] and again.active[7] == live
    assert again.cancelled == {3}


def command(station: Station, **changes):
    audio = station.audio("flood", 30)
    return parse_broadcast(args(sha256=audio.sha256, size=audio.size, duration_ms=audio.duration_ms, **changes),
                           station.clock.now())


def test_an_emergency_broadcast_interrupts_repeats_and_the_item_resumes(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 120))
    station.add("b", at(25), station.audio("after", 60))
    station.run_until(at(1))
    done = station.engine.emergency(50, command(station, interval_s=600))
    events = station.run_until(at(40))
    assert done.result(0) == (True, "received; airs 3 times from 06:01:00")
    assert brief(events) == [
        ("played", "a", "item", "2026-11-29T06:00:00+07:00", 60.0, "interrupted by emergency emergency-7-0"),
        ("played", "emergency-7-0", "emergency", "2026-11-29T06:01:00+07:00", 30.0, None),
        ("played", "a", "item", "2026-11-29T06:01:30+07:00", 120.0, None),
        ("played", "emergency-7-1", "emergency", "2026-11-29T06:11:00+07:00", 30.0, None),
        ("played", "emergency-7-2", "emergency", "2026-11-29T06:21:00+07:00", 30.0, None),
        ("played", "b", "item", "2026-11-29T06:25:00+07:00", 60.0, None),
    ]
    assert {e["occurrence_key"] for e in events if e["kind"] == "emergency"} == {"emergency-7"}
    assert all(e["item_id"] == 12 for e in events if e["kind"] == "emergency")
    # The same broadcast again (another path, or a re-send) is acknowledged, never aired again.
    again = station.engine.emergency(51, command(station))
    station.run_until(at(45))
    assert again.result(0) == (True, "emergency 7 already received")
    assert len(station.asrun.all_events()) == 6


def test_a_restarted_agent_keeps_the_remaining_airings_and_does_not_repeat_one(tmp_path):
    station = Station(tmp_path)
    station.run_until(at(0))
    station.engine.emergency(50, command(station, interval_s=600))
    station.run_until(at(5))
    station.engine = station.new_engine()  # the agent restarts: a new engine on the same SQLite file
    events = station.run_until(at(30))
    # (No manifest yet, so the agent does not know the station's zone: its log says UTC; the instants count.)
    assert [(e["entry_id"], datetime.fromisoformat(e["started_at"])) for e in events] == [
        ("emergency-7-0", at(0)), ("emergency-7-1", at(10)), ("emergency-7-2", at(20))]


def test_cancel_stops_the_airing_on_air_drops_the_rest_and_refuses_it_later(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 120))
    station.run_until(at(1))
    station.engine.emergency(50, command(station, interval_s=600))
    station.run_until(at(1.25))
    cancelled = station.engine.cancel_emergency(52, 7)
    events = station.run_until(at(30))
    assert cancelled.result(0) == (True, "emergency 7 cancelled; 2 airings dropped")
    assert brief(events) == [
        ("played", "a", "item", "2026-11-29T06:00:00+07:00", 60.0, "interrupted by emergency emergency-7-0"),
        ("played", "emergency-7-0", "emergency", "2026-11-29T06:01:00+07:00", 15.0, "cancelled by command 52"),
        ("played", "a", "item", "2026-11-29T06:01:15+07:00", 120.0, None),
    ]
    late = station.engine.emergency(53, command(station))
    station.run_until(at(31))
    assert late.result(0) == (False, "emergency 7 was cancelled")


def test_an_airing_kept_waiting_beyond_its_grace_is_reported_skipped(tmp_path):
    station = Station(tmp_path)
    station.add("storm", at(0), station.audio("long-warning", 600), item_class="emergency")
    station.run_until(at(0.5))
    station.engine.emergency(50, command(station, repeat=1, interval_s=0))
    events = station.run_until(at(20))
    # A scheduled emergency is on air for 10 minutes: the broadcast waits (an emergency is never interrupted)
    # past its length plus 5 minutes of grace, and is then reported skipped rather than aired stale.
    assert [(e["entry_id"], e["outcome"], e["reason"]) for e in events] == [
        ("storm", "played", None), ("emergency-7-0", "skipped", "late")]
