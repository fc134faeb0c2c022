"""One station day to test airing with: a 06:00 province session on 29/11/2026 with approved items, compiled,
and the clock set to 06:30 when it is over. Used by the as-run API tests and the operator pages (HTML, browser).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from broadcast.db.models import AudioAsset, NewsItem
from broadcast.services import stations, users
from stations import manifest as wire

PLANNED_AT = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang, the evening before
NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 06:30 on 29/11: the 06:00-06:10 session is over
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}


def build_world(app, titles=("Tin một", "Tin hai")) -> dict:
    """A daily 06:00 session for the province with two approved items on 29/11, compiled; the clock at 06:30.

    Returns the API headers of people and stations and HG1-01's manifest entries of that day.
    """
    clock = {"now": PLANNED_AT}
    app.extensions["clock"] = lambda: clock["now"]
    api = app.test_client()
    database = app.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("bientap", "pheduyet", "vanhanh")}
        tokens = {code: {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session,
                                                                                                          code))}
                  for code in ("HG1-01", "HG1-02")}
    slot_id = api.post("/api/v1/slots", json=SLOT, headers=people["bientap"]).json["id"]
    for title in titles:
        created = api.post("/api/v1/items", json={"title": title, "body": "Một hai ba."},
                           headers=people["bientap"]).json
        with database.sessions() as session:
            session.get(NewsItem, created["id"]).audio_asset = AudioAsset(
                sha256=f"{created['id']:064x}", size_bytes=8000, duration_ms=60_000, origin="tts")
            session.commit()
        api.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
        api.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
        assert api.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": created["id"], "slot_id": slot_id, "targets": ["08"], "date_from": "2026-11-29",
            "date_until": "2026-11-29"}).status_code == 201
    manifest = wire.from_json(api.get("/api/v1/stations/HG1-01/manifest", headers=tokens["HG1-01"]).data)
    entries = [e for day in manifest.days for e in day.entries if str(day.date) == "2026-11-29"]
    assert len(entries) == len(titles)
    clock["now"] = NOW
    return {"api": api, "people": people, "tokens": tokens, "entries": entries, "database": database,
            "clock": clock, "version": manifest.version}


def played(entry, **changes) -> dict:
    event = {"event_id": uuid.uuid4().hex, "outcome": "played", "kind": "item", "entry_id": entry.id,
             "occurrence_key": entry.occurrence_key, "slot_id": entry.slot_id, "item_id": entry.item_id,
             "audio_sha256": entry.audio.sha256, "scheduled_at": entry.start.isoformat(),
             "started_at": entry.start.isoformat(), "ended_at": entry.end.isoformat(),
             "seconds_played": entry.play_ms / 1000}
    return {**event, **changes}
