"""Benchmark: what checking a province-wide placement costs, against placing it without looking.

A placement is kept only when it airs as asked (broadcast/services/placing.py): its stations are compiled in
memory first, so a full slot that rejects overflow refuses it and a dropping slot names what gave way. This
measures that answer for an item placed in every station of the tree, on the world of scripts/bench/compile.py
(compiled once beforehand). The floor, in the same run: the same placement written without the check
(``placements.create_placement`` and queueing its stations), as the service answered before the check.

    python scripts/bench/place.py [--quick] [--provinces N]

The last line is ``RESULT place_ms=... floor_ms=... ratio_vs_floor=... stations=...``.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, select  # noqa: E402

from broadcast import create_app, load_settings  # noqa: E402
from broadcast.db.models import (  # noqa: E402
    Area,
    AudioAsset,
    CompileRequest,
    ContentSource,
    ItemClass,
    ItemStatus,
    Level,
    NewsItem,
    Placement,
    Role,
    Slot,
    Station,
)
from broadcast.services import compiler, placements, placing, scheduling, users  # noqa: E402
from scripts.bench.compile import DAY, NOW, build_world  # noqa: E402

ROUNDS = 3


def _item(session, province: Area) -> int:
    item = NewsItem(title="Tin toàn tỉnh", body="Một.", status=ItemStatus.APPROVED, owner_area_id=province.id,
                    item_class=ItemClass.NORMAL, content_source=ContentSource.SPEECH,
                    audio_asset=AudioAsset(sha256="e" * 64, size_bytes=8000, duration_ms=20_000, origin="tts"))
    session.add(item)
    session.commit()
    return item.id


def _spec(item_id: int, slot_id: int, province: Area) -> placements.PlacementSpec:
    return placements.PlacementSpec(item_id=item_id, slot_id=slot_id, targets=[province.code], date_from=DAY,
                                    date_until=DAY + timedelta(days=6))


def _undo(session, placement_id: int) -> None:
    session.execute(delete(Placement).where(Placement.id == placement_id))
    session.execute(delete(CompileRequest))
    session.commit()
    session.expunge_all()  # the rows went by SQL: forget them, their ids come again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Hà Giang only (about 1,000 stations)")
    parser.add_argument("--provinces", type=int, default=None, help="only the first N legacy provinces")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = load_settings(instance_path=work / "instance",
                                 database_url=f"sqlite:///{work / 'instance' / 'bench.db'}", schedule_days=7)
        app = create_app(settings)
        database = app.extensions["database"]
        database.upgrade()
        with app.test_request_context(), database.sessions() as session:
            build_world(session, args.quick, args.provinces)
            compiler.compile_stations(session, settings, now=NOW)
            province = session.scalar(select(Area).where(Area.level == Level.PROVINCE).order_by(Area.code))
            editor = users.create_user(session, username="bench", password=secrets.token_urlsafe(), role=Role.EDITOR,
                                       scope_area=province)
            slot_id = session.scalar(select(Slot.id).where(Slot.area_id == province.id).order_by(Slot.id))
            item_id = _item(session, province)
            stations = len(compiler.stations_under(session, area_ids=[province.id]))
            ours, floor, notes = [], [], 0
            for _ in range(ROUNDS):
                start = time.perf_counter()
                answer = placing.place(session, settings, editor, _spec(item_id, slot_id, province), today=DAY,
                                       now=NOW)
                ours.append(time.perf_counter() - start)
                notes = len(answer.notes)
                _undo(session, answer.placement.id)
                start = time.perf_counter()
                placement = placements.create_placement(session, editor, _spec(item_id, slot_id, province),
                                                        today=DAY)
                scheduling.after_change(session, settings, scheduling.placement_stations(session, placement),
                                        now=NOW)
                floor.append(time.perf_counter() - start)
                _undo(session, placement.id)
            assert session.query(Station).count() >= stations
        database.dispose()
    place_ms, floor_ms = min(ours) * 1000, min(floor) * 1000
    print(f"placed an item in {stations} stations: {place_ms:.0f} ms with the check ({notes} notes), "
          f"{floor_ms:.0f} ms without")
    print(f"RESULT place_ms={place_ms:.0f} floor_ms={floor_ms:.0f} ratio_vs_floor={place_ms / floor_ms:.1f} "
          f"stations={stations}")


if __name__ == "__main__":
    main()
