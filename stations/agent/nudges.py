"""The optional MQTT subscription: manifest nudges and remote commands, the moment the service sends them.

Topics: ``<prefix>/<station>/manifest`` (retained ``{"version": N, "etag": "..."}``: the agent polls at once
when the ETag is not the installed one) and ``<prefix>/<station>/commands`` (one command JSON per message,
QoS 1). A persistent session (fixed client id, clean_session off) keeps QoS 1 commands the broker received
while the station was offline. The broker being down costs only promptness: polling goes on regardless.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


def topics(prefix: str, station: str) -> tuple[str, str]:
    """(manifest topic, commands topic)."""
    base = f"{prefix.strip('/')}/{station}"
    return f"{base}/manifest", f"{base}/commands"


class MqttListener:
    """Subscribes to the station's two topics and hands each message on (from paho's network thread)."""

    def __init__(self, url: str, station: str, prefix: str, *, on_manifest: Callable[[dict[str, Any]], None],
                 on_command: Callable[[dict[str, Any]], None], client_id: str | None = None):
        self.url = url
        self.manifest_topic, self.commands_topic = topics(prefix, station)
        self.on_manifest = on_manifest
        self.on_command = on_command
        self.client_id = client_id or f"radio-agent-{station}"
        self._client = None
        # Set while subscribed: commands then arrive here at once, and the agent stops long-polling for them.
        self.listening = threading.Event()

    def start(self) -> None:
        import paho.mqtt.client as paho  # only stations with a broker need paho at all

        parts = urlsplit(self.url)
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False)
        if parts.scheme == "mqtts":
            client.tls_set()
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.reconnect_delay_set(1, 60)
        client.connect_async(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883), keepalive=60)
        client.loop_start()
        self._client = client

    def stop(self) -> None:
        self.listening.clear()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def _connected(self, client, _userdata, _flags, reason_code, _properties=None) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe([(self.manifest_topic, 1), (self.commands_topic, 1)])
        log.info("MQTT: listening on %s and %s", self.manifest_topic, self.commands_topic)
        self.listening.set()

    def _disconnected(self, _client, _userdata, _flags, reason_code, _properties=None) -> None:
        self.listening.clear()
        log.warning("MQTT: disconnected (%s); commands come by the HTTP long poll until it is back", reason_code)

    def _message(self, _client, _userdata, message) -> None:
        if not message.payload:
            return  # an empty retained message only clears the topic
        try:
            payload = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("MQTT: ignoring a message on %s that is not JSON", message.topic)
            return
        if not isinstance(payload, dict):
            log.warning("MQTT: ignoring a message on %s that is not a JSON object", message.topic)
            return
        try:
            if message.topic == self.manifest_topic:
                self.on_manifest(payload)
            elif message.topic == self.commands_topic:
                self.on_command(payload)
        except Exception:  # noqa: BLE001 - a handler's bug must not kill paho's network thread
            log.exception("MQTT: handling a message on %s failed", message.topic)
