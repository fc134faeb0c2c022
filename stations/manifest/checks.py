"""Rules of a well-formed manifest that a JSON Schema cannot express: order, overlap, time and audio consistency."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import ITEM_CLASSES, KINDS, AudioFile, Day, Entry, Manifest, ManifestError, Stream

SHA256 = re.compile(r"[0-9a-f]{64}")
ETAG = re.compile(r'"[0-9a-f]{64}"')
# The same rule as station codes on the server: they appear in URLs and file names.
STATION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,39}")
ONE_DAY = timedelta(days=1)
# A URI reference without whitespace, control characters or backslashes, and with no ".." segment, so a
# pushed manifest cannot point a station outside its own folder.
URL = re.compile(r"(?!.*(?:^|/)\.\.(?:/|$))[^\s\\\x00-\x1f\x7f]+")
# A relay's stream: an absolute http(s) URL with a host, without whitespace, control characters or backslashes.
STREAM_URL = re.compile(r"https?://[^\s\\\x00-\x1f\x7f/?#@]+(?:[/?#][^\s\\\x00-\x1f\x7f]*)?")


def zone(name: object) -> ZoneInfo:
    """Return the IANA zone ``name``, or raise :class:`ManifestError` naming the ``timezone`` field."""
    if not isinstance(name, str) or not name:
        raise ManifestError("timezone", "must be an IANA zone name such as 'Asia/Ho_Chi_Minh'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ManifestError("timezone", f"unknown zone {name!r}") from None


def check(manifest: Manifest) -> ZoneInfo:
    """Raise :class:`ManifestError` at the first rule ``manifest`` breaks; return its station's zone.

    Checks the ETag's form, not its value: :func:`stations.manifest.to_json` and ``from_json`` recompute it,
    since they have the canonical bytes at hand.
    """
    tz = check_content(manifest.station, manifest.timezone, manifest.days)
    check_header(manifest.generated_at, manifest.version)
    if not isinstance(manifest.etag, str) or not ETAG.fullmatch(manifest.etag):
        raise ManifestError("etag", "must be 64 lowercase hex digits in double quotes")
    return tz


def check_header(generated_at: object, version: object) -> None:
    """Check the fields that are not content: when the manifest was made and its version."""
    _check_time(generated_at, "generated_at")
    _check_count(version, "version", minimum=1)


def check_content(station: object, timezone: object, days: object) -> ZoneInfo:
    """Check what the ETag covers (station, zone, days); return the station's zone."""
    if not isinstance(station, str) or not STATION_CODE.fullmatch(station):
        raise ManifestError("station", "must be 2 to 40 letters, digits, dots, dashes or underscores")
    tz = zone(timezone)
    if not isinstance(days, tuple):
        raise ManifestError("days", "must be a tuple of Day")
    check_days(days, tz)
    return tz


def check_days(days: tuple[Day, ...], tz: ZoneInfo) -> None:
    """Check days, their entries and the audio they name, with times read in zone ``tz``.

    The server checks every manifest it compiles (thousands a night), so the common case is kept cheap:
    an entry is first tried against all its rules at once, and only one that fails is checked field by
    field to name what is wrong; the paths of entries are only written out for an error.
    """
    previous_date = None
    seen_ids: dict[str, tuple[int, int]] = {}
    seen_audio: dict[str, tuple[AudioFile, int, int, str]] = {}
    # Emergencies interrupt whatever plays, so they may overlap other entries but not one another. Times are
    # compared in UTC: Python compares two times of one zone by wall clock, wrong in a repeated DST hour.
    last_end: dict[bool, tuple[datetime, int, int]] = {}
    last_start: datetime | None = None
    last_at = (0, 0)
    for d, day in enumerate(days):
        where = f"days[{d}]"
        if not isinstance(day, Day) or not isinstance(day.entries, tuple):
            raise ManifestError(where, "must be a Day with a tuple of entries")
        if previous_date is not None and day.date <= previous_date:
            raise ManifestError(f"{where}.date", f"{day.date} must come after {previous_date}: days are in order, "
                                "each once")
        previous_date = day.date
        _check_count(day.version, f"{where}.version", minimum=1)
        first_date, latest_date = day.date, day.date + ONE_DAY
        for e, entry in enumerate(day.entries):
            start, end = _entry_times(entry, d, e)
            local_date = start.astimezone(tz).date()
            # A session that begins before midnight may run into the next date and still belongs to its day.
            if not first_date <= local_date <= latest_date:
                raise ManifestError(f"{_at(d, e)}.start", f"starts on {local_date}, outside its day {day.date}")
            at = (d, e)
            if seen_ids.setdefault(entry.id, at) is not at:
                raise ManifestError(f"{_at(d, e)}.id", f"{entry.id!r} is already the id of "
                                    f"{_at(*seen_ids[entry.id])}")
            if last_start is not None and start < last_start:
                raise ManifestError(f"{_at(d, e)}.start", f"{_show(start, tz)} is before the start of "
                                    f"{_at(*last_at)}: entries are in start order")
            last_start, last_at = start, at
            emergency = entry.item_class == "emergency"
            before = last_end.get(emergency)
            if before is not None and start < before[0]:
                raise ManifestError(f"{_at(d, e)}.start", f"{_show(start, tz)} overlaps {_at(*before[1:])}, which "
                                    f"ends at {_show(before[0], tz)}")
            last_end[emergency] = (end, d, e)
            # Each file is checked once; later uses only have to be the same file.
            relay = entry.stream is not None or entry.kind == "stream"
            audio = _stream_file(entry, d, e) if relay else entry.audio
            field = "stream.fallback" if relay else "audio"
            if audio is None:
                if relay:
                    continue  # a relay whose slot has no filler: nothing to fall back on
                raise ManifestError(f"{_at(d, e)}.audio", "is missing")
            known = seen_audio.get(audio.sha256) if isinstance(audio, AudioFile) else None
            if known is None:
                if not _known_good(audio):
                    _check_audio(audio, f"{_at(d, e)}.{field}")
                    _GOOD_AUDIO[audio.sha256] = audio
                seen_audio[audio.sha256] = (audio, d, e, field)
            elif known[0] is not audio and known[0] != audio:
                raise ManifestError(f"{_at(d, e)}.{field}", f"file {audio.sha256} differs from "
                                    f"{_at(known[1], known[2])}.{known[3]}: "
                                    "one sha256 has one size, duration and url")
            if entry.play_ms > audio.duration_ms and not relay:  # a relay's fallback loops
                raise ManifestError(f"{_at(d, e)}.play_ms", f"{entry.play_ms} is longer than the audio "
                                    f"({audio.duration_ms})")


def _stream_file(entry: Entry, d: int, e: int) -> AudioFile | None:
    """Check a relay entry's stream (and that only relays have one); return its fallback file."""
    path = _at(d, e)
    if entry.kind != "stream":
        raise ManifestError(f"{path}.stream", f"only an entry of kind 'stream' has a stream, not one of kind "
                            f"{entry.kind!r}")
    if entry.audio is not None:
        raise ManifestError(f"{path}.audio", "an entry of kind 'stream' has a stream instead of audio")
    stream = entry.stream
    if not isinstance(stream, Stream):
        raise ManifestError(f"{path}.stream", "an entry of kind 'stream' needs its stream")
    if not isinstance(stream.url, str) or not STREAM_URL.fullmatch(stream.url):
        raise ManifestError(f"{path}.stream.url", "must be an absolute http:// or https:// URL with a host, "
                            "without spaces or backslashes")
    if entry.item_id is None:
        raise ManifestError(f"{path}.item_id", "an entry of kind 'stream' needs its item id")
    return stream.fallback


def _at(d: int, e: int) -> str:
    return f"days[{d}].entries[{e}]"


# Files that passed _check_audio, by sha256: a night's manifests name the same few hundred files thousands
# of times.
_GOOD_AUDIO: dict[str, AudioFile] = {}
_GOOD_AUDIO_MAX = 100_000


def _known_good(audio: object) -> bool:
    if len(_GOOD_AUDIO) >= _GOOD_AUDIO_MAX:
        _GOOD_AUDIO.clear()
    if not isinstance(audio, AudioFile) or not isinstance(audio.sha256, str):
        return False
    good = _GOOD_AUDIO.get(audio.sha256)
    return good is not None and (good is audio or good == audio)


def _entry_times(entry: Entry, d: int, e: int) -> tuple[datetime, datetime]:
    """Check one entry on its own and return its start and end in UTC: all rules in one go, then field by field."""
    if (isinstance(entry, Entry) and isinstance(entry.id, str) and entry.id
            and isinstance(entry.start, datetime) and entry.start.utcoffset() is not None
            and not entry.start.microsecond % 1000
            and isinstance(entry.end, datetime) and entry.end.utcoffset() is not None
            and not entry.end.microsecond % 1000
            and entry.kind in KINDS
            and ((entry.item_id is None and entry.kind != "item") or (type(entry.item_id) is int
                                                                      and entry.item_id >= 1))
            and isinstance(entry.title, str) and entry.item_class in ITEM_CLASSES
            and type(entry.play_ms) is int and entry.play_ms >= 1
            and (entry.slot_id is None or (type(entry.slot_id) is int and entry.slot_id >= 1))
            and isinstance(entry.occurrence_key, str) and entry.occurrence_key):
        start, end = entry.start.astimezone(UTC), entry.end.astimezone(UTC)
        if end - start == timedelta(milliseconds=entry.play_ms):
            return start, end
    start = _check_entry(entry, _at(d, e))  # raises, naming the field
    return start, start + timedelta(milliseconds=entry.play_ms)


def _check_entry(entry: Entry, path: str) -> datetime:
    """Check one entry on its own and return its start in UTC."""
    if not isinstance(entry, Entry):
        raise ManifestError(path, "must be an Entry")
    if not isinstance(entry.id, str) or not entry.id:
        raise ManifestError(f"{path}.id", "must be a non-empty string")
    _check_time(entry.start, f"{path}.start")
    _check_time(entry.end, f"{path}.end")
    if entry.kind not in KINDS:
        raise ManifestError(f"{path}.kind", f"{entry.kind!r} is not one of {', '.join(KINDS)}")
    if entry.item_id is None:
        if entry.kind == "item":
            raise ManifestError(f"{path}.item_id", "an entry of kind 'item' needs its item id")
    else:
        _check_count(entry.item_id, f"{path}.item_id", minimum=1)
    if not isinstance(entry.title, str):
        raise ManifestError(f"{path}.title", "must be a string")
    if entry.item_class not in ITEM_CLASSES:
        raise ManifestError(f"{path}.item_class", f"{entry.item_class!r} is not one of {', '.join(ITEM_CLASSES)}")
    _check_count(entry.play_ms, f"{path}.play_ms", minimum=1)
    if entry.slot_id is not None:
        _check_count(entry.slot_id, f"{path}.slot_id", minimum=1)
    if not isinstance(entry.occurrence_key, str) or not entry.occurrence_key:
        raise ManifestError(f"{path}.occurrence_key", "must be a non-empty string")
    start = entry.start.astimezone(UTC)
    length = entry.end.astimezone(UTC) - start
    if length <= timedelta(0):
        raise ManifestError(f"{path}.end", "must be after start")
    if length != timedelta(milliseconds=entry.play_ms):
        raise ManifestError(f"{path}.end", f"must be start + play_ms ({entry.play_ms} ms), "
                            f"not start + {length // timedelta(milliseconds=1)} ms")
    return start


def _check_audio(audio: AudioFile, path: str) -> None:
    if not isinstance(audio, AudioFile):
        raise ManifestError(path, "must be an AudioFile")
    if not isinstance(audio.sha256, str) or not SHA256.fullmatch(audio.sha256):
        raise ManifestError(f"{path}.sha256", "must be 64 lowercase hex digits")
    _check_count(audio.size, f"{path}.size", minimum=1)
    _check_count(audio.duration_ms, f"{path}.duration_ms", minimum=1)
    if not isinstance(audio.url, str) or not URL.fullmatch(audio.url):
        raise ManifestError(f"{path}.url", "must be a URI reference without spaces, backslashes or '..' segments")


def _check_time(value: object, field: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ManifestError(field, "must be a datetime with a time zone")
    # The wire carries milliseconds; finer times would not survive a round trip.
    if value.microsecond % 1000:
        raise ManifestError(field, "must be a whole number of milliseconds")


def _check_count(value: object, field: str, *, minimum: int) -> None:
    # type() rather than isinstance(): True is an int to Python but not a count.
    if type(value) is not int or value < minimum:
        raise ManifestError(field, f"must be an integer of at least {minimum}, not {value!r}")


def _show(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
