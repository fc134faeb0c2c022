"""A station's token on its page: rotate it with an overlap, or revoke it (editors, for their area's stations).

The new token is shown in the answer to the request that made it, once, and never put in the session cookie.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.validators import InputRequired, NumberRange

from broadcast.db.models import Role
from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.services import stations
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db

bp = Blueprint("station_tokens_ui", __name__)


class RotateForm(FlaskForm):
    overlap_hours = DecimalField(_l("The old token keeps working for (hours)"), default=24, places=None,
                                 validators=[InputRequired(message=_l("Say how long the old token keeps working.")),
                                             NumberRange(0, 7 * 24, message=_l("From 0 to 168 hours."))])


@bp.route("/stations/<code>/token/rotate", methods=["POST"])
@role_required(Role.EDITOR)
def rotate(code: str):
    user = signed_in_user()
    station = stations.get_station(db(), code, user)
    form = RotateForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.overlap_hours.errors) or _("The form expired; try again."), "error")
        return redirect(url_for("stations_ui.station", code=code, _anchor="token-h"), 303)
    try:
        token = stations.rotate_token(db(), station, overlap=timedelta(hours=float(form.overlap_hours.data)),
                                      actor=user)
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
        return redirect(url_for("stations_ui.station", code=code, _anchor="token-h"), 303)
    return render_template("stations/token.html", station=station, token=token), 201


@bp.route("/stations/<code>/token/revoke", methods=["POST"])
@role_required(Role.EDITOR)
def revoke(code: str):
    user = signed_in_user()
    station = stations.get_station(db(), code, user)
    if FlaskForm().validate_on_submit():
        stations.revoke_token(db(), station, actor=user)
        flash(_("The station's tokens are revoked: it cannot connect until it is given a new one."), "info")
    return redirect(url_for("stations_ui.station", code=code, _anchor="token-h"), 303)
