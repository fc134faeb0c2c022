"""Account administration pages: admins manage everyone, editors their area's commune operators.

The same service as the JSON API (broadcast.services.account_admin) decides who may do what and audits it. A
temporary password is shown in the answer to the request that made it, never carried in the session cookie.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, Length

from broadcast.db.models import Area, Level, Role, Structure, User
from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.services import account_admin, areas, scope, user_email
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db
from broadcast.web.form_errors import show_problems
from broadcast.web.helpers import role_label

bp = Blueprint("users_ui", __name__)
MANAGERS = (Role.EDITOR,)  # and admins
NO_AREA = ""


# The area is picked from every commune of the province: a search box narrows the list (searchable_select.js).
AREA_SEARCH = {"data-searchable": True, "data-search-label": _l("Search the areas (tone marks optional)"),
               "data-search-count": _l("Found: {n}"), "data-search-none": _l("No area matches.")}


# Checked by the service (broadcast.services.user_email), whose messages are the same on the API; the input's
# type only brings the phone's e-mail keyboard.
EMAIL_INPUT = {"type": "email", "autocomplete": "email", "inputmode": "email"}


def _email_problem_too(form, user: User | None = None) -> None:
    """The form's own validators refused something, so the service was not asked: say the address's problem
    as well, so that every error is shown at once."""
    if not form.email.errors and (refused := user_email.problem(db(), form.email.data, user=user)) is not None:
        form.email.errors = [*form.email.errors, str(refused.message)]


class AccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(message=_l("Enter a username.")), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    email = StringField(_l("E-mail address"), render_kw=EMAIL_INPUT)
    role = SelectField(_l("Role"))
    scope = SelectField(_l("Area"), render_kw=AREA_SEARCH)


class ChangeForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    email = StringField(_l("E-mail address"), render_kw=EMAIL_INPUT)
    role = SelectField(_l("Role"))
    scope = SelectField(_l("Area"), render_kw=AREA_SEARCH)


def _choices(form, actor: User) -> None:
    roles = list(Role) if actor.role is Role.ADMIN else [Role.OPERATOR]
    form.role.choices = [Choice(role.value, role_label(role)) for role in roles]
    query = select(Area).where(Area.structure == Structure.CURRENT).order_by(Area.path)
    if actor.role is not Role.ADMIN:
        query = query.where(Area.level == Level.COMMUNE)
    indent = {Level.PROVINCE: "", Level.DISTRICT: "— ", Level.COMMUNE: "—— "}
    found = db().scalars(scope.limit_areas(actor, query).limit(2000))
    form.scope.choices = ([Choice(NO_AREA, _("Everything (administrators only)"))] if actor.role is Role.ADMIN
                          else []) + [Choice(a.code, f"{indent[a.level]}{a.name}") for a in found]


def _area(code: str):
    return areas.find_area(db(), code, structure=Structure.CURRENT) if code else None


def _show_error(form, error: DomainError) -> None:
    show_problems(form, error, field_of={"scope_area": "scope"}, default="role")


def _list(form, status: int = 200):
    actor = signed_in_user()
    return render_template("users/list.html", people=account_admin.managed_users(db(), actor), form=form,
                           actor=actor), status


@bp.route("/users")
@role_required(*MANAGERS)
def user_list():
    form = AccountForm(formdata=None)
    _choices(form, signed_in_user())
    return _list(form)


@bp.route("/users", methods=["POST"])
@role_required(*MANAGERS)
def create_user():
    actor = signed_in_user()
    form = AccountForm()
    _choices(form, actor)
    if form.validate_on_submit():
        try:
            made = account_admin.create(db(), actor, username=form.username.data, role=Role(form.role.data),
                                        scope_area=_area(form.scope.data), full_name=form.full_name.data or "",
                                        email=form.email.data)
        except DomainError as error:
            db().rollback()
            _show_error(form, error)
        else:
            return _detail(made.user, temporary_password=made.temporary_password, status=201)
    elif form.is_submitted():
        _email_problem_too(form)
    return _list(form, 422)


def _detail(user: User, *, form=None, temporary_password: str | None = None, status: int = 200):
    actor = signed_in_user()
    if form is None:
        form = ChangeForm(formdata=None, data={"full_name": user.full_name, "email": user.email or "",
                                               "role": user.role.value,
                                               "scope": user.scope_area.code if user.scope_area else NO_AREA})
        _choices(form, actor)
    return render_template("users/detail.html", person=user, form=form, temporary_password=temporary_password,
                           may_manage=account_admin.may_manage(actor, user)), status


@bp.route("/users/<int:user_id>")
@role_required(*MANAGERS)
def user_page(user_id: int):
    return _detail(account_admin.get_managed(db(), signed_in_user(), user_id))


@bp.route("/users/<int:user_id>", methods=["POST"])
@role_required(*MANAGERS)
def change_user(user_id: int):
    actor = signed_in_user()
    user = account_admin.get_managed(db(), actor, user_id)
    form = ChangeForm()
    _choices(form, actor)
    if form.validate_on_submit():
        try:
            account_admin.update(db(), actor, user, role=Role(form.role.data), scope_area=_area(form.scope.data),
                                 full_name=form.full_name.data or "", email=form.email.data)
        except DomainError as error:
            db().rollback()
            _show_error(form, error)
        else:
            flash(_("Saved."), "info")
            return redirect(url_for(".user_page", user_id=user.id), 303)
    elif form.is_submitted():
        _email_problem_too(form, user)
    return _detail(user, form=form, status=422)


@bp.route("/users/<int:user_id>/<any(deactivate, reactivate, password_reset, two_factor_reset):action>",
          methods=["POST"])
@role_required(*MANAGERS)
def user_action(user_id: int, action: str):
    actor = signed_in_user()
    user = account_admin.get_managed(db(), actor, user_id)
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for(".user_page", user_id=user_id), 303)
    try:
        if action == "password_reset":
            return _detail(user, temporary_password=account_admin.reset_password(db(), actor, user))
        if action == "two_factor_reset":
            account_admin.reset_two_factor(db(), actor, user)
            flash(_("Two-factor login is reset: the person logs in with the password alone, or sets it up again."),
                  "info")
        elif action == "deactivate":
            account_admin.deactivate(db(), actor, user)
            flash(_("The account is switched off: its sessions and API tokens stopped working."), "info")
        else:
            account_admin.reactivate(db(), actor, user)
            flash(_("The account is switched on again; its old sessions and tokens stay ended."), "info")
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
    return redirect(url_for(".user_page", user_id=user_id), 303)
