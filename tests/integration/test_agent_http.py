"""The agent's HTTP client against a scripted local server: retries, timeouts, and servers that treat Range oddly."""

from __future__ import annotations

import hashlib

import pytest

from stations.agent.server import ServerClient, ServerError
from tests.standins.http_server import Reply, StandInServer

PAYLOAD = bytes(range(256)) * 40
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def client_for(server: StandInServer, **options) -> tuple[ServerClient, list[float]]:
    slept: list[float] = []
    options = {"timeout_s": 2.0, "retries": 2, "backoff_s": 0.5, **options}
    return ServerClient(server.url, "st_token", "HG1-01", sleep=slept.append, **options), slept


def test_a_busy_server_is_asked_again_with_backoff_then_the_answer_is_used():
    answers = iter([Reply(503), Reply(502), Reply(200, b'{"installed_version": 3}', "application/json")])
    with StandInServer(lambda request: next(answers)) as server:
        client, slept = client_for(server)
        assert client.post_receipt(3, '"abc"') == {"installed_version": 3}
    assert len(server.requests) == 3 and len(slept) == 2
    assert 0.25 <= slept[0] <= 0.5 and 0.5 <= slept[1] <= 1.0  # equal jitter around a doubling delay
    first = server.requests[0]
    assert first.path == "/api/v1/stations/HG1-01/receipts" and first.headers["Authorization"] == "Bearer st_token"


def test_retries_are_bounded_and_a_client_error_is_not_retried():
    with StandInServer(lambda request: Reply(503)) as server:
        client, slept = client_for(server)
        with pytest.raises(ServerError) as caught:
            client.post_heartbeat({"state": "idle"})
        assert caught.value.status == 503 and len(server.requests) == 3
    with StandInServer(lambda request: Reply(401, b'{"message": "Send the token."}', "application/json")) as server:
        client, _ = client_for(server)
        with pytest.raises(ServerError, match="HTTP 401 Send the token.") as caught:
            client.fetch_manifest(None)
        assert caught.value.status == 401 and len(server.requests) == 1


def test_a_server_that_does_not_answer_times_out():
    with StandInServer(lambda request: Reply(200, b"{}", delay_s=5)) as server:
        client, _ = client_for(server, timeout_s=0.2, retries=1)
        with pytest.raises(ServerError, match="Timeout") as caught:
            client.post_events([])
        assert caught.value.status is None and len(server.requests) == 2


def test_304_means_nothing_new_and_the_etag_is_sent():
    with StandInServer(lambda request: Reply(304)) as server:
        client, _ = client_for(server)
        assert client.fetch_manifest('"abc"') is None
    assert server.requests[0].headers["If-None-Match"] == '"abc"'


def test_a_server_that_ignores_range_sends_the_whole_file_which_replaces_the_part(tmp_path):
    part = tmp_path / f"{SHA}.mp3.part"
    part.write_bytes(b"garbage that is not a prefix")
    with StandInServer(lambda request: Reply(200, PAYLOAD, "audio/mpeg")) as server:
        client, _ = client_for(server)
        client.download(f"{server.url}/api/v1/audio/{SHA}", part, len(PAYLOAD))
    assert server.requests[0].headers["Range"] == "bytes=28-"
    assert hashlib.sha256(part.read_bytes()).hexdigest() == SHA


def test_a_range_the_server_cannot_satisfy_starts_the_download_again(tmp_path):
    part = tmp_path / f"{SHA}.mp3.part"
    part.write_bytes(PAYLOAD[:100])

    def respond(request):
        if "Range" in request.headers:
            return Reply(416)
        return Reply(200, PAYLOAD, "audio/mpeg")

    with StandInServer(respond) as server:
        client, _ = client_for(server)
        client.download(f"{server.url}/api/v1/audio/{SHA}", part, len(PAYLOAD))
    assert [("Range" in r.headers) for r in server.requests] == [True, False]
    assert part.read_bytes() == PAYLOAD


def test_a_resumed_range_that_starts_elsewhere_is_not_appended(tmp_path):
    part = tmp_path / f"{SHA}.mp3.part"
    part.write_bytes(PAYLOAD[:100])

    def respond(request):
        if "Range" in request.headers:  # a broken cache answering from byte 0 with a 206
            return Reply(206, PAYLOAD, "audio/mpeg",
                         headers={"Content-Range": f"bytes 0-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"})
        return Reply(200, PAYLOAD, "audio/mpeg")

    with StandInServer(respond) as server:
        client, _ = client_for(server)
        client.download(f"{server.url}/api/v1/audio/{SHA}", part, len(PAYLOAD))
    assert part.read_bytes() == PAYLOAD


def test_more_bytes_than_the_manifest_says_is_an_error(tmp_path):
    part = tmp_path / f"{SHA}.mp3.part"
    with StandInServer(lambda request: Reply(200, PAYLOAD + b"extra", "audio/mpeg")) as server:
        client, _ = client_for(server)
        with pytest.raises(ServerError, match="more than the"):
            client.download(f"{server.url}/api/v1/audio/{SHA}", part, len(PAYLOAD))
