"""An extended M3U rendering of one day of a manifest, for people and ordinary players."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from urllib.parse import urljoin

from .checks import zone
from .model import AudioFile, Entry, Manifest, ManifestError
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

    A live relay is written as its fallback (the slot's filler) looped and cut to the relay's window, with the
    stream's address in a ``#RELAY:`` comment: players read every entry to its end whatever its ``#EXTINF``
    says, and a live stream has no end, so a stream's address in the list kept them on it for good and the rest
    of the day never played. A relay without fallback is only that comment.
    """
    found = next((d for d in manifest.days if d.date == day), None)
    if found is None:
        raise ManifestError("days", f"{manifest.station} has no schedule for {day}")
    tz = zone(manifest.timezone)
    pieces = [piece for entry in found.entries for piece in _pieces(entry)]
    longest_s = max((math.ceil(play_ms / 1000) for _, _, play_ms, _ in pieces), default=0)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(longest_s, 1)}",
             "#EXT-X-PLAYLIST-TYPE:VOD", f"#PLAYLIST:{_one_line(manifest.station)} {day.isoformat()}"]
    played = 0
    for entry in found.entries:
        if entry.stream is not None:
            lines.append(f"#RELAY:{format_time(entry.start, tz)} {_seconds(entry.play_ms)} s {entry.stream.url}")
        for start, audio, play_ms, title in _pieces(entry):
            if played:
                # Each entry is a file of its own whose timestamps start again at zero.
                lines.append("#EXT-X-DISCONTINUITY")
            played += 1
            seconds = _seconds(play_ms)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{format_time(start, tz)}")
            lines.append(f"#EXTINF:{seconds},{_one_line(title)}")
            if play_ms < audio.duration_ms:
                # Players that honour it (VLC) stop the cut filler where the schedule does.
                lines.append(f"#EXTVLCOPT:stop-time={seconds}")
            lines.append(_url(audio, base_url, audio_url))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _pieces(entry: Entry) -> list[tuple[datetime, AudioFile, int, str]]:
    """(start, audio, ms to play, title) of what a player plays for ``entry``: its file, or a relay's fallback
    looped over the window (the last loop cut), as the station plays it while the stream fails."""
    if entry.stream is None:
        return [(entry.start, entry.audio, entry.play_ms, entry.title)]
    fallback = entry.stream.fallback
    if fallback is None or fallback.duration_ms <= 0:
        return []
    pieces, done = [], 0
    while done < entry.play_ms:
        play_ms = min(fallback.duration_ms, entry.play_ms - done)
        pieces.append((entry.start + timedelta(milliseconds=done), fallback, play_ms, entry.title))
        done += play_ms
    return pieces


def _url(audio: AudioFile, base_url: str, audio_url: Callable[[AudioFile], str] | None) -> str:
    if audio_url is not None:
        return audio_url(audio)
    return urljoin(base_url, audio.url) if base_url else audio.url


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _one_line(text: str) -> str:
    # A line break inside a title would end the tag and turn the rest into a bogus URL.
    return " ".join(text.split()) if any(c in text for c in "\r\n\v\f\x85\u2028\u2029") else text
