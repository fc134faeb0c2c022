"""Reading the audit log: who did what and when, for administrators, filtered and paged.

An administrator of everything reads every entry, the service's own (command line, jobs, stations) included. An
administrator of an area reads what the people of that area did: the log names people, not areas, so entries of
the system and of people elsewhere are not theirs to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from broadcast.db.models import Area, AuditLog, Role, User
from broadcast.i18n import _l
from broadcast.services import scope

READERS = (Role.ADMIN,)
# What a person looks for, and the actions each covers (by prefix).
GROUPS: dict[str, tuple[str, ...]] = {
    "items": ("item.",),
    "schedule": ("placement.", "slot."),
    "emergencies": ("emergency.",),
    "live": ("live.",),
    "stations": ("station.", "airing."),
    "accounts": ("user.",),
    "library": ("library.", "lexicon."),
    "areas": ("areas.",),
    "exchange": ("source.", "webhook."),
}
GROUP_LABELS = {
    "items": _l("Bulletins"), "schedule": _l("Sessions and placements"), "emergencies": _l("Emergencies"),
    "live": _l("Speaking live"), "stations": _l("Stations"), "accounts": _l("Accounts and logins"),
    "library": _l("Library and pronunciations"), "areas": _l("Areas and boundaries"),
    "exchange": _l("Sources and webhooks"),
}


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""  # a login or part of a full name
    group: str | None = None  # a key of GROUPS
    day_from: date | None = None  # local days, inclusive
    day_until: date | None = None


@dataclass(frozen=True)
class Row:
    entry: AuditLog
    person: User | None


def search(session: Session, user: User, found: AuditFilter, *, zone: ZoneInfo, limit: int, offset: int = 0
           ) -> list[Row]:
    """The entries the user may read that match, newest first."""
    scope.require_role(user, *READERS)
    person = aliased(User)
    query = select(AuditLog, person).outerjoin(person, person.id == AuditLog.user_id)
    if not scope.covers_everything(user):
        if user.scope_area is None:
            return []
        area = aliased(Area)
        query = query.join(area, area.id == person.scope_area_id).where(
            area.path.startswith(user.scope_area.path, autoescape=True))
    if found.group in GROUPS:
        query = query.where(or_(*(AuditLog.action.startswith(p, autoescape=True) for p in GROUPS[found.group])))
    who = found.who.strip()
    if who:
        query = query.where(or_(AuditLog.actor.ilike(f"%{_escaped(who)}%", escape="\\"),
                                person.full_name.ilike(f"%{_escaped(who)}%", escape="\\")))
    if found.day_from is not None:
        query = query.where(AuditLog.at >= _start_of(found.day_from, zone))
    if found.day_until is not None:
        query = query.where(AuditLog.at < _start_of(found.day_until + timedelta(days=1), zone))
    query = query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit).offset(offset)
    return [Row(entry, who_) for entry, who_ in session.execute(query)]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def group_of(action: str) -> str | None:
    return next((key for key, prefixes in GROUPS.items() if action.startswith(prefixes)), None)
