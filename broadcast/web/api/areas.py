"""The administrative area tree, as far as the caller's scope reaches."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from broadcast.db.models import Area, Structure
from broadcast.services import areas, scope
from broadcast.services.admin_data import fold
from broadcast.web.api.schemas import AreaQuerySchema, AreaSchema, AreaStatsSchema
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas", description="Administrative areas")


@blp.route("")
@blp.arguments(AreaQuerySchema, location="query")
@blp.response(200, AreaSchema(many=True))
@login_required
def list_areas(args):
    user = signed_in_user()
    query = scope.limit_areas(user, select(Area))
    for name in ("structure", "level", "parent_id"):
        if name in args:
            query = query.where(getattr(Area, name) == args[name])
    found = list(db().scalars(query.order_by(Area.path)))
    if "q" in args:
        wanted = fold(args["q"])
        found = [a for a in found if wanted in fold(a.name)]
    return found


@blp.route("/stats")
@blp.response(200, AreaStatsSchema(many=True))
@login_required
def stats():
    return [{"structure": s.value, "counts": areas.level_counts(db(), s)} for s in Structure]


@blp.route("/<int:area_id>")
@blp.response(200, AreaSchema)
@login_required
def get_area(area_id: int):
    area = areas.get_area(db(), area_id)
    scope.require_area(signed_in_user(), area)
    return area
