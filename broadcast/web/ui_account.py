"""A person's own account: changing their password (and their personal API tokens, see ui_tokens)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.security import MIN_PASSWORD_LENGTH
from broadcast.services import users
from broadcast.web import sessions
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db

bp = Blueprint("account_ui", __name__)


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Enter the new password."))])
    repeat = PasswordField(_l("New password again"), validators=[
        EqualTo("new_password", message=_l("The two new passwords differ."))])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = signed_in_user()
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            users.change_password(db(), user, current=form.current_password.data, new=form.new_password.data)
        except DomainError as error:
            db().rollback()
            field = getattr(form, error.field or "", None) or form.new_password
            field.errors = [*field.errors, str(error.message)]
        else:
            sessions.begin(user)  # the change ended every session, this one included: carry on in a new one
            flash(_("Your password has been changed. Your other sessions have ended."), "info")
            return redirect(url_for("ui.dashboard"), 303)
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("account/password.html", form=form, min_length=MIN_PASSWORD_LENGTH,
                           forced=user.must_change_password), status
