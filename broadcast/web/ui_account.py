"""A person's own account: their e-mail address, their personal API tokens, and changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange

from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.security import MIN_PASSWORD_LENGTH
from broadcast.services import api_tokens, user_email, users
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


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Name the token, e.g. after the script.")),
                                               Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=api_tokens.DEFAULT_DAYS, validators=[
        NumberRange(1, api_tokens.MAX_DAYS, message=_l("From 1 to %(max)s days.", max=api_tokens.MAX_DAYS))])


class EmailForm(FlaskForm):
    # Checked by broadcast.services.user_email, the same messages as on the account administration pages.
    email = StringField(_l("E-mail address"), render_kw={"type": "email", "autocomplete": "email",
                                                         "inputmode": "email"})


def _account(form: TokenForm, *, new_token: str | None = None, status: int = 200, email_form=None):
    user = signed_in_user()
    if email_form is None:
        email_form = EmailForm(formdata=None, data={"email": user.email or ""})
    return render_template("account/account.html", person=user, tokens=api_tokens.tokens_of(db(), user),
                           token_state=api_tokens.state, form=form, new_token=new_token,
                           email_form=email_form), status


@bp.route("/account")
@login_required
def account_page():
    return _account(TokenForm(formdata=None))


@bp.route("/account/email", methods=["POST"])
@login_required
def change_email():
    """Set or remove one's own address (where an approver hears of an emergency waiting for them)."""
    form = EmailForm()
    if form.validate_on_submit():
        try:
            user_email.change_own(db(), signed_in_user(), form.email.data)
        except DomainError as error:
            db().rollback()
            form.email.errors = [*form.email.errors, str(error.message)]
        else:
            flash(_("Your e-mail address is saved.") if (form.email.data or "").strip()
                  else _("Your e-mail address is removed."), "info")
            return redirect(url_for(".account_page"), 303)
    elif form.is_submitted():
        form.email.errors = [*form.email.errors, _("The form expired; try again.")]
    return _account(TokenForm(formdata=None), email_form=form, status=422)


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            issued = api_tokens.issue(db(), signed_in_user(), form.name.data, days=form.days.data)
        except DomainError as error:
            db().rollback()
            form.name.errors = [*form.name.errors, str(error.message)]
        else:
            # Shown in this answer only: never put in the session cookie, which the browser keeps.
            return _account(TokenForm(formdata=None), new_token=issued.token, status=201)
    return _account(form, status=422)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    user = signed_in_user()
    if FlaskForm().validate_on_submit():
        api_tokens.revoke(db(), user, token_id, actor=user)
        flash(_("The token is revoked: it no longer works."), "info")
    return redirect(url_for(".account_page"), 303)
