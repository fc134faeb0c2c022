"""The offline engine: the espeak-ng command, robotic but always there and about 1,000 times real time."""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from audio.speech.base import SpeechEngine, SpeechError, VoiceSettings, require_text
from audio.speech.files import atomic_output, join_parts
from audio.speech.sentences import chunk_text

log = logging.getLogger(__name__)

VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")
# espeak-ng's speed for the rate "+0%". Vietnamese newsreaders read 180-220 syllables a minute and outdoor horns
# echo, so the default aims at 200: measured on the render benchmark's bulletin with the sentence pauses
# below, -s 145 gives 200 syllables a minute (espeak-ng's own default, 175, gave 250).
DEFAULT_WPM = 145
# The pause at the end of a sentence. espeak-ng pauses about 0.2 s at a comma and 0.45 s at a full stop at
# this speed; a listener in the street needs the sentence end clearly longer than the comma.
SENTENCE_PAUSE_MS = 700

# A sentence ends at . ! ? or … (with any closing quotes or brackets) before white space, or at a line break;
# "1.880" and "v.v" inside a word do not end one, nor does a period before a lower-case word (the initial of
# "Nguyễn Văn H. trú tại", the "…" of "đèn pin... để"): a new Vietnamese sentence starts with a capital.
_SENTENCE_END = re.compile(r"""(?<=[.!?…])["'”’»)\]]*\s+|\s*\n\s*""")


def words_per_minute(rate_percent: int) -> int:
    """espeak-ng's ``-s`` for a relative rate: DEFAULT_WPM scaled, kept within 80..450."""
    return max(80, min(450, round(DEFAULT_WPM * (1 + rate_percent / 100))))


def ssml(text: str, sentence_pause_ms: int = SENTENCE_PAUSE_MS) -> str:
    """The text as espeak-ng SSML with a pause of ``sentence_pause_ms`` after each sentence.

    espeak-ng has no option for the length of its sentence pause; an SSML break replaces it, so the text is
    escaped (it is plain text, not markup) and a break is put between sentences. Commas keep espeak-ng's own.
    """
    escaped = text.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    pause = f' <break time="{sentence_pause_ms}ms"/> '

    def sentence_end(match: re.Match[str]) -> str:
        following = escaped[match.end() : match.end() + 1]
        if "\n" not in match.group() and following.islower():
            return match.group()
        return match.group().rstrip() + pause

    return f"<speak>{_SENTENCE_END.sub(sentence_end, escaped)}</speak>"


def amplitude(volume_percent: int) -> int:
    """espeak-ng's ``-a`` (0..200, 100 normal) for a relative volume."""
    return max(0, min(200, round(100 * (1 + volume_percent / 100))))


def pitch_level(pitch_hz: int) -> int:
    """espeak-ng's ``-p`` (0..99, 50 normal) for a pitch offset: one step a hertz, a rough but monotonic match."""
    return max(0, min(99, 50 + pitch_hz))


@functools.cache
def installed_voices(executable: str) -> frozenset[str]:
    """Every name espeak-ng accepts for a voice (language codes, voice names and files), lower-cased."""
    try:
        result = subprocess.run([executable, "--voices"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechError(f"cannot list the voices of {executable}: {exc}") from exc
    names: set[str] = set()
    for line in result.stdout.decode("utf-8", "replace").splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            names.update(column.lower() for column in (columns[1], columns[3], columns[4]))
    return frozenset(names)


class EspeakEngine(SpeechEngine):
    """Reads text with espeak-ng into a 22.05 kHz mono WAV file."""

    name = "espeak"
    default_voice = "vi"
    output_suffix = ".wav"
    reading_style = f"s{DEFAULT_WPM}-sentence{SENTENCE_PAUSE_MS}ms"

    def __init__(
        self, binary: str = "espeak-ng", timeout: float = 120.0, max_chars: int = 3000, workers: int | None = None
    ):
        """``timeout`` bounds each espeak-ng run (one per chunk of at most ``max_chars`` characters).

        Chunks of a long text are read by up to ``workers`` espeak-ng processes at once (default: the number
        of CPUs, at most 4); each process is single-threaded, so this is where a long bulletin gains time.
        """
        self.binary = binary
        self.timeout = timeout
        self.max_chars = max_chars
        self.workers = workers or min(4, os.cpu_count() or 1)

    def command(self, settings: VoiceSettings, out_path: Path) -> list[str]:
        """The espeak-ng argument list that reads stdin (UTF-8) into ``out_path``."""
        executable = shutil.which(self.binary)
        if executable is None:
            raise SpeechError(
                f"{self.binary} is not installed: install espeak-ng (apt-get install espeak-ng) to read text offline"
            )
        # espeak-ng quietly reads an unknown voice with its nearest match ("no-such-voice" becomes Norwegian),
        # so the name is checked against the installed voices first; "+f3" and the like choose a variant.
        if settings.voice.split("+", 1)[0].lower() not in installed_voices(executable):
            raise SpeechError(f"espeak-ng has no voice {settings.voice!r}; Vietnamese voices are {', '.join(VOICES)}")
        return [
            executable,
            "-v", settings.voice,
            "-s", str(words_per_minute(settings.rate_percent)),
            "-a", str(amplitude(settings.volume_percent)),
            "-p", str(pitch_level(settings.pitch_hz)),
            "-b", "1",  # the text is UTF-8 whatever the locale of the process
            "-m",  # SSML: the text comes wrapped by ssml(), with its sentence pauses
            "--stdin",  # text on stdin, not argv: a bulletin can exceed the argument length limit
            "-w", str(out_path),
        ]  # fmt: skip

    def synthesize(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        """Write the text as one WAV file; long texts are read in chunks and joined sample for sample."""
        text = require_text(text)
        chunks = chunk_text(text, self.max_chars)
        out_path = Path(out_path)
        with atomic_output(out_path) as tmp:
            if len(chunks) == 1:
                self._run(chunks[0], settings, tmp)
            else:
                with (
                    tempfile.TemporaryDirectory(prefix=".espeak-", dir=out_path.parent) as scratch,
                    ThreadPoolExecutor(max_workers=min(self.workers, len(chunks))) as pool,
                ):
                    parts = [Path(scratch) / f"{index:05d}.wav" for index in range(len(chunks))]
                    # list() waits for every run and raises the first failure, in chunk order.
                    list(pool.map(lambda chunk, part: self._run(chunk, settings, part), chunks, parts))
                    join_parts(parts, tmp)
        log.debug("espeak-ng read %d characters in %d chunk(s) into %s", len(text), len(chunks), out_path)

    def _run(self, text: str, settings: VoiceSettings, out_path: Path) -> None:
        command = self.command(settings, out_path)
        try:
            result = subprocess.run(
                command, input=ssml(text).encode("utf-8"), capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(f"espeak-ng took longer than {self.timeout:g} s") from exc
        stderr = result.stderr.decode("utf-8", "replace").strip()
        if result.returncode != 0 or not out_path.exists() or out_path.stat().st_size <= 44:
            if "voice does not exist" in stderr or "Failed to read voice" in stderr:
                raise SpeechError(
                    f"espeak-ng has no voice {settings.voice!r}; Vietnamese voices are {', '.join(VOICES)}"
                )
            raise SpeechError(f"espeak-ng failed with exit status {result.returncode}: {stderr[-300:] or 'no output'}")
