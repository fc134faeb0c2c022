"""Administering people's accounts: who may manage whom, and every change in the audit log.

An admin manages every account. An editor manages the commune operators inside their own area: makes them,
moves them within it, switches them off and on and resets their passwords; an editor can neither make nor
change anyone of another role. Nobody manages their own account here (that is the account page), which also
means the service always keeps an active admin: the one acting.

A new account and a reset get a temporary password, shown once to the person managing; it opens nothing but
the page that changes it (``must_change_password``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Role, User
from broadcast.errors import Forbidden, InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.services import scope, two_factor, user_email, users
from broadcast.services.audit import record

MANAGERS = (Role.ADMIN, Role.EDITOR)
# Lower-case letters and digits without look-alikes (l, 1, o, 0, i), in groups people can read out.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """E.g. ``k7mw-q3za-8rtx``: 14 characters from a 31-letter alphabet (about 59 bits), easy to read out."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))


@dataclass(frozen=True)
class Made:
    user: User
    temporary_password: str  # shown once


def may_manage(actor: User, user: User) -> bool:
    if actor.id == user.id:
        return False
    if actor.role is Role.ADMIN:
        return True
    return (actor.role is Role.EDITOR and user.role is Role.OPERATOR and user.scope_area is not None
            and scope.covers(actor, user.scope_area))


def require_manager(actor: User) -> None:
    if actor.role not in MANAGERS:
        raise Forbidden(_l("Only administrators, and editors for their area's operators, manage accounts."))


def managed_users(session: Session, actor: User) -> list[User]:
    """The accounts ``actor`` may see here: everyone for an admin, their area's operators for an editor."""
    require_manager(actor)
    query = select(User).order_by(User.username)
    if actor.role is not Role.ADMIN:
        query = scope.limit_areas(actor, query.join(Area, User.scope_area_id == Area.id)).where(
            User.role == Role.OPERATOR)
    return list(session.scalars(query))


def get_managed(session: Session, actor: User, user_id: int) -> User:
    """The account ``user_id`` if ``actor`` may manage it; 404 otherwise, so others' accounts stay unseen."""
    require_manager(actor)
    user = session.get(User, user_id)
    if user is None or not (may_manage(actor, user) or (actor.role is Role.ADMIN and user.id == actor.id)):
        raise NotFound(_l("No such account among those you manage."))
    return user


def _check_assignment(actor: User, role: Role, area: Area | None) -> None:
    if role is not Role.ADMIN and area is None:
        raise InvalidInput(_l("Every role but admin needs a scope area."), field="scope")
    if actor.role is Role.ADMIN:
        return
    if role is not Role.OPERATOR:
        raise Forbidden(_l("An editor makes and manages commune operators only."))
    if area is None or not scope.covers(actor, area):
        raise Forbidden(_l("%(area)s is outside your area.", area=area.name if area else "—"))


def _not_self(actor: User, user: User) -> None:
    if actor.id == user.id:
        raise Forbidden(_l("Change your own account on your account page, not here."))


def create(session: Session, actor: User, *, username: str, role: Role, scope_area: Area | None,
           full_name: str = "", email: str | None = None) -> Made:
    require_manager(actor)
    # Several fields wrong: one answer names them all (one alone is refused below, as 422 or 409 as before).
    problems = Problems()
    if role is not Role.ADMIN and scope_area is None:
        problems.add("scope", _l("Every role but admin needs a scope area."))
    if (name_problem := users.username_problem(session, username)) is not None:
        problems.add("username", name_problem)
    email_problem = user_email.problem(session, email)
    if email_problem is not None:
        problems.add("email", email_problem.message)
    if len(problems.found) > 1:
        problems.raise_any()
    _check_assignment(actor, role, scope_area)
    if email_problem is not None:
        raise email_problem
    password = temporary_password()
    while len(username.strip()) >= 3 and username.strip().lower() in password:  # the policy would refuse it
        password = temporary_password()
    user = users.create_user(session, username=username, password=password, role=role, scope_area=scope_area,
                             full_name=full_name, actor=actor, must_change_password=True,
                             email=user_email.normalized(email))
    return Made(user, password)


_UNCHANGED = object()


def update(session: Session, actor: User, user: User, *, role: Role | None = None,
           scope_area: Area | None | object = _UNCHANGED, full_name: str | None = None,
           email: str | None | object = _UNCHANGED) -> User:
    """Change the role, scope area, name or e-mail address; the change applies at the person's next request."""
    _not_self(actor, user)
    new_role = role or user.role
    new_area = user.scope_area if scope_area is _UNCHANGED else scope_area
    # The fields' own problems all in one answer; who may do what is decided before any of them is reported.
    problems = Problems()
    if new_role is not Role.ADMIN and new_area is None:
        problems.add("scope", _l("Every role but admin needs a scope area."))
    if full_name is not None and len(full_name.strip()) > 200:
        problems.add("full_name", _l("A name has at most 200 characters."))
    email_problem = None if email is _UNCHANGED else user_email.problem(session, email, user=user)
    if email_problem is not None:
        problems.add("email", email_problem.message)
    if len(problems.found) > 1:
        problems.raise_any()
    _check_assignment(actor, new_role, new_area)
    if email_problem is not None:
        raise email_problem
    changes = {}
    if new_role is not user.role:
        changes["role"] = [user.role.value, new_role.value]
        user.role = new_role
    if new_area is not user.scope_area:
        changes["scope"] = [user.scope_area.code if user.scope_area else None, new_area.code if new_area else None]
        user.scope_area = new_area
    if full_name is not None and full_name.strip() != user.full_name:
        if len(full_name.strip()) > 200:
            raise InvalidInput(_l("A name has at most 200 characters."), field="full_name")
        changes["full_name"] = [user.full_name, full_name.strip()]
        user.full_name = full_name.strip()
    if email is not _UNCHANGED:
        changes.update(user_email.change(session, user, email))
    if changes:
        record(session, actor, "user.update", "user", user.id, {"username": user.username, **changes})
    user_email.commit(session, changes)
    return user


def deactivate(session: Session, actor: User, user: User) -> User:
    _not_self(actor, user)
    if user.active:
        users.deactivate(session, user, actor=actor)
    return user


def reactivate(session: Session, actor: User, user: User) -> User:
    _not_self(actor, user)
    if not user.active:
        users.reactivate(session, user, actor=actor)
    return user


def reset_two_factor(session: Session, actor: User, user: User) -> None:
    """Remove ``user``'s second factor (a lost phone, no recovery code left): admins only, audited. If their role
    needs one, they are sent to enrol a new phone at their next password login."""
    _not_self(actor, user)
    if actor.role != Role.ADMIN:
        raise Forbidden(_l("Only an administrator can reset a person's two-factor login."))
    two_factor.disable(session, user, actor=actor, reason="reset")


def reset_password(session: Session, actor: User, user: User) -> str:
    """A temporary password for ``user``, which they must change at their next login; their sessions end.
    Their API tokens stay: revoke those by switching the account off if it may have been taken over."""
    _not_self(actor, user)
    password = temporary_password()
    user.password_hash = users.hash_password(password)
    user.must_change_password = True
    user.session_epoch += 1
    record(session, actor, "user.password_reset", "user", user.id, {"username": user.username})
    session.commit()
    return password
