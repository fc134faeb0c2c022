"""What the reports count of a live relay: one that the stream carried only in part (the agent says "partly
relayed", the filler standing in for the rest) makes its session partial, not aired; one relayed throughout
makes it aired; one whose stream never played is not counted as aired. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from stations import manifest as wire
from tests.integration.test_stream_items import place, relay_item, slot_with_filler, world  # noqa: F401, F811  (fixture)


def report(world, outcome: str, seconds: float, reason: str | None) -> tuple[str, dict]:  # noqa: F811
    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=600)
    assert place(world, item["id"], slot_id).status_code == 201
    client, token = world["client"], world["station"]
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=token).data)
    [relay] = [e for d in manifest.days if str(d.date) == "2026-11-29" for e in d.entries]
    event = {"event_id": uuid.uuid4().hex, "outcome": outcome, "kind": "stream", "entry_id": relay.id,
             "occurrence_key": relay.occurrence_key, "slot_id": relay.slot_id, "item_id": relay.item_id,
             "scheduled_at": relay.start.isoformat(), "started_at": relay.start.isoformat(),
             "ended_at": relay.end.isoformat(), "seconds_played": seconds, "reason": reason}
    answer = client.post("/api/v1/stations/HG1-01/events", json={"events": [event]}, headers=token)
    assert answer.status_code == 200 and answer.json["accepted"] == 1, answer.json
    world["clock"]["now"] = relay.end.astimezone(world["clock"]["now"].tzinfo)
    operator = world["people"]["bientap"]
    [session] = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=operator).json["occurrences"]
    stats = client.get("/api/v1/exchange/statistics?area=00694&from=2026-11-29&to=2026-11-29",
                       headers=operator).json
    [figures] = [s["figures"] for s in stats["days"][0]["stations"] if s["code"] == "HG1-01"]
    counted = {k: figures[k] for k in ("sessions_aired", "sessions_partial", "sessions_missed")}
    return session["state"], counted


@pytest.mark.parametrize(("outcome", "seconds", "reason", "state"), [
    ("played", 600.0, None, "aired"),
    ("played", 30.0, "partly relayed: stream 30 s, filler 570 s; the stream dropped 1 time (the stream ended)",
     "partial"),
    ("failed", 0.0, "the stream did not play (the stream answered HTTP 404); filler 600 s", "missed"),
])
def test_a_relay_counts_as_aired_only_when_the_stream_carried_it(world, outcome, seconds, reason, state):  # noqa: F811
    found, counted = report(world, outcome, seconds, reason)
    assert found == state
    assert counted == {f"sessions_{s}": int(s == state) for s in ("aired", "partial", "missed")}


def test_a_relay_an_older_agent_filled_with_filler_is_not_counted_as_aired(world):  # noqa: F811
    """An agent older than relays gets the relay's window as pieces of filler ("<key>#<n>.<piece>"): playing
    them all, and the slot's filler after, is not airing the session's one bulletin, the relay."""
    from sqlalchemy import select

    from broadcast.db.models import Station

    with world["database"].sessions() as session:
        session.scalar(select(Station).where(Station.code == "HG1-01")).agent_version = "1.0.0"
        session.commit()
    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=300)
    assert place(world, item["id"], slot_id).status_code == 201
    client, token = world["client"], world["station"]
    manifest = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=token).data)
    entries = [e for d in manifest.days if str(d.date) == "2026-11-29" for e in d.entries]
    assert len(entries) > 5 and all(e.kind == "filler" for e in entries)  # five minutes of pieces, then filler
    events = [{"event_id": uuid.uuid4().hex, "outcome": "played", "kind": "filler", "entry_id": e.id,
               "occurrence_key": e.occurrence_key, "slot_id": e.slot_id, "item_id": None,
               "scheduled_at": e.start.isoformat(), "started_at": e.start.isoformat(),
               "ended_at": e.end.isoformat(), "seconds_played": e.play_ms / 1000, "reason": None} for e in entries]
    answer = client.post("/api/v1/stations/HG1-01/events", json={"events": events}, headers=token)
    assert answer.status_code == 200 and answer.json["accepted"] == len(events), answer.json
    world["clock"]["now"] = entries[-1].end.astimezone(world["clock"]["now"].tzinfo)
    operator = world["people"]["bientap"]
    [found] = client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=operator).json["occurrences"]
    assert found["state"] == "missed"
    stats = client.get("/api/v1/exchange/statistics?area=00694&from=2026-11-29&to=2026-11-29",
                       headers=operator).json
    [figures] = [s["figures"] for s in stats["days"][0]["stations"] if s["code"] == "HG1-01"]
    assert (figures["sessions_aired"], figures["sessions_partial"], figures["sessions_missed"]) == (0, 0, 1)
