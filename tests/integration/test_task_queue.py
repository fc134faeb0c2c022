"""Work on a real task queue: real ``flask jobs worker`` processes over a real broker (RabbitMQ; Redis too).

The scheduler's side (``broadcast.jobs.dispatch``) runs in the test; workers are separate processes, each in
its own process group with its output in a log file, killed at the end of the test whatever happens. Each
test has a queue of its own on the broker, deleted at the end.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from kombu import Connection
from sqlalchemy import func, select

from broadcast import load_settings
from broadcast.db.models import (
    AuditLog,
    CompileRequest,
    Delivery,
    DeliveryState,
    NewsItem,
    QueuedTask,
    RenderState,
    Station,
    StationManifest,
)
from broadcast.jobs import dispatch, queue
from broadcast.services import users
from tests.services import free_port, port_open, unavailable
from tests.sshd import Sshd

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
RABBITMQ = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS = os.environ.get("TEST_REDIS_BROKER_URL", "redis://127.0.0.1:6379/7")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Long enough that reading it aloud takes seconds: the test kills its worker while espeak-ng or ffmpeg runs.
LONG_BODY = " ".join(["Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia súc, gia cầm trên địa bàn."] * 400)


def _reachable(url: str) -> None:
    parsed = urlsplit(url)
    port = parsed.port or (5672 if parsed.scheme.startswith("amqp") else 6379)
    if not port_open(parsed.hostname or "127.0.0.1", port):
        unavailable(f"no {parsed.scheme} broker at {parsed.hostname}:{port}")


@pytest.fixture
def broker(request) -> str:
    """RabbitMQ, the broker for the guarantees below; Redis where a test asks for it too."""
    url = REDIS if getattr(request, "param", "rabbitmq") == "redis" else RABBITMQ
    _reachable(url)
    return url


BOTH_BROKERS = pytest.mark.parametrize("broker", ["rabbitmq", "redis"], indirect=True)


@pytest.fixture
def settings(tmp_path, database, broker, request):
    queue_name = f"test-{uuid.uuid4().hex[:12]}"
    yield load_settings(instance_path=tmp_path / "instance", database_url=database.url, task_broker_url=broker,
                        task_queue=queue_name)
    with suppress(Exception), Connection(broker, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(queue_name)


class Worker:
    """One ``flask jobs worker`` process, leader of its own process group, logging to a file."""

    def __init__(self, proc: subprocess.Popen, log: Path):
        self.proc, self.log = proc, log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while needle not in self.text():
            if self.proc.poll() is not None:
                pytest.fail(f"the worker exited with {self.proc.returncode} before logging {needle!r}:\n"
                            f"{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not log {needle!r} within {limit_s} s:\n{self.text()[-4000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool, as when its machine or container dies."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextmanager
def workers(tmp_path: Path, settings, **extra: str) -> Iterator[Callable[[str], Worker]]:
    started: list[Worker] = []
    env = dict(os.environ)
    for name in ("AUDIO_DIR", "AUDIO_STORE_URL", "SECRET_KEY", "MQTT_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(INSTANCE_PATH=str(settings.instance_path), DATABASE_URL=settings.resolved_database_url,
               TASK_BROKER_URL=settings.task_broker_url, TASK_QUEUE=settings.task_queue, PYTHONUNBUFFERED="1",
               **extra)

    def start(name: str) -> Worker:
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(FLASK), "--app", "broadcast", "jobs", "worker", "--concurrency", "1"],
                                    cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        started.append(Worker(proc, log))
        started[-1].wait_for("ready.", 60)
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


def until(check: Callable[[], object], limit_s: float, what: str):
    deadline = time.monotonic() + limit_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {limit_s} s"
        time.sleep(0.2)
    return result


def _descendant_commands(pid: int) -> list[str]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, level = [], {pid}
    while level:
        level = {child for child, parent in parents.items() if parent in level}
        for child in level:
            with suppress(OSError):
                found.append((Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


@pytest.fixture
def people(seeded):
    with seeded.extensions["database"].sessions() as session:
        return {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name), "t")}
                for name in ("bientap", "pheduyet")}


@pytest.fixture
def place(client, people) -> Callable[[str], int]:
    """Places a new approved item, read aloud from ``body``, in an evening slot of province 08 from today on
    (the workers compile at the real time); returns the item's id."""
    today = datetime.now(ZONE).date()
    slot = client.post("/api/v1/slots", headers=people["bientap"], json={
        "name": "Buổi tối", "area": "08", "start_time": "23:59", "duration_s": 3600 * 3,
        "valid_from": today.isoformat(), "rrule": "FREQ=DAILY"})
    assert slot.status_code == 201, slot.json

    def place_item(body: str) -> int:
        item = client.post("/api/v1/items", json={"title": "Tiêm phòng", "body": body},
                           headers=people["bientap"]).json
        assert client.post(f"/api/v1/items/{item['id']}/submit", headers=people["bientap"]).status_code == 200
        assert client.post(f"/api/v1/items/{item['id']}/approve", headers=people["pheduyet"]).status_code == 200
        placed = client.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": item["id"], "slot_id": slot.json["id"], "targets": ["08"], "date_from": today.isoformat(),
            "date_until": (today + timedelta(days=2)).isoformat()})
        assert placed.status_code == 201, placed.json
        return item["id"]

    return place_item


def _render_state(database, item_id: int) -> RenderState:
    with database.sessions() as session:
        return session.get(NewsItem, item_id).render_state


def _queued(database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(QueuedTask.key)))


def _waiting_messages(settings, expected: int | None = None) -> int:
    """How many messages wait in the queue; with ``expected``, asked again for a while until it is reached
    (RabbitMQ counts a message just published a moment later)."""
    deadline = time.monotonic() + 15
    while True:
        with Connection(settings.task_broker_url, connect_timeout=5) as connection:
            if settings.task_broker_url.startswith("redis"):
                count = connection.default_channel.client.llen(settings.task_queue)
            else:
                count = connection.default_channel.queue_declare(settings.task_queue, passive=True).message_count
        if expected is None or count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


@BOTH_BROKERS
def test_the_worker_reads_an_item_aloud_and_recompiles_its_stations(seeded, place, settings, tmp_path):
    database = seeded.extensions["database"]
    item_id = place("Xã tổ chức tiêm phòng vào sáng thứ Hai.")
    assert _render_state(database, item_id) is RenderState.PENDING
    with database.sessions() as session:
        before = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
    with workers(tmp_path, settings) as start:
        worker = start("one")
        with database.sessions() as session:
            assert dispatch.renders(session, settings, now=datetime.now(UTC)) == 1
        until(lambda: _render_state(database, item_id) is RenderState.READY, 60, "the render")
        until(lambda: not _queued(database), 10, "the task's row going")
        worker.wait_for("succeeded", 10)
    with database.sessions() as session:
        after = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
        item = session.get(NewsItem, item_id)
        assert item.audio_asset.duration_ms > 1000
    # Its stations got playlists with the real audio in them.
    changed = [s for s, v in after.items() if v > before.get(s, 0)]
    assert changed, "no station was recompiled after the render"


@BOTH_BROKERS
def test_work_is_sent_once_while_queued_and_not_lost_when_the_broker_is_down(seeded, place, settings):
    database = seeded.extensions["database"]
    item_id = place("Lịch cắt điện ngày mai.")
    now = datetime.now(UTC)
    with database.sessions() as session:
        assert dispatch.renders(session, settings, now=now) == 1
        assert dispatch.renders(session, settings, now=now) == 0  # no worker yet: still queued, not sent again
    assert _queued(database) == [queue.render_key(item_id)]
    assert _waiting_messages(settings, 1) == 1

    # A broker that went away: nothing is claimed, and the item stays waiting for a later run.
    down = settings.model_copy(update={"task_broker_url": f"amqp://guest:guest@127.0.0.1:{free_port()}//",
                                       "task_queue": settings.task_queue + "-down"})
    other = place("Thông báo họp thôn.")
    with database.sessions() as session:
        sent = dispatch.renders(session, down, now=now)
    assert sent == 0
    assert _queued(database) == [queue.render_key(item_id)]
    assert _render_state(database, other) is RenderState.PENDING
    queue.celery_app.cache_clear()


@pytest.mark.slow
def test_a_worker_killed_mid_render_leaves_it_to_another_which_does_it_once(seeded, place, settings, tmp_path):
    """RabbitMQ sees the dead worker's connection drop and gives its message to the next worker at once (Redis
    would only after its visibility timeout, an hour)."""
    database = seeded.extensions["database"]
    item_id = place(LONG_BODY)
    with workers(tmp_path, settings) as start:
        first = start("first")
        with database.sessions() as session:
            assert dispatch.renders(session, settings, now=datetime.now(UTC)) == 1
        first.wait_for("Task broadcast.render_item", 30)
        until(lambda: any("espeak" in c or "ffmpeg" in c for c in _descendant_commands(first.proc.pid)), 60,
              "the first worker reading aloud")
        first.kill()
        assert _render_state(database, item_id) is RenderState.PENDING  # nothing of it was kept
        assert _queued(database) == [queue.render_key(item_id)]
        with database.sessions() as session:  # the scheduler does not send it again: it is still on the queue
            assert dispatch.renders(session, settings, now=datetime.now(UTC)) == 0

        second = start("second")
        until(lambda: _render_state(database, item_id) is RenderState.READY, 180, "the render by the second worker")
        until(lambda: not _queued(database), 10, "the task's row going")
        second.wait_for("succeeded", 10)
    assert second.text().count("Task broadcast.render_item") == 2  # received, succeeded: once each
    with database.sessions() as session:
        rendered = session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "item.rendered", AuditLog.entity_id == str(item_id)))
        assert rendered == 1
        assert session.get(NewsItem, item_id).audio_asset is not None


def test_queued_stations_are_compiled_by_workers_in_shares_of_whole_communes(seeded, settings, tmp_path):
    database = seeded.extensions["database"]
    settings = settings.model_copy(update={"task_compile_stations": 2})
    with database.sessions() as session:
        stations = list(session.scalars(select(Station.id).where(Station.active)))
        session.add_all(CompileRequest(station_id=s) for s in stations)
        session.commit()
        before = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
    with workers(tmp_path, settings) as start:
        start("one")
        start("two")
        with database.sessions() as session:
            sent = dispatch.compiles(session, settings, now=datetime.now(UTC))
            assert sent >= 2
            assert dispatch.compiles(session, settings, now=datetime.now(UTC)) == 0
        with database.sessions() as session:
            until(lambda: not session.scalar(select(func.count()).select_from(CompileRequest)), 120,
                  "the compile queue emptying")
        until(lambda: not _queued(database), 10, "the tasks' rows going")
    with database.sessions() as session:
        after = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
    assert set(after) == set(stations)
    assert all(after[s] >= before.get(s, 0) for s in stations)


def test_a_due_sftp_push_is_done_by_a_worker_once(seeded, place, settings, tmp_path, sshd: Sshd):
    database = seeded.extensions["database"]
    settings = settings.model_copy(update={"ssh_key_path": sshd.client_key_path})
    remote = tmp_path / "station-inbox"
    with database.sessions() as session:
        station = session.scalar(select(Station).where(Station.code == "DV-01"))
        station.ssh_host, station.ssh_port, station.ssh_user = sshd.host, sshd.port, sshd.username
        station.ssh_remote_dir, station.ssh_host_key = str(remote), sshd.host_key_line
        session.commit()
    item_id = place("Một hai ba.")
    payload = b"ID3" + bytes(range(256)) * 50
    sha = hashlib.sha256(payload).hexdigest()
    path = settings.resolved_audio_dir / sha[:2] / f"{sha}.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    from broadcast.db.models import AudioAsset
    from broadcast.services import scheduling
    with database.sessions() as session:
        item = session.get(NewsItem, item_id)
        item.audio_asset = AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=60_000, origin="tts")
        item.render_state = RenderState.READY
        session.commit()
        scheduling.after_change(session, settings, [session.scalar(select(Station.id).where(Station.code == "DV-01"))])
    with workers(tmp_path, settings, SSH_KEY_PATH=str(sshd.client_key_path)) as start:
        start("one")
        with database.sessions() as session:
            assert dispatch.pushes(session, settings, now=datetime.now(UTC)) >= 1
        until(lambda: (remote / "manifest.json").is_file(), 60, "the push")
        until(lambda: not _queued(database), 10, "the task's row going")
    with database.sessions() as session:
        open_or_sent = list(session.scalars(select(Delivery).join(Station).where(
            Station.code == "DV-01", Delivery.state != DeliveryState.SUPERSEDED)))
        assert [d.state for d in open_or_sent] == [DeliveryState.SENT]
        assert open_or_sent[0].attempts == 1
    assert (remote / "audio" / f"{sha}.mp3").read_bytes() == payload


def test_the_scheduler_jobs_send_to_the_queue_when_a_broker_is_set(seeded, settings, monkeypatch):
    """The nightly compile queues every station and the compile job sends them on; nothing is compiled here."""
    from broadcast.jobs import tasks

    for name, value in (("INSTANCE_PATH", settings.instance_path), ("DATABASE_URL", settings.resolved_database_url),
                        ("TASK_BROKER_URL", settings.task_broker_url), ("TASK_QUEUE", settings.task_queue),
                        ("TASK_COMPILE_STATIONS", "1")):
        monkeypatch.setenv(name, str(value))
    database = seeded.extensions["database"]
    with database.sessions() as session:
        active = session.scalar(select(func.count()).select_from(Station).where(Station.active))
        before = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
    assert tasks.compile_all() == active
    communes = 0
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CompileRequest)) == active
        communes = session.scalar(select(func.count(Station.commune_id.distinct())).where(Station.active))
    assert tasks.compile_queued() == communes  # one task per commune: shares of one station never split one
    assert _waiting_messages(settings, communes) == communes
    assert tasks.compile_queued() == 0
    with database.sessions() as session:
        after = dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())
    assert after == before  # the workers compile, not the scheduler
