"""Agents' long polls under gunicorn as scripts/run starts it (gevent workers), with real connections.

The service runs on a free loopback port with a copy of a seeded SQLite instance (the demo data by the command
line, plus 50 stations with tokens), and is stopped after each test, also when it fails. Polls are plain HTTP
requests from threads (or raw sockets, to hang up mid-wait). The number of polls waiting in a worker is read
from ``/api/v1/health``. Bounds on waiting are generous and always below the poll's own wait, so a poll that
answered within one answered because of the event under test, not because its wait ran out.

The last tests run two services with separate instance folders on one database and one Redis, as two web
nodes would: a command issued on one wakes a poll waiting on the other, and changes made on one drop the
other's caches.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import sqlite3
import tempfile
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.agents import Processes, Tokens, flask, seed, until
from tests.services import POSTGRES_URL, free_port, port_open, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

MANY = 50
WAIT_S = 25  # each poll's own wait: a poll answered well before it was answered by what the test did
SOON_S = 15  # generous, and still well below WAIT_S
REDIS = ("127.0.0.1", 6379)


@dataclass(frozen=True)
class Template:
    instance: Path
    tokens: Tokens
    stations: dict[str, str]  # code: token, MANY stations besides the demo ones


def _add_stations(instance: Path, count: int) -> dict[str, str]:
    """``count`` stations in the operator's commune, each with its token (in this process: quicker than the
    command line once per station)."""
    from broadcast import create_app, load_settings
    from broadcast.services import stations

    app = create_app(load_settings(instance_path=instance, database_url="", mqtt_url="", redis_url=""))
    database = app.extensions["database"]
    with app.app_context(), database.sessions() as session:
        commune = stations.get_station(session, "HG1-01").commune
        found = {}
        for n in range(count):
            station = stations.add_station(session, stations.StationSpec(code=f"LP-{n:02d}", commune=commune),
                                           actor="test")
            found[station.code] = stations.issue_token(session, station)
    database.dispose()
    return found


@pytest.fixture(scope="module")
def template():
    with tempfile.TemporaryDirectory(prefix="longpoll-") as folder:
        instance = Path(folder) / "instance"
        tokens = seed(instance)
        flask(instance, ("schedule", "compile", "--station", "HG1-01"))  # a manifest, for the cache tests
        yield Template(instance, tokens, _add_stations(instance, MANY))


@dataclass
class World:
    folder: Path
    template: Template
    processes: Processes

    def instance(self, name: str = "instance") -> Path:
        path = self.folder / name
        if not path.exists():
            shutil.copytree(self.template.instance, path)
        return path

    def serve(self, workers: int = 2, *, name: str = "server", instance: Path | None = None,
              env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Service:
        port = free_port()
        group = self.processes.server(instance or self.instance(), port, name, workers=workers, env=env, args=args)
        return Service(f"http://127.0.0.1:{port}", port, group, self)


@dataclass
class Service:
    base: str
    port: int
    group: object
    world: World

    def people(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.template.tokens.people[who]}"}

    def station_token(self, code: str) -> str:
        return self.world.template.stations.get(code) or self.world.template.tokens.stations[code]

    def poll(self, code: str, wait: float = WAIT_S, session=requests, token: str | None = None) -> tuple[int, list]:
        answer = session.get(f"{self.base}/api/v1/stations/{code}/commands", params={"wait": wait},
                             headers={"Authorization": f"Bearer {token or self.station_token(code)}"},
                             timeout=wait + 30)
        return answer.status_code, answer.json().get("commands") if answer.ok else answer.text

    def command(self, code: str, kind: str = "stop") -> int:
        answer = requests.post(f"{self.base}/api/v1/stations/{code}/commands", json={"kind": kind},
                               headers=self.people("vanhanh"), timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def waiting(self, workers: int) -> int:
        """Polls waiting in the whole service: each worker's count, asked on new connections until every
        worker has answered."""
        seen: dict[int, int] = {}
        for _ in range(200):
            health = requests.get(f"{self.base}/api/v1/health", headers={"Connection": "close"}, timeout=10).json()
            seen[health["worker"]] = health["long_polls"]
            if len(seen) == workers:
                return sum(seen.values())
        raise AssertionError(f"only workers {sorted(seen)} answered")

    def until_waiting(self, count: int, workers: int) -> None:
        until(lambda: self.waiting(workers) == count, SOON_S, f"{count} polls waiting", (self.group.log,))


@pytest.fixture
def world(template, tmp_path):
    processes = Processes(tmp_path)
    try:
        yield World(tmp_path, template, processes)
    finally:
        processes.stop_all()


def _not_done(*futures: Future) -> bool:
    return not any(future.done() for future in futures)


def test_editors_are_served_while_fifty_polls_wait(world):
    service = world.serve()
    codes = list(world.template.stations)[:MANY]
    with ThreadPoolExecutor(MANY) as pool:
        polls = [pool.submit(service.poll, code) for code in codes]
        service.until_waiting(MANY, workers=2)
        # Before: 2 workers × 4 threads, and 8 waiting polls left an editor nothing to be served by.
        editor = service.people("bientap")
        created = requests.post(f"{service.base}/api/v1/items", headers=editor, timeout=SOON_S,
                                json={"title": "Tin giữa lúc các đài chờ", "body": "Họp dân lúc 8 giờ."})
        assert created.status_code == 201, created.text
        for page in ("/", "/schedule", f"/items/{created.json()['id']}"):
            assert requests.get(service.base + page, headers=editor, timeout=SOON_S).status_code == 200
        assert _not_done(*polls), "a poll answered while nothing happened for it"
        assert service.waiting(workers=2) == MANY
        # Stopping the service answers every poll at once (nothing for them), rather than cutting them.
        service.group.stop()
        assert [poll.result(timeout=SOON_S) for poll in polls] == [(200, [])] * MANY


def test_a_command_wakes_its_station_poll_and_no_other(world):
    service = world.serve()
    with ThreadPoolExecutor(2) as pool:
        mine, other = pool.submit(service.poll, "HG1-01"), pool.submit(service.poll, "HG1-02")
        service.until_waiting(2, workers=2)
        command_id = service.command("HG1-01", "stop")
        status, commands = mine.result(timeout=SOON_S)
        assert status == 200 and [(c["id"], c["kind"], c["state"]) for c in commands] == [
            (command_id, "stop", "delivered")]
        assert not other.done() and service.waiting(workers=2) == 1
        service.command("HG1-02", "stop")
        assert [c["kind"] for c in other.result(timeout=SOON_S)[1]] == ["stop"]


def _sessions_by_worker(service: Service, first: int, second: int) -> tuple[list, list]:
    """Kept-alive connections to one worker (``first`` of them) and to the other (``second``)."""
    found: dict[int, list[requests.Session]] = defaultdict(list)
    for _ in range(200):
        session = requests.Session()
        found[session.get(f"{service.base}/api/v1/health", timeout=10).json()["worker"]].append(session)
        for pid, sessions in found.items():
            others = [group for other, group in found.items() if other != pid and len(group) >= second]
            if len(sessions) >= first and others:
                return sessions, others[0]
    raise AssertionError("could not get connections to both workers")


def _count(session: requests.Session, base: str, pid_of: list) -> int:
    health = session.get(f"{base}/api/v1/health", timeout=10).json()
    pid_of.append(health["worker"])
    return health["long_polls"]


def test_a_second_poll_from_a_station_ends_the_first_in_the_same_or_another_worker(world):
    # Connections stay open between requests, so each keeps to its worker.
    service = world.serve(args=("--keep-alive", "120"))
    busy, other = _sessions_by_worker(service, 3, 2)
    (poll_a, poll_c, look_busy), (poll_b, look_other) = busy[:3], other[:2]
    pids_busy, pids_other = [], []
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(service.poll, "HG1-01", session=poll_a)
        until(lambda: _count(look_busy, service.base, pids_busy) == 1, SOON_S, "the first poll waiting")
        second = pool.submit(service.poll, "HG1-01", session=poll_b)  # in the other worker
        assert first.result(timeout=SOON_S) == (200, [])
        until(lambda: _count(look_other, service.base, pids_other) == 1, SOON_S, "the second poll waiting")
        third = pool.submit(service.poll, "HG1-01", session=poll_c)  # back in the first worker
        assert second.result(timeout=SOON_S) == (200, [])
        until(lambda: _count(look_busy, service.base, pids_busy) == 1, SOON_S, "the third poll waiting")
        assert _count(look_other, service.base, pids_other) == 0
        fourth = pool.submit(service.poll, "HG1-01", session=requests.Session())
        assert third.result(timeout=SOON_S) == (200, [])
        command_id = service.command("HG1-01")
        assert [c["id"] for c in fourth.result(timeout=SOON_S)[1]] == [command_id]
    assert len(set(pids_busy)) == 1 and len(set(pids_other)) == 1 and set(pids_busy) != set(pids_other)


def _hang_up_later(port: int, code: str, token: str) -> socket.socket:
    """A poll sent by hand on a raw socket, which the test closes mid-wait as a vanished agent would."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /api/v1/stations/{code}/commands?wait={WAIT_S} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Authorization: Bearer {token}\r\n\r\n".encode())
    return sock


def test_a_poll_whose_client_went_away_is_dropped_at_once(world):
    service = world.serve(workers=1)  # one worker: its count is the service's
    codes = list(world.template.stations)[:10]
    sockets = [_hang_up_later(service.port, code, service.station_token(code)) for code in codes]
    try:
        service.until_waiting(10, workers=1)
        for sock in sockets[:4]:
            sock.close()
        service.until_waiting(6, workers=1)
        for sock in sockets[4:]:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        service.until_waiting(0, workers=1)
        assert requests.get(f"{service.base}/api/v1/ping", timeout=SOON_S).text == "pong"
    finally:
        for sock in sockets:
            sock.close()


# -- two web nodes: one database, one Redis ----------------------------------------------------------------------


def _need_redis() -> str:
    if not port_open(*REDIS):
        unavailable(f"Redis is not listening on {REDIS[0]}:{REDIS[1]}")
    import redis

    url = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    try:
        redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {url} does not answer ({exc})")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database(request, world):
    """The one database both nodes use: the template's SQLite file, or a new PostgreSQL database seeded the
    same way."""
    if request.param == "sqlite":
        yield f"sqlite:///{world.instance('shared') / 'broadcast.db'}", world.template.tokens
        return
    from sqlalchemy import create_engine, make_url, text

    admin = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"radio_longpoll_{secrets.token_hex(4)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means it is absent
        engine.dispose()
        unavailable(f"PostgreSQL at {admin.render_as_string()} is not reachable ({type(exc).__name__})")
    url = admin.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    try:
        env = {"DATABASE_URL": url}
        tokens = seed(world.folder / "seeding", env=env)
        flask(world.folder / "seeding", ("schedule", "compile", "--station", "HG1-01"), env=env)
        yield url, tokens
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def nodes(world, shared_database):
    """Two services, each with its own (empty) instance folder, on one database and one Redis channel."""
    redis_url = _need_redis()
    database_url, tokens = shared_database
    world.template = Template(world.template.instance, tokens, world.template.stations)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_CHANNEL": f"test:{secrets.token_hex(6)}"}
    folders = [world.folder / "node-a", world.folder / "node-b"]
    # One worker each: a node's cache is then the one cache of that node, and its health counts every poll.
    a, b = (world.serve(1, name=folder.name, instance=folder, env=env) for folder in folders)
    return a, b, env, folders


def test_a_command_issued_on_one_node_wakes_the_poll_waiting_on_the_other(nodes):
    a, b, _, (_, b_folder) = nodes
    with ThreadPoolExecutor(2) as pool:
        waiting_on_b = pool.submit(b.poll, "HG1-01")
        other_on_b = pool.submit(b.poll, "HG1-02")
        b.until_waiting(2, workers=1)
        command_id = a.command("HG1-01")
        status, commands = waiting_on_b.result(timeout=SOON_S)
        assert status == 200 and [c["id"] for c in commands] == [command_id]
        assert not other_on_b.done()
        # Node B's instance folder never saw a bump: the wake-up came over Redis.
        assert not (b_folder / "generations" / "commands").exists()
        # A newer poll of the same station on node A ends the one waiting on node B.
        replaced = pool.submit(a.poll, "HG1-02")
        assert other_on_b.result(timeout=SOON_S) == (200, [])
        a.until_waiting(1, workers=1)
        a.command("HG1-02")
        assert [c["kind"] for c in replaced.result(timeout=SOON_S)[1]] == ["stop"]


def test_changes_made_on_one_node_drop_the_other_nodes_caches(nodes, shared_database):
    a, b, env, (a_folder, b_folder) = nodes
    token = b.station_token("HG1-01")

    def fetch() -> requests.Response:
        return requests.get(f"{b.base}/api/v1/stations/HG1-01/manifest", timeout=SOON_S,
                            headers={"Authorization": f"Bearer {token}"})

    assert fetch().status_code == 200  # node B's worker starts listening with its first station request...
    import redis

    listening = redis.Redis.from_url(env["REDIS_URL"])
    until(lambda: dict(listening.pubsub_numsub(env["REDIS_CHANNEL"])).get(env["REDIS_CHANNEL"].encode()) == 1,
          SOON_S, "node B to subscribe", (b.group.log,))
    first = fetch()  # ...and once subscribed drops its caches (it may have missed something): cache from now on
    assert first.status_code == 200
    etag = first.headers["ETag"]

    def manifest_on_b(with_token: str = token) -> requests.Response:
        return requests.get(f"{b.base}/api/v1/stations/HG1-01/manifest", timeout=SOON_S,
                            headers={"Authorization": f"Bearer {with_token}", "If-None-Match": etag})

    assert manifest_on_b().status_code == 304
    # A compile on node A writes a new manifest: here, the row changed by hand, then node A's bump (what its
    # scheduler does after a compile). Until the bump, node B answers from its cache.
    _set_etag(shared_database[0], '"changed-on-node-a"')
    assert manifest_on_b().status_code == 304
    from broadcast.channels import bus, http_pull

    bus.configure(a_folder, env["REDIS_URL"], env["REDIS_CHANNEL"])
    try:
        http_pull.bump(a_folder, http_pull.MANIFESTS)
    finally:
        bus.configure(a_folder, "", "")
    until(lambda: manifest_on_b().headers.get("ETag") == '"changed-on-node-a"', SOON_S,
          "node B to drop its cached ETag", (b.group.log,))
    assert not (b_folder / "generations" / "manifests").exists()

    # A new token issued on node A (its command line): node B refuses the old one from then on.
    assert manifest_on_b().status_code == 200
    new_token = flask(a_folder, ("stations", "token", "HG1-01"), env=env)[0]
    until(lambda: manifest_on_b().status_code == 401, SOON_S, "node B to refuse the replaced token", (b.group.log,))
    assert manifest_on_b(new_token).status_code == 200


def _set_etag(database_url: str, etag: str) -> None:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as db:
            db.execute("UPDATE station_manifests SET etag = ?", (etag,))
        return
    import psycopg

    with psycopg.connect(database_url) as db:
        db.execute("UPDATE station_manifests SET etag = %s", (etag,))

