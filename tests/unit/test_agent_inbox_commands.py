"""Commands an SSH push leaves in the inbox: each handled once, removed when the inbox allows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stations.agent.agent import Agent
from stations.agent.config import parse_config


class Client:
    """Records acknowledgements instead of sending them."""

    def __init__(self):
        self.acks: list[tuple[int, bool, str]] = []

    def ack_command(self, command_id: int, ok: bool, detail: str) -> None:
        self.acks.append((command_id, ok, detail))


@pytest.fixture
def agent(tmp_path):
    config = parse_config({"server_url": "http://127.0.0.1:9", "token": "x" * 32, "station": "DV-01",
                           "cache_dir": str(tmp_path / "cache"), "inbox_dir": str(tmp_path / "inbox"),
                           "player": ["true", "{file}"]})
    client = Client()
    made = Agent(config, client=client)
    yield made, client, tmp_path / "inbox" / "commands"
    made.close()


def test_each_pushed_command_is_handled_once_and_removed(agent):
    made, client, folder = agent
    assert made.take_inbox_commands() == 0  # no folder yet
    folder.mkdir(parents=True)
    (folder / "7.json").write_text(json.dumps({"id": 7, "kind": "set_volume", "args": {"volume": 30}}))
    (folder / ".8.json.1a2b3c4d.part").write_text("{")  # a push still writing: not a command yet
    (folder / "9.json").write_text("{not json")
    assert made.take_inbox_commands() == 1
    assert client.acks == [(7, True, "volume 30")] and made.volume.volume == 30
    assert sorted(p.name for p in folder.iterdir()) == [".8.json.1a2b3c4d.part"]


def test_a_command_the_agent_may_not_remove_is_not_handled_again(agent, monkeypatch):
    made, client, folder = agent
    folder.mkdir(parents=True)
    (folder / "7.json").write_text(json.dumps({"id": 7, "kind": "set_volume", "args": {"volume": 30}}))

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    assert made.take_inbox_commands() == 1
    assert made.take_inbox_commands() == 0  # still there, but already handled
    assert client.acks == [(7, True, "volume 30")]
