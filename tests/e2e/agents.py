"""Real processes for the agents' end-to-end tests: the service under gunicorn, station agents, a slow proxy.

Each process runs in its own process group (``start_new_session``) with its output in a log file, so a test can
stop it as a whole (gunicorn's workers, an agent's ffplay) and show the log's tail when something fails.
:class:`Processes` stops every group it started; the tests' fixtures call it in their teardown, which runs
also when an assertion fails.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from tests.services import need_tool, port_open

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "scripts" / "lib" / "gunicorn.conf.py"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNE = "00694"  # Phường Hà Giang 1: stations HG1-01 and HG1-02, operator vanhanh
PEOPLE = ("bientap", "pheduyet", "vanhanh")
STATIONS = ("HG1-01", "HG1-02")
START_LIMIT_S = 60
STOP_LIMIT_S = 20


def until(condition, timeout_s: float, what: str, logs: tuple[Path, ...] = (), every_s: float = 0.1):
    """Poll ``condition`` until it returns something true (returned) or the deadline passes: AssertionError,
    with the tails of ``logs``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = "".join(f"\n--- {log.name}:\n{tail(log)}" for log in logs)
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}{shown}")
        time.sleep(every_s)


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- the service -------------------------------------------------------------------------------------------


def service_env(instance: Path) -> dict[str, str]:
    """The service's settings for a test instance: SQLite in it, sessions changeable seconds before air."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "AUDIO_DIR", "SECRET_KEY", "MQTT_URL", "REDIS_URL", "REDIS_CHANNEL", "TIMEZONE",
                        "SCHEDULE_DAYS")}
    return env | {"INSTANCE_PATH": str(instance), "SHOWLOCK_MINUTES": "0"}


def flask(instance: Path, *commands: tuple[str, ...], env: dict[str, str] | None = None) -> list[str]:
    """Run ``flask --app broadcast <command>`` for each command, side by side; their outputs, in order. ``env``
    adds or replaces settings."""
    running = [(command, subprocess.Popen([str(BIN / "flask"), "--app", "broadcast", *command], cwd=ROOT,
                                          env=service_env(instance) | (env or {}), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
               for command in commands]
    outputs = []
    for command, proc in running:
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        assert proc.returncode == 0, f"flask {' '.join(command)} failed:\n{out}\n{err}"
        outputs.append(out.strip())
    return outputs


@dataclass(frozen=True)
class Tokens:
    people: dict[str, str]  # username: personal API token
    stations: dict[str, str]  # station code: station token


def seed(instance: Path, env: dict[str, str] | None = None) -> Tokens:
    """The demo data (``flask demo seed``) and tokens issued with the CLI, as an administrator would."""
    flask(instance, ("demo", "seed"), env=env)
    issued = flask(instance, *[("users", "token", name) for name in PEOPLE],
                   *[("stations", "token", code) for code in STATIONS], env=env)
    return Tokens(people=dict(zip(PEOPLE, issued[:len(PEOPLE)], strict=True)),
                  stations=dict(zip(STATIONS, issued[len(PEOPLE):], strict=True)))


class Group:
    """A process started in its own process group, with its output in ``log``."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str]):
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.pgid = self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, limit_s: float = STOP_LIMIT_S) -> None:
        """Send ``sig`` to the whole group and wait until every member is gone; SIGKILL what is left after
        ``limit_s`` (and fail: a process that ignores SIGTERM is a bug)."""
        self._signal(sig)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            self.proc.poll()
            if not self._group_alive():
                return
            time.sleep(0.05)
        members = subprocess.run(["ps", "-o", "pid,stat,args", "-g", str(self.pgid)], capture_output=True,
                                 text=True, check=False).stdout
        self.kill()
        raise AssertionError(f"process group {self.pgid} outlived signal {sig} by {limit_s} s:\n{members}\n"
                             f"{tail(self.log)}")

    def kill(self) -> None:
        """SIGKILL the whole group and reap it; no assertions (teardown)."""
        self._signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + STOP_LIMIT_S
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        # Members that exited but are not reaped yet (zombies) still count for killpg; reaped by init soon.
        states = subprocess.run(["ps", "-o", "stat=", "-g", str(self.pgid)], capture_output=True, text=True,
                                check=False).stdout.split()
        return any(not state.startswith("Z") for state in states)


class Processes:
    """Every process group a test started; :meth:`stop_all` kills whatever still runs."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.groups: list[Group] = []

    def start(self, argv: list[str], name: str, env: dict[str, str]) -> Group:
        group = Group(argv, self.folder / f"{name}.log", env)
        self.groups.append(group)
        return group

    def server(self, instance: Path, port: int, name: str = "server", *, workers: int = 2,
               env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Group:
        """gunicorn serving ``broadcast:create_app()`` on 127.0.0.1:``port`` as scripts/run starts it (its
        settings file: gevent workers); returns once it answers. ``env`` adds or replaces settings, ``args``
        gunicorn options."""
        server = self.start([str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--no-control-socket", "--access-logfile", "-",
                             "--access-logformat", '%(t)s "%(r)s" %(s)s %(b)s range="%({range}i)s"', *args,
                             "broadcast:create_app()"], name, service_env(instance) | (env or {}))
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert server.running(), f"gunicorn exited with {server.proc.returncode}:\n{tail(server.log)}"
            try:
                return requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        until(healthy, START_LIMIT_S, f"{base}/api/v1/health", (server.log,))
        return server

    def agent(self, config: Path, name: str) -> Group:
        return self.start([sys.executable, "-m", "stations.agent", "--config", str(config)], name, dict(os.environ))

    def stop_all(self) -> None:
        for group in reversed(self.groups):
            group.kill()


def stop_server(server: Group, port: int) -> None:
    server.stop()
    assert not port_open("127.0.0.1", port), f"port {port} still answers after the service stopped"


# -- the station agent -------------------------------------------------------------------------------------


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)  # strings, numbers and lists of them are valid TOML as JSON


def agent_config(folder: Path, server_url: str, code: str, token: str, **extra) -> Path:
    """A station.toml for ``code`` with ffplay on a dummy audio device and short intervals."""
    settings = {"server_url": server_url, "token": token, "station": code, "cache_dir": str(folder / "cache"),
                "player": ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"],
                "player_env": {"SDL_AUDIODRIVER": "dummy"}, "poll_interval_s": 1, "heartbeat_interval_s": 1,
                "commands_wait_s": 2, "http_timeout_s": 5, "log_level": "INFO", **extra}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "station.toml"
    path.write_text("".join(f"{key} = {_toml(value)}\n" for key, value in settings.items()), encoding="utf-8")
    return path


def local_log(cache_dir: Path) -> list[dict]:
    """The agent's own as-run log (its SQLite file, read-only), oldest first, with ``delivered`` added."""
    path = cache_dir / "asrun.sqlite3"
    if not path.is_file():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT body, delivered_at FROM events ORDER BY recorded_at, rowid").fetchall()
    return [{**json.loads(body), "delivered": delivered is not None} for body, delivered in rows]


# -- audio -------------------------------------------------------------------------------------------------


def tone(path: Path, frequency: int, seconds: float = 2.0, id3: bool = True) -> Path:
    """A real MP3: a sine at 64 kbit/s (the stations' bitrate)."""
    subprocess.run([need_tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={frequency}:duration={seconds}", "-b:a", "64k",
                    *([] if id3 else ["-id3v2_version", "0"]), str(path)], check=True, timeout=60)
    return path


def with_picture(path: Path, frequency: int, picture_bytes: int, seed: int) -> Path:
    """A two-second MP3 carrying ``picture_bytes`` of embedded data in its ID3v2 tag, as cover art makes a
    file large: players skip the tag, downloads take long."""
    audio = tone(path.with_suffix(".raw.mp3"), frequency, id3=False).read_bytes()
    owner = b"radio-test\x00"
    payload = owner + random.Random(seed).randbytes(picture_bytes)
    frame = b"PRIV" + len(payload).to_bytes(4, "big") + b"\x00\x00" + payload  # ID3v2.3 frame
    size = len(frame)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    path.write_bytes(b"ID3\x03\x00\x00" + syncsafe + frame + audio)
    return path


def duration_ms(path: Path) -> int:
    probe = subprocess.run([need_tool("ffprobe"), "-v", "error", "-show_entries", "format=duration", "-of", "json",
                            str(path)], capture_output=True, text=True, check=True, timeout=60)
    return round(float(json.loads(probe.stdout)["format"]["duration"]) * 1000)


# -- the service's API -------------------------------------------------------------------------------------


class Api:
    """The service's HTTP API as the demo users see it, each with a personal token."""

    def __init__(self, base: str, tokens: Tokens):
        self.base = base
        self.tokens = tokens

    def call(self, method: str, path: str, who: str, expect: int = 200, **kwargs):
        answer = requests.request(method, f"{self.base}{path}", timeout=30,
                                  headers={"Authorization": f"Bearer {self.tokens.people[who]}"}, **kwargs)
        assert answer.status_code == expect, f"{method} {path} as {who}: {answer.status_code} {answer.text[:500]}"
        return answer.json() if answer.content and answer.headers.get("Content-Type", "").startswith(
            "application/json") else answer.content

    def get(self, path: str, who: str = "vanhanh", **kwargs):
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str, expect: int = 200, **kwargs):
        return self.call("POST", path, who, expect, **kwargs)

    def draft(self, title: str) -> int:
        """A recorded item (its audio is a recording, not read by a voice); returns its id."""
        return self.post("/api/v1/items", "bientap", 201, json={
            "title": title, "body": "Thông báo của phường.", "content_source": "recording"})["id"]

    def upload(self, item_id: int, mp3: Path) -> dict:
        """Upload the item's recording; the service brings it to the station format. Returns its audio."""
        with open(mp3, "rb") as file:
            item = self.post(f"/api/v1/items/{item_id}/recording", "bientap",
                             files={"file": (mp3.name, file, "audio/mpeg")})
        assert item["render_state"] == "ready", item
        return item["audio"]

    def approve(self, item_id: int) -> None:
        self.post(f"/api/v1/items/{item_id}/submit", "bientap")
        assert self.post(f"/api/v1/items/{item_id}/approve", "pheduyet")["status"] == "approved"

    def session(self, item_ids: list[int], lead_s: float) -> tuple[int, datetime]:
        """A one-day slot for the commune starting ``lead_s`` seconds from now (local time, to the second),
        the items placed in it in order; returns the slot id and its local start."""
        start = (datetime.now(ZONE) + timedelta(seconds=lead_s)).replace(microsecond=0)
        day = start.date().isoformat()  # near midnight the session is tomorrow's: everything follows its date
        # The demo's provincial sessions (06:00 and 17:00, an hour each) must not overlap it: not that day.
        for slot in self.get(f"/api/v1/slots?area={COMMUNE}", "bientap"):
            if slot["area"] and slot["area"]["code"] != COMMUNE and day not in slot["cancelled"]:
                self.post(f"/api/v1/slots/{slot['id']}/exceptions", "bientap", json={"cancel": day})
        slot = self.post("/api/v1/slots", "bientap", 201, json={
            "name": f"Phát thử {start:%H:%M:%S}", "area": COMMUNE, "start_time": f"{start:%H:%M:%S}",
            "duration_s": 120, "valid_from": day, "valid_until": day})
        for item_id in item_ids:
            placed = self.post("/api/v1/placements", "bientap", 201, json={
                "item_id": item_id, "slot_id": slot["id"], "targets": [COMMUNE], "date_from": day, "date_until": day})
            assert placed["compile"]["compiled"], placed
            assert not [p for p in placed["compile"]["problems"] if p["severity"] == "error"], placed
        return slot["id"], start

    def day(self, code: str, day: date) -> dict:
        return self.get(f"/api/v1/stations/{code}/asrun/{day.isoformat()}")

    def station(self, code: str) -> dict:
        return self.get(f"/api/v1/stations/{code}")

    def deliveries(self) -> dict[str, dict]:
        """Each of the commune's stations: its current and installed manifest versions, up to date or not."""
        return {s["code"]: s for s in self.get(f"/api/v1/deliveries?area={COMMUNE}")}


# -- a slow link -------------------------------------------------------------------------------------------


class ThrottlingProxy:
    """A TCP proxy on 127.0.0.1 in front of the service: it forwards everything, sends audio downloads at
    ``rate`` bytes a second (None: at full speed), and notes each request's method, path and Range header."""

    SLICE = 16 * 1024

    def __init__(self, upstream_port: int, rate: float | None):
        self.upstream_port = upstream_port
        self.rate = rate
        self.requests: list[tuple[str, str, str | None]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, name="proxy", daemon=True)

    def __enter__(self) -> ThrottlingProxy:
        self._accepting.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._accepting.join(timeout=5)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                _close(sock)

    def mark(self) -> int:
        """A place in the request log, to look only at what came after it (say, one agent's requests)."""
        return len(self.requests)

    def audio_requests(self, sha256: str, since: int = 0) -> list[str | None]:
        """The Range header of each request for this audio file from ``since`` on, in order (None: whole file)."""
        return [rng for _, path, rng in list(self.requests)[since:] if path == f"/api/v1/audio/{sha256}"]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            state = {"audio": False}
            threading.Thread(target=self._upward, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._downward, args=(upstream, client, state), daemon=True).start()

    def _upward(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        try:
            while data := client.recv(65536):
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                request_line, *headers = head.split("\r\n")
                parts = request_line.split(" ")
                if len(parts) == 3 and parts[2].startswith("HTTP/"):  # a new request on this connection
                    fields = dict(line.split(":", 1) for line in headers if ":" in line)
                    rng = next((v.strip() for k, v in fields.items() if k.strip().lower() == "range"), None)
                    path = parts[1].split("?", 1)[0]
                    self.requests.append((parts[0], path, rng))
                    state["audio"] = path.startswith("/api/v1/audio/")
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)
            _close(client)

    def _downward(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while data := upstream.recv(65536):
                while data:
                    rate = self.rate if state["audio"] else None
                    piece, data = (data[:self.SLICE], data[self.SLICE:]) if rate else (data, b"")
                    client.sendall(piece)
                    if rate and self._stop.wait(len(piece) / rate):
                        return
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
