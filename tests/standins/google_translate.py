"""Google Translate's batchexecute speech endpoint, as gTTS 2.5 calls and parses it, answering real MP3."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from tests.standins.http_server import Reply, Request


@dataclass
class SpeechRequest:
    """What gTTS asked for in one request: the text piece, the language and the speed flag."""

    text: str
    lang: str
    slow: bool


def parse_request(request: Request) -> SpeechRequest:
    """Unpack the ``f.req`` form field gTTS posts: an RPC list whose parameter is itself JSON."""
    rpc = json.loads(parse_qs(request.body.decode("utf-8"))["f.req"][0])
    text, lang, speed, _ = json.loads(rpc[0][0][1])
    return SpeechRequest(text=text, lang=lang, slow=speed is True)


def answer(mp3: bytes) -> bytes:
    """A batchexecute answer carrying ``mp3``; gTTS finds it with the regex ``jQ1olc","\\[\\"(.*)\\"]``."""
    payload = json.dumps([base64.b64encode(mp3).decode("ascii")])
    envelope = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]], separators=(",", ":"))
    return f")]}}'\n\n{len(envelope)}\n{envelope}\n".encode()


def responder(mp3: bytes):
    """A StandInServer ``respond`` function that reads every request as Google would (success path)."""

    def respond(request: Request) -> Reply:
        if request.method != "POST" or not request.path.endswith("/batchexecute"):
            return Reply(status=404, body=b"not found", content_type="text/plain")
        try:
            parse_request(request)
        except (KeyError, ValueError, IndexError, TypeError):
            return Reply(status=400, body=b"malformed f.req", content_type="text/plain")
        return Reply(body=answer(mp3), content_type="application/json; charset=utf-8")

    return respond
