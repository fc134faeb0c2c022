"""Commands published over MQTT read back as the same JSON, whether or not they share one args object."""

from __future__ import annotations

import json

from broadcast.channels import mqtt


def test_each_published_command_is_the_command_as_json(monkeypatch):
    sent = []
    monkeypatch.setattr(mqtt, "_publish", lambda url, messages, timeout: sent.extend(messages) or len(messages))
    shared = {"broadcast": 7, "title": "Cảnh báo lũ quét \"khẩn\"", "repeat": 3}
    commands = [("HG1-01", {"id": 1, "kind": "emergency", "args": shared, "issued_at": "2026-11-28T09:00:00+00:00"}),
                ("HG1-02", {"id": 2, "kind": "emergency", "args": shared, "issued_at": "2026-11-28T09:00:00+00:00"}),
                ("DV-01", {"id": 3, "kind": "cancel_emergency", "args": {"broadcast": 6}, "issued_at": "x"}),
                ("DV-02", {"id": 4, "kind": "stop", "issued_at": "x"})]
    assert mqtt.publish_commands("mqtt://127.0.0.1:1883", commands, topic_prefix="p/stations") == 4
    assert [(topic, json.loads(payload), retain) for topic, payload, retain in sent] == [
        (f"p/stations/{code}/commands", {"args": {}, **command}, False) for code, command in commands]
