"""The configurable HTTP engine against a local stand-in provider answering real MP3 and WAV."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from audio.speech import SpeechError, VoiceSettings
from audio.speech.http import HttpEngine
from tests.standins.http_server import Reply, Request, StandInServer
from tests.standins.tones import codec_name, duration_s, make_tone

KEY = "k-123"


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-tts")
    return {
        "mp3": make_tone(folder / "tone.mp3", seconds=0.5).read_bytes(),
        "wav": make_tone(folder / "tone.wav", seconds=0.5).read_bytes(),
    }


class Provider:
    """A TTS provider: POST /tts with an api-key header; ``answer`` picks what it sends back."""

    def __init__(self, tones, answer: str = "mp3"):
        self.tones = tones
        self.answer = answer
        self.server = StandInServer(self.respond)

    def respond(self, request: Request) -> Reply:
        if request.path.startswith("/files/"):
            return Reply(body=self.tones["mp3"], content_type="audio/mpeg")
        if request.headers.get("api-key") != KEY:
            return Reply(status=401, body=b'{"error": "invalid api key"}', content_type="application/json")
        if self.answer == "mp3":
            return Reply(body=self.tones["mp3"], content_type="audio/mpeg")
        if self.answer == "wav":
            return Reply(body=self.tones["wav"], content_type="audio/wav")
        if self.answer == "link":
            return Reply(body=json.dumps({"data": {"url": "/files/a.mp3"}}).encode(), content_type="application/json")
        if self.answer == "html":
            return Reply(body=b"<html><body>Service Unavailable</body></html>", content_type="text/html")
        if self.answer == "mislabelled":
            return Reply(body=b"not audio at all", content_type="audio/mpeg")
        if self.answer == "slow":
            return Reply(body=self.tones["mp3"], content_type="audio/mpeg", delay_s=30)
        raise AssertionError(self.answer)


@pytest.fixture
def provider(request, tones):
    stand_in = Provider(tones, getattr(request, "param", "mp3"))
    stand_in.server.start()
    try:
        yield stand_in
    finally:
        stand_in.server.stop()


def engine_for(provider: Provider, **options) -> HttpEngine:
    options = {"auth_header": "api-key", "auth_value": KEY, "backoff_s": 0.01, "timeout": 5, **options}
    return HttpEngine(f"{provider.server.url}/tts", **options)


def test_mp3_answers_are_joined_into_one_file(provider, tones, tmp_path):
    out = tmp_path / "out.mp3"
    text = "Câu thứ nhất. Câu thứ hai. Câu thứ ba."
    engine_for(provider, max_chars=15).synthesize(text, VoiceSettings("banmai", rate="+10%"), out)
    sent = [json.loads(r.body) for r in provider.server.requests]
    assert sent == [
        {"text": "Câu thứ nhất.", "voice": "banmai", "speed": 1.1},
        {"text": "Câu thứ hai.", "voice": "banmai", "speed": 1.1},
        {"text": "Câu thứ ba.", "voice": "banmai", "speed": 1.1},
    ]
    assert all(r.headers["Content-Type"] == "application/json" for r in provider.server.requests)
    assert codec_name(out) == "mp3"
    single = tmp_path / "single.mp3"
    single.write_bytes(tones["mp3"])
    assert duration_s(out) == pytest.approx(3 * duration_s(single), rel=0.05)


@pytest.mark.parametrize("provider", ["wav"], indirect=True)
def test_wav_answers_are_joined_sample_for_sample(provider, tmp_path):
    out = tmp_path / "out.wav"
    engine_for(provider, audio_format="wav", max_chars=15, body="form").synthesize(
        "Câu thứ nhất. Câu thứ hai.", VoiceSettings("leminh"), out
    )
    fields = parse_qs(provider.server.requests[0].body.decode())
    assert fields == {"text": ["Câu thứ nhất."], "voice": ["leminh"], "speed": ["1.0"]}
    assert codec_name(out) == "pcm_s16le"
    assert duration_s(out) == pytest.approx(1.0, abs=0.001)


@pytest.mark.parametrize("provider", ["wav"], indirect=True)
def test_an_answer_in_the_other_format_is_converted(provider, tmp_path):
    out = tmp_path / "out.mp3"
    engine_for(provider).synthesize("Xin chào.", VoiceSettings("banmai"), out)
    assert codec_name(out) == "mp3"
    assert duration_s(out) == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("provider", ["link"], indirect=True)
def test_json_with_a_link_to_the_audio_is_followed(provider, tmp_path):
    out = tmp_path / "out.mp3"
    engine_for(provider, audio_url_field="data.url").synthesize("Xin chào.", VoiceSettings("banmai"), out)
    assert [r.path for r in provider.server.requests] == ["/tts", "/files/a.mp3"]
    assert codec_name(out) == "mp3"


def test_a_refused_auth_header_is_named_and_not_retried(provider, tmp_path):
    engine = engine_for(provider, auth_value="wrong", retries=3)
    with pytest.raises(SpeechError, match=r"refused the api-key auth header \(HTTP 401\)"):
        engine.synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    assert len(provider.server.requests) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("provider", ["html", "mislabelled"], indirect=True)
def test_a_body_that_is_not_audio_is_an_error(provider, tmp_path):
    with pytest.raises(SpeechError, match="not MP3 or WAV audio"):
        engine_for(provider).synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("provider", ["slow"], indirect=True)
def test_a_timeout_fails_after_the_retries(provider, tmp_path):
    engine = engine_for(provider, timeout=0.5, retries=1)
    with pytest.raises(SpeechError, match=r"timeout after 0.5 s from 127.0.0.1:\d+ \(2 attempts\)"):
        engine.synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    assert len(provider.server.requests) == 2
    assert list(tmp_path.iterdir()) == []


def test_server_errors_are_retried_then_reported(tmp_path):
    server = StandInServer(lambda r: Reply(status=503, body=b"busy", content_type="text/plain")).start()
    try:
        engine = HttpEngine(f"{server.url}/tts", retries=2, backoff_s=0.01, timeout=5)
        with pytest.raises(SpeechError, match=r"HTTP 503 from 127.0.0.1:\d+ \(3 attempts\)"):
            engine.synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    finally:
        server.stop()
    assert len(server.requests) == 3


def test_a_json_answer_without_the_link_field_is_an_error(tmp_path):
    server = StandInServer(lambda r: Reply(body=b'{"error": 2}', content_type="application/json")).start()
    try:
        engine = HttpEngine(f"{server.url}/tts", audio_url_field="async", timeout=5)
        with pytest.raises(SpeechError, match=r"audio link in 'async', got: \{\"error\": 2\}"):
            engine.synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    finally:
        server.stop()


def test_get_sends_the_fields_in_the_query_string(provider, tmp_path):
    engine_for(provider, method="GET").synthesize("Xin chào.", VoiceSettings("banmai"), tmp_path / "out.mp3")
    request = provider.server.requests[0]
    assert request.method == "GET" and request.body == b""
    assert parse_qs(request.path.split("?", 1)[1]) == {"text": ["Xin chào."], "voice": ["banmai"], "speed": ["1.0"]}
