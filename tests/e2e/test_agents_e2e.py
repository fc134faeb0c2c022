"""Station agents and the service as real processes: a session airs through ffplay and the service records it.

The service runs under gunicorn on a free loopback port with a seeded SQLite instance in a temporary folder
(sessions may change until they air: SHOWLOCK_MINUTES=0). Through its HTTP API a test uploads real MP3
recordings, approves them and places them in a session starting seconds from now for commune 00694, whose
stations HG1-01 and HG1-02 then run ``python -m stations.agent`` with ffplay on a dummy audio device. The test
looks where the commune operator looks (the as-run day view, the delivery status, the station list) and at the
agent's own files; it never talks to the service with a station's token, so every station request is the
agent's. Every process runs in its own process group and is stopped after the test, also when it fails.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from stations.agent import AGENT_VERSION
from tests.e2e.agents import (
    STATIONS,
    ZONE,
    Api,
    Group,
    Processes,
    ThrottlingProxy,
    Tokens,
    agent_config,
    duration_ms,
    local_log,
    seed,
    stop_server,
    tone,
    until,
    with_picture,
)
from tests.services import free_port, need_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

LEAD_S = 20  # from creating the session to its start: agents start, sync and install meanwhile
AFTER_S = 45  # how long after the session's start everything must have aired and reached the service


@pytest.fixture(scope="module")
def template():
    """The demo data and tokens, seeded once with the CLI; each test serves a copy. Also the recordings."""
    need_tool("ffplay")
    with tempfile.TemporaryDirectory(prefix="agents-e2e-") as folder:
        folder = Path(folder)
        tokens = seed(folder / "instance")
        recordings = [tone(folder / f"tone-{hz}.mp3", hz) for hz in (440, 660)]
        yield folder / "instance", tokens, recordings


@dataclass
class World:
    folder: Path
    instance: Path
    tokens: Tokens
    recordings: list[Path]
    processes: Processes
    port: int

    @property
    def api(self) -> Api:
        return Api(f"http://127.0.0.1:{self.port}", self.tokens)

    def serve(self, name: str = "server") -> Group:
        return self.processes.server(self.instance, self.port, name)

    def agent(self, code: str, name: str | None = None, server_url: str | None = None, **extra) -> Group:
        config = agent_config(self.folder / code, server_url or self.api.base, code, self.tokens.stations[code],
                              **extra)
        return self.processes.agent(config, name or code)

    def cache(self, code: str) -> Path:
        return self.folder / code / "cache"


@pytest.fixture
def world(template):
    """A copy of the seeded instance in a temporary folder, and every process started on it stopped after."""
    instance, tokens, recordings = template
    with tempfile.TemporaryDirectory(prefix="agents-e2e-") as folder:
        folder = Path(folder)
        shutil.copytree(instance, folder / "instance")
        processes = Processes(folder)
        try:
            yield World(folder, folder / "instance", tokens, recordings, processes, free_port())
        finally:
            processes.stop_all()


@dataclass(frozen=True)
class Session:
    """A session as planned for one station: its occurrence key and, in order, (item id, start, sha256)."""

    slot_id: int
    start: datetime
    key: str
    entries: list[tuple[int, datetime, str]]


def recorded_items(api: Api, recordings: list[Path]) -> list[int]:
    """Approved items with the recordings uploaded (the service brings them to the station format)."""
    items = []
    for number, mp3 in enumerate(recordings, 1):
        item_id = api.draft(f"Thông báo số {number}")
        api.upload(item_id, mp3)
        api.approve(item_id)
        items.append(item_id)
    return items


def register(instance: Path, item_id: int, mp3: Path) -> str:
    """Put ``mp3`` in the service's audio store and attach it to the item, as an upload would (the upload
    endpoint re-encodes, which drops the large tag); returns its sha256."""
    from broadcast.db.engine import Database
    from broadcast.db.models import AudioAsset, NewsItem, RenderState

    payload = mp3.read_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    stored = instance / "audio" / sha[:2] / f"{sha}.mp3"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(payload)
    database = Database(f"sqlite:///{instance / 'broadcast.db'}")
    try:
        with database.session() as session:
            item = session.get(NewsItem, item_id)
            item.audio_asset = AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=duration_ms(mp3),
                                          origin="upload")
            item.render_state = RenderState.READY
    finally:
        database.dispose()
    return sha


def occurrence(api: Api, code: str, slot_id: int, start: datetime) -> dict:
    [found] = [o for o in api.day(code, start.date())["occurrences"] if o["slot_id"] == slot_id]
    return found


def plan(api: Api, items: list[int], lead_s: float) -> Session:
    """The items in a session starting ``lead_s`` from now, as the day view shows it for both stations."""
    slot_id, start = api.session(items, lead_s)
    found = occurrence(api, STATIONS[0], slot_id, start)
    assert found["state"] == "upcoming", found
    entries = [(e["item_id"], datetime.fromisoformat(e["start"]), e["audio"][0]) for e in found["entries"]]
    assert [item for item, _, _ in entries] == items, found
    assert occurrence(api, STATIONS[1], slot_id, start)["entries"] == found["entries"]
    return Session(slot_id, start, found["key"], entries)


def aired(api: Api, code: str, session: Session) -> dict | None:
    """The session as the day view shows it, once it aired with a played event for every entry."""
    found = occurrence(api, code, session.slot_id, session.start)
    played = [e for e in found["events"] if e["outcome"] == "played"]
    return found if found["state"] == "aired" and len(played) >= len(session.entries) else None


def seconds_to(moment: datetime) -> float:
    return (moment - datetime.now(ZONE)).total_seconds()


def check_reported_once(found: dict, session: Session, log: list[dict]) -> None:
    """Each planned entry aired on time and was reported once; the service holds exactly the agent's events."""
    events = found["events"]
    assert found["state"] == "aired", found
    assert len(events) == len(session.entries) == len({e["entry_id"] for e in events}), events
    for item_id, start, _ in session.entries:
        [event] = [e for e in events if e["item_id"] == item_id]
        assert event["outcome"] == "played" and event["reason"] is None, event
        # The day view shows times to the second; entries after the first start at fractions of one.
        assert abs((datetime.fromisoformat(event["scheduled_at"]) - start).total_seconds()) < 1.0, event
        assert abs((datetime.fromisoformat(event["started_at"]) - start).total_seconds()) < 2.0, event
        assert 1.5 <= event["seconds_played"] <= 4.0, event  # two-second recordings, and ffplay starting
    mine = [e for e in log if e["occurrence_key"] == session.key]
    assert sorted(e["event_id"] for e in mine) == sorted(e["event_id"] for e in events)
    assert all(e["delivered"] for e in mine), mine
    # What the agent played is what was planned, file by file.
    assert {e["item_id"]: e["audio_sha256"] for e in mine} == {item: sha for item, _, sha in session.entries}


def up_to_date(api: Api) -> bool:
    """Both stations sent the receipt of their current manifest (all its audio verified)."""
    status = api.deliveries()
    return all(status[code]["up_to_date"] for code in STATIONS)


def test_two_agents_air_a_session_with_ffplay_and_the_service_records_it(world):
    started = datetime.now(ZONE).replace(microsecond=0)
    server = world.serve()
    api = world.api
    session = plan(api, recorded_items(api, world.recordings), LEAD_S)
    agents = {code: world.agent(code) for code in STATIONS}
    logs = tuple(agent.log for agent in agents.values())
    until(lambda: up_to_date(api), seconds_to(session.start), "both agents to install the session", logs)

    for code, agent in agents.items():
        found = until(lambda code=code: aired(api, code, session), seconds_to(session.start) + AFTER_S,
                      f"{code} to air the session and report it", (agent.log,))
        check_reported_once(found, session, local_log(world.cache(code)))
        # Its heartbeats reached the service: the station list shows the agent's version and its last contact.
        station = api.station(code)
        assert station["agent_version"] == AGENT_VERSION, station
        assert station["status"] in ("online", "playing"), station
        assert datetime.fromisoformat(station["last_contact_at"]) >= started, station
        assert " ERROR " not in agent.log.read_text(), agent.log.read_text()

    for agent in agents.values():
        agent.stop()  # SIGTERM: the agent and its player end, within the limit
    stop_server(server, world.port)


def test_an_agent_airs_from_its_cache_while_the_service_is_down_and_reports_each_event_once(world):
    server = world.serve()
    api = world.api
    session = plan(api, recorded_items(api, world.recordings), LEAD_S + 5)
    agents = {code: world.agent(code) for code in STATIONS}
    logs = tuple(agent.log for agent in agents.values())
    until(lambda: up_to_date(api), seconds_to(session.start) - 3, "both agents to install the session", logs)

    # The whole service goes away before the session: gunicorn's master and its workers.
    stop_server(server, world.port)
    assert seconds_to(session.start) > 1, "the service stopped too late to test playing offline"

    def played_offline(code: str) -> list[dict]:
        log = [e for e in local_log(world.cache(code)) if e["occurrence_key"] == session.key]
        return log if len([e for e in log if e["outcome"] == "played"]) == len(session.entries) else []

    for code, agent in agents.items():
        log = until(lambda code=code: played_offline(code), seconds_to(session.start) + AFTER_S,
                    f"{code} to play the session offline", (agent.log,))
        assert not any(e["delivered"] for e in log), log  # nobody to deliver them to
        until(lambda agent=agent: "as-run events not delivered" in agent.log.read_text(), 20,
              f"{code} to try to deliver its events", (agent.log,))

    # Back on the same port and instance: each agent delivers what it kept, retrying as it will.
    world.serve("server-again")
    for code, agent in agents.items():
        found = until(lambda code=code: aired(api, code, session), 60, f"{code}'s events to reach the service",
                      (agent.log,))
        until(lambda code=code: all(e["delivered"] for e in local_log(world.cache(code))), 20,
              f"{code} to mark its events delivered", (agent.log,))
        check_reported_once(found, session, local_log(world.cache(code)))


def test_an_agent_killed_while_downloading_resumes_and_never_plays_a_corrupt_file(world):
    server = world.serve()
    api = world.api
    # Two recordings large enough to download for a while on a slow link, as cover art makes a file large.
    items, sizes = [], {}
    for number, hz in enumerate((523, 784), 1):
        mp3 = with_picture(world.folder / f"big-{hz}.mp3", hz, 640 * 1024, seed=hz)
        items.append(api.draft(f"Bản tin dài {number}"))
        sizes[register(world.instance, items[-1], mp3)] = mp3.stat().st_size
        api.approve(items[-1])
    session = plan(api, items, LEAD_S + 10)
    audio = world.cache("HG1-01") / "audio"

    def growing(exclude: set[str]) -> str | None:
        """The sha256 of a download well under way (a few chunks written, far from done)."""
        for sha, size in sizes.items():
            part = audio / f"{sha}.mp3.part"
            if sha not in exclude and part.exists() and 64 * 1024 <= part.stat().st_size <= size // 2:
                return sha
        return None

    with ThrottlingProxy(world.port, rate=256 * 1024) as proxy:
        url = f"http://127.0.0.1:{proxy.port}"
        first = world.agent("HG1-01", "agent-1", server_url=url, poll_interval_s=0.5)
        one = until(lambda: growing(set()), 30, "a download under way", (first.log,))
        first.kill()
        resumed_from = (audio / f"{one}.mp3.part").stat().st_size
        assert 0 < resumed_from < sizes[one]

        # Started again, it resumes the first file where it stopped; we kill it again in the second file.
        # (Only what each agent asked is checked: on a loaded machine an attempt may end before its first chunk
        # is written, and the next attempt then rightly asks for the whole file again.)
        since_second = proxy.mark()
        second = world.agent("HG1-01", "agent-2", server_url=url, poll_interval_s=0.5)
        other = until(lambda: growing({one}), 30, "the second download under way", (second.log,))
        second.kill()
        assert proxy.audio_requests(one, since_second)[:1] == [f"bytes={resumed_from}-"], proxy.requests
        assert hashlib.sha256((audio / f"{one}.mp3").read_bytes()).hexdigest() == one
        # The disk damaged what was kept of the second file: the resumed download cannot be right.
        part = audio / f"{other}.mp3.part"
        kept = part.read_bytes()
        part.write_bytes(kept[:1000] + bytes(b ^ 0xFF for b in kept[1000:2000]) + kept[2000:])
        proxy.rate = None

        since_third = proxy.mark()
        third = world.agent("HG1-01", "agent-3", server_url=url, poll_interval_s=0.5)
        found = until(lambda: aired(api, "HG1-01", session), seconds_to(session.start) + AFTER_S,
                      "the session to air and be reported", (third.log,))
        # It resumed the damaged file, found it wrong, threw it away and fetched it whole.
        fetched = proxy.audio_requests(other, since_third)
        assert fetched[:1] == [f"bytes={len(kept)}-"] and None in fetched[1:], proxy.requests
        assert "fails verification" in third.log.read_text(), third.log.read_text()

    for sha in sizes:  # what is installed is what the service holds
        assert hashlib.sha256((audio / f"{sha}.mp3").read_bytes()).hexdigest() == sha
    assert not list(audio.glob("*.part"))
    log = local_log(world.cache("HG1-01"))
    assert all(e["outcome"] == "played" and e["audio_sha256"] in sizes for e in log), log
    check_reported_once(found, session, log)
    third.stop()
    stop_server(server, world.port)
