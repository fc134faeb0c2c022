"""Building the small real world most service tests start from: Tuyên Quang, people in it, stations."""

from __future__ import annotations

from broadcast.db.models import Role, Structure, User
from broadcast.services import areas, stations, users

PEOPLE = (("bientap", Role.EDITOR, "08"), ("pheduyet", Role.APPROVER, "08"), ("vanhanh", Role.OPERATOR, "00694"))


def tuyen_quang(session, people=PEOPLE, station_codes=()) -> dict[str, User]:
    """Load 2025 Tuyên Quang, create ``people`` (name, role, scope code) and stations (code, commune code)."""
    areas.load_province(session, "Tuyên Quang", Structure.CURRENT)
    made = {name: users.create_user(session, username=name, password="long enough", role=role,
                                    scope_area=areas.find_area(session, code)) for name, role, code in people}
    for code, commune in station_codes:
        stations.add_station(session, stations.StationSpec(code=code, commune=areas.find_area(session, commune)))
    return made
