"""Benchmark: thousands of agents long-polling for commands while an editor works, against the editor alone.

The service runs under gunicorn as scripts/run starts it (``scripts/lib/gunicorn.conf.py``: 2 gevent workers)
on a free loopback port, with SQLite in a temporary instance: the demo data (``flask demo seed``) plus one
station, with its own token, per agent. Three phases:

1. The floor: one editor, for a fixed time, alternating a write (``POST /api/v1/items``) and a page load
   (``GET /`` and ``GET /schedule``), one request every 100 ms, with no agent connected.
2. N agents (a child process, one asyncio task and one connection each, as ``stations.agent`` polls) hold
   ``GET /api/v1/stations/<code>/commands?wait=25`` and poll again as each answer comes (the first wait is of
   random length, so that they poll out of step as agents running for a while do). Once all of them wait,
   the same editor load runs again, and meanwhile an operator issues commands
   (``POST /api/v1/stations/<code>/commands``) to random agents: each is timed from the call to the moment the
   agent's poll brings it.
3. The agents go away (their connections close); the service must drop their polls at once and answer a ping.

    python scripts/bench/longpoll.py [--quick] [--agents 2000] [--seconds 30]

The last line is ``RESULT editor_p99_ms=... editor_p99_ratio=... errors=... agents=... command_p99_ms=...``
(then the floor's p99, the ping after the agents left and the polls still waiting then). ``errors`` counts
failed or refused editor requests, failed polls and commands that never reached their agent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.services import free_port  # noqa: E402

BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "scripts" / "lib" / "gunicorn.conf.py"
WAIT_S = 25  # what agents ask for by default (stations.agent: commands_wait_s)
EDITOR_EVERY_S = 0.1
PAGES = ("/", "/schedule")


def raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# -- the instance ----------------------------------------------------------------------------------------------


def build_instance(instance: Path, count: int) -> dict:
    """Demo data by the command line, then ``count`` stations with tokens and the people's API tokens."""
    env = {**os.environ, "INSTANCE_PATH": str(instance)}
    subprocess.run([str(BIN / "flask"), "--app", "broadcast", "demo", "seed"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    from sqlalchemy import select

    from broadcast import create_app, load_settings
    from broadcast.db.models import Area, Level, Structure
    from broadcast.services import stations, users

    app = create_app(load_settings(instance_path=instance))
    database = app.extensions["database"]
    with app.app_context(), database.sessions() as session:
        communes = list(session.scalars(select(Area).where(Area.level == Level.COMMUNE,
                                                           Area.structure == Structure.CURRENT)))
        agents = {}
        for n in range(count):
            spec = stations.StationSpec(code=f"L{n:04d}", commune=communes[n % len(communes)], name=f"Long poll {n}")
            station = stations.add_station(session, spec, actor="bench")
            agents[station.code] = stations.issue_token(session, station)
        editor = users.issue_api_token(session, users.get_user(session, "bientap"), "bench")
    database.dispose()
    return {"agents": agents, "editor": editor}


def start_server(instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen([str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "broadcast:create_app()"], cwd=ROOT, env=env,
                            start_new_session=True)


async def health(session: aiohttp.ClientSession, base: str, tries: int = 12) -> dict[int, int]:
    """Waiting polls per worker, as the workers that answered ``tries`` health checks report them."""
    seen: dict[int, int] = {}
    for _ in range(tries):
        async with session.get(f"{base}/api/v1/health", headers={"Connection": "close"}) as response:
            body = await response.json()
            seen[body["worker"]] = body["long_polls"]
    return seen


# -- the agents (a child process) ------------------------------------------------------------------------------


async def agents_main(base: str, tokens: dict[str, str]) -> None:
    """Poll for every station until told "stop" on stdin; then print what was received, as JSON."""
    received: dict[int, float] = {}
    stats = {"polls": 0, "errors": 0, "error_samples": []}
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=WAIT_S + 30)

    async def agent(code: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{base}/api/v1/stations/{code}/commands"
        await asyncio.sleep(random.random() * 2)  # noqa: S311 - agents do not all start in the same millisecond
        # Agents that run for a while poll out of step; a first wait of random length spreads them likewise,
        # rather than have all of them poll again in the same second every 25 s.
        wait = random.uniform(1, WAIT_S)  # noqa: S311
        while not stop.is_set():
            try:
                async with session.get(url, headers=headers, params={"wait": f"{wait:.1f}"}) as response:
                    wait = WAIT_S
                    body = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{code}: {response.status} {body[:100]!r}")
                    for command in json.loads(body)["commands"]:
                        received[command["id"]] = time.time()
                stats["polls"] += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - counted and shown; the agent polls again, as a real one does
                stats["errors"] += 1
                if len(stats["error_samples"]) < 5:
                    stats["error_samples"].append(repr(exc)[:200])
                await asyncio.sleep(1)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(agent(code, token)) for code, token in tokens.items()]
        print("started", flush=True)
        await reader.readline()
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"received": received, **stats}), flush=True)


# -- the editor and the operator -------------------------------------------------------------------------------


async def editor_load(base: str, token: str, seconds: float, *, every_s: float = EDITOR_EVERY_S,
                      new_connections: bool = False) -> tuple[list[float], int, list[str]]:
    """One editor: a write or a page load every ``every_s``; returns latencies (s), errors and samples."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors, samples = 0, []
    connector = aiohttp.TCPConnector(force_close=new_connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        until = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < until:
            tick = time.perf_counter()
            started = time.perf_counter()
            try:
                if n % 2 == 0:
                    request = session.post(f"{base}/api/v1/items", headers=headers,
                                           json={"title": f"Tin số {n}", "body": "Ngày 13/12/2026, họp dân."})
                    expected = 201
                else:
                    request = session.get(base + PAGES[(n // 2) % len(PAGES)], headers=headers)
                    expected = 200
                async with request as response:
                    await response.read()
                    if response.status != expected:
                        raise RuntimeError(f"{response.method} {response.url.path}: {response.status}")
                latencies.append(time.perf_counter() - started)
            except Exception as exc:  # noqa: BLE001 - counted as an error and shown
                errors += 1
                if len(samples) < 5:
                    samples.append(repr(exc)[:200])
            n += 1
            await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - tick)))
    return latencies, errors, samples


async def operator_load(base: str, token: str, codes: list[str], count: int, seconds: float) -> dict[int, float]:
    """``count`` commands to random agents spread over ``seconds``; returns {command id: time issued}."""
    headers = {"Authorization": f"Bearer {token}"}
    issued: dict[int, float] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for code in random.sample(codes, count):  # noqa: S311 - which agents, not a secret
            at = time.time()
            async with session.post(f"{base}/api/v1/stations/{code}/commands", headers=headers,
                                    json={"kind": "set_volume", "volume": 60}) as response:
                body = await response.json()
                if response.status == 201:
                    issued[body["id"]] = at
            await asyncio.sleep(seconds / count)
    return issued


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else float("nan")


async def wait_until_waiting(base: str, count: int, timeout_s: float) -> int:
    """Until (nearly) every agent's poll waits in the service; returns how many do."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        waiting = 0
        while time.monotonic() < deadline:
            waiting = sum((await health(session, base)).values())
            if waiting >= count * 0.99:  # a few are always between two polls
                break
            await asyncio.sleep(0.5)
        return waiting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 agents, shorter phases (within 60 s in all)")
    parser.add_argument("--agents", type=int, default=None, help="long-polling agents (2,000; --quick: 300)")
    parser.add_argument("--seconds", type=float, default=None, help="editor load per phase (30; --quick: 6)")
    parser.add_argument("--agents-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agents_child:
        raise_open_files(65_536)
        config = json.loads(sys.stdin.readline())
        asyncio.run(agents_main(config["base"], config["tokens"]))
        return
    count = args.agents or (300 if args.quick else 2000)
    seconds = args.seconds or (6.0 if args.quick else 30.0)
    commands_count = 20 if args.quick else 50
    raise_open_files(65_536)
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        built = build_instance(instance, count)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(instance, port)
        agents = None
        try:
            asyncio.run(_until_up(base))
            # Warm both workers (templates, caches): each request on a new connection, to either worker.
            asyncio.run(editor_load(base, built["editor"], 2.0, every_s=0.02, new_connections=True))
            floor, floor_errors, floor_samples = asyncio.run(editor_load(base, built["editor"], seconds))

            agents = subprocess.Popen([sys.executable, __file__, "--agents-child"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, cwd=ROOT)
            agents.stdin.write(json.dumps({"base": base, "tokens": built["agents"]}) + "\n")
            agents.stdin.flush()
            assert agents.stdout.readline().strip() == "started"
            waiting = asyncio.run(wait_until_waiting(base, count, 60))
            print(f"{waiting} of {count} agents waiting", flush=True)

            async def loaded():
                return await asyncio.gather(
                    editor_load(base, built["editor"], seconds),
                    operator_load(base, built["editor"], list(built["agents"]), commands_count, seconds * 0.8))

            (ours, ours_errors, ours_samples), issued = asyncio.run(loaded())
            time.sleep(1)  # the last command's poll answers
            agents.stdin.write("stop\n")
            agents.stdin.flush()
            polled = json.loads(agents.stdout.readline())
            agents.wait(timeout=60)
            after = asyncio.run(_after_agents_left(base))
        finally:
            if agents is not None and agents.poll() is None:
                agents.kill()
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    received = {int(key): at for key, at in polled["received"].items()}
    command_latencies = [received[cid] - at for cid, at in issued.items() if cid in received]
    lost = commands_count - len(command_latencies)
    errors = floor_errors + ours_errors + polled["errors"] + lost
    for sample in floor_samples + ours_samples + polled["error_samples"]:
        print(f"error: {sample}")
    ratio = p99(ours) / p99(floor)
    for name, values in (("editor, floor", floor), ("editor, agents waiting", ours), ("command", command_latencies)):
        ordered = sorted(values)
        if ordered:
            print(f"{name}: p50 {ordered[len(ordered) // 2] * 1000:.0f} ms, p90 "
                  f"{ordered[int(len(ordered) * 0.9)] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")
    print(f"floor: editor p99 {p99(floor):.1f} ms over {len(floor)} requests; with {count} agents waiting "
          f"({waiting} seen): p99 {p99(ours):.1f} ms over {len(ours)} requests; {polled['polls']} polls answered; "
          f"{len(command_latencies)}/{commands_count} commands reached their agent, p99 {p99(command_latencies):.0f} ms"
          f"; after the agents left: {after['waiting']} polls waiting, ping {after['ping_ms']:.1f} ms")
    print(f"RESULT editor_p99_ms={p99(ours):.1f} editor_p99_ratio={ratio:.2f} errors={errors} agents={count} "
          f"command_p99_ms={p99(command_latencies):.0f} floor_p99_ms={p99(floor):.1f} "
          f"ping_after_ms={after['ping_ms']:.1f} waiting_after={after['waiting']}")


async def _until_up(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/api/v1/ping") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("gunicorn did not start")


async def _after_agents_left(base: str) -> dict:
    """Right after the agents closed their connections: a ping's time, and the polls still waiting 2 s later."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with session.get(f"{base}/api/v1/ping") as response:
            await response.read()
        ping_ms = (time.perf_counter() - started) * 1000
        await asyncio.sleep(2)
        return {"ping_ms": ping_ms, "waiting": sum((await health(session, base)).values())}


if __name__ == "__main__":
    main()
