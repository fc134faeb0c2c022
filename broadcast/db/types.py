"""Column types shared by the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, stored in UTC and always returned timezone-aware.

    SQLite keeps no zone and PostgreSQL returns the session's zone; both come back as UTC here, and a
    naive datetime is refused so that local wall-clock times never slip into the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncodedJSON(str):
    """JSON text already encoded (e.g. a playlist's canonical text, hashed for its ETag): stored as it is.

    The engines are made with :func:`json_serializer`, which passes this through instead of encoding a second
    time what the compiler has just encoded; any other value of a JSON column is encoded as usual.
    """

    __slots__ = ()


def json_serializer(value: Any) -> str:
    return value if isinstance(value, EncodedJSON) else json.dumps(value)
