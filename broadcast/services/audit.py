"""Writing the audit log, inside the caller's unit of work so it lands with the change it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broadcast.db.models import AuditLog, User


def record(session: Session, actor: User | str, action: str, entity_type: str, entity_id: Any = None,
           details: dict | None = None) -> AuditLog:
    user = actor if isinstance(actor, User) else None
    entry = AuditLog(user_id=user.id if user else None, actor=user.username if user else str(actor), action=action,
                     entity_type=entity_type, entity_id=None if entity_id is None else str(entity_id),
                     details=details or {})
    session.add(entry)
    return entry
