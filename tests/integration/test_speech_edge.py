"""The edge-tts engine through the real edge-tts code, against a local stand-in for Edge's WebSocket service."""

from __future__ import annotations

import edge_tts.communicate
import pytest

from audio.speech import SpeechError, VoiceSettings
from audio.speech.edge import EdgeEngine
from tests.services import free_port
from tests.standins.edge_service import EdgeStandIn
from tests.standins.tones import codec_name, duration_s, make_tone

TEXT = "Thông báo của Ủy ban nhân dân xã. Sáng mai mất điện từ bảy giờ. Bà con chủ động sắp xếp công việc."


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    return make_tone(tmp_path_factory.mktemp("edge") / "tone.mp3", seconds=0.5)


@pytest.fixture
def service(request, monkeypatch, tone):
    """The stand-in; a test's ``@pytest.mark.parametrize("service", [{...}], indirect=True)`` sets its mode."""
    options = getattr(request, "param", {})
    stand_in = EdgeStandIn(tone.read_bytes(), **options).start()
    try:
        # edge-tts binds WSS_URL into its communicate module at import; that binding is the one it dials.
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", stand_in.wss_url)
        yield stand_in
    finally:
        stand_in.stop()


def test_edge_reads_each_sentence_group_and_joins_the_mp3(service, tone, tmp_path):
    out = tmp_path / "out.mp3"
    settings = VoiceSettings("vi-VN-NamMinhNeural", rate="-20%", volume="+10%", pitch="-5Hz")
    EdgeEngine(max_chars=40, timeout=10).synthesize(TEXT, settings, out)
    assert len(service.connections) == 3  # three sentences, none fits with another in 40 characters
    first = service.connections[0]
    assert {"TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version"} <= set(first.query)
    ssml = first.ssml[0]
    assert "Microsoft Server Speech Text to Speech Voice (vi-VN, NamMinhNeural)" in ssml
    assert "pitch='-5Hz' rate='-20%' volume='+10%'" in ssml
    assert ">Thông báo của Ủy ban nhân dân xã.<" in ssml
    assert codec_name(out) == "mp3"
    assert duration_s(out) == pytest.approx(3 * duration_s(tone), rel=0.1)


def test_the_female_voice_is_the_default(service, tmp_path):
    engine = EdgeEngine(timeout=10)
    engine.synthesize("Xin chào.", VoiceSettings(engine.default_voice), tmp_path / "out.mp3")
    assert "(vi-VN, HoaiMyNeural)" in service.connections[0].ssml[0]


@pytest.mark.parametrize("service", [{"mode": "hang"}], indirect=True)
def test_a_service_that_never_finishes_times_out_after_the_retries(service, tmp_path):
    engine = EdgeEngine(timeout=0.5, retries=1, backoff_s=0.01)
    with pytest.raises(SpeechError, match=r"timeout after 0.5 s \(2 attempts\)"):
        engine.synthesize("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "out.mp3")
    assert len(service.connections) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("service", [{"mode": "no-audio"}], indirect=True)
def test_no_audio_is_an_error_pointing_at_the_voice(service, tmp_path):
    with pytest.raises(SpeechError, match="sent no audio; check the voice name"):
        EdgeEngine(retries=2).synthesize("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "out.mp3")
    assert len(service.connections) == 1  # the same request would get the same answer: no retry


@pytest.mark.parametrize("service", [{"handshake_status": 401}], indirect=True)
def test_a_refused_handshake_is_an_error_without_retries(service, tmp_path):
    with pytest.raises(SpeechError, match="refused the connection with HTTP 401"):
        EdgeEngine(retries=2).synthesize("Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "out.mp3")
    assert len(service.connections) == 1


@pytest.mark.parametrize("service", [{"handshake_status": 503}], indirect=True)
def test_a_busy_service_is_retried(service, tmp_path):
    with pytest.raises(SpeechError, match=r"HTTP 503 \(3 attempts\)"):
        EdgeEngine(retries=2, backoff_s=0.01).synthesize(
            "Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "out.mp3"
        )
    assert len(service.connections) == 3


def test_an_espeak_voice_name_is_refused_before_connecting(service, tmp_path):
    with pytest.raises(SpeechError, match="vi-VN-HoaiMyNeural, vi-VN-NamMinhNeural"):
        EdgeEngine().synthesize("Xin chào.", VoiceSettings("vi"), tmp_path / "out.mp3")
    assert service.connections == []


def test_a_closed_port_is_a_connection_error(monkeypatch, tmp_path):
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{free_port()}/edge/v1?TrustedClientToken=x")
    with pytest.raises(SpeechError, match=r"cannot connect to the service .*\(2 attempts\)"):
        EdgeEngine(retries=1, backoff_s=0.01).synthesize(
            "Xin chào.", VoiceSettings("vi-VN-HoaiMyNeural"), tmp_path / "o.mp3"
        )
