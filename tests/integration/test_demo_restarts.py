"""Starting scripts/run again and again leaves the demo as it was: no second copy of its sessions or bulletins.

The seed adds only what is missing, and the short demo session each start schedules a minute ahead is the same
session moved to the new time, with its one placement, not a new one each time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from broadcast.db.models import NewsItem, Placement, Slot
from broadcast.services import demo

FIRST_START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội


def counts(session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count(Slot.id))), session.scalar(select(func.count(NewsItem.id))),
            session.scalar(select(func.count(Placement.id))))


def test_seeding_and_the_demo_session_again_add_nothing(app):
    settings = app.extensions["settings"]
    with app.app_context(), app.extensions["database"].sessions() as session:
        today = FIRST_START.astimezone(settings.zone).date()
        list(demo.seed(session, today))
        demo.live_session(session, settings, now=FIRST_START, lead_s=45)
        after_first = counts(session)

        # The next start, on another day: the seed reports nothing new and the demo session moves.
        later = FIRST_START + timedelta(days=1, hours=2)
        assert list(demo.seed(session, later.astimezone(settings.zone).date())) == []
        said = demo.live_session(session, settings, now=later, lead_s=45)
        assert "10:00:45" in said
        assert counts(session) == after_first

        session.expire_all()
        moved = session.scalars(select(Slot).where(Slot.name == demo.DEMO_LIVE_SLOT)).one()
        assert moved.start_time == time(10, 0, 45)
        assert moved.valid_from == moved.valid_until == later.astimezone(settings.zone).date()
        placed = session.scalars(select(Placement).where(Placement.slot_id == moved.id)).one()
        assert placed.date_from == placed.date_until == moved.valid_from
