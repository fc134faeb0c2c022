"""An extended M3U rendering of one day of a manifest, for people and ordinary players."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from urllib.parse import urljoin

from .checks import zone
from .model import AudioFile, Manifest, ManifestError
from .wire import format_time


def to_m3u8(manifest: Manifest, day: date, base_url: str = "",
            audio_url: Callable[[AudioFile], str] | None = None) -> str:
    """Return the entries of ``day`` as an extended M3U playlist (UTF-8 text, ``\\n`` line ends).

    Each entry is ``#EXTINF:<seconds>,<title>`` (its playing time) and its audio URL, preceded by
    ``#EXT-X-PROGRAM-DATE-TIME`` (its start) and, for a filler cut short, ``#EXTVLCOPT:stop-time=<seconds>``.
    The URL is ``audio_url(entry.audio)`` when given, else the entry's own URL resolved against ``base_url``;
    a player opening a saved playlist needs absolute ``http(s)`` URLs ending in a media extension.

    The list is also a complete (VOD) HLS media playlist, because ffmpeg, and so ffplay and mpv, read an M3U
    only as HLS: without ``#EXT-X-TARGETDURATION`` they refuse it, and without ``#EXT-X-ENDLIST`` they take it
    for a live stream and start at its last entries. Players play the entries back to back from the first;
    only the date-time tags tell when each airs.
    """
    found = next((d for d in manifest.days if d.date == day), None)
    if found is None:
        raise ManifestError("days", f"{manifest.station} has no schedule for {day}")
    tz = zone(manifest.timezone)
    longest_s = max((math.ceil(entry.play_ms / 1000) for entry in found.entries), default=0)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(longest_s, 1)}",
             "#EXT-X-PLAYLIST-TYPE:VOD", f"#PLAYLIST:{_one_line(manifest.station)} {day.isoformat()}"]
    for index, entry in enumerate(found.entries):
        if index:
            # Each entry is a file of its own whose timestamps start again at zero.
            lines.append("#EXT-X-DISCONTINUITY")
        seconds = _seconds(entry.play_ms)
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{format_time(entry.start, tz)}")
        lines.append(f"#EXTINF:{seconds},{_one_line(entry.title)}")
        if entry.stream is not None:  # a live relay: the stream itself, for its window
            lines.append(f"#EXTVLCOPT:run-time={seconds}")
            lines.append(entry.stream.url)
            continue
        if entry.play_ms < entry.audio.duration_ms:
            # Players that honour it (VLC) stop the cut filler where the schedule does.
            lines.append(f"#EXTVLCOPT:stop-time={seconds}")
        lines.append(_url(entry.audio, base_url, audio_url))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _url(audio: AudioFile, base_url: str, audio_url: Callable[[AudioFile], str] | None) -> str:
    if audio_url is not None:
        return audio_url(audio)
    return urljoin(base_url, audio.url) if base_url else audio.url


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _one_line(text: str) -> str:
    # A line break inside a title would end the tag and turn the rest into a bogus URL.
    return " ".join(text.split()) if any(c in text for c in "\r\n\v\f\x85\u2028\u2029") else text
