"""The playout engine on a manual clock with a fake player: timing, late starts, emergencies, fallbacks, commands."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stations.agent.asrun import AsRunLog
from stations.agent.cache import AudioCache
from stations.agent.clock import ManualClock
from stations.agent.jobs import Filler
from stations.agent.player import PlayerError
from stations.agent.playout import Playout
from stations.manifest import AudioFile, Day, Entry, build_manifest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 11, 29, 6, 0, tzinfo=TZ)


class FakePlayback:
    def __init__(self, player: FakePlayer, path: Path, offset_s: float, on_exit):
        self.player, self.path, self.offset_s, self.on_exit = player, path, offset_s, on_exit
        self.started_at = player.clock.now()
        self.stopped_at: datetime | None = None
        self.status: int | None = None
        self.detail = player.detail

    def end(self) -> None:
        if self.status is None:
            self.status = self.player.exit_status
            self.on_exit()

    def poll(self) -> int | None:
        return self.status

    def stop(self) -> None:
        if self.status is None:
            self.status = -15
            self.stopped_at = self.player.clock.now()


class FakePlayer:
    """Plays for the file's length in ``lengths`` (seconds, by file name) minus the offset, on the manual clock."""

    def __init__(self, clock: ManualClock):
        self.clock = clock
        self.lengths: dict[str, float] = {}
        self.exit_status = 0
        self.missing = False
        self.detail = ""
        self.runs: list[FakePlayback] = []

    def start(self, path: Path, *, offset_s: float, on_exit) -> FakePlayback:
        if self.missing:
            raise PlayerError("player not found: ffplay")
        playback = FakePlayback(self, path, offset_s, on_exit)
        self.runs.append(playback)
        length = self.lengths.get(path.name, 60.0) - offset_s
        if length != float("inf"):
            self.clock.call_at(self.clock.now() + timedelta(seconds=length), playback.end)
        return playback

    def started(self) -> list[tuple[str, datetime, float]]:
        return [(run.path.name, run.started_at.astimezone(TZ), run.offset_s) for run in self.runs]


class Station:
    """An engine with its cache, log, clock and player, and helpers to write its schedule."""

    def __init__(self, tmp_path: Path, *, start: datetime = T0 - timedelta(minutes=1), **engine_options):
        self.clock = ManualClock(start)
        self.player = FakePlayer(self.clock)
        self.cache = AudioCache(tmp_path / "cache")
        self.asrun = AsRunLog(tmp_path / "cache" / "asrun.sqlite3")
        self.manifest = None
        self.entries: list[Entry] = []
        self.tmp_path = tmp_path
        self.options = engine_options
        self.engine = self.new_engine()

    def new_engine(self) -> Playout:
        return Playout(clock=self.clock, player=self.player, cache=self.cache, asrun=self.asrun,
                       schedule=lambda: self.manifest, **self.options)

    def audio(self, name: str, seconds: float, *, installed: bool = True) -> AudioFile:
        payload = name.encode() * 100
        sha = hashlib.sha256(payload).hexdigest()
        if installed:
            self.cache.path_for(sha).write_bytes(payload)
        self.player.lengths[f"{sha}.mp3"] = seconds
        return AudioFile(sha256=sha, size=len(payload), duration_ms=round(seconds * 1000), url=f"/api/v1/audio/{sha}")

    def add(self, entry_id: str, start: datetime, audio: AudioFile, *, play_ms: int | None = None,
            kind: str = "item", item_class: str = "normal") -> Entry:
        play_ms = play_ms or audio.duration_ms
        end = (start.astimezone(UTC) + timedelta(milliseconds=play_ms)).astimezone(start.tzinfo)
        entry = Entry(id=entry_id, start=start, end=end, kind=kind,
                      item_id=7 if kind == "item" else None, title=entry_id, item_class=item_class, audio=audio,
                      play_ms=play_ms, slot_id=3, occurrence_key="slot3@2026-11-29")
        self.entries.append(entry)
        self.entries.sort(key=lambda e: e.start)
        self.manifest = build_manifest("HG1-01", "Asia/Ho_Chi_Minh", T0 - timedelta(hours=8),
                                       [Day(T0.date(), 1, tuple(self.entries))], version=len(self.entries))
        return entry

    def run_until(self, moment: datetime) -> list[dict]:
        self.engine.run_until(moment)
        return self.asrun.all_events()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def brief(events: list[dict]) -> list[tuple]:
    return [(e["outcome"], e["entry_id"], e["kind"], e["started_at"], e["seconds_played"], e["reason"])
            for e in events]


def test_entries_start_on_time_and_are_logged_as_played(tmp_path):
    station = Station(tmp_path)
    news, notice = station.audio("news", 60), station.audio("notice", 30)
    station.add("a", at(0), news)
    station.add("b", at(1), notice)
    events = station.run_until(at(5))
    assert brief(events) == [
        ("played", "a", "item", "2026-11-29T06:00:00+07:00", 60.0, None),
        ("played", "b", "item", "2026-11-29T06:01:00+07:00", 30.0, None),
    ]
    first = events[0]
    assert first["scheduled_at"] == "2026-11-29T06:00:00+07:00" and first["ended_at"] == "2026-11-29T06:01:00+07:00"
    assert (first["slot_id"], first["item_id"], first["occurrence_key"]) == (3, 7, "slot3@2026-11-29")
    assert first["audio_sha256"] == news.sha256 and len(first["event_id"]) == 32
    assert len({e["event_id"] for e in events}) == 2
    assert [(name, when) for name, when, _ in station.player.started()] == [
        (f"{news.sha256}.mp3", at(0)), (f"{notice.sha256}.mp3", at(1))]


@pytest.mark.parametrize(("late_s", "outcome"), [(60, "played"), (120, "played"), (121, "skipped")])
def test_an_entry_starts_late_up_to_late_skip_s_and_is_skipped_beyond(tmp_path, late_s, outcome):
    station = Station(tmp_path, start=T0 + timedelta(seconds=late_s), late_skip_s=120)
    station.add("a", at(0), station.audio("news", 600))
    events = station.run_until(at(20))
    assert [(e["outcome"], e["reason"]) for e in events] == [(outcome, "late" if outcome == "skipped" else None)]
    if outcome == "played":
        assert events[0]["started_at"] == (T0 + timedelta(seconds=late_s)).isoformat()


def test_entries_that_ended_before_the_engine_started_are_not_reported(tmp_path):
    station = Station(tmp_path, start=at(10))
    station.add("past", at(0), station.audio("news", 60))
    station.add("next", at(11), station.audio("notice", 30))
    assert [e["entry_id"] for e in station.run_until(at(15))] == ["next"]


def test_an_entry_kept_waiting_by_a_long_one_starts_late_or_is_skipped(tmp_path):
    station = Station(tmp_path, late_skip_s=120)
    station.player.lengths = {}
    first = station.audio("first", 60)
    station.add("a", at(0), first)
    station.add("b", at(1), station.audio("b", 30))
    station.add("c", at(1.5), station.audio("c", 30))
    station.player.lengths[f"{first.sha256}.mp3"] = 60 + 150  # the file runs on: 2.5 minutes over
    station.engine.margin = timedelta(minutes=5)
    events = station.run_until(at(10))
    assert [(e["entry_id"], e["outcome"], e["reason"]) for e in events] == [
        ("a", "played", None), ("b", "skipped", "late"), ("c", "played", None)]
    assert events[2]["started_at"] == "2026-11-29T06:03:30+07:00"


@pytest.mark.parametrize("policy", ["restart", "continue", "skip"])
def test_an_emergency_interrupts_and_the_interrupted_entry_follows_the_policy(tmp_path, policy):
    station = Station(tmp_path, emergency_resume=policy)
    news, warning, after = station.audio("news", 120), station.audio("flood", 30), station.audio("after", 60)
    station.add("a", at(0), news)
    station.add("storm", at(1), warning, item_class="emergency")
    station.add("b", at(3), after)
    events = station.run_until(at(10))
    interrupted = ("played", "a", "item", "2026-11-29T06:00:00+07:00", 60.0, "interrupted by emergency storm")
    emergency = ("played", "storm", "emergency", "2026-11-29T06:01:00+07:00", 30.0, None)
    if policy == "restart":
        expected = [interrupted, emergency, ("played", "a", "item", "2026-11-29T06:01:30+07:00", 120.0, None),
                    ("played", "b", "item", "2026-11-29T06:03:30+07:00", 60.0, None)]
        offsets = [0.0, 0.0, 0.0, 0.0]
    elif policy == "continue":
        expected = [interrupted, emergency, ("played", "a", "item", "2026-11-29T06:01:30+07:00", 60.0, None),
                    ("played", "b", "item", "2026-11-29T06:03:00+07:00", 60.0, None)]
        offsets = [0.0, 0.0, 60.0, 0.0]
    else:
        expected = [interrupted, emergency, ("played", "b", "item", "2026-11-29T06:03:00+07:00", 60.0, None)]
        offsets = [0.0, 0.0, 0.0]
    assert brief(events) == expected
    assert [offset for *_, offset in station.player.started()] == offsets
    assert station.player.runs[0].stopped_at == at(1).astimezone(station.clock.now().tzinfo)


def test_an_emergency_airs_even_when_late_but_not_after_its_end(tmp_path):
    station = Station(tmp_path, start=at(4), late_skip_s=60)
    station.add("storm", at(0), station.audio("flood", 600), item_class="emergency")
    events = station.run_until(at(30))
    assert brief(events) == [("played", "storm", "emergency", "2026-11-29T06:04:00+07:00", 600.0, None)]

    # One that arrives with a new manifest after its end is reported skipped.
    station.add("quake", at(31), station.audio("quake", 60), item_class="emergency")
    station.clock.advance(120)
    station.engine.wake()
    events = station.run_until(at(34))
    assert [(e["entry_id"], e["outcome"], e["reason"]) for e in events[1:]] == [("quake", "skipped", "late")]


def test_status_reports_what_is_on_air(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 120))
    station.add("storm", at(1), station.audio("flood", 30), item_class="emergency")
    assert station.engine.status() == ("idle", None)
    station.run_until(at(0.5))
    assert station.engine.status() == ("playing", "a")
    station.run_until(at(1.2))
    assert station.engine.status() == ("emergency", "storm")


def test_missing_audio_is_replaced_by_the_looped_filler_and_the_event_says_so(tmp_path):
    filler_path = tmp_path / "filler.mp3"
    filler_path.write_bytes(b"filler" * 10)
    station = Station(tmp_path, filler=Filler(filler_path, hashlib.sha256(filler_path.read_bytes()).hexdigest(),
                                             60))
    station.player.lengths["filler.mp3"] = 40
    missing = station.audio("news", 90, installed=False)
    station.add("a", at(0), missing)
    events = station.run_until(at(5))
    assert len(events) == 1
    event = events[0]
    assert (event["outcome"], event["kind"], event["entry_id"], event["seconds_played"]) == ("played", "filler", "a",
                                                                                            90.0)
    assert event["audio_sha256"] == station.engine.filler.sha256
    assert event["reason"] == f"audio {missing.sha256} is missing or unverified: filler"
    assert [name for name, *_ in station.player.started()] == ["filler.mp3"] * 3  # 40 + 40 + 10 s
    assert station.player.runs[-1].stopped_at is not None


def test_a_file_changed_on_disk_is_never_played(tmp_path):
    station = Station(tmp_path)
    news = station.audio("news", 60)
    station.cache.path_for(news.sha256).write_bytes(b"truncated")
    station.add("a", at(0), news)
    events = station.run_until(at(5))
    assert brief(events) == [("failed", "a", "item", None, 0.0, f"audio {news.sha256} is missing or unverified")]
    assert station.player.runs == []


def test_player_failures_are_logged_with_their_reason(tmp_path):
    station = Station(tmp_path, timeout_margin_s=20)
    station.add("a", at(0), station.audio("news", 60))
    station.add("b", at(2), station.audio("notice", 60))
    station.add("c", at(4), station.audio("hang", 60))
    station.add("d", at(6), station.audio("short", 60))
    station.player.exit_status = 1
    station.player.detail = "Invalid data found when processing input"
    station.run_until(at(1.5))
    station.player.exit_status, station.player.detail = 0, ""
    station.player.missing = True
    station.run_until(at(3))
    station.player.missing = False
    station.player.lengths[f"{station.entries[2].audio.sha256}.mp3"] = float("inf")
    station.run_until(at(5.5))
    station.player.lengths[f"{station.entries[3].audio.sha256}.mp3"] = 0.2
    events = station.run_until(at(8))
    assert [(e["entry_id"], e["outcome"], e["reason"]) for e in events] == [
        ("a", "failed", "player exited with status 1: Invalid data found when processing input"),
        ("b", "failed", "player not found: ffplay"),
        ("c", "failed", "timeout: the player was still running after 80.0 s (play time 60 s)"),
        ("d", "failed", "player ended after 0.2 s of 60.0 s (no audio device?)"),
    ]
    assert events[2]["ended_at"] == "2026-11-29T06:05:20+07:00" and station.player.runs[-2].stopped_at is not None
    assert all(e["seconds_played"] == 0.0 for e in events)


def test_a_cut_filler_stops_at_its_play_time_and_a_late_filler_at_its_scheduled_end(tmp_path):
    station = Station(tmp_path)
    news, music = station.audio("news", 90), station.audio("music", 300)
    station.add("a", at(0), news)
    station.add("fill", at(1.5), music, kind="filler", play_ms=120_000)
    station.player.lengths[f"{news.sha256}.mp3"] = 120  # runs 30 s over its slot
    events = station.run_until(at(10))
    assert brief(events) == [
        ("played", "a", "item", "2026-11-29T06:00:00+07:00", 120.0, None),
        ("played", "fill", "filler", "2026-11-29T06:02:00+07:00", 90.0, None),  # ends at 06:03:30 as scheduled
    ]


def test_entries_already_in_the_log_are_not_aired_again_after_a_restart(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 60))
    station.add("b", at(1), station.audio("notice", 600))
    station.run_until(at(1.25))  # a played; b on air
    station.engine.shutdown()  # the agent is stopped while b plays
    station.engine = station.new_engine()
    events = station.run_until(at(20))
    assert [(e["entry_id"], e["outcome"], e["reason"]) for e in events] == [
        ("a", "played", None), ("b", "played", "agent stopped")]


def test_times_are_compared_as_instants_across_a_daylight_saving_change(tmp_path):
    berlin = ZoneInfo("Europe/Berlin")
    station = Station(tmp_path, start=datetime(2026, 10, 25, 0, 0, tzinfo=berlin))
    first = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)  # CEST, +02:00 (00:30 UTC)
    again = datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=berlin)  # CET, the repeated hour (01:15 UTC)
    a, b = station.audio("a", 60), station.audio("b", 60)
    entries = [Entry(id=name, start=start, end=(start.astimezone(UTC) + timedelta(minutes=1)).astimezone(berlin),
                     kind="item", item_id=1, title=name,
                     item_class="normal", audio=audio, play_ms=60_000, slot_id=1, occurrence_key=name)
               for name, start, audio in (("a", first, a), ("b", again, b))]
    station.manifest = build_manifest("HG1-01", "Europe/Berlin", first, [Day(first.date(), 1, tuple(entries))], 1)
    events = station.run_until(datetime(2026, 10, 25, 4, 0, tzinfo=berlin))
    assert [(e["entry_id"], e["started_at"]) for e in events] == [
        ("a", "2026-10-25T02:30:00+02:00"), ("b", "2026-10-25T02:15:00+01:00")]
    gap = station.player.runs[1].started_at - station.player.runs[0].started_at
    assert gap == timedelta(minutes=45)


def test_stop_command_ends_playback_without_resume(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 120))
    station.add("b", at(5), station.audio("notice", 60))
    station.run_until(at(0.5))
    done = station.engine.stop_playback(41)
    station.run_until(at(0.5))
    assert done.result(0) == (True, "stopped a")
    stopped_again = station.engine.stop_playback(42)
    events = station.run_until(at(10))
    assert stopped_again.result(0) == (True, "nothing was playing")
    assert brief(events) == [("played", "a", "item", "2026-11-29T06:00:00+07:00", 30.0, "stopped by command 41"),
                             ("played", "b", "item", "2026-11-29T06:05:00+07:00", 60.0, None)]


def test_play_now_interrupts_then_the_entry_resumes_and_an_emergency_is_never_interrupted(tmp_path):
    station = Station(tmp_path)
    station.add("a", at(0), station.audio("news", 120))
    station.add("storm", at(5), station.audio("flood", 60), item_class="emergency")
    clip = station.audio("clip", 20)
    station.run_until(at(1))
    issued = at(1).astimezone(ZoneInfo("UTC"))
    done = station.engine.play_now(9, clip, issued)
    station.run_until(at(1))
    assert done.result(0) == (True, "playing")
    station.run_until(at(5.5))
    refused = station.engine.play_now(10, clip, issued)
    events = station.run_until(at(10))
    assert refused.result(0) == (False, "emergency storm is on air")
    assert [(e["entry_id"], e["kind"], e["started_at"], e["seconds_played"], e["reason"]) for e in events] == [
        ("a", "item", "2026-11-29T06:00:00+07:00", 60.0, "interrupted by command 9"),
        ("command-9", "command", "2026-11-29T06:01:00+07:00", 20.0, None),
        ("a", "item", "2026-11-29T06:01:20+07:00", 120.0, None),
        ("storm", "emergency", "2026-11-29T06:05:00+07:00", 60.0, None),
    ]
    assert events[1]["occurrence_key"] == "command-9" and events[1]["slot_id"] is None
