"""Emergency broadcasts: a warning that airs at once on the stations of chosen areas, and what each station did.

Circular 39/2020/TT-BTTTT: emergency bulletins air at once, interrupting the schedule. Decision 18/2021/QĐ-TTg:
every disaster warning carries a risk level from 1 to 5. The audio is an emergency-class news item's (speech or
an uploaded recording), so the editor's usual tools read, normalize and check it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, Timestamped, str_enum
from .content import NewsItem
from .delivery import StationCommand
from .stations import Station
from .users import User


class EmergencyState(enum.StrEnum):
    PENDING = "pending"  # waiting for a second person to approve it (the two-person rule)
    ISSUED = "issued"  # sent to its stations; it airs until done or expired
    REJECTED = "rejected"  # the approver said no: nothing was sent
    CANCELLED = "cancelled"  # withdrawn after issue (by a person, or by a CAP Cancel/Update)
    TEST = "test"  # a CAP Exercise or Test message: kept and shown, never aired


emergency_areas = Table(
    "emergency_areas",
    Base.metadata,
    Column("broadcast_id", Integer, ForeignKey("emergency_broadcasts.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", Integer, ForeignKey("areas.id", ondelete="RESTRICT"), primary_key=True),
)


class EmergencyBroadcast(Timestamped, Base):
    """One warning: its item (audio), where it goes, how loud the danger is, how often it repeats, until when."""

    __tablename__ = "emergency_broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="RESTRICT"), index=True)
    risk_level: Mapped[int] = mapped_column(doc="1-5, Decision 18/2021/QĐ-TTg")
    repeat_count: Mapped[int] = mapped_column(default=1, doc="how many times it airs in all")
    repeat_interval_s: Mapped[int] = mapped_column(default=0, doc="from one airing's start to the next")
    expires_at: Mapped[datetime]
    state: Mapped[EmergencyState] = mapped_column(str_enum(EmergencyState), default=EmergencyState.PENDING,
                                                  index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text, doc="why it was rejected or cancelled")
    # Where it came from: a person here ("manual") or a CAP 1.2 alert from another system ("cap").
    source: Mapped[str] = mapped_column(String(10), default="manual")
    cap_identifier: Mapped[str | None] = mapped_column(String(250), unique=True)
    cap_sender: Mapped[str | None] = mapped_column(String(250))
    cap_sent: Mapped[datetime | None]
    cap_xml: Mapped[str | None] = mapped_column(Text, doc="the alert as received, kept for the record")
    # A CAP Update replaces an earlier broadcast: that one is cancelled and this one names it.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_broadcasts.id", ondelete="SET NULL"))

    item: Mapped[NewsItem] = relationship()
    areas: Mapped[list[Area]] = relationship(secondary=emergency_areas, order_by=Area.path)
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    replaces: Mapped[EmergencyBroadcast | None] = relationship(remote_side=[id])

    @property
    def title(self) -> str:
        return self.item.title


class EmergencyTarget(Base):
    """One station an issued broadcast went to: the command that carries it there, and how often it was sent.

    What the station did is read from that command's acknowledgement (received) and from its as-run events for
    the broadcast's airings (played or failed), so the tracking never disagrees with the as-run log.
    """

    __tablename__ = "emergency_targets"
    __table_args__ = (UniqueConstraint("broadcast_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("emergency_broadcasts.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    command_id: Mapped[int | None] = mapped_column(ForeignKey("station_commands.id", ondelete="SET NULL"))
    sends: Mapped[int] = mapped_column(default=1, doc="1 + how many times it was re-sent to a straggler")
    last_sent_at: Mapped[datetime]

    station: Mapped[Station] = relationship()
    command: Mapped[StationCommand | None] = relationship()
