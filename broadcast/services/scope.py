"""Who may see and change what: a user acts inside the subtree of their scope area."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Role, Station, User
from broadcast.errors import Forbidden
from broadcast.i18n import _l


def covers_everything(user: User) -> bool:
    return user.role is Role.ADMIN and user.scope_area_id is None


def covers(user: User, area: Area) -> bool:
    """True when ``area`` lies in the user's subtree (admins cover everything)."""
    if covers_everything(user):
        return True
    scope = user.scope_area
    return scope is not None and area.path.startswith(scope.path)


def require_area(user: User, area: Area) -> None:
    if not covers(user, area):
        raise Forbidden(_l("%(area)s is outside your area.", area=area.name))


def has_role(user: User, *roles: Role) -> bool:
    """Whether the user holds one of ``roles`` (admins hold every role); for showing or hiding actions."""
    return user.role is Role.ADMIN or user.role in roles


def require_role(user: User, *roles: Role) -> None:
    if not has_role(user, *roles):
        raise Forbidden(_l("Your role does not allow this."))


def limit_areas(user: User, query: Select) -> Select:
    if covers_everything(user):
        return query
    if user.scope_area is None:
        return query.where(False)
    return query.where(Area.path.startswith(user.scope_area.path))


def limit_stations(session: Session, user: User, query: Select) -> Select:
    """Narrow a station query (already joined to its commune as ``Area``) to the user's subtree."""
    return limit_areas(user, query.join(Area, Station.commune_id == Area.id))
