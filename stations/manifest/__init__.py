"""The station manifest: the wire format that tells a commune station what to air, shared by server and agent.

Imports nothing of the central service, so it installs alone on a station (stdlib, plus jsonschema to read).

Format ``commune-radio/manifest/1``, for people writing other players
------------------------------------------------------------------

A manifest is the *full* state of one station's upcoming days, never a diff: a station that missed any number
of updates is right again after one fetch. It is one JSON object, UTF-8, with sorted keys and no whitespace
(the canonical form; readers accept any valid JSON with the same content). The JSON Schema (draft 2020-12) is
``stations/manifest.schema.json``. Every field is required (of ``audio`` and ``stream``, the one its kind has); an
unknown field is an error, and any change to what a manifest without relays means changes ``schema`` (the
``stream`` kind was added without a change: an older reader refuses only a manifest that holds a relay).
Example (one entry, shortened)::

    {"days":[{"date":"2026-11-29","entries":[
       {"audio":{"duration_ms":95250,"sha256":"9f86…","size":1524006,"url":"/api/v1/audio/9f86…"},
        "end":"2026-11-29T06:01:35.250+07:00","id":"slot4@2026-11-29#0","item_class":"normal","item_id":17,
        "kind":"item","occurrence_key":"slot4@2026-11-29","play_ms":95250,"slot_id":4,
        "start":"2026-11-29T06:00:00+07:00","title":"Bản tin sáng"}],"version":3}],
     "etag":"\\"5e3c…\\"","generated_at":"2026-11-28T22:00:00+07:00","schema":"commune-radio/manifest/1",
     "station":"HG1-01","timezone":"Asia/Ho_Chi_Minh","version":12}

Top level: ``station`` (code), ``timezone`` (IANA), ``generated_at``, ``version`` (rises only when the
content changes), ``etag`` and ``days``. Each day: ``date`` (local, YYYY-MM-DD), ``version`` (rises only
when that day changes) and ``entries``; a day with no entries means nothing airs, a date absent from ``days``
means the station has no schedule for it yet. Each entry:

- ``id``: stable and unique in the manifest; as-run reports name it.
- ``start``, ``end``: ISO 8601 with the station zone's offset at that moment (``+07:00``; ``+01:00`` or
  ``+02:00`` in a zone with daylight saving), milliseconds only when not zero. ``end`` = ``start`` +
  ``play_ms``. Compare instants, not wall-clock text.
- ``kind``: ``item`` (a bulletin; ``item_id`` set), ``filler`` (fills a slot so there is no dead air) or
  ``stream`` (a live relay; ``item_id`` set).
- ``item_class``: ``normal``, ``priority`` or ``emergency``. Emergencies interrupt whatever is playing, so
  they alone may overlap other entries; all other entries never overlap.
- ``kind`` ``stream`` is a live relay (an item whose content is a stream): instead of ``audio`` it has
  ``stream``: ``url`` (absolute ``http``/``https``: Icecast/HTTP MP3 or HLS ``.m3u8``) and ``fallback``, the
  slot's filler audio object (or null), which the station loops while the stream fails, for the rest of the
  window. ``start``, ``end`` and ``play_ms`` are the relay window. A manifest without stream entries is as
  before this kind was added, so the schema id did not change; a reader that does not know the kind refuses
  the manifest naming the entry.
- ``audio``: ``sha256``, ``size`` (bytes), ``duration_ms`` and ``url``, a URI reference resolved against
  the manifest's own location (``/api/v1/audio/<sha256>`` when pulled over HTTP, ``audio/<sha256>.mp3``
  beside a manifest pushed over SFTP). Audio is content-addressed: fetch each sha256 once, verify sha256
  and size before installing, never play a file that fails, and keep it while an entry that is not over
  uses it.
- ``play_ms``: play this long from the start of the file; shorter than the file only for a cut filler.
- ``slot_id`` (null only for an emergency outside any slot) and ``occurrence_key``: the slot occurrence
  that operators confirm as aired.

Entries are in start order across the whole manifest. A day holds the sessions that begin on its date; an
entry may start on the next date only if its session runs past midnight.

``etag`` is the strong HTTP ETag, quotes included: the sha256 (hex) of the canonical JSON of the object
``{"days": …, "schema": …, "station": …, "timezone": …}`` from the manifest. It ignores ``generated_at``
and the top ``version``, so regenerating unchanged content gives the same ETag; poll with
``If-None-Match`` and expect 304 until it changes. It covers the audio ``url`` too, so a pushed manifest, which
names ``audio/<sha256>.mp3`` where the pulled one names ``/api/v1/audio/<sha256>``, has an ETag of its own for
the same version; compare versions, not ETags, across the two. Install a manifest by writing it under a temporary name
and renaming it into place, after all the audio it names is verified.

Python API: :func:`build_manifest` (computes the ETag), :func:`to_json`, :func:`from_json` (schema, rules
and ETag; raises :class:`ManifestError` naming the field), :func:`content_etag`, :func:`day_etag`,
:func:`audio_files`, :func:`upcoming`, :func:`to_m3u8` and :func:`schema`.
"""

from .contents import audio_files, entry_audio, upcoming
from .model import ITEM_CLASSES, KINDS, SCHEMA_ID, AudioFile, Day, Entry, Manifest, ManifestError, Stream
from .playlist import to_m3u8
from .wire import build_manifest, content_etag, day_etag, for_station, format_time, from_json, schema, to_json

__all__ = [
    "ITEM_CLASSES",
    "KINDS",
    "SCHEMA_ID",
    "AudioFile",
    "Day",
    "Entry",
    "Manifest",
    "ManifestError",
    "Stream",
    "audio_files",
    "build_manifest",
    "content_etag",
    "entry_audio",
    "day_etag",
    "for_station",
    "format_time",
    "from_json",
    "schema",
    "to_json",
    "to_m3u8",
    "upcoming",
]
