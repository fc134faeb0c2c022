"""Benchmark: an emergency broadcast reaching 1,000 stations over MQTT, against one plain publish.

The service runs under gunicorn as scripts/run starts it (two gevent workers, scripts/lib/gunicorn.conf.py), on
a SQLite instance with the demo data and 1,000 pull stations in Tuyên Quang, with MQTT_URL pointing at the
local Mosquitto. 1,000
simulated stations subscribe (QoS 1) to their own command topic ``<prefix>/<code>/commands`` and to one shared
topic, spread over a few subscriber processes that each run their clients on one event loop (paho's external
loop), as an agent would listen.

Each round: the floor, one client publishing one QoS 1 message on the shared topic, timed from the publish call
to each subscriber's receipt; then ours, the approver's ``POST /api/v1/emergencies/<id>/approve`` for a
province-wide warning (requested beforehand by the editor: the two-person rule), timed from the moment the call
is made to each station's receipt of its command. Receipt times are the subscribers' wall clock, on the same
machine. The p99 of each round is taken and the median over the rounds is reported.

    python scripts/bench/alert.py [--quick] [--stations 1000] [--rounds 5]

The last line is ``RESULT p99_ms=... ratio_vs_broker=... broker_p99_ms=... api_ms=... stations=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as paho  # noqa: E402

BROKER = ("127.0.0.1", 1883)
PROCESSES = 4


# -- the subscribers (run as child processes) -------------------------------------------------------------------


def subscriber(prefix: str, codes: list[str]) -> None:
    """Connect one client per code, subscribe, say "ready", record each message's arrival until "dump"."""
    received: list[tuple[str, str, float]] = []
    subscribed = 0
    selector = selectors.DefaultSelector()

    def on_connect(client, code, _flags, reason, _properties=None):
        if reason.is_failure:
            raise SystemExit(f"broker refused {code}: {reason}")
        client.subscribe([(f"{prefix}/{code}/commands", 1), (f"{prefix}/all", 1)])

    def on_subscribe(_client, _code, _mid, _reasons, _properties=None):
        nonlocal subscribed
        subscribed += 1

    def on_message(_client, code, message):
        received.append((code, message.payload.decode(), time.time()))

    clients = []
    for code in codes:
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{prefix}-{code}",
                             clean_session=True, userdata=code)
        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        client.connect(*BROKER, keepalive=120)
        selector.register(client.socket(), selectors.EVENT_READ, client)
        clients.append(client)
    dump = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), dump.set()), daemon=True).start()
    said_ready = False
    last_misc = time.monotonic()
    while not dump.is_set():
        for key, _ in selector.select(timeout=0.005):
            key.data.loop_read()
        for client in clients:
            if client.want_write():
                client.loop_write()
        if time.monotonic() - last_misc > 1:
            for client in clients:
                client.loop_misc()
            last_misc = time.monotonic()
        if not said_ready and subscribed == len(codes):
            print("ready", flush=True)
            said_ready = True
    print(json.dumps(received), flush=True)
    for client in clients:
        client.disconnect()


# -- the service ------------------------------------------------------------------------------------------------


def build_instance(instance: Path, count: int) -> dict:
    """Demo data, ``count`` stations across Tuyên Quang (the demo's own four switched off), an emergency item
    with audio, and the editor's and approver's API tokens."""
    from sqlalchemy import select, update

    from broadcast import create_app, load_settings
    from broadcast.db.models import Area, AudioAsset, ItemClass, ItemStatus, Level, NewsItem, Station, Structure
    from broadcast.services import demo, stations, users

    settings = load_settings(instance_path=instance)
    app = create_app(settings)
    database = app.extensions["database"]
    database.upgrade()
    with app.app_context(), database.sessions() as session:
        list(demo.seed(session, today=datetime.now(UTC).date()))
        session.execute(update(Station).values(active=False))
        communes = list(session.scalars(select(Area).where(Area.level == Level.COMMUNE,
                                                           Area.structure == Structure.CURRENT)))
        codes = []
        for n in range(count):
            spec = stations.StationSpec(code=f"A{n:04d}", commune=communes[n % len(communes)], name=f"Alert {n}")
            codes.append(stations.add_station(session, spec, actor="bench").code)
        editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
        tokens = {"bientap": users.issue_api_token(session, editor, "bench"),
                  "pheduyet": users.issue_api_token(session, approver, "bench")}
        audio = AudioAsset(sha256=secrets.token_hex(32), size_bytes=240_000, duration_ms=30_000, origin="upload")
        item = NewsItem(title="Cảnh báo lũ quét", body="Di chuyển lên chỗ cao.", item_class=ItemClass.EMERGENCY,
                        status=ItemStatus.APPROVED, audio_asset=audio)
        session.add(item)
        session.commit()
        item_id = item.id
    database.dispose()
    return {"codes": codes, "tokens": tokens, "item": item_id}


def call(base: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1
        base + path, method="POST", data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own http://127.0.0.1
        return json.load(response)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (within 60 s in all)")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--subscriber", nargs=2, metavar=("PREFIX", "CODES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.subscriber:
        subscriber(args.subscriber[0], args.subscriber[1].split(","))
        return
    rounds = args.rounds or (3 if args.quick else 7)
    prefix = f"bench-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        built = build_instance(instance, args.stations)
        from tests.services import free_port

        port = free_port()
        env = {**os.environ, "INSTANCE_PATH": str(instance), "MQTT_URL": f"mqtt://{BROKER[0]}:{BROKER[1]}",
               "MQTT_TOPIC_PREFIX": prefix}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "scripts" / "lib" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "broadcast:create_app()"], cwd=ROOT, env=env, start_new_session=True)
        codes = built["codes"]
        share = -(-len(codes) // PROCESSES)
        listeners = [subprocess.Popen([sys.executable, __file__, "--subscriber", prefix,
                                       ",".join(codes[i:i + share])], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True) for i in range(0, len(codes), share)]
        base = f"http://127.0.0.1:{port}"
        try:
            for listener in listeners:
                if listener.stdout.readline().strip() != "ready":
                    raise SystemExit("a subscriber process failed to subscribe")
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{base}/api/v1/ping", timeout=2).read()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("gunicorn did not start")
            publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{prefix}-floor")
            publisher.connect(*BROKER)
            publisher.loop_start()
            sent: list[tuple[str, float]] = []  # (round key, when the call was made)
            api_ms: list[float] = []
            body = {"item_id": built["item"], "areas": ["08"], "risk_level": 5}
            # A warm-up round of each, not counted: first connections, first queries.
            for number in range(rounds + 1):
                started = time.time()
                publisher.publish(f"{prefix}/all", json.dumps({"round": number}), qos=1).wait_for_publish(10)
                sent.append((f"floor-{number}", started))
                time.sleep(1.5)
                requested = call(base, "/api/v1/emergencies", built["tokens"]["bientap"], body)
                if "id" not in requested:
                    raise SystemExit(f"the request was refused: {requested}")
                started = time.time()
                call(base, f"/api/v1/emergencies/{requested['id']}/approve", built["tokens"]["pheduyet"])
                api_ms.append((time.time() - started) * 1000)
                sent.append((f"emergency-{requested['id']}", started))
                time.sleep(2.5)
            publisher.loop_stop()
            publisher.disconnect()
            arrivals: dict[str, list[float]] = {}
            for listener in listeners:
                listener.stdin.write("dump\n")
                listener.stdin.flush()
                for _code, payload, when in json.loads(listener.stdout.readline()):
                    data = json.loads(payload)
                    key = f"floor-{data['round']}" if "round" in data else f"emergency-{data['args']['broadcast']}"
                    arrivals.setdefault(key, []).append(when)
        finally:
            for listener in listeners:
                listener.kill()
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    floors, ours = [], []
    for key, started in sent[2:]:  # the warm-up round left out
        got = arrivals.get(key, [])
        if len(got) != len(codes):
            raise SystemExit(f"{key}: {len(got)} of {len(codes)} stations received it")
        (floors if key.startswith("floor") else ours).append(p99([when - started for when in got]))
    ours_p99, floor_p99 = statistics.median(ours), statistics.median(floors)
    print(f"{len(codes)} stations, {rounds} rounds: emergency p99 {ours_p99:.0f} ms (rounds: "
          f"{', '.join(f'{v:.0f}' for v in ours)}); one publish p99 {floor_p99:.0f} ms (rounds: "
          f"{', '.join(f'{v:.0f}' for v in floors)}); approve call {statistics.median(api_ms[1:]):.0f} ms")
    print(f"RESULT p99_ms={ours_p99:.0f} ratio_vs_broker={ours_p99 / floor_p99:.2f} broker_p99_ms={floor_p99:.0f} "
          f"api_ms={statistics.median(api_ms[1:]):.0f} stations={len(codes)}")


if __name__ == "__main__":
    main()
