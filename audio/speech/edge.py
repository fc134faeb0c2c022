"""Microsoft Edge's neural voices through the edge-tts library: the most natural Vietnamese we have, online.

edge-tts speaks a WebSocket protocol and is asynchronous; the engine runs it to completion in an event loop
of its own, so callers (web requests, scheduler jobs) stay synchronous.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from pathlib import Path

import aiohttp
import edge_tts
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived, WebSocketError

from audio.speech.base import SpeechEngine, SpeechError, VoiceSettings, require_text
from audio.speech.files import atomic_output, audio_kind
from audio.speech.retry import TransientSpeechError, with_retries
from audio.speech.sentences import chunk_text

log = logging.getLogger(__name__)

VOICES = ("vi-VN-HoaiMyNeural", "vi-VN-NamMinhNeural")


class EdgeEngine(SpeechEngine):
    """Reads text with an Edge neural voice into MP3 (24 kHz mono, 48 kbit/s)."""

    name = "edge"
    default_voice = "vi-VN-HoaiMyNeural"
    output_suffix = ".mp3"

    def __init__(
        self,
        timeout: float = 60.0,
        connect_timeout: int = 10,
        receive_timeout: int = 30,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_chars: int = 1000,
        proxy: str | None = None,
    ):
        """``timeout`` bounds one group of sentences end to end; the other two bound connecting and each read.

        ``max_chars`` keeps a group within the 4,096 bytes the service takes per request (Vietnamese letters
        with tone marks take up to three bytes each in UTF-8).
        """
        self.timeout = timeout
        self.connect_timeout = int(connect_timeout)
        self.receive_timeout = int(receive_timeout)
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_chars = max_chars
        self.proxy = proxy

    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        """Write the text as one MP3 file; groups of sentences are fetched in turn and their frames joined."""
        text = require_text(text)
        chunks = chunk_text(text, self.max_chars)
        with atomic_output(Path(out_path)) as tmp, open(tmp, "wb") as out:
            for chunk in chunks:
                # MP3 frames from one encoder concatenate cleanly; edge-tts joins its own pieces the same way.
                out.write(
                    with_retries(
                        lambda chunk=chunk: self._fetch(chunk, settings),
                        retries=self.retries,
                        backoff_s=self.backoff_s,
                        what="edge-tts request",
                    )
                )
        log.debug("edge-tts read %d characters in %d group(s) into %s", len(text), len(chunks), out_path)

    def _fetch(self, text: str, settings: VoiceSettings) -> bytes:
        try:
            communicate = edge_tts.Communicate(
                text, settings.voice, rate=settings.rate, volume=settings.volume, pitch=settings.pitch,
                connect_timeout=self.connect_timeout, receive_timeout=self.receive_timeout, proxy=self.proxy,
            )  # fmt: skip
        except ValueError as exc:
            raise SpeechError(f"edge-tts cannot use these settings: {exc} (voices: {', '.join(VOICES)})") from exc
        data = _run(self._collect(communicate))
        if audio_kind(data) != "mp3":
            raise SpeechError("edge-tts answer held no MP3 audio")
        return data

    async def _collect(self, communicate: edge_tts.Communicate) -> bytes:
        audio = bytearray()
        try:
            async with asyncio.timeout(self.timeout):
                async for message in communicate.stream():
                    if message["type"] == "audio":
                        audio.extend(message["data"])
        except aiohttp.ConnectionTimeoutError as exc:
            raise TransientSpeechError(f"timeout: no connection within {self.connect_timeout} s") from exc
        except aiohttp.SocketTimeoutError as exc:
            raise TransientSpeechError(f"timeout: no data for {self.receive_timeout} s") from exc
        except TimeoutError as exc:
            raise TransientSpeechError(f"timeout after {self.timeout:g} s") from exc
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status >= 500 or exc.status == 429:
                raise TransientSpeechError(f"the service refused the connection with HTTP {exc.status}") from exc
            raise SpeechError(f"the service refused the connection with HTTP {exc.status}") from exc
        except aiohttp.ClientConnectionError as exc:
            raise TransientSpeechError(f"cannot connect to the service ({type(exc).__name__})") from exc
        except NoAudioReceived as exc:
            raise SpeechError(f"the service sent no audio; check the voice name (voices: {', '.join(VOICES)})") from exc
        except WebSocketError as exc:
            raise TransientSpeechError(f"WebSocket error: {exc}") from exc
        except EdgeTTSException as exc:
            raise SpeechError(f"unexpected answer from the service: {exc}") from exc
        return bytes(audio)


def _run(coroutine):
    """Run a coroutine to completion from synchronous code, even when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
