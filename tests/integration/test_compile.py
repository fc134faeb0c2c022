"""Compiling playlists and manifests from slots and placements, on both databases."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select

from broadcast.db.models import AudioAsset, ContentSource, Playlist, StationManifest
from broadcast.services import areas, compiler, items, placements, slots, stations
from stations import manifest as wire
from tests.factories import tuyen_quang

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang: today's sessions are over
TODAY = date(2026, 11, 28)
TOMORROW = date(2026, 11, 29)


@pytest.fixture
def world(app, session, settings):
    with app.app_context():
        people = tuyen_quang(session, station_codes=(("HG1-01", "00694"), ("HG1-02", "00694"),
                                                     ("HG2-01", "00691")))
        morning = slots.create_slot(session, people["bientap"], slots.SlotSpec(
            name="Buổi sáng", start_time=time(6, 0), duration_s=600, valid_from=TODAY, gap_ms=1000),
            area=areas.find_area(session, "08"))

        def item(title, seconds, user="bientap", **fields):
            made = items.create_item(session, people[user], items.ItemFields(title=title, body="Một hai ba.",
                                                                              **fields))
            asset = AudioAsset(sha256=f"{made.id:064x}", size_bytes=seconds * 8000, duration_ms=seconds * 1000,
                               origin="tts")
            made.audio_asset = asset
            session.commit()
            items.submit(session, people[user], made)
            items.approve(session, people["pheduyet"], made)
            return made

        def place(made, targets, user="bientap", **kw):
            return placements.create_placement(session, people[user], placements.PlacementSpec(
                item_id=made.id, slot_id=kw.pop("slot_id", morning.id), targets=targets, date_from=TODAY,
                date_until=TODAY + timedelta(days=10), **kw), today=TODAY)

        def compile_all(**kw):
            return compiler.compile_stations(session, settings, now=kw.pop("now", NOW), **kw)

        yield {**people, "morning": morning, "item": item, "place": place, "compile": compile_all}


def _manifest(session, code) -> wire.Manifest:
    station = stations.get_station(session, code)
    stored = session.get(StationManifest, station.id)
    return wire.from_json(stored.body.encode())


def test_a_province_item_reaches_every_station(session, world):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    report = world["compile"]()
    assert report.stations == 3 and report.manifests_changed == 3
    manifest = _manifest(session, "HG2-01")
    assert [d.date for d in manifest.days][:2] == [TODAY, TOMORROW] and len(manifest.days) == 7
    first = manifest.days[1].entries[0]
    assert (first.title, first.start.isoformat(), first.play_ms) == ("Tin tỉnh", "2026-11-29T06:00:00+07:00",
                                                                    120_000)
    assert manifest.version == 1


def test_each_station_airs_in_its_own_zone_else_its_communes_else_the_services(session, world, settings):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    stations.get_station(session, "HG2-01").timezone = "Europe/Berlin"
    areas.find_area(session, "00694").timezone = "Asia/Bangkok"
    stations.get_station(session, "HG1-02").timezone = "Asia/Ho_Chi_Minh"
    session.commit()
    world["compile"]()
    starts = {code: (_manifest(session, code).timezone, _manifest(session, code).days[1].entries[0].start.isoformat())
              for code in ("HG1-01", "HG1-02", "HG2-01")}
    assert starts == {"HG1-01": ("Asia/Bangkok", "2026-11-29T06:00:00+07:00"),
                      "HG1-02": ("Asia/Ho_Chi_Minh", "2026-11-29T06:00:00+07:00"),
                      "HG2-01": ("Europe/Berlin", "2026-11-29T06:00:00+01:00")}
    assert settings.timezone == "Asia/Ho_Chi_Minh"


def test_nothing_changed_means_no_new_versions(session, world):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    world["compile"](now=NOW.replace(microsecond=123456))  # a real clock has microseconds
    before = session.scalar(select(func.count(Playlist.id)))
    again = world["compile"](now=NOW + timedelta(minutes=5))
    assert (again.days_changed, again.manifests_changed) == (0, 0)
    assert session.scalar(select(func.count(Playlist.id))) == before
    assert _manifest(session, "HG1-01").version == 1


def test_a_commune_item_changes_only_that_communes_stations(session, world):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    world["compile"]()
    local = world["item"]("Tin phường", 60, user="vanhanh")
    world["place"](local, ["00694"], user="vanhanh")
    affected = compiler.stations_under(session, area_ids=[areas.find_area(session, "00694").id])
    assert {stations.get_station(session, c).id for c in ("HG1-01", "HG1-02")} == affected
    report = world["compile"](station_ids=affected)
    assert report.stations == 2 and report.manifests_changed == 2
    assert _manifest(session, "HG1-01").version == 2 and _manifest(session, "HG2-01").version == 1
    titles = [e.title for e in _manifest(session, "HG1-02").days[1].entries]
    assert titles == ["Tin tỉnh", "Tin phường"]


def test_a_compile_shared_among_processes_stores_what_one_process_stores(session, world, settings, monkeypatch):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    world["place"](world["item"]("Tin phường", 60, user="vanhanh"), ["00694"], user="vanhanh")
    world["place"](world["item"]("Tin xã", 90), ["00691"])

    def stored():
        playlists = {(p.station_id, p.day): (p.version, p.etag, p.content) for p in session.scalars(select(Playlist))}
        manifests = {m.station_id: (m.version, m.etag, m.body) for m in session.scalars(select(StationManifest))}
        return playlists, manifests

    alone = world["compile"]()
    expected = stored()
    session.query(Playlist).delete()
    session.query(StationManifest).delete()
    session.commit()
    monkeypatch.setattr(compiler, "PARALLEL_MIN_STATIONS", 1)
    monkeypatch.setattr(compiler, "PART_STATIONS", 1)  # each worker reads one commune at a time
    monkeypatch.setattr(compiler, "FLUSH_ROWS", 5)  # written in batches while the workers go on
    monkeypatch.setattr(compiler, "GROUPS_PER_MESSAGE", 1)
    shares = []
    real_partitions = compiler._partitions
    monkeypatch.setattr(compiler, "_partitions", lambda stations, workers: shares.append(
        real_partitions(stations, workers)) or shares[-1])
    workers = []
    real_process = multiprocessing.get_context("fork").Process
    monkeypatch.setattr(multiprocessing.get_context("fork"), "Process", lambda *a, **kw: (
        workers.append(kw["args"][2]) or real_process(*a, **kw)))
    shared = compiler.compile_stations(session, settings.model_copy(update={"compile_workers": 2}), now=NOW)
    ids = {stations.get_station(session, code).id: code for code in ("HG1-01", "HG1-02", "HG2-01")}
    # Two workers, each with whole communes in tree order: 00691 (HG2-01) comes before 00694.
    assert [[[ids[i] for i in part] for part in share] for share in workers] == [[["HG2-01"]], [["HG1-01", "HG1-02"]]]
    assert stored() == expected and len(expected[0]) == 3 * 7
    assert (shared.stations, shared.days_changed, shared.manifests_changed) == (alone.stations, 21, 3)
    assert sorted(shared.nudges) == sorted(alone.nudges) and shared.problems == alone.problems
    again = compiler.compile_stations(session, settings.model_copy(update={"compile_workers": 2}), now=NOW)  # unchanged
    assert (again.days_changed, again.manifests_changed) == (0, 0)


def _stations(*communes: int):
    """(id, commune id, commune path) of stations numbered from 1, commune after commune, ``communes`` giving
    each one's size."""
    ids = itertools.count(1)
    return [(next(ids), c, f"2025/08/{c:05}/") for c, size in enumerate(communes) for _ in range(size)]


@pytest.mark.parametrize(("communes", "workers", "part", "expected"), [
    ((1, 2), 2, 5000, [[[1]], [[2, 3]]]),
    ((3, 3, 3, 3), 2, 5000, [[[1, 2, 3, 4, 5, 6]], [[7, 8, 9, 10, 11, 12]]]),
    ((3, 3, 3, 3), 2, 4, [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]),  # parts of whole communes
    ((10, 1, 1), 2, 5000, [[list(range(1, 11))], [[11, 12]]]),  # a large commune is never split
    ((1, 1, 1, 1, 1), 4, 5000, [[[1]], [[2]], [[3, 4]], [[5]]]),
    ((1,), 4, 5000, [[[1]]]),  # no empty shares
])
def test_stations_are_shared_out_in_whole_communes_and_even_shares(monkeypatch, communes, workers, part, expected):
    monkeypatch.setattr(compiler, "PART_STATIONS", part)
    stations = _stations(*communes)
    assert compiler._partitions(list(reversed(stations)), workers) == expected


@pytest.mark.parametrize("fault", ["raises", "dies", "hangs"])
def test_a_worker_that_fails_fails_the_compile_and_nothing_is_written(session, world, settings, monkeypatch, fault):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    monkeypatch.setattr(compiler, "PARALLEL_MIN_STATIONS", 1)
    real_group = compiler._compile_group

    def broken(work, group):  # runs in the forked worker, which inherits the patched module
        if any(code == "HG2-01" for _, code in group.members):
            if fault == "dies":
                os._exit(3)  # as if the kernel killed it for memory
            if fault == "hangs":
                threading.Event().wait()  # as if stuck on a lock it inherited locked
            raise ValueError("lịch hỏng ở HG2-01")
        return real_group(work, group)

    monkeypatch.setattr(compiler, "_compile_group", broken)
    monkeypatch.setattr(compiler, "WORKER_SILENCE_S", 2)
    expected = {"raises": "ValueError: lịch hỏng ở HG2-01", "dies": "ended with code 3", "hangs": "no word"}[fault]
    with pytest.raises(compiler.CompileWorkerFailed, match=expected):
        compiler.compile_stations(session, settings.model_copy(update={"compile_workers": 2}), now=NOW)
    session.rollback()
    assert session.scalar(select(func.count(Playlist.id))) == 0
    assert session.scalar(select(func.count(StationManifest.station_id))) == 0
    assert multiprocessing.active_children() == []  # every worker was ended and reaped


def test_the_cycle_collector_is_paused_during_a_compile_and_left_as_it_was(session, world, monkeypatch):
    world["place"](world["item"]("Tin tỉnh", 120), ["08"])
    during = []
    real = compiler.load_inputs
    monkeypatch.setattr(compiler, "load_inputs", lambda *a, **kw: during.append(gc.isenabled()) or real(*a, **kw))
    assert gc.isenabled()
    world["compile"]()
    assert during == [False] and gc.isenabled()

    gc.disable()  # someone else's choice: a compile does not turn it on
    try:
        world["compile"]()
        assert not gc.isenabled()
    finally:
        gc.enable()

    def broken(*_args, **_kw):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(compiler, "load_inputs", broken)
    with pytest.raises(RuntimeError):
        world["compile"]()
    assert gc.isenabled()  # on again after a compile that failed


def test_a_recording_without_its_audio_is_left_out_but_a_text_not_read_yet_keeps_its_place(session, world):
    recorded = world["item"]("Chương trình tiếng Mông", 60)
    spoken = world["item"]("Tin chưa đọc", 60)
    world["place"](recorded, ["08"])
    world["place"](spoken, ["08"])
    recorded.content_source, recorded.audio_asset = ContentSource.RECORDING, None  # its file was withdrawn
    spoken.audio_asset, spoken.estimated_duration_ms = None, 45_000  # its text changed and is being read again
    session.commit()
    world["compile"]()
    station = stations.get_station(session, "HG1-01")
    day = session.scalar(select(Playlist).where(Playlist.station_id == station.id, Playlist.day == TOMORROW))
    entries = [e for occ in day.content["occurrences"] for e in occ["entries"] if e["kind"] == "item"]
    assert [(e["title"], e["audio"], e["play_ms"]) for e in entries] == [("Tin chưa đọc", None, 45_000)]


def test_priority_and_emergency_go_first(session, world):
    world["place"](world["item"]("Thường", 60), ["08"])
    world["place"](world["item"]("Ưu tiên", 60, item_class="priority"), ["08"])
    world["place"](world["item"]("Khẩn cấp", 60, item_class="emergency"), ["08"])
    world["compile"]()
    assert [e.title for e in _manifest(session, "HG1-01").days[1].entries] == ["Khẩn cấp", "Ưu tiên", "Thường"]


def test_overflow_is_reported_in_plain_words(session, world):
    for n in range(3):
        world["place"](world["item"](f"Tin {n}", 250), ["08"])
    report = world["compile"]()
    summaries = report.summaries()
    overflow = next(s for s in summaries if s.kind == "overflow")
    assert overflow.stations == ("HG1-01", "HG1-02", "HG2-01") and overflow.severity == "error"
    # 3 x 250 s plus two 1 s gaps in a 600 s slot.
    assert overflow.text_en == "the 06:00 slot overflows at 3 stations by up to 2 min 32 s"
    assert overflow.text_vi == "khung giờ 06:00 bị tràn ở 3 đài, nhiều nhất 2 phút 32 giây"


def test_frozen_sessions_are_read_in_one_query_not_one_per_station(session, world, database):
    world["place"](world["item"]("Tin đã chốt", 60), ["08"])
    soon = datetime(2026, 11, 28, 22, 45, tzinfo=UTC)  # 05:45 on the 29th in Hà Giang: 15 min before air
    world["compile"](now=soon)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        report = world["compile"](now=soon + timedelta(minutes=1))
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    assert report.stations == 3 and report.days_changed == 0
    assert len([s for s in statements if "playlists.content" in s]) == 1


def test_showlock_freezes_an_imminent_session(session, world):
    world["place"](world["item"]("Tin đã chốt", 60), ["08"])
    soon = datetime(2026, 11, 28, 22, 45, tzinfo=UTC)  # 05:45 on the 29th in Hà Giang: 15 min before air
    world["compile"](now=soon)
    world["place"](world["item"]("Tin muộn", 60, item_class="priority"), ["08"])
    report = world["compile"](now=soon + timedelta(minutes=1))
    day = _manifest(session, "HG1-01").days[0]
    assert day.date == TOMORROW and [e.title for e in day.entries] == ["Tin đã chốt"]
    assert report.stations == 3
    urgent = world["item"]("Khẩn cấp", 30, item_class="emergency")
    world["place"](urgent, ["08"])
    world["compile"](now=soon + timedelta(minutes=2))
    assert [e.title for e in _manifest(session, "HG1-01").days[0].entries] == ["Khẩn cấp", "Tin đã chốt"]
