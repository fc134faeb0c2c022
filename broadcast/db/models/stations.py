"""Loudspeaker stations: where they are, how they receive playlists, and how they last reported."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .areas import Area
from .base import Base, Timestamped, str_enum


class StationStatus(enum.StrEnum):
    UNKNOWN = "unknown"  # never heard from
    ONLINE = "online"
    PLAYING = "playing"
    OFFLINE = "offline"


class Station(Timestamped, Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    speakers: Mapped[int] = mapped_column(default=0, doc="loudspeaker clusters driven by this station")
    active: Mapped[bool] = mapped_column(default=True)
    # None: the zone of the commune, else the service's default.
    timezone: Mapped[str | None] = mapped_column(String(64))

    # Delivery modes; a station may have both.
    http_pull: Mapped[bool] = mapped_column(default=True)
    sftp_push: Mapped[bool] = mapped_column(default=False)
    ssh_host: Mapped[str | None] = mapped_column(String(255))
    ssh_port: Mapped[int] = mapped_column(default=22)
    ssh_user: Mapped[str | None] = mapped_column(String(64))
    ssh_remote_dir: Mapped[str | None] = mapped_column(String(255))
    # The pinned host key, "ssh-ed25519 AAAA...": a push to a host showing another key is refused.
    ssh_host_key: Mapped[str | None] = mapped_column(Text)
    host_key_mismatch: Mapped[bool] = mapped_column(default=False)

    # SHA-256 of the station's bearer token (tokens are long random secrets; see DESIGN.md).
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[datetime | None]
    # After a rotation the replaced token keeps working until this time, so the agent can be given the new one.
    previous_token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    previous_token_expires_at: Mapped[datetime | None]

    status: Mapped[StationStatus] = mapped_column(str_enum(StationStatus), default=StationStatus.UNKNOWN)
    last_contact_at: Mapped[datetime | None]
    installed_version: Mapped[int | None]
    agent_version: Mapped[str | None] = mapped_column(String(40))
    disk_free_bytes: Mapped[int | None]
    volume: Mapped[int | None]

    commune: Mapped[Area] = relationship()

    @property
    def delivery_modes(self) -> list[str]:
        return [mode for mode, on in (("http-pull", self.http_pull), ("sftp-push", self.sftp_push)) if on]

    def __repr__(self) -> str:
        return f"<Station {self.code}>"
