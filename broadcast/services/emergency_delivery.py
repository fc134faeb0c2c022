"""Getting emergency commands to stations on every path: MQTT and the HTTP long poll at once, SFTP push soon.

:func:`dispatch` runs right after the commit that created the commands: it wakes the long polls (a generation
file) and publishes each command on its station's MQTT topic (QoS 1). :func:`push_pending` is a job that puts
each command for a push station into the station's inbox over SFTP, with the audio it needs; a command the
station already acknowledged another way is not pushed. Agents act once per command whatever path brings it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.processing import AudioStorage
from broadcast.channels import http_pull, mqtt, sftp
from broadcast.config import Settings
from broadcast.db.models import CommandKind, CommandState, Station, StationCommand
from broadcast.services import commands as command_service
from broadcast.services.emergencies import Outgoing
from broadcast.services.pushing import client_key
from broadcast.storage import audio_store

log = logging.getLogger(__name__)

PUSHED_KINDS = (CommandKind.EMERGENCY, CommandKind.CANCEL_EMERGENCY)


def dispatch(settings: Settings, outgoing: Outgoing) -> int:
    """Wake the long polls and publish on MQTT; returns how many the broker acknowledged (0 without one)."""
    if not outgoing:
        return 0
    http_pull.bump(settings.instance_path, http_pull.COMMANDS)
    if not settings.mqtt_url:
        return 0
    return mqtt.publish_commands(settings.mqtt_url, outgoing.commands, topic_prefix=settings.mqtt_topic_prefix)


@dataclass(frozen=True)
class _Job:
    command_id: int
    target: sftp.SftpTarget
    body: bytes
    audio: tuple[sftp.LocalAudio, ...]


def push_pending(session: Session, settings: Settings, *, now: datetime) -> tuple[int, int]:
    """Push every live emergency command of a push station not pushed yet; returns (pushed, failed)."""
    store = audio_store(settings)
    jobs: list[_Job] = []
    failed = 0
    found = session.execute(
        select(StationCommand, Station).join(Station, StationCommand.station_id == Station.id)
        .where(StationCommand.kind.in_(PUSHED_KINDS), StationCommand.pushed_at.is_(None),
               StationCommand.push_error.is_(None),
               StationCommand.state.in_([CommandState.PENDING, CommandState.DELIVERED]),
               StationCommand.expires_at > now, Station.sftp_push.is_(True), Station.active.is_(True))
        .order_by(StationCommand.id)).all()
    for command, station in found:
        job, problem = _prepare(command, station, store)
        if problem:
            command.push_error = problem
            failed += 1
        else:
            jobs.append(job)
    session.commit()  # no transaction open during the network work
    if not jobs:
        return 0, failed
    key = client_key(settings)

    def one(job: _Job) -> Exception | None:
        try:
            sftp.push_command(job.target, key, f"{job.command_id}.json", job.body, job.audio,
                              timeout=settings.delivery_timeout_s)
        except Exception as exc:  # noqa: BLE001 - each station's outcome is recorded, whatever it is
            log.warning("emergency push to %s failed: %s", job.target.address, exc)
            return exc
        return None

    with ThreadPoolExecutor(max_workers=settings.delivery_concurrency, thread_name_prefix="sftp-alert") as pool:
        outcomes = list(pool.map(one, jobs))
    pushed = 0
    for job, outcome in zip(jobs, outcomes, strict=True):
        command = session.get(StationCommand, job.command_id)
        if outcome is None:
            command.pushed_at, pushed = now, pushed + 1
        elif isinstance(outcome, sftp.HostKeyMismatch):
            command.push_error = str(outcome)  # no retry: someone must check the box and re-pin
            command.station.host_key_mismatch = True
            failed += 1
        else:
            failed += 1  # left unpushed: the next run tries again while the command lives
    session.commit()
    if pushed or failed:
        log.info("emergency SFTP push: %d pushed, %d failed", pushed, failed)
    return pushed, failed


def _prepare(command: StationCommand, station: Station, store: AudioStorage) -> tuple[_Job | None, str | None]:
    if station.host_key_mismatch:
        return None, "host key mismatch: re-pin the station's host key first"
    if not (station.ssh_host and station.ssh_user and station.ssh_remote_dir and station.ssh_host_key):
        return None, "the station lacks SSH host, user, remote folder or pinned host key"
    audio: Iterable[sftp.LocalAudio] = ()
    if command.kind is CommandKind.EMERGENCY:
        sha, size = command.args["sha256"], command.args["size"]
        path = store.path_for(sha)
        if not path.is_file():
            return None, f"audio {sha} is not in the server's store"
        audio = (sftp.LocalAudio(sha, size, path),)
    target = sftp.SftpTarget(station.ssh_host, station.ssh_port, station.ssh_user, station.ssh_remote_dir,
                             station.ssh_host_key)
    body = json.dumps(command_service.wire(command), ensure_ascii=False).encode()
    return _Job(command.id, target, body, tuple(audio)), None
