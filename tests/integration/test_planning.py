"""Slots and placements through the services, on both databases: validation, scope, nothing half-written."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from broadcast.db.models import ItemStatus, Placement, PriorityOrder, Slot
from broadcast.errors import Conflict, Forbidden, InvalidInput, NotFound
from broadcast.services import areas, items, placements, slots, stations
from tests.factories import tuyen_quang

TODAY = date(2026, 11, 28)


@pytest.fixture
def world(app, session):
    with app.app_context():
        people = tuyen_quang(session, station_codes=(("HG1-01", "00694"), ("HG2-01", "00691")))
        item = items.create_item(session, people["bientap"], items.ItemFields(title="Tin", body="Một hai ba bốn."))
        items.submit(session, people["bientap"], item)
        items.approve(session, people["pheduyet"], item)
        yield {**people, "item": item, "province": areas.find_area(session, "08"),
               "hg1": areas.find_area(session, "00694")}


def _slot(session, user, area, **kw):
    spec = slots.SlotSpec(name=kw.pop("name", "Buổi sáng"), start_time=kw.pop("start_time", time(6, 0)),
                          duration_s=kw.pop("duration_s", 3600), valid_from=kw.pop("valid_from", TODAY), **kw)
    return slots.create_slot(session, user, spec, area=area)


def test_province_slot_is_inherited_and_a_commune_may_replace_it(session, world):
    morning = _slot(session, world["bientap"], world["province"])
    commune = _slot(session, world["vanhanh"], world["hg1"], name="Sáng phường", start_time=time(5, 30),
                    overrides_id=morning.id)
    station = stations.get_station(session, "HG1-01")
    assert [s.id for s in slots.inherited_slots(session, station=station)] == [morning.id, commune.id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"duration_s": 30}, "duration_s"),
        ({"duration_s": 7 * 3600}, "duration_s"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "DTSTART:20260101T000000\nFREQ=DAILY"}, "rrule"),
        ({"valid_until": date(2026, 11, 1)}, "valid_until"),
        ({"gap_ms": -1}, "gap_ms"),
        ({"overrides_id": 999}, "overrides_id"),
    ],
)
def test_bad_slots_are_refused_and_nothing_is_written(session, world, changes, field):
    with pytest.raises(InvalidInput) as caught:
        _slot(session, world["bientap"], world["province"], **changes)
    assert caught.value.field == field
    session.rollback()
    assert session.scalar(select(func.count(Slot.id))) == 0


def test_operators_cannot_set_province_slots(session, world):
    with pytest.raises(Forbidden):
        _slot(session, world["vanhanh"], world["province"])


def test_exceptions_cancel_restore_and_extra(session, world):
    slot = _slot(session, world["bientap"], world["province"])
    slots.set_exception(session, world["bientap"], slot, cancel=date(2027, 1, 1))
    slots.set_exception(session, world["bientap"], slot, extra=datetime(2027, 1, 2, 19, 0))  # noqa: DTZ001
    assert slot.exceptions == {"cancelled": ["2027-01-01"], "extra": ["2027-01-02T19:00"]}
    slots.set_exception(session, world["bientap"], slot, restore=date(2027, 1, 1))
    assert slot.exceptions["cancelled"] == []


def _spec(world, slot, **kw):
    return placements.PlacementSpec(item_id=kw.pop("item_id", world["item"].id), slot_id=slot.id,
                                    targets=kw.pop("targets", ["08"]), date_from=kw.pop("date_from", TODAY),
                                    date_until=kw.pop("date_until", date(2026, 12, 5)), **kw)


def test_placement_for_the_province(session, world):
    slot = _slot(session, world["bientap"], world["province"])
    placement = placements.create_placement(session, world["bientap"], _spec(world, slot, weekdays=["MO", "TH"]),
                                            today=TODAY)
    assert [t.code for t in placement.targets] == ["08"]
    assert placement.weekdays == "MO,TH" and placement.placed_by_area_id == world["province"].id


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"date_from": date(2026, 11, 27)}, InvalidInput, "date_from"),  # in the past
        ({"date_until": date(2026, 11, 20)}, InvalidInput, "date_until"),
        ({"weekdays": ["MON"]}, InvalidInput, "weekdays"),
        ({"repeat_count": 0}, InvalidInput, "repeat_count"),
        ({"targets": []}, InvalidInput, "targets"),
        ({"targets": ["99999"]}, NotFound, "targets"),
        ({"targets": ["station:NOPE"]}, NotFound, "targets"),
        ({"item_id": 999}, NotFound, None),
        ({"repeat_count": 10, "repeat_gap_s": 600}, InvalidInput, "item_id"),  # can never fit in one hour
    ],
)
def test_bad_placements_are_refused_and_nothing_is_written(session, world, changes, error, field):
    slot = _slot(session, world["bientap"], world["province"])
    with pytest.raises(error) as caught:
        placements.create_placement(session, world["bientap"], _spec(world, slot, **changes), today=TODAY)
    assert caught.value.field == field
    session.rollback()
    assert session.scalar(select(func.count(Placement.id))) == 0


def test_a_commune_slot_does_not_air_elsewhere(session, world):
    slot = _slot(session, world["vanhanh"], world["hg1"], name="Sáng phường")
    with pytest.raises(InvalidInput) as caught:
        placements.create_placement(session, world["bientap"], _spec(world, slot, targets=["00691"]), today=TODAY)
    assert "không phát" in str(caught.value.message) or "does not air" in str(caught.value.message)


def test_archived_items_cannot_be_placed(session, world):
    slot = _slot(session, world["bientap"], world["province"])
    items.archive(session, world["bientap"], world["item"])
    assert world["item"].status is ItemStatus.ARCHIVED
    with pytest.raises(Conflict):
        placements.create_placement(session, world["bientap"], _spec(world, slot), today=TODAY)


def test_operator_orders_clashing_priority_items(session, world):
    slot = _slot(session, world["bientap"], world["province"])
    first = placements.create_placement(session, world["bientap"], _spec(world, slot), today=TODAY)
    second = placements.create_placement(session, world["bientap"], _spec(world, slot), today=TODAY)
    placements.set_priority_order(session, world["vanhanh"], world["hg1"], [second.id, first.id])
    rows = session.scalars(select(PriorityOrder).order_by(PriorityOrder.position)).all()
    assert [(r.placement_id, r.position) for r in rows] == [(second.id, 1), (first.id, 2)]
    with pytest.raises(Forbidden):
        placements.set_priority_order(session, world["vanhanh"], areas.find_area(session, "00691"), [first.id])
