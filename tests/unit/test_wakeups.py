"""Long polls in one worker process (threads here, greenlets under gunicorn) and the messages that end them.

The same code runs under gunicorn's gevent workers; tests/e2e/test_longpoll.py runs it there for real.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from broadcast.channels import bus, wakeups

COMMANDS, MANIFESTS, STATIONS = "commands", "manifests", "stations"


def test_a_second_poll_of_a_station_ends_the_first_and_no_other():
    polls = wakeups.LongPolls()
    first, other = polls.enter(1), polls.enter(2)
    second = polls.enter(1)
    assert first.wait(30) == wakeups.SUPERSEDED  # at once: nothing else would end it within 30 s
    assert other.wait(0.05) == wakeups.TIMEOUT and second.wait(0.05) == wakeups.TIMEOUT
    polls.leave(first)  # the ended poll leaving does not remove the new one
    assert sorted(polls.station_ids()) == [1, 2] and polls.count() == 2


def test_a_wake_up_reaches_only_its_station_and_is_taken_once():
    polls = wakeups.LongPolls()
    one, two = polls.enter(1), polls.enter(2)
    polls.wake([1])
    assert one.wait(30) == wakeups.COMMAND
    assert one.wait(0.05) == wakeups.TIMEOUT  # taken: the next wait sleeps again
    assert two.wait(0.05) == wakeups.TIMEOUT


def test_a_claim_from_another_worker_ends_only_an_older_poll():
    polls = wakeups.LongPolls()
    waiter = polls.enter(7)
    at, token = waiter.claim
    polls.claimed(7, (at - 1, "older"))  # a claim from before this poll began: this poll is the newer one
    polls.claimed(7, (at, token))  # our own claim, echoed back by the bus
    assert waiter.wait(0.05) == wakeups.TIMEOUT
    polls.claimed(7, (at + 1, "newer"))
    assert waiter.wait(30) == wakeups.SUPERSEDED


def test_superseded_is_final_even_if_a_command_comes_after():
    polls = wakeups.LongPolls()
    waiter = polls.enter(3)
    polls.enter(3)
    polls.wake([3])
    assert waiter.wait(30) == wakeups.SUPERSEDED


def test_a_client_that_closes_its_connection_ends_the_wait():
    server_side, client_side = socket.socketpair()
    try:
        polls = wakeups.LongPolls()
        waiter = polls.enter(1)
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(waiter.wait, 60, server_side)
            client_side.close()
            assert waiting.result(timeout=30) == wakeups.GONE
    finally:
        server_side.close()


def test_bytes_from_a_client_that_stays_do_not_end_the_wait():
    server_side, client_side = socket.socketpair()
    try:
        client_side.sendall(b"x")
        waiter = wakeups.LongPolls().enter(1)
        assert waiter.wait(1.5, server_side) == wakeups.TIMEOUT
        assert server_side.recv(1) == b"x"  # left for the server to read
    finally:
        server_side.close()
        client_side.close()


def test_ending_every_poll_when_the_worker_stops():
    polls = wakeups.LongPolls()
    waiters = [polls.enter(n) for n in range(5)]
    wakeups.end_all_waiting()
    assert {waiter.wait(30) for waiter in waiters} == {wakeups.CLOSING}


class _Recorder:
    def __init__(self, waiting: set[int]):
        self.waiting = waiting
        self.queries: list[list[int]] = []
        self.dropped: list[str] = []

    def pending(self, station_ids: list[int]) -> set[int]:
        self.queries.append(sorted(station_ids))
        return self.waiting & set(station_ids)


def _watcher(tmp_path, recorder: _Recorder, polls: wakeups.LongPolls) -> wakeups.Watcher:
    return wakeups.Watcher(tmp_path, polls, recorder.pending, recorder.dropped.append, commands_kind=COMMANDS,
                           cache_kinds=(MANIFESTS, STATIONS))


def test_the_watcher_wakes_only_the_stations_with_commands_with_one_query_per_batch(tmp_path):
    polls = wakeups.LongPolls()
    recorder = _Recorder(waiting={2, 9})
    one, two, three = polls.enter(1), polls.enter(2), polls.enter(3)
    _watcher(tmp_path, recorder, polls).handle([{"kind": COMMANDS}, {"kind": COMMANDS}])
    assert recorder.queries == [[1, 2, 3]]
    assert two.wait(30) == wakeups.COMMAND
    assert one.wait(0.05) == wakeups.TIMEOUT and three.wait(0.05) == wakeups.TIMEOUT


def test_the_watcher_drops_caches_and_passes_claims_on(tmp_path):
    polls = wakeups.LongPolls()
    recorder = _Recorder(waiting=set())
    waiter = polls.enter(4)
    watcher = _watcher(tmp_path, recorder, polls)
    watcher.handle([{"kind": MANIFESTS}, {"kind": bus.POLL, "station": 4, "at": waiter.claim[0] + 1, "token": "t"},
                    {"kind": bus.POLL, "station": "junk"}])
    assert recorder.dropped == [MANIFESTS] and recorder.queries == []
    assert waiter.wait(30) == wakeups.SUPERSEDED
    watcher.handle([{"kind": bus.RESYNC}])  # after a reconnection to Redis: everything may have changed
    assert recorder.dropped == [MANIFESTS, MANIFESTS, STATIONS]


def test_no_query_when_nobody_waits(tmp_path):
    recorder = _Recorder(waiting={1})
    _watcher(tmp_path, recorder, wakeups.LongPolls()).handle([{"kind": COMMANDS}])
    assert recorder.queries == []


# -- the bus between the workers of one node ------------------------------------------------------------------


@pytest.fixture
def inbox(tmp_path):
    box = bus.Inbox(tmp_path)
    yield box
    box.close()


def test_a_message_reaches_every_listening_worker_and_a_gone_one_is_forgotten(tmp_path, inbox):
    markers = inbox.marker.parent
    gone = markers / "999999999"  # a worker killed before it could remove its marker: nobody listens there
    gone.touch()
    bus.send(tmp_path, {"kind": COMMANDS})
    assert inbox.receive(30) == [{"kind": COMMANDS}]
    assert not gone.exists()
    assert inbox.marker.exists()


def test_messages_that_queued_come_in_one_batch(tmp_path, inbox):
    for kind in (COMMANDS, MANIFESTS, STATIONS):
        bus.send(tmp_path, {"kind": kind})
    assert [m["kind"] for m in inbox.receive(30)] == [COMMANDS, MANIFESTS, STATIONS]
    assert inbox.receive(0.05) == []


def test_a_closed_inbox_removes_its_marker(tmp_path):
    box = bus.Inbox(tmp_path)
    box.close()
    assert not box.marker.exists()
    bus.send(tmp_path, {"kind": COMMANDS})  # nobody listens: nothing to do, nothing fails


def test_the_watcher_thread_wakes_a_poll_when_a_command_is_sent(tmp_path):
    polls = wakeups.LongPolls(announce=wakeups.announcer(tmp_path))
    watcher = _watcher(tmp_path, _Recorder(waiting={5}), polls)
    watcher.start()  # listening once it returns
    try:
        waiter = polls.enter(5)  # its claim goes to the watcher too, and ends nothing: it is its own
        bus.send(tmp_path, {"kind": COMMANDS})
        assert waiter.wait(30) == wakeups.COMMAND
    finally:
        watcher.stop()
