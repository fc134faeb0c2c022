"""The SFTP push job: send queued manifest versions to push stations, retry failures, flag host-key changes.

The database transaction is closed before any network work: a push to a slow 3G station may take minutes,
and nothing should hold the database meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paramiko
from sqlalchemy.orm import Session

from audio.processing import AudioStorage
from broadcast.channels import sftp
from broadcast.channels.retry import RetryPolicy
from broadcast.config import Settings
from broadcast.db.models import Delivery, DeliveryState, StationManifest
from broadcast.services import deliveries
from broadcast.storage import audio_store
from stations import manifest as wire

log = logging.getLogger(__name__)

# Audio the new manifest no longer names stays a day on the station: it may be playing right now.
KEEP_UNREFERENCED_S = 24 * 3600


def client_key(settings: Settings) -> paramiko.Ed25519Key:
    """The service's SSH key, made on first use (mode 600, written aside and renamed into place)."""
    path = settings.resolved_ssh_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.replace(temporary, path)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


def public_key_line(settings: Settings) -> str:
    """The line to put into each push station's ``authorized_keys``."""
    key = client_key(settings)
    return f"{key.get_name()} {key.get_base64()} commune-radio"


@dataclass
class PushRun:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    audio_bytes: int = 0


@dataclass
class _Job:
    delivery_id: int
    target: sftp.SftpTarget
    manifest: bytes
    audio: list[sftp.LocalAudio]


def push_due(session: Session, settings: Settings, *, now: datetime, rng: random.Random | None = None,
             delivery_ids: Iterable[int] | None = None) -> PushRun:
    """Push every due SFTP delivery (queued, or failed with its retry time come), ``delivery_concurrency`` at
    once; record each outcome. ``delivery_ids`` narrows it to these (a task queue's worker pushing its own)."""
    run = PushRun()
    policy = RetryPolicy(settings.delivery_retry_base_s, settings.delivery_retry_cap_s,
                         settings.delivery_max_attempts)
    store = audio_store(settings)
    jobs: list[_Job] = []
    due = deliveries.due_pushes(session, now, delivery_ids=delivery_ids)
    for delivery in due:
        job = _prepare(session, delivery, store, policy, now, run)
        if job is not None:
            jobs.append(job)
    session.commit()  # close the transaction before the network work
    if not jobs:
        return run
    outcomes = sftp.push_many([(j.target, j.manifest, j.audio) for j in jobs], client_key(settings),
                              concurrency=settings.delivery_concurrency, timeout=settings.delivery_timeout_s,
                              keep_unreferenced_s=KEEP_UNREFERENCED_S)
    for job, outcome in zip(jobs, outcomes, strict=True):
        delivery = session.get(Delivery, job.delivery_id)
        if delivery is None or delivery.state not in deliveries.OPEN:
            continue  # superseded or verified while we pushed
        delivery.attempts += 1
        if isinstance(outcome, sftp.PushResult):
            delivery.state, delivery.sent_at, delivery.next_retry_at = DeliveryState.SENT, now, None
            delivery.last_error, delivery.bytes_sent = None, outcome.uploaded_bytes
            run.sent += 1
            run.audio_bytes += outcome.audio_bytes
        elif isinstance(outcome, sftp.HostKeyMismatch):
            # Retrying cannot help and may feed an impostor: stop until someone checks the box and re-pins.
            delivery.state, delivery.last_error, delivery.next_retry_at = DeliveryState.FAILED, str(outcome), None
            delivery.station.host_key_mismatch = True
            run.failed += 1
        else:
            _failed(delivery, str(outcome), policy, now)
            run.failed += 1
    session.commit()
    log.info("SFTP push: %d sent, %d failed, %d superseded", run.sent, run.failed, run.superseded)
    return run


def _prepare(session: Session, delivery: Delivery, store: AudioStorage, policy: RetryPolicy, now: datetime,
             run: PushRun) -> _Job | None:
    station = delivery.station
    current = session.get(StationManifest, station.id)
    if current is None or current.version != delivery.manifest_version:
        delivery.state, delivery.next_retry_at = DeliveryState.SUPERSEDED, None
        run.superseded += 1
        return None
    if station.host_key_mismatch:
        delivery.state, delivery.next_retry_at = DeliveryState.FAILED, None
        delivery.last_error = "host key mismatch: re-pin the station's host key first"
        run.failed += 1
        return None
    if not (station.ssh_host and station.ssh_user and station.ssh_remote_dir and station.ssh_host_key):
        delivery.state, delivery.next_retry_at = DeliveryState.FAILED, None
        delivery.last_error = "the station lacks SSH host, user, remote folder or pinned host key"
        run.failed += 1
        return None
    audio: dict[str, sftp.LocalAudio] = {}
    for day in json.loads(current.body)["days"]:
        for entry in day["entries"]:
            for named in wire.entry_audio(entry):  # a relay names its fallback filler (or nothing)
                sha, size = named["sha256"], named["size"]
                path: Path = store.path_for(sha)
                if not path.is_file():
                    # Rendering may still be writing it: a retry soon will find it.
                    _failed(delivery, f"audio {sha} is not in the server's store yet", policy, now)
                    run.failed += 1
                    return None
                audio[sha] = sftp.LocalAudio(sha, size, path)
    target = sftp.SftpTarget(station.ssh_host, station.ssh_port, station.ssh_user, station.ssh_remote_dir,
                             station.ssh_host_key)
    return _Job(delivery.id, target, current.body.encode("utf-8"), list(audio.values()))


def _failed(delivery: Delivery, reason: str, policy: RetryPolicy, now: datetime) -> None:
    delivery.state, delivery.last_error = DeliveryState.FAILED, reason
    delivery.attempts = max(delivery.attempts, 1)
    delivery.next_retry_at = policy.next_retry(delivery.attempts, now)
