"""MQTT nudge: a compile that changes manifests leaves a retained message on each station's topic."""

from __future__ import annotations

import json
import queue
import secrets
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest

from broadcast import create_app, load_settings
from broadcast.channels import mqtt
from broadcast.services import compiler, demo
from tests.services import port_open, unavailable

BROKER = ("127.0.0.1", 1883)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.fixture
def broker():
    if not port_open(*BROKER):
        unavailable("Mosquitto is not listening on 127.0.0.1:1883")
    return f"mqtt://{BROKER[0]}:{BROKER[1]}"


def _collect(prefix: str, expected: int, timeout: float = 10.0) -> dict[str, dict]:
    """Subscribe after the fact: retained messages must still arrive."""
    got: queue.Queue = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: got.put((msg.topic, msg.payload, msg.retain))
    client.connect(*BROKER)
    client.subscribe(f"{prefix}/#", qos=1)
    client.loop_start()
    found = {}
    try:
        while len(found) < expected:
            topic, payload, retained = got.get(timeout=timeout)
            assert retained, "a nudge must be retained for agents that connect later"
            found[topic] = json.loads(payload)
    finally:
        client.loop_stop()
        client.disconnect()
    return found


def _clear(prefix: str, topics) -> None:
    mqtt_client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    mqtt_client.connect(*BROKER)
    mqtt_client.loop_start()
    for topic in topics:  # an empty retained message deletes the retained one
        mqtt_client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    mqtt_client.loop_stop()
    mqtt_client.disconnect()


def test_compile_nudges_each_changed_station(broker, tmp_path, database):
    prefix = f"test-{secrets.token_hex(4)}/stations"
    settings = load_settings(instance_path=tmp_path / "instance", database_url=database.url, mqtt_url=broker,
                             mqtt_topic_prefix=prefix)
    app = create_app(settings)
    with app.app_context(), database.sessions() as session:
        list(demo.seed(session, today=NOW.date()))
        report = compiler.compile_stations(session, settings, now=NOW)
    try:
        assert report.manifests_changed == 4
        found = _collect(prefix, 4)
        assert set(found) == {mqtt.topic_for(prefix, code) for code in ("HG1-01", "HG1-02", "HG2-01", "DV-01")}
        versions = {topic: (n["version"], n["etag"]) for topic, n in found.items()}
        assert all(version == 1 and etag.startswith('"') for version, etag in versions.values())
    finally:
        _clear(prefix, [mqtt.topic_for(prefix, c) for c in ("HG1-01", "HG1-02", "HG2-01", "DV-01")])


def test_an_unreachable_broker_does_not_fail_the_compile(caplog):
    from tests.services import free_port

    assert mqtt.nudge(f"mqtt://127.0.0.1:{free_port()}", [("HG1-01", 2, '"abc"')]) == 0
    assert "unreachable" in caplog.text
