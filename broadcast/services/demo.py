"""Demo data: real areas, one account per role and a few stations, so a new user sees a working service.

Idempotent: what exists already is left as it is (including changed passwords).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.config import Settings
from broadcast.db.models import Area, Level, NewsItem, Placement, Role, Slot, Station, Structure, User
from broadcast.errors import Conflict
from broadcast.i18n import _
from broadcast.services import areas, items, placements, scheduling, slots, stations, users

DEMO_TITLE = "Bản tin mẫu: phòng chống lũ quét"
DEMO_LIVE_SLOT = "Phát thử"  # the short session each start of scripts/run moves to a minute from now
DEMO_PASSWORD = "truyenthanh-2026"  # noqa: S105 - printed by scripts/run; demo accounts only

PROVINCES = (("Hà Giang", Structure.LEGACY), ("Tuyên Quang", Structure.CURRENT))
TUYEN_QUANG = "08"
# (username, role, scope code in the 2025 structure or None, full name)
USERS = (
    ("admin", Role.ADMIN, None, "Quản trị hệ thống"),
    ("bientap", Role.EDITOR, TUYEN_QUANG, "Biên tập viên tỉnh"),
    ("pheduyet", Role.APPROVER, TUYEN_QUANG, "Lãnh đạo phê duyệt"),
    ("vanhanh", Role.OPERATOR, "00694", "Vận hành viên phường Hà Giang 1"),
)
# (code, commune code in the 2025 structure, name, delivery)
STATIONS = (
    ("HG1-01", "00694", "Đài phường Hà Giang 1 - Tổ 1", "http-pull"),
    ("HG1-02", "00694", "Đài phường Hà Giang 1 - Tổ 5", "http-pull"),
    ("HG2-01", "00691", "Đài phường Hà Giang 2", "http-pull"),
    ("DV-01", "00721", "Đài xã Đồng Văn", "sftp-push"),
)


DEMO_BULLETIN = (
    "Ngày 13/12/2019, UBND tỉnh có báo cáo số 485/BC-UBND; tỷ lệ phủ sóng đạt 98,5% với 1.880 trạm BTS. "
    "Người dân chủ động phòng chống lũ quét và sạt lở đất trong mùa mưa bão."
)


def seed(session: Session, today: date | None = None) -> Iterator[str]:
    for province, structure in PROVINCES:
        have = session.scalar(select(Area.id).where(Area.structure == structure, Area.level == Level.PROVINCE,
                                                    Area.short_name == province))
        if have is None:
            report = areas.load_province(session, province, structure, actor="demo")
            yield _("Loaded %(province)s (%(structure)s).", province=report.province, structure=structure.value)

    def current(code: str) -> Area:
        return areas.find_area(session, code, structure=Structure.CURRENT)

    for username, role, scope_code, full_name in USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            users.create_user(session, username=username, password=DEMO_PASSWORD, role=role, full_name=full_name,
                              scope_area=current(scope_code) if scope_code else None, actor="demo")
            yield _("Created demo user %(name)s.", name=username)

    for code, commune_code, name, delivery in STATIONS:
        if session.scalar(select(Station.id).where(Station.code == code)) is None:
            push = delivery == "sftp-push"
            spec = stations.StationSpec(
                code=code, commune=current(commune_code), name=name, http_pull=not push, sftp_push=push,
                ssh_host="127.0.0.1" if push else None, ssh_user="radio" if push else None,
                ssh_remote_dir="/var/lib/radio-agent/inbox" if push else None, speakers=4,
            )
            stations.add_station(session, spec, actor="demo")
            yield _("Created demo station %(code)s.", code=code)

    if today is not None and session.scalar(select(Slot.id).where(Slot.name == "Buổi sáng")) is None:
        yield from _schedule(session, current("08"), today)


def _schedule(session: Session, province: Area, today: date) -> Iterator[str]:
    """Two daily sessions for the province and one approved bulletin in them for a week, read by espeak-ng."""
    editor = users.get_user(session, "bientap")
    approver = users.get_user(session, "pheduyet")
    made = [slots.create_slot(session, editor, slots.SlotSpec(name=name, start_time=start, duration_s=3600,
                                                              valid_from=today), area=province)
            for name, start in (("Buổi sáng", time(6, 0)), ("Buổi chiều", time(17, 0)))]
    item = items.create_item(session, editor, items.ItemFields(title=DEMO_TITLE,
                                                               body=DEMO_BULLETIN, category="Thiên tai"))
    items.submit(session, editor, item)
    items.approve(session, approver, item)  # the render job reads it aloud within seconds
    for slot in made:
        placements.create_placement(session, editor, placements.PlacementSpec(
            item_id=item.id, slot_id=slot.id, targets=[province.code], date_from=today,
            date_until=today + timedelta(days=6)), today=today)
    yield _("Created the demo schedule: two daily sessions and one bulletin for a week.")


def live_session(session: Session, settings: Settings, *, now: datetime, lead_s: int = 45) -> str:
    """A five-minute province session starting ``lead_s`` seconds from now with the demo bulletin, so that the
    demo agents air it and report it within a minute of start-up. Returns what was done, for the console.

    Each start of scripts/run moves the one demo session (DEMO_LIVE_SLOT) to the new time, rather than adding
    another: restarting the service many times leaves one such session and one placement of it."""
    local = (now + timedelta(seconds=lead_s)).astimezone(settings.zone).replace(microsecond=0, tzinfo=None)
    editor = users.get_user(session, "bientap")
    province = areas.find_area(session, TUYEN_QUANG, structure=Structure.CURRENT)
    item = session.scalar(select(NewsItem).where(NewsItem.title == DEMO_TITLE))
    if item is None:
        return _("No demo bulletin: run the demo seed first.")

    def check(s: Session, made: Slot) -> None:
        scheduling.check_overlaps(s, made, settings, today=local.date())

    slot = session.scalar(select(Slot).where(Slot.area_id == province.id, Slot.name == DEMO_LIVE_SLOT))
    try:
        if slot is None:
            spec = slots.SlotSpec(name=DEMO_LIVE_SLOT, start_time=local.time(), duration_s=300,
                                  valid_from=local.date(), valid_until=local.date())
            slot = slots.create_slot(session, editor, spec, area=province, check_overlaps=check)
        else:
            slot.valid_from = local.date()  # its one day moves with it (update_slot keeps the first day)
            slots.update_slot(session, editor, slot, {"start_time": local.time(), "valid_until": local.date()},
                              check_overlaps=check)
    except Conflict:
        session.rollback()  # a demo session is on air: the bulletin airs at the start of the next one
        return _("A session is on air now; the demo bulletin airs in the next one.")
    affected = scheduling.slot_stations(session, slot)
    for earlier in list(session.scalars(select(Placement).where(Placement.slot_id == slot.id))):  # an earlier start's
        placements.delete_placement(session, editor, earlier)
    placement = placements.create_placement(session, editor, placements.PlacementSpec(
        item_id=item.id, slot_id=slot.id, targets=[province.code], date_from=local.date(),
        date_until=local.date()), today=local.date())
    scheduling.after_change(session, settings, affected | scheduling.placement_stations(session, placement), now=now)
    return _("A demo session starts at %(time)s.", time=f"{local:%H:%M:%S}")
