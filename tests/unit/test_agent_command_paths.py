"""MQTT first, the long poll as the fallback: while the agent's MQTT subscription is live it does not hold a
long poll open on the server, and sweeps the HTTP endpoint only for what MQTT missed; when MQTT drops, the long
poll is back at once."""

from __future__ import annotations

import threading
import time

import pytest

from stations.agent import agent as agent_module
from stations.agent.agent import Agent
from stations.agent.config import parse_config


class Client:
    """Answers command polls from a list (empty afterwards) and records the wait each asked for."""

    def __init__(self, answers: list[list[dict]] | None = None):
        self.waits: list[float] = []
        self.answers = list(answers or [])
        self.acks: list[tuple[int, bool, str]] = []
        self.asked = threading.Condition()

    def poll_commands(self, wait_s: float) -> list[dict]:
        with self.asked:
            self.waits.append(wait_s)
            self.asked.notify_all()
        return self.answers.pop(0) if self.answers else []

    def ack_command(self, command_id: int, ok: bool, detail: str) -> None:
        self.acks.append((command_id, ok, detail))

    def wait_for_polls(self, count: int, limit_s: float = 10) -> list[float]:
        with self.asked:
            assert self.asked.wait_for(lambda: len(self.waits) >= count, timeout=limit_s), self.waits
            return list(self.waits)


class Listener:
    def __init__(self, listening: bool):
        self.listening = threading.Event()
        if listening:
            self.listening.set()


@pytest.fixture
def make_agent(tmp_path):
    made: list[Agent] = []

    def make(client: Client, listener: Listener | None) -> Agent:
        config = parse_config({"server_url": "http://127.0.0.1:9", "token": "x" * 32, "station": "DV-01",
                               "cache_dir": str(tmp_path / "cache"), "player": ["true", "{file}"],
                               "commands_wait_s": 25})
        agent = Agent(config, client=client)
        agent._mqtt = listener
        made.append(agent)
        threading.Thread(target=agent._command_loop, daemon=True).start()
        return agent

    yield make
    for agent in made:
        agent._stop.set()
        agent.close()


def test_without_mqtt_commands_are_long_polled(make_agent):
    client = Client()
    make_agent(client, None)
    assert client.wait_for_polls(2)[:2] == [25, 25]


def test_while_mqtt_listens_the_endpoint_is_only_swept_without_waiting(make_agent, monkeypatch):
    monkeypatch.setattr(agent_module, "MQTT_SWEEP_S", 0.3)
    client = Client([[{"id": 4, "kind": "set_volume", "args": {"volume": 40}}]])
    agent = make_agent(client, Listener(listening=True))
    waits = client.wait_for_polls(3)
    assert waits[:3] == [0, 0, 0]  # no poll held open on the server
    assert client.acks == [(4, True, "volume 40")] and agent.volume.volume == 40  # what MQTT missed is swept up


def test_when_mqtt_drops_the_long_poll_is_back_at_once(make_agent):
    client = Client()
    listener = Listener(listening=True)
    make_agent(client, listener)
    assert client.wait_for_polls(1) == [0]
    started = time.monotonic()
    listener.listening.clear()  # the broker went away; the next sweep was minutes off
    assert client.wait_for_polls(2)[1] == 25
    assert time.monotonic() - started < agent_module.MQTT_SWEEP_S
