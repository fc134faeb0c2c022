"""Demo data: real areas, one account per role and a few stations, so a new user sees a working service.

Idempotent: what exists already is left as it is (including changed passwords).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Level, Role, Station, Structure, User
from broadcast.i18n import _
from broadcast.services import areas, stations, users

DEMO_PASSWORD = "demo-2026"  # noqa: S105 - printed by scripts/run; demo accounts only

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


def seed(session: Session) -> Iterator[str]:
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
