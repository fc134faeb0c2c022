"""The gTTS engine through the real gTTS code, against a local stand-in for Google Translate."""

from __future__ import annotations

import pytest
from gtts import tts as gtts_tts

from audio.speech import SpeechError, VoiceSettings
from audio.speech.gtts_engine import GttsEngine
from tests.standins import google_translate
from tests.standins.http_server import Reply, StandInServer
from tests.standins.tones import codec_name, duration_s, make_tone

TEXT = (
    "Thông báo của Ủy ban nhân dân xã về việc tiêm phòng cho đàn gia súc. "
    "Thời gian từ bảy giờ sáng đến mười một giờ trưa ngày mai. "
    "Đề nghị bà con đưa trâu bò đến nhà văn hóa thôn đúng giờ."
)


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    return make_tone(tmp_path_factory.mktemp("gtts") / "tone.mp3", seconds=0.5)


def _serve(monkeypatch, respond) -> StandInServer:
    server = StandInServer(respond).start()
    # gTTS builds its endpoint with this module-level function; the stand-in takes Google's place.
    monkeypatch.setattr(gtts_tts, "_translate_url", lambda tld="com", path="": f"{server.url}/{path}")
    return server


@pytest.fixture
def google(monkeypatch, tone):
    server = _serve(monkeypatch, google_translate.responder(tone.read_bytes()))
    try:
        yield server
    finally:
        server.stop()


def test_gtts_writes_one_mp3_of_all_the_parts_it_fetched(google, tone, tmp_path):
    out = tmp_path / "out.mp3"
    GttsEngine(timeout=5).synthesize(TEXT, VoiceSettings("vi"), out)
    asked = [google_translate.parse_request(r) for r in google.requests]
    # gTTS sends at most 100 characters a request; every word of the text was asked for, in order, in Vietnamese.
    assert len(asked) >= 2 and all(len(a.text) <= 100 for a in asked)
    assert " ".join(a.text for a in asked).split() == TEXT.split()
    assert {a.lang for a in asked} == {"vi"} and not any(a.slow for a in asked)
    assert codec_name(out) == "mp3"
    assert duration_s(out) == pytest.approx(len(asked) * duration_s(tone), rel=0.1)


def test_a_slow_rate_asks_google_for_the_slow_voice(google, tmp_path):
    GttsEngine(timeout=5).synthesize("Xin chào bà con.", VoiceSettings("vi", rate="-30%"), tmp_path / "out.mp3")
    assert google_translate.parse_request(google.requests[0]).slow


def test_the_tld_chooses_the_google_host(monkeypatch, tone, tmp_path):
    hosts = []
    server = StandInServer(google_translate.responder(tone.read_bytes())).start()
    try:

        def translate_url(tld="com", path=""):
            hosts.append(tld)
            return f"{server.url}/{path}"

        monkeypatch.setattr(gtts_tts, "_translate_url", translate_url)
        GttsEngine(tld="com.vn", timeout=5).synthesize("Xin chào.", VoiceSettings("vi"), tmp_path / "out.mp3")
    finally:
        server.stop()
    assert set(hosts) == {"com.vn"}


def test_a_timeout_fails_after_the_configured_retries(monkeypatch, tmp_path):
    server = _serve(monkeypatch, lambda request: Reply(delay_s=30))
    out = tmp_path / "out.mp3"
    try:
        with pytest.raises(SpeechError, match=r"timeout after 0.5 s \(3 attempts\)"):
            GttsEngine(timeout=0.5, retries=2, backoff_s=0.01).synthesize("Xin chào.", VoiceSettings("vi"), out)
    finally:
        server.stop()
    assert len(server.requests) == 3
    assert list(tmp_path.iterdir()) == []


def test_http_500_is_an_error_after_the_retries(monkeypatch, tmp_path):
    server = _serve(monkeypatch, lambda request: Reply(status=500, body=b"oops", content_type="text/plain"))
    try:
        with pytest.raises(SpeechError, match=r"HTTP 500 from Google Translate \(2 attempts\)"):
            GttsEngine(retries=1, backoff_s=0.01, timeout=5).synthesize(
                "Xin chào.", VoiceSettings("vi"), tmp_path / "out.mp3"
            )
    finally:
        server.stop()
    assert len(server.requests) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [b")]}'\n\n[]\n", b')]}\'\n\n[["wrb.fr","jQ1olc",null,null,null,null,"generic"]]\n', b"<html>Sorry</html>"],
)
def test_an_answer_without_audio_is_an_error_and_not_retried(monkeypatch, tmp_path, body):
    server = _serve(monkeypatch, lambda request: Reply(body=body, content_type="application/json"))
    try:
        with pytest.raises(SpeechError, match="answered without MP3 audio"):
            GttsEngine(retries=3, timeout=5).synthesize("Xin chào.", VoiceSettings("vi"), tmp_path / "out.mp3")
    finally:
        server.stop()
    assert len(server.requests) == 1


def test_an_unknown_language_is_refused_before_any_request(google, tmp_path):
    with pytest.raises(SpeechError, match="no language 'vi-VN-HoaiMyNeural'"):
        GttsEngine().synthesize("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "out.mp3")
    assert google.requests == []
