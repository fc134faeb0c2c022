"""Two-factor login in the browser: the second step of a password login, and enrolling from the account page.

A correct password of a person with a second factor starts no session. The browser is given only a signed
marker (``PENDING``: the user, their session epoch, where to go next) that expires after PENDING_MAX_AGE_S;
the session proper (broadcast.web.sessions.begin) starts when a code passes. A marker whose epoch is no longer
the user's (a new password, deactivation, logout everywhere) is worthless. Code attempts are throttled per
account (broadcast.web.login_throttle.admit_code), and every failure gets the same answer.

A person whose role TOTP_REQUIRED_ROLES names and who has no second factor yet gets a session after the
password, marked ``ENROL_FIRST``: like a temporary password (broadcast.web.auth), it then opens only the
enrolment page (pages are redirected there, the API answers 403). Logins through the identity provider
(broadcast.web.sso) never set that mark nor ask for a code: the provider's own second factor applies.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from broadcast.db.models import User
from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.security import check_password
from broadcast.services import two_factor
from broadcast.services.audit import record
from broadcast.web import login_throttle, sessions
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db, settings

bp = Blueprint("two_factor", __name__)

PENDING = "_2fa_pending"  # the signed half-login marker, in the cookie; not a session (no user is logged in)
PENDING_MAX_AGE_S = 300
ENROL_FIRST = "_2fa_enrol_first"
ENROL_SECRET = "_2fa_new_secret"  # noqa: S105 (a session key) the secret being enrolled, until a code confirms it
# What a person who must enrol first may still do (a temporary password is changed first, broadcast.web.auth).
WHILE_ENROLLING = {"two_factor.manage", "two_factor.qr", "ui.logout", "ui.set_language", "auth.logout", "auth.me",
                   "account_ui.change_password", "auth.change_password", "static"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="two-factor-login")


def ask_for_code(user: User, next_url: str) -> Response:
    """After the right password of an enrolled user: no session yet, only the marker, and the code page."""
    sessions.forget()  # whatever this browser was logged in as ends here
    session[PENDING] = _serializer().dumps({"user": user.id, "epoch": user.session_epoch, "next": next_url})
    return redirect(url_for("two_factor.code"), 303)


def begin_password_session(user: User, next_url: str) -> Response:
    """After the right password of a user without a second factor: the session, or enrolment first."""
    sessions.begin(user)
    if two_factor.must_enrol(user, settings().totp_required_roles):
        session[ENROL_FIRST] = True
        flash(_("Your role needs two-factor login: set it up now to continue."), "info")
        return redirect(url_for("two_factor.manage"), 303)
    return redirect(next_url)


def enrolment_due(user: User) -> bool:
    """Whether this cookie session may do nothing but enrol (see the module's doc)."""
    return bool(session.get(ENROL_FIRST)) and two_factor.must_enrol(user, settings().totp_required_roles)


def _pending() -> tuple[User, str] | None:
    token = session.get(PENDING)
    if not token:
        return None
    try:
        marker = _serializer().loads(token, max_age=PENDING_MAX_AGE_S)
    except BadSignature:  # SignatureExpired included
        return None
    user = db().get(User, marker["user"])
    if user is None or not user.active or user.session_epoch != marker["epoch"] or not two_factor.is_enrolled(user):
        return None
    return user, marker["next"]


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Enter the code."))])


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    pending = _pending()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Log in with your password first (a login waits at most 5 minutes for its code)."), "info")
        return redirect(url_for("ui.login"), 303)
    user, next_url = pending
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            login_throttle.admit_code(user.username)
        except login_throttle.LoginThrottled as throttled:
            form.code.errors.append(str(throttled.message))
            return render_template("login_code.html", form=form), throttled.status, throttled.headers
        if two_factor.verify(db(), user, form.code.data):
            login_throttle.code_succeeded(user.username)
            session.pop(PENDING, None)
            sessions.begin(user)
            return redirect(next_url, 303)
        form.code.errors.append(_("Wrong code."))  # wrong, replayed or a used recovery code alike
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("login_code.html", form=form), status


class ConfirmForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(message=_l("Enter the code."))])


class ProofForm(FlaskForm):
    proof = PasswordField(_l("Your password, or a code from the app"),
                          validators=[DataRequired(message=_l("Enter your password or a code."))])


def _proved(user: User, proof: str) -> bool:
    # Counted like codes at login, so a borrowed session cannot be used to guess the password or codes here.
    login_throttle.admit_code(user.username)
    return check_password(user.password_hash, proof) or two_factor.verify(db(), user, proof)


def _page(user: User, *, confirm: ConfirmForm | None = None, proof: ProofForm | None = None, status: int = 200):
    secret = None
    if not two_factor.is_enrolled(user):
        secret = session.get(ENROL_SECRET) or two_factor.new_secret()
        session[ENROL_SECRET] = secret
    return render_template(
        "account/two_factor.html", person=user, secret=secret, forced=enrolment_due(user),
        codes_left=two_factor.recovery_codes_left(db(), user) if secret is None else 0,
        confirm=confirm or ConfirmForm(formdata=None), proof=proof or ProofForm(formdata=None)), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def manage():
    """The state of the person's second factor; when they have none, enrolment (the QR code and a code box)."""
    user = signed_in_user()
    form = ConfirmForm()
    if two_factor.is_enrolled(user) or not form.validate_on_submit():
        return _page(user, confirm=form if form.is_submitted() else None, status=422 if form.is_submitted() else 200)
    secret = session.get(ENROL_SECRET)
    if not secret:
        return redirect(url_for(".manage"), 303)
    try:
        codes = two_factor.enrol(db(), user, secret, form.code.data)
    except DomainError as error:
        form.code.errors = [*form.code.errors, str(error.message)]
        return _page(user, confirm=form, status=422)
    session.pop(ENROL_SECRET, None)
    session.pop(ENROL_FIRST, None)
    return _recovery_codes_page(codes, enrolled=True)


def _recovery_codes_page(codes: list[str], *, enrolled: bool) -> Response:
    response = make_response(render_template("account/recovery_codes.html", codes=codes, enrolled=enrolled), 201)
    response.headers["Cache-Control"] = "no-store"  # shown this once: not to be kept by the browser either
    return response


@bp.route("/account/two-factor/qr.svg")
@login_required
def qr():
    user = signed_in_user()
    secret = session.get(ENROL_SECRET)
    if two_factor.is_enrolled(user) or not secret:
        return Response(status=404)
    response = Response(two_factor.qr_svg(two_factor.provisioning_uri(secret, user.username)),
                        mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate():
    user = signed_in_user()
    form = ProofForm()
    if not two_factor.is_enrolled(user):
        return redirect(url_for(".manage"), 303)
    try:
        if form.validate_on_submit() and _proved(user, form.proof.data):
            return _recovery_codes_page(two_factor.regenerate_recovery_codes(db(), user), enrolled=False)
    except login_throttle.LoginThrottled as throttled:
        form.proof.errors = [str(throttled.message)]
        return _refused(user, form, throttled.status)
    return _refused(user, form)


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
def disable():
    user = signed_in_user()
    form = ProofForm()
    if not two_factor.is_enrolled(user):
        return redirect(url_for(".manage"), 303)
    try:
        proved = form.validate_on_submit() and _proved(user, form.proof.data)
    except login_throttle.LoginThrottled as throttled:
        form.proof.errors = [str(throttled.message)]
        return _refused(user, form, throttled.status)
    if proved:
        two_factor.disable(db(), user, actor=user)
        if two_factor.must_enrol(user, settings().totp_required_roles):
            session[ENROL_FIRST] = True  # their role needs one: on to enrolling a new phone at once
        flash(_("Two-factor login is off. Your authenticator app and recovery codes no longer work here."), "info")
        return redirect(url_for(".manage"), 303)
    return _refused(user, form)


def _refused(user: User, form: ProofForm, status: int = 422):
    if form.is_submitted() and not form.proof.errors:
        record(db(), user, "user.two_factor.proof_failed", "user", user.id)
        db().commit()
        form.proof.errors = [_("Wrong password or code.")]
    return _page(user, proof=form, status=status)
