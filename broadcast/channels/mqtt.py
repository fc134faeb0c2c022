"""MQTT nudge: a retained message on each station's topic when its manifest changes.

It carries no content, only "version N (ETag) is ready": the agent fetches the manifest at once instead of
at its next poll. Retained, so an agent that (re)connects later still hears of the newest version. The
broker being down costs only promptness (agents keep polling), so a failure here is logged, not raised.
"""

from __future__ import annotations

import json
import logging
import select
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import paho.mqtt.client as paho

log = logging.getLogger(__name__)


def topic_for(prefix: str, station_code: str) -> str:
    return f"{prefix.rstrip('/')}/{station_code}/manifest"


def nudge_payload(version: int, etag: str) -> bytes:
    return json.dumps({"version": version, "etag": etag}, separators=(",", ":")).encode()


def command_topic(prefix: str, station_code: str) -> str:
    return f"{prefix.rstrip('/')}/{station_code}/commands"


def nudge(url: str, announcements: Iterable[tuple[str, int, str]], *, topic_prefix: str = "radio/stations",
          timeout: float = 10.0) -> int:
    """Publish (QoS 1, retained) one nudge per ``(station code, version, etag)``; returns how many the broker
    acknowledged (0 when it cannot be reached)."""
    return _publish(url, [(topic_for(topic_prefix, code), nudge_payload(version, etag), True)
                          for code, version, etag in announcements], timeout)


def publish_command(url: str, station_code: str, command: dict, *, topic_prefix: str = "radio/stations",
                    timeout: float = 10.0) -> bool:
    """Hand a command to an agent listening on MQTT (QoS 1, not retained: a stale command must not replay).
    Agents without MQTT get the same command by long-poll; the agent acts once per command id."""
    payload = json.dumps(command, separators=(",", ":"), ensure_ascii=False).encode()
    return _publish(url, [(command_topic(topic_prefix, station_code), payload, False)], timeout) == 1


def publish_commands(url: str, commands: Iterable[tuple[str, dict]], *, topic_prefix: str = "radio/stations",
                     timeout: float = 10.0) -> int:
    """Many commands (station code, command) over one connection, e.g. an emergency for a whole province;
    returns how many the broker acknowledged."""
    encoded: dict[int, str] = {}  # an emergency's commands share one args object: encode it once, not 1,000 times

    def payload(command: dict) -> bytes:
        args = command.get("args", {})
        text = encoded.get(id(args))
        if text is None:
            text = encoded[id(args)] = json.dumps(args, separators=(",", ":"), ensure_ascii=False)
        rest = json.dumps({k: v for k, v in command.items() if k != "args"}, separators=(",", ":"),
                          ensure_ascii=False)
        return f'{rest[:-1]},"args":{text}}}'.encode()

    return _publish(url, [(command_topic(topic_prefix, code), payload(command), False) for code, command in commands],
                    timeout)


def _publish(url: str, messages: list[tuple[str, bytes, bool]], timeout: float) -> int:
    if not messages:
        return 0
    parts = urlsplit(url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    # paho keeps at most 20 QoS 1 messages unacknowledged and holds the rest until PUBACKs come back: for a
    # province-wide emergency that trickled 1,000 commands out over 200 ms. No limit: all go out at once.
    client.max_inflight_messages_set(0)
    if parts.scheme == "mqtts":
        client.tls_set()
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    try:
        client.connect(parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883),
                       keepalive=30)
    except OSError as exc:
        log.warning("MQTT broker %s unreachable (%s): %d messages not sent; agents will learn at their next "
                    "poll", parts.hostname, exc, len(messages))
        return 0
    # The network loop is driven here rather than by paho's thread: that thread writes one packet per turn of
    # its loop, which spread 1,000 commands over about 200 ms; written in one go they leave in about 15 ms,
    # and an emergency reaches the last station that much sooner.
    deadline = time.monotonic() + timeout
    try:
        while not client.is_connected():
            if time.monotonic() > deadline or client.loop(timeout=0.05) != paho.MQTT_ERR_SUCCESS:
                log.warning("MQTT broker %s did not accept the connection: %d messages not sent",
                            parts.hostname, len(messages))
                return 0
        pending = [client.publish(topic, payload, qos=1, retain=retain) for topic, payload, retain in messages]
        while client.want_write() and time.monotonic() < deadline:
            if client.loop_write() != paho.MQTT_ERR_SUCCESS:
                break
        # Then the broker's acknowledgements (PUBACK), read as they come until all are in or time is up.
        sock = client.socket()
        while sock is not None and not all(info.is_published() for info in pending):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([sock], [], [], min(left, 0.1))
            if readable and client.loop_read(max_packets=len(pending)) != paho.MQTT_ERR_SUCCESS:
                break
            if client.want_write():
                client.loop_write()
        return sum(info.is_published() for info in pending)
    except (RuntimeError, ValueError, OSError) as exc:
        log.warning("MQTT publish failed: %s", exc)
        return 0
    finally:
        client.disconnect()
