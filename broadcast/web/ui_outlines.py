"""The station map's boundaries (/map/outlines): administrators import their province's GeoJSON, see how many
areas have a real boundary, and can drop them again. Server-rendered; the JSON API does the same
(POST/DELETE /api/v1/area-outlines)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Length, Optional

from broadcast.db.models import Structure
from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.services import area_outlines
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db

bp = Blueprint("outlines_ui", __name__)


class OutlineForm(FlaskForm):
    # Checked by broadcast.services.area_outlines, with the same messages as the API.
    file = FileField(_l("Boundary file (GeoJSON)"), render_kw={"accept": ".geojson,.json,application/geo+json"})
    structure = SelectField(_l("Administrative map of its codes"), choices=[
        Choice(Structure.CURRENT.value, _l("After 1 July 2025 (province, commune)")),
        Choice(Structure.LEGACY.value, _l("Before 1 July 2025 (province, district, commune)"))])
    code_property = StringField(_l("Property holding the codes (optional)"), validators=[Optional(), Length(max=100)],
                                render_kw={"placeholder": "ma_xa"})


class RemoveForm(FlaskForm):
    confirm = BooleanField(_l("Yes, remove every imported boundary of my area"))


def _page(form: OutlineForm, *, status: int = 200, problems: list[str] | None = None):
    user = signed_in_user()
    return render_template("stations/outlines.html", form=form, remove_form=RemoveForm(formdata=None),
                           held=area_outlines.counts(db(), user), problems=problems or []), status


@bp.route("/map/outlines")
@role_required(*area_outlines.IMPORTERS)
def outlines_page():
    return _page(OutlineForm(formdata=None))


@bp.route("/map/outlines", methods=["POST"])
@role_required(*area_outlines.IMPORTERS)
def import_outlines():
    form = OutlineForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    upload = form.file.data
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a GeoJSON file to import.")]
        return _page(form, status=422)
    try:
        report = area_outlines.import_outlines(db(), signed_in_user(), upload.read(), source=upload.filename,
                                               structure=Structure(form.structure.data),
                                               code_property=(form.code_property.data or "").strip() or None)
    except DomainError as error:
        db().rollback()
        field = form.code_property if error.field == "code_property" else form.file
        problems = error.details.get("problems", [])
        # The page lists every wrong boundary below the field; the message above it only counts them.
        field.errors = [_("Nothing was imported: %(n)s boundaries are wrong.", n=error.details["count"])
                        if problems else str(error.message)]
        return _page(form, status=error.status, problems=problems)
    flash(_("Imported %(n)s boundaries (matched by the property %(key)s); the map draws them now.",
            n=report.total, key=report.code_property), "info")
    if report.not_matched:
        flash(_("%(n)s features of the file name no area of this map and were left out: %(names)s",
                n=len(report.not_matched), names=", ".join(report.not_matched[:10])
                + (" …" if len(report.not_matched) > 10 else "")), "warning")
    if report.outside_scope:
        flash(_("%(n)s features lie outside your area and were left out.", n=report.outside_scope), "warning")
    return redirect(url_for("stations_ui.map_page"), 303)


@bp.route("/map/outlines/remove", methods=["POST"])
@role_required(*area_outlines.IMPORTERS)
def remove_outlines():
    form = RemoveForm()
    if not form.validate_on_submit() or not form.confirm.data:
        flash(_("Tick the box to confirm: nothing was removed."), "error")
        return redirect(url_for(".outlines_page"), 303)
    removed = area_outlines.remove(db(), signed_in_user())
    flash(_("Removed %(n)s imported boundaries; the map estimates them from the communes' centres again.",
            n=removed), "info")
    return redirect(url_for(".outlines_page"), 303)
