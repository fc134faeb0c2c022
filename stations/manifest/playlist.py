"""An extended M3U rendering of one day of a manifest, for people and simple players."""

from __future__ import annotations

from datetime import date
from urllib.parse import urljoin

from .checks import zone
from .model import Manifest, ManifestError
from .wire import format_time


def to_m3u8(manifest: Manifest, day: date, base_url: str = "") -> str:
    """Return the entries of ``day`` as an extended M3U playlist (UTF-8 text, ``\\n`` line ends).

    Each entry gets ``#EXT-X-PROGRAM-DATE-TIME`` (its start), ``#EXTINF:<seconds>,<title>`` (its playing
    time) and, for a filler cut short, ``#EXTVLCOPT:stop-time=<seconds>``, then its audio URL resolved
    against ``base_url``. A simple player plays the list back to back; only the date-time tags tell when.
    """
    found = next((d for d in manifest.days if d.date == day), None)
    if found is None:
        raise ManifestError("days", f"{manifest.station} has no schedule for {day}")
    tz = zone(manifest.timezone)
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(manifest.station)} {day.isoformat()}"]
    for entry in found.entries:
        seconds = _seconds(entry.play_ms)
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{format_time(entry.start, tz)}")
        lines.append(f"#EXTINF:{seconds},{_one_line(entry.title)}")
        if entry.play_ms < entry.audio.duration_ms:
            # Players that honour it (VLC) stop the cut filler where the schedule does.
            lines.append(f"#EXTVLCOPT:stop-time={seconds}")
        lines.append(urljoin(base_url, entry.audio.url) if base_url else entry.audio.url)
    return "\n".join(lines) + "\n"


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _one_line(text: str) -> str:
    # A line break inside a title would end the tag and turn the rest into a bogus URL.
    return " ".join(text.split()) if any(c in text for c in "\r\n\v\f\x85\u2028\u2029") else text
