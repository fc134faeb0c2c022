"""Work handed to the task queue (``TASK_BROKER_URL``) and not yet finished."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class QueuedTask(Base):
    """One piece of work sent to the queue, by what it is about (``render:42``, ``push:7``).

    The row is written before the message is sent and removed in the same transaction as the work's result,
    so the scheduler never sends the same work twice while a message for it is queued or being worked on,
    and a message redelivered after its worker died finds the work either still to do or already done.
    A row older than the queue's redelivery horizon is taken as lost (a broker that lost its messages) and
    the work is sent again.
    """

    __tablename__ = "queued_tasks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent: Mapped[int] = mapped_column(default=1)
