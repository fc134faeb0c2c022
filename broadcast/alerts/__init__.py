"""Emergency alerts from other systems (OASIS CAP 1.2): reading them and deciding where and how they would air."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from broadcast.alerts import cap, matching
from broadcast.alerts.cap import CapAlert, CapError
from broadcast.i18n import _l

__all__ = ["CapAlert", "CapError", "ImportPlan", "plan_import"]


@dataclass(frozen=True)
class ImportPlan:
    """What importing an alert would do; nothing is written to make it."""

    alert: CapAlert
    item_class: str
    risk_level: int
    airs: bool
    stations: tuple[str, ...]
    areas: tuple[matching.AreaMatch, ...]

    def as_json(self) -> dict:
        return {
            "identifier": self.alert.identifier,
            "status": self.alert.status,
            "msg_type": self.alert.msg_type,
            "class": self.item_class,
            "risk_level": self.risk_level,
            "airs": self.airs,
            "stations": list(self.stations),
            "areas": [{"description": a.description, "stations": list(a.stations)} for a in self.areas],
        }


def plan_import(session: Session, data: bytes, *, now: datetime) -> ImportPlan:
    """Parse, validate and match one CAP document; raises :class:`CapError` for anything unusable."""
    alert = cap.parse_cap(data)
    cap.check_current(alert, now)
    if alert.msg_type in ("Alert", "Update") and not any(info.areas for info in alert.infos):
        raise CapError("area", _l("The alert %(identifier)s names no <area> to warn.", identifier=alert.identifier))
    areas = matching.match_areas(session, alert)
    stations = sorted({code for match in areas for code in match.stations})
    return ImportPlan(alert=alert, item_class=cap.alert_class(alert), risk_level=cap.alert_risk_level(alert),
                      airs=cap.airs(alert), stations=tuple(stations), areas=tuple(areas))
