"""Delivery status per station: last contact, installed vs current version, failures needing attention."""

from __future__ import annotations

from datetime import timedelta

from flask_smorest import Blueprint

from broadcast.services import areas, deliveries
from broadcast.web.api.sync_schemas import DeliveryQuerySchema, StationDeliverySchema
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import utc_now

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1", description="What reached each station")


@blp.route("/deliveries")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, StationDeliverySchema(many=True))
@login_required
def delivery_status(args):
    """Stations in your area (or the given one); with attention=true only those someone must look at."""
    area = areas.find_area(db(), args["area"]) if "area" in args else None
    return deliveries.delivery_status(db(), signed_in_user(), area=area, attention_only=args["attention"],
                                      now=utc_now(), silence=timedelta(seconds=settings().station_offline_after_s),
                                      zone=settings().zone)
