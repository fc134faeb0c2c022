"""Live relays in the playout engine, on a manual clock with a fake stream whose source comes and goes: the
window, the fallback while the stream is down, the probe that brings it back, emergencies, the play_stream
command, and the bookkeeping that becomes the as-run event."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest

from stations.agent.commands import parse_play_stream
from stations.agent.player import PlayerError
from stations.agent.relay import Relay, relay_outcome
from stations.manifest import Day, Entry, Stream, build_manifest
from tests.unit.test_agent_playout import T0, TZ, Station, at

URL = "http://10.20.0.5:8000/vov1.mp3"


class FakeStreamPlayback:
    def __init__(self, clock, on_exit, status: int, detail: str):
        self.clock, self.on_exit, self.status_when_ends, self.detail = clock, on_exit, status, detail
        self.started_at = clock.now()
        self.status: int | None = None
        self.stopped_at: datetime | None = None

    def end(self) -> None:
        if self.status is None:
            self.status = self.status_when_ends
            self.on_exit()

    def poll(self) -> int | None:
        return self.status

    def stop(self) -> None:
        if self.status is None:
            self.status, self.stopped_at = -15, self.clock.now()


class FakeSource:
    """An Icecast mount that is down during ``outages`` (minutes from T0, as (from, to) pairs; to None: for
    good). Its player plays until the next outage begins; started while it is down, it fails at once."""

    def __init__(self, clock, outages=()):
        self.clock = clock
        self.outages = [(at(a), at(b) if b is not None else None) for a, b in outages]
        self.runs: list[FakeStreamPlayback] = []
        self.probes: list[datetime] = []
        self.refusals = 0  # starts that fail before any process runs (e.g. the player's binary is missing)

    def up(self, moment: datetime) -> bool:
        return not any(a <= moment and (b is None or moment < b) for a, b in self.outages)

    def start(self, url, *, offset_s: float, on_exit) -> FakeStreamPlayback:
        assert url == URL and offset_s == 0.0
        if self.refusals:
            self.refusals -= 1
            raise PlayerError("player not found: ffplay")
        now = self.clock.now()
        if not self.up(now):
            playback = FakeStreamPlayback(self.clock, on_exit, 1, "Connection refused")
            self.clock.call_at(now, playback.end)
        else:
            playback = FakeStreamPlayback(self.clock, on_exit, 0, "")
            ends = [a for a, _ in self.outages if a > now]
            if ends:
                self.clock.call_at(min(ends), playback.end)
        self.runs.append(playback)
        return playback

    def probe(self, url, on_done) -> Future:
        self.probes.append(self.clock.now())
        future: Future = Future()
        future.set_result(None if self.up(self.clock.now()) else "the stream answered HTTP 404")
        return future


def relay_station(tmp_path, outages=(), *, start=T0 - timedelta(minutes=1), **options) -> tuple[Station, FakeSource]:
    station = Station.__new__(Station)
    Station.__init__(station, tmp_path, start=start, stream_retry_s=30, **options)
    source = FakeSource(station.clock, outages)
    station.engine.streamer = source
    station.engine.prober = source.probe
    return station, source


def add_relay(station: Station, entry_id: str, start: datetime, minutes: float, fallback=None) -> Entry:
    play_ms = round(minutes * 60_000)
    end = (start.astimezone(UTC) + timedelta(milliseconds=play_ms)).astimezone(start.tzinfo)
    entry = Entry(id=entry_id, start=start, end=end, kind="stream", item_id=21, title="Tiếp sóng VOV1",
                  item_class="normal", audio=None, play_ms=play_ms, slot_id=3, occurrence_key="slot3@2026-11-29",
                  stream=Stream(URL, fallback))
    station.entries.append(entry)
    station.entries.sort(key=lambda e: e.start)
    station.manifest = build_manifest("HG1-01", "Asia/Ho_Chi_Minh", T0 - timedelta(hours=8),
                                      [Day(T0.date(), 1, tuple(station.entries))], version=len(station.entries))
    return entry


def brief(events) -> list[tuple]:
    return [(e["outcome"], e["entry_id"], e["kind"], e["started_at"][11:19], e["ended_at"][11:19],
             e["seconds_played"], e["reason"]) for e in events]


def test_a_relay_plays_its_stream_for_its_window_and_stops_at_the_end(tmp_path):
    station, source = relay_station(tmp_path)
    add_relay(station, "vov", at(0), 30, fallback=station.audio("filler", 20))
    events = station.run_until(at(40))
    assert brief(events) == [("played", "vov", "stream", "06:00:00", "06:30:00", 1800.0, None)]
    assert events[0]["item_id"] == 21 and events[0]["audio_sha256"] is None
    [run] = source.runs
    assert run.started_at == at(0) and run.stopped_at == at(30)
    assert station.player.runs == []  # the fallback never played


def test_a_dropped_stream_falls_back_to_the_filler_and_returns_when_the_source_is_back(tmp_path):
    station, source = relay_station(tmp_path, outages=[(10, 11.75)])
    filler = station.audio("filler", 25)
    add_relay(station, "vov", at(0), 30, fallback=filler)
    events = station.run_until(at(40))
    assert brief(events) == [("played", "vov", "stream", "06:00:00", "06:30:00", 1680.0,
                              "partly relayed: stream 1680 s, filler 120 s; the stream dropped 1 time "
                              "(the stream ended; last: the stream answered HTTP 404)")]
    assert events[0]["audio_sha256"] == filler.sha256
    # Tried every 30 s while down (10:30, 11:00, 11:30 found nothing), back at 12:00; no gap in the filler.
    assert [p.astimezone(TZ).strftime("%M:%S") for p in source.probes] == ["10:30", "11:00", "11:30", "12:00"]
    assert [(r.started_at.astimezone(TZ).strftime("%M:%S"), r.stopped_at and r.stopped_at.astimezone(TZ)
             .strftime("%M:%S")) for r in source.runs] == [("00:00", None), ("12:00", "30:00")]
    fillers = [(r.started_at.astimezone(TZ).strftime("%M:%S"), r.stopped_at and r.stopped_at.astimezone(TZ)
                .strftime("%M:%S")) for r in station.player.runs]
    assert fillers == [("10:00", None), ("10:25", None), ("10:50", None), ("11:15", None), ("11:40", "12:00")]


def test_a_stream_player_that_cannot_start_on_a_retry_leaves_the_filler_playing(tmp_path):
    station, source = relay_station(tmp_path, outages=[(10, 11.75)])
    add_relay(station, "vov", at(0), 30, fallback=station.audio("filler", 23))
    station.clock.call_at(at(11), lambda: setattr(source, "refusals", 1))  # the retry at 12:00 cannot start
    [event] = station.run_until(at(40))
    assert event["outcome"] == "played" and "the stream player cannot start: player not found" in event["reason"]
    # One filler at a time: the one started at 11:55 plays on through the failed start at 12:00, then loops.
    fillers = [(r.started_at.astimezone(TZ).strftime("%M:%S"), r.stopped_at and r.stopped_at.astimezone(TZ)
                .strftime("%M:%S")) for r in station.player.runs]
    assert fillers == [("10:00", None), ("10:23", None), ("10:46", None), ("11:09", None), ("11:32", None),
                       ("11:55", None), ("12:18", "12:30")]
    assert [r.started_at.astimezone(TZ).strftime("%M:%S") for r in source.runs] == ["00:00", "12:30"]


def test_a_stream_player_that_cannot_start_at_all_falls_back_at_once(tmp_path):
    station, source = relay_station(tmp_path)
    source.refusals = 100
    add_relay(station, "vov", at(0), 2, fallback=station.audio("filler", 60))
    [event] = station.run_until(at(5))
    assert event["outcome"] == "failed" and event["seconds_played"] == 0
    assert event["reason"] == ("the stream did not play (the stream player cannot start: player not found: ffplay); "
                               "filler 120 s")
    assert [r.started_at.astimezone(TZ).strftime("%M:%S") for r in station.player.runs] == ["00:00", "01:00"]


def test_a_fallback_whose_player_fails_gives_silence_rather_than_a_loop_of_failures(tmp_path):
    station, source = relay_station(tmp_path, outages=[(-5, None)])
    add_relay(station, "vov", at(0), 2, fallback=station.audio("filler", 20))
    station.player.lengths = {name: 0.0 for name in station.player.lengths}  # it fails at once, every time
    station.player.exit_status = 1
    station.player.detail = "no audio device"
    [event] = station.run_until(at(5))
    assert event["reason"] == ("the stream did not play (the stream player exited with status 1: Connection "
                               "refused; last: the stream answered HTTP 404); filler 0 s, silence 120 s; the "
                               "fallback's player exited with status 1: no audio device")
    assert len(station.player.runs) == 1  # not started again and again


@pytest.mark.parametrize(
    ("fallback", "reason"),
    [
        (True, "the stream did not play (the stream player exited with status 1: Connection refused; last: the "
               "stream answered HTTP 404); filler 300 s"),
        (False, "the stream did not play (the stream player exited with status 1: Connection refused; last: the "
                "stream answered HTTP 404); filler 0 s, silence 300 s"),
    ],
    ids=["filler", "nothing-to-fall-back-on"],
)
def test_a_stream_that_never_works_is_a_failed_relay_with_the_filler_for_the_window(tmp_path, fallback, reason):
    station, source = relay_station(tmp_path, outages=[(-5, None)])
    add_relay(station, "vov", at(0), 5, fallback=station.audio("filler", 20) if fallback else None)
    events = station.run_until(at(10))
    assert brief(events) == [("failed", "vov", "stream", "06:00:00", "06:05:00", 0.0, reason)]
    assert len(source.probes) == 9  # every 30 s from 06:00:30 to 06:04:30
    assert (len(station.player.runs) > 0) is fallback


def test_the_station_filler_stands_in_when_the_relay_brings_none(tmp_path):
    from stations.agent.jobs import Filler

    own = tmp_path / "own-filler.mp3"
    own.write_bytes(b"own" * 100)
    station, source = relay_station(tmp_path, outages=[(-5, None)],
                                    filler=Filler(own, "f" * 64, own.stat().st_size))
    station.player.lengths["own-filler.mp3"] = 60
    add_relay(station, "vov", at(0), 2)
    [event] = station.run_until(at(5))
    assert event["reason"].endswith("filler 120 s") and event["audio_sha256"] == "f" * 64
    assert [r.path for r in station.player.runs] == [own, own]


def test_a_relay_joined_late_plays_the_rest_of_its_window(tmp_path):
    station, _ = relay_station(tmp_path, start=at(10), late_skip_s=120)
    add_relay(station, "vov", at(0), 30)
    assert brief(station.run_until(at(40))) == [("played", "vov", "stream", "06:10:00", "06:30:00", 1200.0, None)]


def test_an_emergency_interrupts_a_relay_which_resumes_until_its_end(tmp_path):
    station, source = relay_station(tmp_path, emergency_resume="skip")
    add_relay(station, "vov", at(0), 30)
    station.add("storm", at(10), station.audio("flood", 60), item_class="emergency")
    events = station.run_until(at(40))
    assert brief(events) == [
        ("played", "vov", "stream", "06:00:00", "06:10:00", 600.0, "interrupted by emergency storm"),
        ("played", "storm", "emergency", "06:10:00", "06:11:00", 60.0, None),
        ("played", "vov", "stream", "06:11:00", "06:30:00", 1140.0, None),
    ]
    assert [r.stopped_at.astimezone(TZ).strftime("%M:%S") for r in source.runs] == ["10:00", "30:00"]


def test_play_stream_relays_until_its_end_and_stop_ends_it(tmp_path):
    station, source = relay_station(tmp_path, start=at(0))
    until = at(20)
    answer = station.engine.play_stream(41, URL, until, at(0))
    station.engine.run_until(at(5))
    # No manifest has told this engine its zone yet, so the answer's clock time is UTC.
    assert answer.result() == (True, f"relaying until {until.astimezone(UTC):%H:%M:%S}")
    stopped = station.engine.stop_playback(42)
    station.engine.run_until(at(6))
    assert stopped.result() == (True, "stopped command-41")
    assert brief(station.asrun.all_events()) == [
        ("played", "command-41", "command", "06:00:00", "06:05:00", 300.0, "stopped by command 42")]
    # A second one runs to its own end.
    station.engine.play_stream(43, URL, at(8), at(6))
    station.engine.run_until(at(10))
    assert brief(station.asrun.all_events())[-1] == ("played", "command-43", "command", "06:06:00", "06:08:00",
                                                     120.0, None)


NOW = datetime(2026, 11, 29, 6, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"url": URL, "until": "2026-11-29T06:30:00+07:00"}, None),
        ({"url": "https://tinh.example.vn/live/index.m3u8", "until": "2026-11-28T23:30:00Z"}, None),
        ({"url": "ftp://x/y", "until": "2026-11-29T06:30:00+07:00"}, "url must be an absolute http"),
        ({"until": "2026-11-29T06:30:00+07:00"}, "url must be"),
        ({"url": URL, "until": "2026-11-29T06:30:00"}, "with its offset"),
        ({"url": URL, "until": "soon"}, "with its offset"),
        ({"url": URL}, "with its offset"),
        ({"url": URL, "until": "2026-11-29T05:59:00+07:00"}, "has passed"),
        ({"url": URL, "until": "2026-11-29T19:00:00+07:00"}, "more than 12 hours away"),
    ],
)
def test_play_stream_arguments(args, error):
    if error is None:
        url, until = parse_play_stream(args, NOW)
        assert url == args["url"] and until.utcoffset() is not None
    else:
        with pytest.raises(ValueError, match=error):
            parse_play_stream(args, NOW)


# -- the bookkeeping alone ------------------------------------------------------------------------------------

S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # (event, seconds from the start): the stream plays throughout.
        ([("end", 600)], ("played", None, 600, 0, 0)),
        # It drops at 100 s, the filler plays, a probe fails, the stream is back at 160 s.
        ([("drop", 100), ("fallback", 100), ("probe_failed", 130), ("stream", 160), ("end", 600)],
         ("played", "partly relayed: stream 540 s, filler 60 s; the stream dropped 1 time (gone; last: 404)",
          540, 60, 0)),
        # It fails at once (under START_GRACE_S): not relayed time, and not a drop.
        ([("drop", 1), ("fallback", 1), ("end", 600)],
         ("failed", "the stream did not play (gone); filler 599 s, silence 1 s", 0, 599, 1)),
        # Nothing to fall back on: silence.
        ([("drop", 0), ("silence", 0), ("end", 300)],
         ("failed", "the stream did not play (gone); filler 0 s, silence 300 s", 0, 0, 300)),
        # Fails at first, then comes back for good.
        ([("drop", 0), ("fallback", 0), ("stream", 30), ("end", 300)],
         ("played", "partly relayed: stream 270 s, filler 30 s (gone)", 270, 30, 0)),
    ],
    ids=["throughout", "drop-and-back", "fails-at-once", "silence", "late-start"],
)
def test_relay_bookkeeping(script, expected):
    relay = Relay(url=URL, started_at=NOW)
    for event, second in script:
        moment = NOW + second * S
        if event == "drop":
            relay.stream_ended(moment, "gone")
        elif event == "fallback":
            relay.fallback_started(moment, playing=True)
        elif event == "silence":
            relay.fallback_started(moment, playing=False)
        elif event == "probe_failed":
            relay.probe_failed(moment, "404")
        elif event == "stream":
            relay.stream_started(moment)
        else:
            relay.finish(moment)
    outcome, reason = relay.outcome()
    assert (outcome, reason, relay.relayed_s, relay.fallback_s, relay.silent_s) == expected


def test_a_retry_is_due_retry_s_after_a_failure_and_not_while_a_probe_runs():
    relay = Relay(url=URL, started_at=NOW, retry_s=30)
    relay.stream_ended(NOW + 5 * S, "gone")
    relay.fallback_started(NOW + 5 * S, playing=True)
    assert not relay.due_for_try(NOW + 34 * S) and relay.due_for_try(NOW + 35 * S)
    relay.probe = Future()
    assert not relay.due_for_try(NOW + 40 * S)
    relay.probe_failed(NOW + 40 * S, "404")
    assert relay.next_try == NOW + 70 * S


def test_a_long_reason_is_cut_to_what_the_server_keeps():
    _, reason = relay_outcome(0, 10, 0, 0, 1, ["x" * 1000])
    assert len(reason) <= 480 and reason.endswith("…")


def test_a_live_announcements_stop_ends_its_relay_only(tmp_path):
    """The end of a live announcement sends ``stop`` with its stream's URL: an emergency that interrupted the
    relay airs to its end, and the relay does not come back after it."""
    station, source = relay_station(tmp_path, start=at(0), emergency_resume="skip")
    station.engine.play_stream(41, URL, at(20), at(0))
    station.add("storm", at(2), station.audio("flood", 120), item_class="emergency")
    station.run_until(at(3))
    stopped = station.engine.stop_playback(42, URL)
    station.run_until(at(30))
    assert stopped.result() == (True, "the relay will not resume")
    assert brief(station.asrun.all_events()) == [
        ("played", "command-41", "command", "06:00:00", "06:02:00", 120.0, "interrupted by emergency storm"),
        ("played", "storm", "emergency", "06:02:00", "06:04:00", 120.0, None),
    ]


@pytest.mark.parametrize(("url", "answer", "still_relaying"), [
    (URL, (True, "stopped command-41"), False),
    ("http://127.0.0.1:8000/another-mount", (True, "that relay was not playing"), True),
])
def test_a_stop_naming_a_stream_stops_that_relay_and_no_other(tmp_path, url, answer, still_relaying):
    station, source = relay_station(tmp_path, start=at(0))
    station.engine.play_stream(41, URL, at(20), at(0))
    station.engine.run_until(at(5))
    stopped = station.engine.stop_playback(42, url)
    station.engine.run_until(at(6))
    assert stopped.result() == answer
    assert (station.engine.on_air is not None) is still_relaying
