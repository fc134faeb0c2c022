"""The Google Translate voice through the gTTS library: online, clearer than espeak-ng, MP3 out.

gTTS itself sends one request per 100 characters or so and concatenates the MP3 answers. We hand it a few
sentences at a time so that a failure costs only that group's retries, not the whole bulletin's.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import requests
from gtts import gTTS, gTTSError
from gtts.lang import tts_langs
from gtts.tokenizer import pre_processors

from audio.speech.base import SpeechEngine, SpeechError, VoiceSettings, require_text
from audio.speech.files import atomic_output, audio_kind
from audio.speech.retry import TransientSpeechError, with_retries
from audio.speech.sentences import chunk_text

log = logging.getLogger(__name__)

# gTTS's other default pre-processors rewrite English abbreviations ("Dr." and the like); our text is
# Vietnamese and already normalized, so only the harmless ones are kept.
PRE_PROCESSORS = [pre_processors.tone_marks, pre_processors.end_of_line]


class GttsEngine(SpeechEngine):
    """Reads text with Google Translate's voice; the voice is the language code ("vi")."""

    name = "gtts"
    default_voice = "vi"
    output_suffix = ".mp3"

    def __init__(
        self,
        tld: str = "com",
        timeout: float = 10.0,
        retries: int = 2,
        backoff_s: float = 1.0,
        max_chars: int = 500,
        slow_at_percent: int = -25,
    ):
        """``timeout`` bounds each HTTP request; a group of sentences is tried at most ``1 + retries`` times.

        Google offers only two speeds, so a rate at or below ``slow_at_percent`` reads slowly and any other
        rate normally; volume and pitch cannot be changed.
        """
        self.tld = tld
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_chars = max_chars
        self.slow_at_percent = slow_at_percent

    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        """Write the text as one MP3 file, fetched a group of sentences at a time."""
        text = require_text(text)
        lang = settings.voice
        if lang not in tts_langs():
            raise SpeechError(f"gTTS has no language {lang!r}; use 'vi' for Vietnamese")
        slow = settings.rate_percent <= self.slow_at_percent
        if settings.volume_percent or settings.pitch_hz:
            log.debug("gTTS cannot change volume or pitch; %s and %s ignored", settings.volume, settings.pitch)
        chunks = chunk_text(text, self.max_chars)
        with atomic_output(Path(out_path)) as tmp, open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(
                    with_retries(
                        lambda chunk=chunk: self._fetch(chunk, lang, slow),
                        retries=self.retries,
                        backoff_s=self.backoff_s,
                        what="gTTS request",
                    )
                )
        log.debug("gTTS read %d characters in %d group(s) into %s", len(text), len(chunks), out_path)

    def _fetch(self, text: str, lang: str, slow: bool) -> bytes:
        tts = gTTS(
            text, tld=self.tld, lang=lang, slow=slow, lang_check=False,
            pre_processor_funcs=PRE_PROCESSORS, timeout=self.timeout,
        )  # fmt: skip
        buffer = io.BytesIO()
        try:
            tts.write_to_fp(buffer)
        except gTTSError as exc:
            raise _explain(exc, self.timeout) from exc
        except requests.RequestException as exc:
            # A connection dropped while the body streams in escapes gTTS's own wrapping.
            raise TransientSpeechError(f"connection failed: {type(exc).__name__}") from exc
        except AssertionError as exc:
            # gTTS asserts when nothing speakable is left after its pre-processing (only punctuation, say).
            raise SpeechError(f"gTTS found nothing to read in {text[:40]!r}") from exc
        data = buffer.getvalue()
        if audio_kind(data) != "mp3":
            raise SpeechError("Google Translate answered without MP3 audio")
        return data


def _explain(exc: gTTSError, timeout: float) -> SpeechError:
    """Our error for a gTTS one, saying what went wrong and whether trying again can help."""
    response = exc.rsp
    if response is None:
        cause = exc.__context__
        if isinstance(cause, requests.Timeout):
            return TransientSpeechError(f"timeout after {timeout:g} s")
        if isinstance(cause, requests.ConnectionError):
            return TransientSpeechError(f"cannot connect to Google Translate ({type(cause).__name__})")
        return TransientSpeechError(str(exc) or "request failed")
    status = response.status_code
    if status >= 500 or status == 429:
        return TransientSpeechError(f"HTTP {status} from Google Translate")
    if status == 200:
        return SpeechError("Google Translate answered without MP3 audio")
    return SpeechError(f"HTTP {status} from Google Translate: {exc}")
