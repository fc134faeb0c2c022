"""scripts/run end to end: it sets up, seeds the demo, serves, stops cleanly with its scheduler, and keeps the data.

It ends its start-up output with the logins and the address, logs each process to a file under instance/logs
(the terminal showing only warnings and errors), and a second start adds no second copy of the demo.

The real script runs in its own process group on a free loopback port with a temporary instance folder;
every process it starts is stopped before the test ends, also when an assertion fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from broadcast.services.demo import DEMO_PASSWORD
from tests.services import free_port, port_open

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run"
FLASK = ROOT / ".venv" / "bin" / "flask"
PASSWORD = DEMO_PASSWORD
STATIONS = {"HG1-01", "HG1-02", "HG2-01", "DV-01"}
START_LIMIT_S = 120
AIRING_LIMIT_S = 150  # from health: render, compile, poll, download, then the 45 s lead and the bulletin itself
STOP_LIMIT_S = 20


def _env(instance: Path, port: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # The service's own defaults: SQLite in the instance folder, whatever the calling shell has set.
    for name in ("DATABASE_URL", "AUDIO_DIR", "SECRET_KEY"):
        env.pop(name, None)
    env["INSTANCE_PATH"] = str(instance)
    env["HOST"] = "127.0.0.1"
    env["ICECAST_PORT"] = str(free_port())  # the demo's stream server, off the default 8000 another run may hold
    env.pop("LIVE_ICECAST_URL", None)
    if port is not None:
        env["PORT"] = str(port)
    return env


def _wait_for_banner(service: Service) -> list[str]:
    """The terminal's lines once the closing address line is out (the script prints it after the service answers
    and the demo session is set)."""
    last = f"Mở / open: {service.base}/"
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        lines = service.log.read_text(encoding="utf-8", errors="replace").splitlines()
        if any(line.strip() == last for line in lines):
            return lines
        if service.proc.poll() is not None:
            break
        time.sleep(0.5)
    pytest.fail(f"scripts/run printed no closing line {last!r}:\n{_tail(service.log)}")


WARNING_LINE = re.compile(r"(^|[^A-Za-z])(WARNING|ERROR|CRITICAL|Traceback)([^A-Za-z]|$)|^==> ")


def _assert_address_comes_last(lines: list[str], base: str) -> None:
    """After the closing address line the terminal shows nothing but warnings and errors of the processes."""
    end = max(i for i, line in enumerate(lines) if line.strip() == f"Mở / open: {base}/")
    after = [line for line in lines[end + 1:] if line.strip()]
    assert all(WARNING_LINE.search(line) for line in after), after


def _demo_counts(instance: Path) -> tuple[int, int, int]:
    """Slots, bulletins and placements in the instance's database (read while the service is stopped)."""
    with sqlite3.connect(instance / "broadcast.db") as db:
        return tuple(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
                     for table in ("slots", "news_items", "placements"))


def _tail(log: Path, lines: int = 60) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_group_gone(pgid: int, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _group_members(pgid: int) -> str:
    result = subprocess.run(["ps", "-ww", "-o", "pid,ppid,pgid,stat,args", "-g", str(pgid)],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip()


class Service:
    """One run of scripts/run: its process group, port and log."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path):
        self.proc = proc
        self.pgid = proc.pid  # start_new_session: the script leads its own session and process group
        self.port = port
        self.log = log
        self.base = f"http://127.0.0.1:{port}"
        self.stopped = False

    def wait_until_healthy(self) -> dict:
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"scripts/run exited with {self.proc.returncode} before serving:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return json.load(response)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.5)
        pytest.fail(f"no answer from {self.base}/api/v1/health within {START_LIMIT_S} s:\n{_tail(self.log)}")

    def stop(self, *, script_only: bool = False) -> None:
        """SIGTERM to the whole group (as Ctrl+C does), or to the script alone (as systemd or a container
        runtime does); either way the script, gunicorn and the scheduler must all be gone."""
        if script_only:
            self.proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(self.pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            members = _group_members(self.pgid)
            self.kill()
            pytest.fail(f"scripts/run did not stop within {STOP_LIMIT_S} s of SIGTERM; still running:\n{members}\n"
                        f"{_tail(self.log)}")
        # The orphans of the script (gunicorn, the scheduler) are reaped by init a moment after they exit.
        if not _wait_group_gone(self.pgid, 10):
            members = _group_members(self.pgid)
            self.kill()
            pytest.fail(f"processes of scripts/run outlived it after SIGTERM:\n{members}\n{_tail(self.log)}")
        self.stopped = True
        assert not port_open("127.0.0.1", self.port), f"port {self.port} still accepts connections after the stop"

    def kill(self) -> None:
        """Last resort, no assertions: SIGKILL whatever is left of the group."""
        if self.stopped:
            return
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            pass
        _wait_group_gone(self.pgid, STOP_LIMIT_S)
        self.stopped = True


@contextmanager
def run_script(tmp_path: Path, instance: Path, name: str):
    port = free_port()
    log = tmp_path / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(RUN)], cwd=tmp_path, env=_env(instance, port), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    service = Service(proc, port, log)
    try:
        yield service
    finally:
        service.kill()


class _CsrfField(HTMLParser):
    def __init__(self):
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token":
            self.token = attrs.get("value")


def _opener(jar: CookieJar | None = None) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar if jar is not None else CookieJar()))


def _get(opener, url: str) -> tuple[str, str]:
    with opener.open(url, timeout=10) as response:
        return urlsplit(response.url).path, response.read().decode("utf-8")


def log_in(opener, base: str, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """Log in through the HTML form; returns the path and page the browser would end on."""
    _, page = _get(opener, f"{base}/login")
    parser = _CsrfField()
    parser.feed(page)
    assert parser.token, "the login form has no csrf_token field"
    body = urlencode({"username": username, "password": password, "csrf_token": parser.token}).encode()
    request = urllib.request.Request(f"{base}/login", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with opener.open(request, timeout=10) as response:
        return urlsplit(response.url).path, response.read().decode("utf-8")


def flask_cli(instance: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = _env(instance) | (extra_env or {})
    return subprocess.run([str(FLASK), "--app", "broadcast", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300, check=False)


def _wait_for_demo_airing(opener, service: Service, limit_s: float) -> dict[str, list]:
    """Poll the operator's as-run view of the demo stations until each reports the demo bulletin played."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    deadline = time.monotonic() + limit_s
    played: dict[str, list] = {}
    while time.monotonic() < deadline:
        for code in ("HG1-01", "HG1-02"):
            for day in (today, today + timedelta(days=1)):  # the session may start after midnight
                _, body = _get(opener, f"{service.base}/api/v1/stations/{code}/asrun/{day.isoformat()}")
                events = [e for occurrence in json.loads(body)["occurrences"] for e in occurrence["events"]
                          if e["outcome"] == "played" and e["seconds_played"] > 0]
                if events:
                    played[code] = events
        if len(played) == 2:
            return played
        time.sleep(2)
    logs = "\n".join(_tail(path, 20) for path in sorted(service.log.parent.glob("**/logs/*.log")))
    pytest.fail(f"the demo stations reported no airing within {limit_s} s (got {sorted(played)}):\n"
                f"{_tail(service.log)}\n{logs}")


def test_run_script_serves_stops_cleanly_and_keeps_its_data(tmp_path):
    instance = tmp_path / "instance"
    jar = CookieJar()

    # First start: a fresh instance folder.
    with run_script(tmp_path, instance, "first") as service:
        health = service.wait_until_healthy()
        assert health["status"] == "ok"
        assert health["database"] == "ok"

        lines = _wait_for_banner(service)
        banner = "\n".join(lines)
        _assert_address_comes_last(lines, service.base)
        for username in ("admin", "bientap", "pheduyet", "vanhanh"):
            assert re.search(rf"^ +{username} ", banner, re.MULTILINE), f"no demo login {username} in:\n{banner}"
        assert PASSWORD in banner
        # The background scheduler runs in the script's group, next to gunicorn.
        members = _group_members(service.pgid)
        assert "jobs run" in members, members
        assert "gunicorn" in members, members

        opener = _opener(jar)
        try:
            log_in(_opener(), service.base, "bientap", "not-the-password")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        else:
            pytest.fail("a wrong password was accepted")

        path, page = log_in(opener, service.base, "bientap")
        assert path == "/"
        for code in STATIONS:
            assert code in page

        # Speaking live works in the demo: the script started a stream server, in its group, and said where.
        live = re.search(r"Phát trực tiếp / speaking live: (\S+) \(Icecast (http://127\.0\.0\.1:\d+)\)", banner)
        assert live and live.group(1) == f"{service.base}/live", banner
        assert "icecast2" in _group_members(service.pgid)
        try:
            urllib.request.urlopen(f"{live.group(2)}/admin/listmounts", timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401  # Icecast answers (and asks for its admin password)
        _, page = _get(opener, f"{service.base}/live")
        assert 'id="live-form"' in page and "chưa thiết lập phát trực tiếp" not in page

        with urllib.request.urlopen(f"{service.base}/api/v1/openapi.json", timeout=10) as response:
            assert response.headers.get_content_type() == "application/json"
            spec = json.load(response)
        assert "paths" in spec
        assert "/api/v1/health" in spec["paths"]

        # The two demo agents get their playlists and report the demo session, which starts 45 s after start-up.
        played = _wait_for_demo_airing(opener, service, AIRING_LIMIT_S)
        members = _group_members(service.pgid)
        assert members.count("stations.agent") == 2, members
        assert set(played) == {"HG1-01", "HG1-02"}, played

        # Each process logs to its file; the terminal has none of their ordinary lines (the requests above).
        logs = instance / "logs"
        web = (logs / "web.log").read_text(encoding="utf-8")
        assert "GET /api/v1/health" in web and "POST /login" in web
        assert (logs / "scheduler.log").stat().st_size > 0
        assert all((logs / f"agent-{code}.log").stat().st_size > 0 for code in ("HG1-01", "HG1-02"))
        terminal = service.log.read_text(encoding="utf-8", errors="replace")
        assert "GET /api/v1/health" not in terminal and "POST /login" not in terminal

        service.stop()
    first_counts = _demo_counts(instance)

    assert (instance / "broadcast.db").is_file()
    # Something made while the service is down must still be there after the next start.
    created = flask_cli(instance, "users", "create", "--username", "kiemtra", "--role", "editor", "--scope", "08",
                        extra_env={"NEW_USER_PASSWORD": "kiem-tra-2026"})
    assert created.returncode == 0, created.stderr

    # Second start on the same instance folder: the data, and the session key, are kept.
    with run_script(tmp_path, instance, "second") as service:
        service.wait_until_healthy()
        _assert_address_comes_last(_wait_for_banner(service), service.base)

        # The session cookie from the first run still opens the dashboard: same secret key, same accounts.
        path, page = _get(_opener(jar), f"{service.base}/")
        assert path == "/"
        assert "HG1-01" in page

        path, page = log_in(_opener(), service.base, "bientap")
        assert path == "/"
        assert "HG1-01" in page
        path, page = log_in(_opener(), service.base, "kiemtra", "kiem-tra-2026")
        assert path == "/", "the account created between the two runs is gone"

        assert (instance / "broadcast.db").is_file()
        listed = flask_cli(instance, "stations", "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert len(lines) == 4, listed.stdout
        assert {line.split("\t")[0] for line in lines} == STATIONS

        service.stop(script_only=True)
    # The second start moved the demo session instead of adding one: as many slots, bulletins and placements.
    assert _demo_counts(instance) == first_counts
