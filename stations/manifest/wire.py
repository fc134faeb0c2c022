"""The canonical JSON form of a manifest: writing it, reading and validating it, and its content ETag."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

try:  # optional: the server writes ten thousand manifests a night with it; a station box does without
    import orjson
except ImportError:  # pragma: no cover - json gives the same text (see _canonical)
    orjson = None

from .checks import STATION_CODE, check, check_content, check_days, check_header, zone
from .model import SCHEMA_ID, AudioFile, Day, Entry, Manifest, ManifestError, Stream

# One encoder for the canonical form: no spaces, UTF-8 text rather than \u escapes, no NaN. Keys come out
# sorted because every object below is written in sorted key order (cheaper than sort_keys); the
# tests compare the result with json.dumps(..., sort_keys=True).
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


# Stations of a province share most entry times, so a compile of thousands of manifests formats the same
# moments again and again. Keyed by the datetime itself (its hash is cached, so a lookup costs a tenth of
# .timestamp()), except in the repeated DST hour: two times of one zone that differ only in ``fold`` compare
# and hash equal, yet are an hour apart, so a time with fold=1 is keyed by its POSIX timestamp instead.
_FORMATTED: dict[tuple[datetime | float, ZoneInfo], str] = {}
_FORMATTED_MAX = 100_000


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """Write ``moment`` canonically in zone ``tz``: ``2026-11-29T06:00:00+07:00``, milliseconds only if any."""
    key = (moment.timestamp() if moment.fold else moment, tz)
    text = _FORMATTED.get(key)
    if text is None:
        if len(_FORMATTED) >= _FORMATTED_MAX:
            _FORMATTED.clear()
        local = moment.astimezone(tz)
        text = _FORMATTED[key] = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    return text


def content_etag(station: str, timezone: str, days: Sequence[Day]) -> str:
    """Return the strong ETag (quoted) of a station's content: what changes it is what the station must act on.

    It is the sha256 of the canonical JSON object ``{"days", "schema", "station", "timezone"}``, so it ignores
    ``generated_at`` and the manifest ``version`` (the compiler compares ETags to decide whether to raise the
    version) but includes each day's version.
    """
    days = tuple(days)
    tz = check_content(station, timezone, days)
    return _etag(_days_text(days, tz), station, timezone)


def day_etag(day: Day, timezone: str) -> str:
    """Return a strong ETag (quoted) of one day's entries, leaving out the day's version.

    Compare it with the stored one to decide whether a recompiled day needs a new version.
    """
    tz = zone(timezone)
    check_days((day,), tz)
    body = _canonical({"date": day.date.isoformat(), "entries": [_entry_obj(e, tz) for e in day.entries]})
    return f'"{hashlib.sha256(_utf8(body)).hexdigest()}"'


def build_manifest(station: str, timezone: str, generated_at: datetime, days: Iterable[Day], version: int) -> Manifest:
    """Return a checked :class:`Manifest` with its ETag computed from the content."""
    days = tuple(days)
    tz = check_content(station, timezone, days)
    check_header(generated_at, version)
    days_json = _days_text(days, tz)
    manifest = Manifest(station, timezone, generated_at, days, version, _etag(days_json, station, timezone))
    object.__setattr__(manifest, "_days_json", days_json)
    return manifest


def for_station(manifest: Manifest, station: str, *, version: int, generated_at: datetime) -> Manifest:
    """The same days for ``station`` (with its own version and time), without checking them again.

    Stations of one commune usually air identical days: the server builds and checks them once with
    :func:`build_manifest` and hands them to each station through this, which only recomputes the ETag.
    """
    if manifest._days_json is None:
        return build_manifest(station, manifest.timezone, generated_at, manifest.days, version)
    if not isinstance(station, str) or not STATION_CODE.fullmatch(station):
        raise ManifestError("station", "must be 2 to 40 letters, digits, dots, dashes or underscores")
    check_header(generated_at, version)
    copy = Manifest(station, manifest.timezone, generated_at, manifest.days, version,
                    _etag(manifest._days_json, station, manifest.timezone))
    object.__setattr__(copy, "_days_json", manifest._days_json)
    return copy


def to_json(manifest: Manifest) -> bytes:
    """Return the canonical UTF-8 JSON of ``manifest``; raise :class:`ManifestError` if it breaks a rule.

    Equal manifests give equal bytes, which is what lets the server hand the same body and ETag to every poll.
    """
    days_json = manifest._days_json
    if days_json is None:
        tz = check(manifest)
        days_json = _days_text(manifest.days, tz)
        etag = _etag(days_json, manifest.station, manifest.timezone)
        if etag != manifest.etag:
            raise ManifestError("etag", f"{manifest.etag} does not match the content ({etag}): make manifests "
                                "with build_manifest()")
    else:
        tz = zone(manifest.timezone)
    # Sorted keys put "days" first, so the large array is encoded once and shared with the ETag; the tests
    # check that this equals json.dumps(..., sort_keys=True) of the whole object.
    generated_at = format_time(manifest.generated_at, tz)
    return (
        f'{{"days":{days_json},"etag":{_encode(manifest.etag)},"generated_at":{_encode(generated_at)},'
        f'"schema":{_encode(SCHEMA_ID)},"station":{_encode(manifest.station)},'
        f'"timezone":{_encode(manifest.timezone)},"version":{manifest.version}}}'
    ).encode()  # cannot fail: the ETag was computed from the same text


def from_json(data: bytes | str) -> Manifest:
    """Read and fully validate a manifest; raise :class:`ManifestError` naming the first bad field.

    Checks the JSON Schema, then the rules it cannot express (order, overlap, end = start + play_ms, one
    sha256 with one size, times in the station's own offset) and finally that the ETag matches the content.
    Times come back in the station's zone.
    """
    doc = _parse(data)
    if isinstance(doc, dict) and "schema" in doc and doc["schema"] != SCHEMA_ID:
        raise ManifestError("schema", f"{doc['schema']!r} is not a format this reader knows ({SCHEMA_ID})")
    error = _schema_error(doc)
    if error is not None:
        raise error
    tz = zone(doc["timezone"])
    manifest = Manifest(
        station=doc["station"],
        timezone=doc["timezone"],
        generated_at=_time(doc["generated_at"], "generated_at", tz),
        days=tuple(_day(raw, f"days[{d}]", tz) for d, raw in enumerate(doc["days"])),
        version=doc["version"],
        etag=doc["etag"],
    )
    check(manifest)
    days_json = _days_text(manifest.days, tz)
    expected = _etag(days_json, manifest.station, manifest.timezone)
    if manifest.etag != expected:
        raise ManifestError("etag", f"{manifest.etag} does not match the content ({expected})")
    object.__setattr__(manifest, "_days_json", days_json)
    return manifest


@functools.cache
def schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the format, shipped as ``stations/manifest.schema.json``."""
    return json.loads(resources.files("stations").joinpath("manifest.schema.json").read_text(encoding="utf-8"))


@functools.cache
def _validator():
    # Imported here so that writing manifests (the server's hot path) does not load jsonschema at all.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def _schema_error(doc: object) -> ManifestError | None:
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(doc))
    if error is None:
        return None
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return ManifestError(_join(path, missing), "is missing")
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))[0]
        return ManifestError(_join(path, extra), f"is not a field of {SCHEMA_ID}")
    if error.validator == "pattern":
        return ManifestError(path or "manifest", f"{error.instance!r} does not have the expected form: "
                             f"{error.schema.get('description', error.schema['pattern'])}")
    if error.validator == "type":
        # JSON's names, not Python's: a reader of the error knows null and string, not None and str.
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return ManifestError(path or "manifest", f"must be {' or '.join(expected)}, not {_json_type(error.instance)}")
    return ManifestError(path or "manifest", error.message)


def _json_type(value: object) -> str:
    names = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object"}
    return names.get(type(value), type(value).__name__)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _parse(data: bytes | str) -> object:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise ManifestError("manifest", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ManifestError("manifest", f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key would silently hide one of its values; the canonical form never repeats one.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ManifestError(twice, "appears twice in one object")
    return obj


def _no_constants(name: str) -> None:
    raise ManifestError("manifest", f"{name} is not a JSON number")


def _days_text(days: Sequence[Day], tz: ZoneInfo) -> str:
    return _canonical([_day_obj(day, tz) for day in days])


def _canonical(value: object) -> str:
    """``_encode(value)``, by orjson where it is installed (the server writes ten thousand manifests a night;
    it takes a third of the time); the tests compare the two on hostile text."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # what orjson refuses (a lone surrogate, an integer beyond 64 bits) json writes
            pass
    return _encode(value)


# The objects below are built in sorted key order, as _encode writes them (json's sort_keys costs more).

def _day_obj(day: Day, tz: ZoneInfo) -> dict[str, Any]:
    return {"date": day.date.isoformat(), "entries": [_entry_obj(e, tz) for e in day.entries], "version": day.version}


def _entry_obj(entry: Entry, tz: ZoneInfo) -> dict[str, Any]:
    if entry.stream is not None:  # a relay: "stream" instead of "audio", still in sorted key order
        fallback = entry.stream.fallback
        return {"end": format_time(entry.end, tz), "id": entry.id,
                "item_class": entry.item_class, "item_id": entry.item_id, "kind": entry.kind,
                "occurrence_key": entry.occurrence_key, "play_ms": entry.play_ms, "slot_id": entry.slot_id,
                "start": format_time(entry.start, tz),
                "stream": {"fallback": None if fallback is None else _audio_obj(fallback), "url": entry.stream.url},
                "title": entry.title}
    return {"audio": _audio_obj(entry.audio), "end": format_time(entry.end, tz), "id": entry.id,
            "item_class": entry.item_class, "item_id": entry.item_id, "kind": entry.kind,
            "occurrence_key": entry.occurrence_key, "play_ms": entry.play_ms, "slot_id": entry.slot_id,
            "start": format_time(entry.start, tz), "title": entry.title}


# One object per file for the thousands of entries that name the same few hundred files.
_AUDIO_OBJ: dict[str, tuple[AudioFile, dict[str, Any]]] = {}


def _audio_obj(audio: AudioFile) -> dict[str, Any]:
    known = _AUDIO_OBJ.get(audio.sha256)
    if known is not None and (known[0] is audio or known[0] == audio):
        return known[1]
    obj = {"duration_ms": audio.duration_ms, "sha256": audio.sha256, "size": audio.size, "url": audio.url}
    if len(_AUDIO_OBJ) >= 100_000:
        _AUDIO_OBJ.clear()
    _AUDIO_OBJ[audio.sha256] = (audio, obj)
    return obj


def _etag(days_json: str, station: str, timezone: str) -> str:
    # The canonical JSON of {"days", "schema", "station", "timezone"}, written out in sorted-key order.
    content = f'{{"days":{days_json},"schema":{_encode(SCHEMA_ID)},"station":{_encode(station)},' \
              f'"timezone":{_encode(timezone)}}}'
    return f'"{hashlib.sha256(_utf8(content)).hexdigest()}"'


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        # Only a lone surrogate (from a "\ud800" escape or a bad decode) gets here: it has no UTF-8 form.
        raise ManifestError("manifest", f"text holds {text[exc.start]!r}, which is not a Unicode character") from None


def _day(raw: dict[str, Any], path: str, tz: ZoneInfo) -> Day:
    try:
        day = date.fromisoformat(raw["date"])
    except ValueError:
        raise ManifestError(f"{path}.date", f"{raw['date']!r} is not a calendar date") from None
    entries = tuple(_entry(e, f"{path}.entries[{i}]", tz) for i, e in enumerate(raw["entries"]))
    return Day(date=day, version=raw["version"], entries=entries)


def _audio(raw: dict[str, Any] | None) -> AudioFile | None:
    if raw is None:
        return None
    return AudioFile(sha256=raw["sha256"], size=raw["size"], duration_ms=raw["duration_ms"], url=raw["url"])


def _entry(raw: dict[str, Any], path: str, tz: ZoneInfo) -> Entry:
    stream = raw.get("stream")
    return Entry(
        id=raw["id"],
        start=_time(raw["start"], f"{path}.start", tz),
        end=_time(raw["end"], f"{path}.end", tz),
        kind=raw["kind"],
        item_id=raw["item_id"],
        title=raw["title"],
        item_class=raw["item_class"],
        audio=_audio(raw.get("audio")),
        play_ms=raw["play_ms"],
        slot_id=raw["slot_id"],
        occurrence_key=raw["occurrence_key"],
        stream=None if stream is None else Stream(url=stream["url"], fallback=_audio(stream["fallback"])),
    )


def _time(raw: str, field: str, tz: ZoneInfo) -> datetime:
    """Parse a canonical time and return it in zone ``tz``; its offset must be the zone's at that moment."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ManifestError(field, f"{raw!r} is not a valid time") from None
    local = parsed.astimezone(tz)
    if local.utcoffset() != parsed.utcoffset():
        raise ManifestError(field, f"{raw!r} does not use the station's offset ({tz.key} is at "
                            f"{local.isoformat()[-6:]} then)")
    canonical = format_time(local, tz)
    if canonical != raw:
        raise ManifestError(field, f"{raw!r} is not in canonical form ({canonical!r})")
    return local
