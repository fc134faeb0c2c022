"""A configurable engine for Vietnamese providers that take text over HTTP and answer with MP3 or WAV.

Providers differ in field names, auth headers and whether they answer with the audio itself or with JSON
holding a link to it; each of those is an option, so a new provider needs configuration, not code.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from audio.speech.base import SpeechEngine, SpeechError, VoiceSettings, require_text
from audio.speech.files import atomic_output, audio_kind, convert, join_parts
from audio.speech.retry import TransientSpeechError, with_retries
from audio.speech.sentences import chunk_text

log = logging.getLogger(__name__)

_ACCEPTED_TYPES = ("audio/", "application/octet-stream")


class HttpEngine(SpeechEngine):
    """Posts text (JSON or form) to a provider and keeps the MP3 or WAV it answers with."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        method: str = "POST",
        auth_header: str | None = None,
        auth_value: str | None = None,
        body: str = "json",
        text_field: str = "text",
        voice_field: str | None = "voice",
        rate_field: str | None = "speed",
        rate_format: str = "factor",
        extra_fields: dict[str, Any] | None = None,
        audio_url_field: str | None = None,
        audio_format: str = "mp3",
        default_voice: str = "default",
        timeout: float = 30.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_chars: int = 1000,
    ):
        """Configure one provider.

        ``method``: POST (or PUT), or GET with the fields in the query string.
        ``auth_header``/``auth_value``: e.g. ``"Authorization"``/``"Bearer …"`` or ``"api-key"``/``"…"``.
        ``body``: ``"json"`` or ``"form"``. ``rate_format``: ``"factor"`` sends 1.1 for "+10%", ``"percent"``
        sends "+10%". ``audio_url_field``: when set, the answer is JSON and this (dotted) field holds the link to
        the audio, fetched with GET. ``audio_format``: what :meth:`synthesize` writes (``"mp3"`` or ``"wav"``);
        an answer in the other format is converted with ffmpeg.
        """
        if body not in ("json", "form"):
            raise ValueError("body must be 'json' or 'form'")
        if rate_format not in ("factor", "percent"):
            raise ValueError("rate_format must be 'factor' or 'percent'")
        if audio_format not in ("mp3", "wav"):
            raise ValueError("audio_format must be 'mp3' or 'wav'")
        if (auth_header is None) != (auth_value is None):
            raise ValueError("auth_header and auth_value go together")
        self.url = url
        self.method = method.upper()
        self.auth_header = auth_header
        self.auth_value = auth_value
        self.body = body
        self.text_field = text_field
        self.voice_field = voice_field
        self.rate_field = rate_field
        self.rate_format = rate_format
        self.extra_fields = dict(extra_fields or {})
        self.audio_url_field = audio_url_field
        self.audio_format = audio_format
        self.output_suffix = f".{audio_format}"
        self.default_voice = default_voice
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_chars = max_chars

    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        """Write the text as one audio file; groups of sentences are requested in turn and joined."""
        text = require_text(text)
        out_path = Path(out_path)
        chunks = chunk_text(text, self.max_chars)
        with (
            atomic_output(out_path) as tmp,
            tempfile.TemporaryDirectory(prefix=".http-tts-", dir=out_path.parent) as scratch,
            requests.Session() as session,
        ):
            parts = []
            for index, chunk in enumerate(chunks):
                data = with_retries(
                    lambda chunk=chunk: self._fetch(session, chunk, settings),
                    retries=self.retries,
                    backoff_s=self.backoff_s,
                    what=f"TTS request to {urlsplit(self.url).netloc}",
                )
                kind = audio_kind(data)
                part = Path(scratch) / f"{index:05d}.{kind}"
                part.write_bytes(data)
                if kind != self.audio_format:
                    converted = part.with_suffix(self.output_suffix)
                    convert(part, converted)
                    part = converted
                parts.append(part)
            join_parts(parts, tmp)
        log.debug("%s read %d characters in %d group(s) into %s", self.url, len(text), len(chunks), out_path)

    def payload(self, text: str, settings: VoiceSettings) -> dict[str, Any]:
        """The fields sent for one group of sentences."""
        fields = dict(self.extra_fields)
        fields[self.text_field] = text
        if self.voice_field:
            fields[self.voice_field] = settings.voice
        if self.rate_field:
            percent = settings.rate_percent
            fields[self.rate_field] = round(1 + percent / 100, 2) if self.rate_format == "factor" else settings.rate
        return fields

    def _fetch(self, session: requests.Session, text: str, settings: VoiceSettings) -> bytes:
        headers = {self.auth_header: self.auth_value} if self.auth_header else {}
        fields = self.payload(text, settings)
        if self.method == "GET":
            body: dict[str, Any] = {"params": fields}
        else:
            body = {"json": fields} if self.body == "json" else {"data": fields}
        response = self._send(session, self.method, self.url, headers=headers, **body)
        if self.audio_url_field is None:
            return _audio_from(response)
        audio_url = urljoin(self.url, _json_field(response, self.audio_url_field))
        # The key goes only back to the provider's own host, never to wherever its answer points.
        same_host = urlsplit(audio_url).netloc == urlsplit(self.url).netloc
        audio = self._send(session, "GET", audio_url, headers=headers if same_host else {}, link=True)
        return _audio_from(audio)

    def _send(
        self, session: requests.Session, method: str, url: str, *, link: bool = False, **kwargs: Any
    ) -> requests.Response:
        try:
            response = session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise TransientSpeechError(f"timeout after {self.timeout:g} s from {urlsplit(url).netloc}") from exc
        except requests.ConnectionError as exc:
            raise TransientSpeechError(f"cannot connect to {urlsplit(url).netloc}") from exc
        except requests.RequestException as exc:
            raise SpeechError(f"request to {urlsplit(url).netloc} failed: {exc}") from exc
        status = response.status_code
        if status in (401, 403):
            if self.auth_header:
                raise SpeechError(f"the provider refused the {self.auth_header} auth header (HTTP {status})")
            raise SpeechError(f"the provider wants authentication (HTTP {status}); set auth_header and auth_value")
        # Some providers publish the link before the file is ready there, so a 404 on the link is worth a retry.
        if status >= 500 or status == 429 or (link and status == 404):
            raise TransientSpeechError(f"HTTP {status} from {urlsplit(url).netloc}")
        if status >= 400:
            raise SpeechError(f"HTTP {status} from {urlsplit(url).netloc}: {_excerpt(response)}")
        return response


def _audio_from(response: requests.Response) -> bytes:
    """The body if it is MP3 or WAV audio by both its content type and its first bytes; SpeechError if not."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    data = response.content
    if audio_kind(data) is None or (content_type and not content_type.startswith(_ACCEPTED_TYPES)):
        raise SpeechError(
            f"the provider answered with {content_type or 'no content type'} that is not MP3 or WAV audio: "
            f"{_excerpt(response)}"
        )
    return data


def _json_field(response: requests.Response, dotted: str) -> str:
    try:
        value: Any = response.json()
        for key in dotted.split("."):
            value = value[int(key)] if isinstance(value, list) else value[key]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise SpeechError(f"expected JSON with an audio link in {dotted!r}, got: {_excerpt(response)}") from exc
    if not isinstance(value, str) or not value:
        raise SpeechError(f"the provider's {dotted!r} is not a link: {value!r}")
    return value


def _excerpt(response: requests.Response) -> str:
    """The start of a body, printable, for error messages."""
    text = response.content[:200].decode("utf-8", "replace")
    return " ".join(text.split()) or "(empty body)"
