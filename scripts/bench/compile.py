"""Benchmark: compile one day for every station of a realistic tree, against plain json.dumps of the result.

The tree is the real legacy administrative map (province -> district -> commune) of every province (10,035
communes, one station each); --quick takes Hà Giang only with five stations per commune. Each province has
a morning and an afternoon slot, and each slot carries 12 items: 4 province-wide, 4 for the district and 4
commune-local. Ours: the service's compile (database reads, scheduling, fit, manifests, database writes).
The floor, in the same run: json.dumps of the same final manifests and writing them to files. Then one
commune-local change is compiled for that commune's stations only.

    python scripts/bench/compile.py [--quick]

The last line is ``RESULT seconds=... ratio_vs_floor=... incremental_ms=... peak_mb=...``.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from broadcast import create_app, load_settings  # noqa: E402
from broadcast.db.models import (  # noqa: E402
    Area,
    AudioAsset,
    ContentSource,
    ItemClass,
    ItemStatus,
    Level,
    NewsItem,
    OverflowPolicy,
    Placement,
    PlacementTarget,
    RenderState,
    Slot,
    Station,
    StationManifest,
    Structure,
)
from broadcast.services import admin_data, areas, compiler  # noqa: E402

logging.basicConfig(level=logging.WARNING)
logging.getLogger("broadcast.services.compiler").setLevel(logging.INFO)

NOW = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)  # 00:30 local on DAY: nothing is locked yet
DAY = date(2026, 11, 29)
ITEM_S = 150  # 12 items of 2.5 min fill most of a 35-minute session


def build_world(session, quick: bool, provinces: int | None = None) -> None:
    """Areas, stations, slots, items with audio and placements, inserted in bulk."""
    provinces = ["Hà Giang"] if quick else [p.short_name for p in admin_data.provinces("legacy")][:provinces]
    for name in provinces:
        areas.load_province(session, name, Structure.LEGACY, actor="bench")
    communes = list(session.scalars(select(Area).where(Area.level == Level.COMMUNE)))
    per_commune = 5 if quick else 1
    session.execute(insert(Station), [
        {"code": f"S{c.code}-{i}", "name": f"{c.name} {i}", "commune_id": c.id, "http_pull": True}
        for c in communes for i in range(per_commune)])
    now = datetime.now(UTC)
    serial = iter(range(1, 10**9))

    def items_for(count: int, owner: Area) -> list[int]:
        rows = []
        for _ in range(count):
            n = next(serial)
            asset = session.execute(insert(AudioAsset).returning(AudioAsset.id), [{
                "sha256": f"{n:064x}", "size_bytes": ITEM_S * 8000, "duration_ms": ITEM_S * 1000 + n % 997,
                "origin": "tts", "created_at": now}]).scalar_one()
            rows.append({"title": f"Tin {n}", "body": "Một hai ba.", "status": ItemStatus.APPROVED,
                         "item_class": ItemClass.PRIORITY if n % 7 == 0 else ItemClass.NORMAL,
                         "content_source": ContentSource.SPEECH, "render_state": RenderState.READY,
                         "owner_area_id": owner.id, "audio_asset_id": asset, "speaking_rate": "+0%",
                         "language": "vi", "created_at": now, "updated_at": now})
        return list(session.execute(insert(NewsItem).returning(NewsItem.id), rows).scalars())

    def place(slot_id: int, item_ids: list[int], target: Area, placer: Area) -> None:
        for item_id in item_ids:
            placement = session.execute(insert(Placement).returning(Placement.id), [{
                "item_id": item_id, "slot_id": slot_id, "date_from": DAY, "date_until": DAY + timedelta(days=6),
                "repeat_count": 1, "repeat_gap_s": 0, "priority": 0, "placed_by_area_id": placer.id,
                "created_at": now, "updated_at": now}]).scalar_one()
            session.execute(insert(PlacementTarget), [{"placement_id": placement, "area_id": target.id}])

    by_parent: dict[int, list[Area]] = {}
    for area in session.scalars(select(Area)):
        by_parent.setdefault(area.parent_id, []).append(area)
    for province in by_parent[None]:
        slot_ids = [session.execute(insert(Slot).returning(Slot.id), [{
            "name": name, "area_id": province.id, "start_time": start, "duration_s": 35 * 60, "rrule": "FREQ=DAILY",
            "valid_from": DAY - timedelta(days=1), "exceptions": {}, "overflow_policy": OverflowPolicy.DROP,
            "gap_ms": 1000, "created_at": now, "updated_at": now}]).scalar_one()
            for name, start in (("Sáng", datetime(2026, 1, 1, 6, 0).time()),  # noqa: DTZ001
                                ("Chiều", datetime(2026, 1, 1, 17, 0).time()))]  # noqa: DTZ001
        for slot_id in slot_ids:
            place(slot_id, items_for(4, province), province, province)
            for district in by_parent.get(province.id, []):
                place(slot_id, items_for(4, district), district, district)
                for commune in by_parent.get(district.id, []):
                    place(slot_id, items_for(4, commune), commune, commune)
    session.commit()


def floor(session, out: Path) -> tuple[float, float]:
    """json.dumps of the same final manifests, written to files: the least any compiler must do.

    Returns the floor and, for reading the ratio, the part of it that is json.dumps alone: creating ten
    thousand files costs anywhere from a tenth to four times that on these shared disks.
    """
    documents = [(m.station_id, json.loads(m.body)) for m in session.scalars(select(StationManifest))]
    best = dumps_best = float("inf")
    for round_ in range(3):  # the best of three: file writes are noisy here, and a low floor is the strict one
        folder = out / str(round_)  # new files each round, as a first compile writes new manifests
        folder.mkdir()
        os.sync()  # each round starts, as the compile did, with no earlier writes still going to disk
        start = time.perf_counter()
        for station_id, document in documents:
            (folder / f"{station_id}.json").write_text(json.dumps(document, ensure_ascii=False, sort_keys=True,
                                                               separators=(",", ":")), encoding="utf-8")
        best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        for _station_id, document in documents:
            json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        dumps_best = min(dumps_best, time.perf_counter() - start)
    return best, dumps_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Hà Giang only (about 1,000 stations)")
    parser.add_argument("--provinces", type=int, default=None, help="only the first N legacy provinces")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = load_settings(instance_path=work / "instance",
                                 database_url=f"sqlite:///{work / 'instance' / 'bench.db'}")
        app = create_app(settings)
        database = app.extensions["database"]
        database.upgrade()
        with app.app_context(), database.sessions() as session:
            started = time.perf_counter()
            build_world(session, args.quick, args.provinces)
            stations = session.query(Station).count()
            print(f"world: {stations} stations built in {time.perf_counter() - started:.1f} s", flush=True)

            session.commit()
            os.sync()  # the world's writes are on disk: they slow down neither the compile nor the floor
            start = time.perf_counter()
            report = compiler.compile_stations(session, settings, now=NOW, days=1)
            seconds = time.perf_counter() - start
            (work / "floor").mkdir()
            floor_s, dumps_s = floor(session, work / "floor")

            commune = session.scalar(select(Area).where(Area.level == Level.COMMUNE).order_by(Area.code))
            local_slot = session.scalar(select(Slot.id).order_by(Slot.id))
            item = NewsItem(title="Tin xã mới", body="Một.", status=ItemStatus.APPROVED, owner_area_id=commune.id,
                            item_class=ItemClass.NORMAL, content_source=ContentSource.SPEECH,
                            audio_asset=AudioAsset(sha256="f" * 64, size_bytes=8000, duration_ms=30_000,
                                                   origin="tts"))
            session.add(Placement(item=item, slot_id=local_slot, date_from=DAY, date_until=DAY,
                                  placed_by_area_id=commune.id, targets=[PlacementTarget(area_id=commune.id)]))
            session.commit()
            gc.collect()  # the full compile's garbage: a collection it would trigger is not the change's cost
            start = time.perf_counter()
            affected = compiler.stations_under(session, area_ids=[commune.id])
            incremental = compiler.compile_stations(session, settings, now=NOW, station_ids=affected, days=1)
            incremental_ms = (time.perf_counter() - start) * 1000
        database.dispose()
    # The largest of this process and the compile's worker processes (which share much of it copy-on-write).
    peak_mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
                                                                 resource.RUSAGE_CHILDREN)) / 1024
    problems = sum(len(v) for v in report.problems.values())
    print(f"compiled {report.stations} stations ({report.manifests_changed} manifests, {problems} fit notes) "
          f"in {seconds:.2f} s; floor {floor_s:.2f} s; incremental: {incremental.stations} stations, "
          f"{incremental.manifests_changed} changed, {incremental_ms:.1f} ms")
    print(f"RESULT seconds={seconds:.2f} ratio_vs_floor={seconds / floor_s:.2f} incremental_ms={incremental_ms:.1f} "
          f"peak_mb={peak_mb:.0f} stations={report.stations} floor_s={floor_s:.3f} dumps_s={dumps_s:.3f}")


if __name__ == "__main__":
    main()
