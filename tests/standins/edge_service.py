"""Edge's read-aloud WebSocket service, as edge-tts 7 speaks to it, answering real MP3.

The stand-in tolerates (and records) the query edge-tts appends to the URL (TrustedClientToken,
ConnectionId, Sec-MS-GEC, Sec-MS-GEC-Version) and answers each SSML request with ``turn.start``, one binary
audio frame (2-byte big-endian header length, headers with ``Path:audio``, then the MP3 bytes) and
``turn.end``.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from tests.services import free_port

PATH = "/consumer/speech/synthesize/readaloud/edge/v1"


@dataclass
class Connection:
    """One WebSocket connection: the query it was opened with and the SSML documents it carried."""

    query: dict[str, str]
    ssml: list[str] = field(default_factory=list)


def _text_message(request_id: str, path: str, body: str) -> str:
    return f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:{path}\r\n\r\n{body}"


def audio_frame(request_id: str, mp3: bytes) -> bytes:
    """A binary audio message: the header length in two bytes, the headers, then the audio."""
    headers = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nX-StreamId:{uuid.uuid4().hex}\r\nPath:audio\r\n"
    encoded = headers.encode("ascii")
    return len(encoded).to_bytes(2, "big") + encoded + mp3


class EdgeStandIn:
    """The service on 127.0.0.1 in a thread of its own. ``mode``: "ok", "hang" (never finish) or "no-audio"."""

    def __init__(self, mp3: bytes, mode: str = "ok", handshake_status: int | None = None):
        self.mp3 = mp3
        self.mode = mode
        self.handshake_status = handshake_status
        self.connections: list[Connection] = []
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="edge-stand-in", daemon=True)
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None

    @property
    def wss_url(self) -> str:
        """A URL in edge-tts's shape (it appends ``&ConnectionId=…``), over plain ws:// on loopback."""
        return f"ws://127.0.0.1:{self.port}{PATH}?TrustedClientToken=6A5AA1D4EAFF4E9FB37E23D68491D6F4"

    def start(self) -> EdgeStandIn:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        connection = Connection(query=dict(request.query))
        self.connections.append(connection)
        if self.handshake_status is not None:
            return web.Response(status=self.handshake_status, text="refused")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT or "Path:ssml" not in message.data:
                continue  # speech.config needs no answer
            connection.ssml.append(message.data.split("\r\n\r\n", 1)[1])
            request_id = uuid.uuid4().hex
            await ws.send_str(_text_message(request_id, "turn.start", '{"context":{"serviceTag":"standin"}}'))
            if self.mode == "hang":
                await self._release.wait()
                break
            if self.mode == "ok":
                await ws.send_bytes(audio_frame(request_id, self.mp3))
            await ws.send_str(_text_message(request_id, "turn.end", "{}"))
        await ws.close()
        return ws

    def stop(self) -> None:
        async def _stop() -> None:
            self._release.set()
            await self._runner.cleanup()

        try:
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> EdgeStandIn:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
