"""Between compiled days and what is stored and sent: the stored JSON and the manifest's days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import schedules
from schedules.occurrences import Occurrence
from schedules.playlist import Entry, FilledOccurrence
from stations import manifest as wire


def audio_url(sha256: str) -> str:
    return f"/api/v1/audio/{sha256}"


def day_from_content(content: dict) -> schedules.DayPlaylist:
    """Rebuild a stored day (``schedules.canonical_content``) for the showlock: what it kept is what aired."""
    occurrences = []
    for occ in content["occurrences"]:
        start, end = datetime.fromisoformat(occ["start"]), datetime.fromisoformat(occ["end"])
        local_start = datetime.fromisoformat(occ["key"].split("@", 1)[1])
        occurrence = Occurrence(occ["slot_id"], start, end, occ["key"], local_start)
        entries = tuple(
            Entry(start=datetime.fromisoformat(e["start"]), end=datetime.fromisoformat(e["end"]), kind=e["kind"],
                  item_id=e["item_id"], placement_id=e["placement_id"], repeat=e["repeat"],
                  audio=audio_ref(e["audio"]), play_ms=e["play_ms"],
                  title=e["title"], item_class=e["item_class"])
            for e in occ["entries"])
        occurrences.append(FilledOccurrence(occurrence, entries))
    return schedules.DayPlaylist(content["station"], date.fromisoformat(content["day"]), content["zone"],
                                 tuple(occurrences))


def audio_ref(stored: list | dict | None) -> schedules.AudioRef | schedules.StreamRef | None:
    """An entry's stored ``audio`` (see ``schedules.fingerprint.audio_json``) as the scheduler's reference."""
    if not stored:
        return None
    if isinstance(stored, dict):  # a relay
        fallback = stored.get("fallback")
        return schedules.StreamRef(stored["stream"], stored["duration_ms"],
                                   schedules.AudioRef(*fallback) if fallback else None)
    return schedules.AudioRef(*stored)


# One AudioFile per file for all the manifests of a compile, rather than one per entry of each.
_FILES: dict[str, wire.AudioFile] = {}


def audio_file(ref: schedules.AudioRef) -> wire.AudioFile:
    known = _FILES.get(ref.sha256)
    if known is None or known.size != ref.size_bytes or known.duration_ms != ref.duration_ms:
        if len(_FILES) >= 100_000:
            _FILES.clear()
        known = _FILES[ref.sha256] = wire.AudioFile(ref.sha256, ref.size_bytes, ref.duration_ms,
                                                    audio_url(ref.sha256))
    return known


# The first station agent that relays streams; an older one refuses a manifest with a stream entry (and so every
# manifest from then on), so its stations get the relay's window as filler instead.
RELAYING_AGENT = (1, 1, 0)


def before_relays(agent_version: str | None) -> bool:
    """Whether an agent of this version (as its heartbeat says) cannot relay; unknown versions are taken as able."""
    try:
        return agent_version is not None and tuple(int(p) for p in agent_version.split(".")[:3]) < RELAYING_AGENT
    except ValueError:
        return False


def has_relays(day: schedules.DayPlaylist) -> bool:
    return any(type(e.audio) is schedules.StreamRef for filled in day.occurrences for e in filled.entries)


def _as_filler(entry: schedules.Entry, key: str, index: int, slot_id: int | None) -> list[wire.Entry]:
    """A relay's window as its fallback filler, looped and cut at the window's end (nothing without one)."""
    fallback = entry.audio.fallback
    if fallback is None:
        return []
    file, start, left, pieces = audio_file(fallback), entry.start.astimezone(UTC), entry.play_ms, []
    while left > 0:
        play = min(file.duration_ms, left)
        end = start + timedelta(milliseconds=play)
        pieces.append(wire.Entry(f"{key}#{index}.{len(pieces)}", start.astimezone(entry.start.tzinfo),
                                 end.astimezone(entry.start.tzinfo), "filler", None, entry.title or "",
                                 entry.item_class or "normal", file, play, slot_id, key))
        start, left = end, left - play
    return pieces


def manifest_day(day: schedules.DayPlaylist, version: int, *, relays: bool = True) -> wire.Day:
    """The day as stations receive it; items not rendered yet are left out (the compile reported them).

    ``relays=False`` (an agent older than relays) turns each relay into its window of filler."""
    entries = []
    wire_entry = wire.Entry
    for filled in day.occurrences:
        key, slot_id = filled.key, filled.occurrence.slot_id
        for index, entry in enumerate(filled.entries):
            audio = entry.audio
            if audio is None:
                continue
            if type(audio) is schedules.StreamRef and not relays:
                entries.extend(_as_filler(entry, key, index, slot_id))
                continue
            if type(audio) is schedules.StreamRef:  # a live relay: the stream, its slot's filler to fall back on
                fallback = None if audio.fallback is None else audio_file(audio.fallback)
                entries.append(wire_entry(f"{key}#{index}", entry.start, entry.end, "stream", entry.item_id,
                                          entry.title or "", entry.item_class or "normal", None, entry.play_ms,
                                          slot_id, key, wire.Stream(audio.url, fallback)))
                continue
            # Positional, in the field order of wire.Entry: a compile makes a quarter of a million of them.
            entries.append(wire_entry(f"{key}#{index}", entry.start, entry.end, entry.kind, entry.item_id,
                                      entry.title or "", entry.item_class or "normal", audio_file(audio),
                                      entry.play_ms, slot_id, key))
    return wire.Day(day.day, version, tuple(entries))
