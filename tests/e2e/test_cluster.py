"""scripts/cluster end to end: two web nodes with instance folders of their own, on one PostgreSQL database,
Redis, RabbitMQ and an S3 stand-in, behave as one service.

The real script runs in its own process group on free loopback ports, with a database, a Redis channel and
a task queue of its own; every process it starts is stopped before the test ends, also when an assertion
fails, and the database is dropped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from sqlalchemy import create_engine, make_url, text

from tests.services import POSTGRES_URL, free_port, port_open, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "scripts" / "cluster"
FLASK = ROOT / ".venv" / "bin" / "flask"
START_LIMIT_S = 240
RENDER_LIMIT_S = 120
TAKEOVER_LIMIT_S = 30  # the limit for a standby scheduler to replace a dead leader
STOP_LIMIT_S = 30
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class Node:
    def __init__(self, url: str, instance: Path):
        self.url, self.instance = url, instance

    def call(self, method: str, path: str, token: str, body: dict | None = None, headers: dict | None = None,
             timeout: float = 30) -> tuple[int, dict, dict]:
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json", **(headers or {})})
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as answer:
                raw = answer.read()
                return answer.status, dict(answer.headers), json.loads(raw) if raw[:1] in (b"{", b"[") else {}
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw[:1] in (b"{", b"[") else {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _free_pair() -> int:
    for _ in range(50):
        port = free_port()
        if not port_open("127.0.0.1", port + 1, timeout=0.2):
            return port
    raise RuntimeError("no two free ports in a row")


@contextmanager
def _database() -> str:
    """A PostgreSQL database of the test's own, dropped at the end."""
    server = make_url(POSTGRES_URL)
    if not port_open(server.host or "127.0.0.1", server.port or 5432):
        unavailable(f"PostgreSQL is not reachable at {server.host}:{server.port}")
    name = f"cluster_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    for name, port in (("Redis", 6379), ("RabbitMQ", 5672)):
        if not port_open("127.0.0.1", port):
            unavailable(f"{name} is not running on 127.0.0.1:{port}")
    workdir = tmp_path_factory.mktemp("cluster")
    base = _free_pair()
    with _database() as database_url:
        env = {k: v for k, v in os.environ.items() if k not in ("INSTANCE_PATH", "DATABASE_URL", "AUDIO_STORE_URL",
                                                                "SECRET_KEY", "REDIS_URL", "TASK_BROKER_URL")}
        env.update(CLUSTER_DIR=str(workdir), DATABASE_URL=database_url, BASE_PORT=str(base), HOST="127.0.0.1",
                   TASK_QUEUE=f"cluster-{uuid.uuid4().hex[:8]}", REDIS_CHANNEL=f"cluster-{uuid.uuid4().hex[:8]}")
        out = workdir / "cluster.out"
        with open(out, "wb") as sink:
            proc = subprocess.Popen(["bash", str(CLUSTER)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                    stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        nodes = [Node(f"http://127.0.0.1:{base + n}", workdir / f"node{n + 1}") for n in (0, 1)]
        try:
            deadline = time.monotonic() + START_LIMIT_S
            while not all(port_open("127.0.0.1", base + n, timeout=0.2) for n in (0, 1)):
                assert proc.poll() is None, f"scripts/cluster exited:\n{_tail(out)}"
                assert time.monotonic() < deadline, f"the nodes did not start:\n{_tail(out)}"
                time.sleep(0.5)
            yield Cluster(proc, nodes, workdir, env, out)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_LIMIT_S)
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class Cluster:
    def __init__(self, proc, nodes, workdir: Path, env: dict, out: Path):
        self.proc, self.nodes, self.workdir, self.env, self.out = proc, nodes, workdir, env, out

    def log(self, name: str) -> str:
        path = self.workdir / "logs" / name
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def flask(self, *args: str) -> str:
        """A CLI command run as on node 1's machine (its instance folder, the cluster's shared secrets)."""
        env = dict(self.env, INSTANCE_PATH=str(self.nodes[0].instance),
                   SECRET_KEY=(self.workdir / "shared" / "secret_key").read_text().strip())
        done = subprocess.run([str(FLASK), "--app", "broadcast", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]


def _tail(path: Path, lines: int = 60) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return "(no output)"


def until(check, limit_s: float, what: str):
    deadline = time.monotonic() + limit_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {limit_s} s"
        time.sleep(0.5)
    return result


def _leaders(cluster: Cluster) -> list[int]:
    """The pids of the schedulers that logged that they lead."""
    logs = cluster.log("node1-scheduler.log") + cluster.log("node2-scheduler.log")
    return [int(pid) for pid in re.findall(r"leading: .*\(pid (\d+) holds", logs)]


def _standbys(cluster: Cluster) -> int:
    """How many times a scheduler started to stand by."""
    return sum(cluster.log(f"node{n}-scheduler.log").count("standby: ") for n in (1, 2))


def test_two_nodes_serve_one_service_with_one_leading_scheduler_and_workers_doing_the_work(cluster):
    one, two = cluster.nodes
    until(lambda: _leaders(cluster), 60, "a scheduler leading")
    until(lambda: _standbys(cluster), 60, "the other scheduler standing by")
    assert len(_leaders(cluster)) == 1, "two schedulers lead at once"

    editor, approver, operator = (cluster.flask("users", "token", name, "--name", "cluster-test")
                                  for name in ("bientap", "pheduyet", "vanhanh"))
    station = cluster.flask("stations", "token", "HG1-01")

    # The station's manifest, as node 2 serves (and caches) it now.
    status, headers, manifest = two.call("GET", "/api/v1/stations/HG1-01/manifest", station)
    assert status == 200
    first_etag = headers["ETag"]

    # Written on node 1, approved on node 2, read aloud by a worker, placed on node 1.
    status, _, item = one.call("POST", "/api/v1/items", editor, {
        "title": "Lịch tiêm phòng", "body": "Trạm y tế xã tổ chức tiêm phòng cho trẻ em vào sáng thứ Bảy."})
    assert status == 201, item
    assert one.call("POST", f"/api/v1/items/{item['id']}/submit", editor)[0] == 200
    assert two.call("POST", f"/api/v1/items/{item['id']}/approve", approver)[0] == 200
    ready = until(lambda: (got := two.call("GET", f"/api/v1/items/{item['id']}", editor)[2])
                  .get("render_state") == "ready" and got, RENDER_LIMIT_S, "the item being read aloud")
    workers_log = cluster.log("node1-worker.log") + cluster.log("node2-worker.log")
    assert re.search(r"Task broadcast\.render_item\[\w+\] succeeded", workers_log), "no worker read it aloud"

    today = datetime.now(ZONE).date()
    status, _, slots = one.call("GET", "/api/v1/slots", editor)
    assert status == 200 and slots
    status, _, placed = one.call("POST", "/api/v1/placements", editor, {
        "item_id": item["id"], "slot_id": slots[0]["id"], "targets": ["00694"],
        "date_from": (today + timedelta(days=1)).isoformat(), "date_until": (today + timedelta(days=2)).isoformat()})
    assert status == 201, placed

    # Node 2 serves the new manifest at once: its cache was dropped by the compile on the other node.
    status, headers, manifest = two.call("GET", "/api/v1/stations/HG1-01/manifest", station,
                                         headers={"If-None-Match": first_etag})
    assert status == 200 and headers["ETag"] != first_etag
    shas = {e["audio"]["sha256"] for day in manifest["days"] for e in day["entries"]}
    assert ready["audio"]["sha256"] in shas

    # Its audio is in the object store, not on either node's disk; a station is sent there by node 2.
    status, headers, _ = two.call("GET", f"/api/v1/audio/{ready['audio']['sha256']}.mp3", station)
    assert status == 302 and "X-Amz-Signature=" in headers["Location"]
    endpoint = re.search(r"S3 stand-in \(moto\) at (\S+),", cluster.out.read_text()).group(1)
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="cluster",
                                           aws_secret_access_key="cluster", region_name="us-east-1")
            .list_objects_v2(Bucket="broadcast-audio").get("Contents", [])]
    assert any(ready["audio"]["sha256"] in key for key in keys)
    for node in cluster.nodes:  # (a node may keep copies in its audio-cache folder, for ffmpeg and SFTP)
        assert not list(node.instance.glob("audio/**/*.mp3"))

    # A command issued on node 1 reaches the station's long poll waiting on node 2 at once.
    answer: dict = {}

    def poll():
        started = time.monotonic()
        answer["reply"] = two.call("GET", "/api/v1/stations/HG1-01/commands?wait=25", station, timeout=40)
        answer["seconds"] = time.monotonic() - started

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(2)  # the poll is waiting on node 2
    status, _, command = one.call("POST", "/api/v1/stations/HG1-01/commands", operator, {"kind": "stop"})
    assert status == 201, command
    waiting.join(timeout=40)
    status, _, body = answer["reply"]
    assert status == 200 and [c["id"] for c in body["commands"]] == [command["id"]]
    assert answer["seconds"] < 20, "the poll was answered by its timeout, not by the command"


def test_a_killed_leading_scheduler_is_replaced_by_the_other_node(cluster):
    until(lambda: _leaders(cluster), 60, "a scheduler leading")
    until(lambda: _standbys(cluster), 60, "the other scheduler standing by")
    [leader] = _leaders(cluster)
    standbys = _standbys(cluster)
    os.kill(leader, signal.SIGKILL)  # as the OOM killer does: no goodbye to the database
    new = until(lambda: [pid for pid in _leaders(cluster) if pid != leader], TAKEOVER_LIMIT_S,
                "another scheduler taking the lead")
    assert len(new) == 1
    # The killed one was restarted by its supervisor and stands by behind the new leader.
    until(lambda: _standbys(cluster) > standbys, 30, "the restarted scheduler standing by")


def test_the_cluster_stops_whole_on_sigterm(cluster):
    os.killpg(cluster.proc.pid, signal.SIGTERM)
    cluster.proc.wait(timeout=STOP_LIMIT_S)
    deadline = time.monotonic() + STOP_LIMIT_S
    while True:
        try:
            os.killpg(cluster.proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, subprocess.run(
            ["ps", "-o", "pid,args", "-g", str(cluster.proc.pid)], capture_output=True, text=True).stdout
        time.sleep(0.2)
