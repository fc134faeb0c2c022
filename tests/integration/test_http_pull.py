"""HTTP pull: manifests with ETag and 304 (no database query), audio with Range, receipts and delivery status."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from broadcast.db.models import AudioAsset, Delivery, NewsItem, Station
from broadcast.services import stations, users
from stations import manifest as wire

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}


@pytest.fixture
def pull(seeded, client, settings):
    clock = {"now": NOW}
    seeded.extensions["clock"] = lambda: clock["now"]
    database = seeded.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("bientap", "pheduyet", "vanhanh")}
        tokens = {code: stations.issue_token(session, stations.get_station(session, code))
                  for code in ("HG1-01", "HG1-02", "HG2-01")}
    audio_dir = settings.resolved_audio_dir

    def place_item(title: str, payload: bytes, targets=("08",)) -> str:
        """An approved item whose audio file really exists, placed from tomorrow; returns its sha256."""
        sha = hashlib.sha256(payload).hexdigest()
        (audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
        (audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(payload)
        created = client.post("/api/v1/items", json={"title": title, "body": "Một hai ba."},
                              headers=people["bientap"]).json
        with database.sessions() as session:
            item = session.get(NewsItem, created["id"])
            item.audio_asset = AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=60_000, origin="tts")
            session.commit()
        client.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
        client.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
        placed = client.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": created["id"], "slot_id": slot_id, "targets": list(targets), "date_from": "2026-11-29",
            "date_until": "2026-12-01"})
        assert placed.status_code == 201, placed.json
        return sha

    slot_id = client.post("/api/v1/slots", json=SLOT, headers=people["bientap"]).json["id"]

    def station_headers(code: str, **extra) -> dict:
        return {"Authorization": f"Bearer {tokens[code]}", **extra}

    return client, station_headers, place_item, people, clock, database, tokens


def _count_queries(database):
    statements = []

    def _seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", _seen)
    return statements, lambda: event.remove(database.engine, "before_cursor_execute", _seen)


def test_manifest_then_304_without_a_database_query(pull):
    client, station_headers, place_item, *_ , database, _ = pull
    place_item("Tin tỉnh", b"ID3" + bytes(5000))
    first = client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01"))
    assert first.status_code == 200 and first.mimetype == "application/json"
    manifest = wire.from_json(first.data)  # the full schema and rule checks of the wire format
    assert manifest.station == "HG1-01" and first.headers["ETag"] == manifest.etag
    assert [e.title for day in manifest.days for e in day.entries] == ["Tin tỉnh"] * 3

    statements, stop = _count_queries(database)
    try:
        again = client.get("/api/v1/stations/HG1-01/manifest",
                           headers=station_headers("HG1-01", **{"If-None-Match": manifest.etag}))
    finally:
        stop()
    assert again.status_code == 304 and again.headers["ETag"] == manifest.etag and again.data == b""
    assert statements == []


def test_a_new_version_reaches_the_next_poll(pull):
    client, station_headers, place_item, *_ = pull
    place_item("Tin một", b"one" * 1000)
    first = client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01"))
    place_item("Tin hai", b"two" * 1000)  # compiled in the request; the cache of every worker is now stale
    second = client.get("/api/v1/stations/HG1-01/manifest",
                        headers=station_headers("HG1-01", **{"If-None-Match": first.headers["ETag"]}))
    assert second.status_code == 200
    assert wire.from_json(second.data).version == wire.from_json(first.data).version + 1
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(("token_of", "status"), [("HG1-02", 403), (None, 401), ("bogus", 401)])
def test_a_station_token_reads_only_its_own_station(pull, token_of, status):
    client, station_headers, place_item, *_ = pull
    place_item("Tin", b"x" * 100)
    headers = {} if token_of is None else (
        {"Authorization": "Bearer st_bogus"} if token_of == "bogus" else station_headers(token_of))
    answer = client.get("/api/v1/stations/HG1-01/manifest", headers=headers)
    assert answer.status_code == status
    assert answer.json["message"]


def test_a_replaced_token_stops_working_at_once(pull):
    client, station_headers, place_item, _, _, database, tokens = pull
    place_item("Tin", b"x" * 100)
    assert client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01")).status_code == 200
    old = tokens["HG1-01"]
    with database.sessions() as session:
        new = stations.issue_token(session, stations.get_station(session, "HG1-01"))
    assert client.get("/api/v1/stations/HG1-01/manifest",
                      headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/stations/HG1-01/manifest",
                      headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_audio_download_resumes_with_range(pull):
    client, station_headers, place_item, *_ = pull
    payload = bytes(range(256)) * 400
    sha = place_item("Tin", payload)
    client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01"))
    # A link that broke after 30,000 bytes: the agent asks for the rest only.
    head = client.get(f"/api/v1/audio/{sha}", headers=station_headers("HG1-01", Range="bytes=0-29999"))
    assert head.status_code == 206 and len(head.data) == 30_000
    rest = client.get(f"/api/v1/audio/{sha}", headers=station_headers("HG1-01", Range="bytes=30000-"))
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes 30000-{len(payload) - 1}/{len(payload)}"
    assert hashlib.sha256(head.data + rest.data).hexdigest() == sha
    whole = client.get(f"/api/v1/audio/{sha}", headers=station_headers("HG1-01"))
    assert whole.status_code == 200 and whole.data == payload and whole.mimetype == "audio/mpeg"


def test_a_station_fetches_only_audio_its_manifest_names(pull):
    client, station_headers, place_item, *_ = pull
    place_item("Tin tỉnh", b"province" * 100)
    commune_only = place_item("Tin phường", b"ward" * 100, targets=("00694",))
    assert client.get(f"/api/v1/audio/{commune_only}", headers=station_headers("HG1-01")).status_code == 200
    refused = client.get(f"/api/v1/audio/{commune_only}", headers=station_headers("HG2-01"))
    assert refused.status_code == 404
    assert client.get(f"/api/v1/audio/{'0' * 64}", headers=station_headers("HG1-01")).status_code == 404
    assert client.get(f"/api/v1/audio/{commune_only}").status_code == 401


def test_receipt_verifies_the_delivery_and_status_shows_it(pull):
    client, station_headers, place_item, people, _, database, _ = pull
    place_item("Tin", b"x" * 100)
    fetched = wire.from_json(client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01")).data)
    status = {s["code"]: s for s in client.get("/api/v1/deliveries?area=00694", headers=people["vanhanh"]).json}
    assert status["HG1-01"]["channels"][0]["state"] == "sent" and status["HG1-01"]["up_to_date"] is False

    too_new = client.post("/api/v1/stations/HG1-01/receipts", json={"version": fetched.version + 1},
                          headers=station_headers("HG1-01"))
    assert too_new.status_code == 422 and too_new.json["errors"]["version"]
    other = client.post("/api/v1/stations/HG1-01/receipts", json={"version": 1}, headers=station_headers("HG1-02"))
    assert other.status_code == 403
    done = client.post("/api/v1/stations/HG1-01/receipts", json={"version": fetched.version},
                       headers=station_headers("HG1-01"))
    assert done.status_code == 200 and done.json == {"installed_version": fetched.version,
                                                     "current_version": fetched.version, "up_to_date": True}
    with database.sessions() as session:
        delivery = session.scalar(select(Delivery).join(Station).where(Station.code == "HG1-01"))
        assert (delivery.channel, delivery.state.value, delivery.manifest_version) == ("http", "verified",
                                                                                       fetched.version)
    status = {s["code"]: s for s in client.get("/api/v1/deliveries?area=00694", headers=people["vanhanh"]).json}
    assert status["HG1-01"]["up_to_date"] is True and status["HG1-01"]["attention"] == []
    # HG1-02 got the same playlist but was never heard from: someone must look.
    attention = client.get("/api/v1/deliveries?area=00694&attention=true", headers=people["vanhanh"]).json
    assert [s["code"] for s in attention] == ["HG1-02"]
    assert attention[0]["attention"] == ["Chưa từng liên lạc."]


def test_polls_update_last_contact_in_batches(pull):
    client, station_headers, place_item, _, clock, database, _ = pull
    place_item("Tin", b"x" * 100)
    client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01"))
    clock["now"] = NOW + timedelta(seconds=45)  # past the flush interval: this poll writes the batch
    etag = client.get("/api/v1/stations/HG1-02/manifest", headers=station_headers("HG1-02")).headers["ETag"]
    client.get("/api/v1/stations/HG1-02/manifest", headers=station_headers("HG1-02", **{"If-None-Match": etag}))
    with database.sessions() as session:
        seen = dict(session.execute(select(Station.code, Station.last_contact_at)).all())
        online = dict(session.execute(select(Station.code, Station.status)).all())
    assert seen["HG1-01"] == NOW and seen["HG1-02"] == NOW + timedelta(seconds=45)
    assert online["HG1-01"].value == "online" and seen["HG2-01"] is None


def test_simultaneous_fetches_of_a_new_version_are_recorded_once(pull, seeded):
    import threading

    client, station_headers, place_item, _, _, database, _ = pull
    place_item("Tin", b"x" * 100)
    answers: list[int] = []

    def fetch():
        answers.append(seeded.test_client().get("/api/v1/stations/HG1-01/manifest",
                                                headers=station_headers("HG1-01")).status_code)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6
    with database.sessions() as session:
        rows = session.scalars(select(Delivery).join(Station).where(Station.code == "HG1-01",
                                                                    Delivery.channel == "http")).all()
        assert len({r.manifest_version for r in rows}) == len(rows)  # one row per version, no duplicates


def test_a_manifest_changed_before_the_bump_reaches_the_worker_is_served(pull):
    """A compile commits, then bumps the generation file; a poll in between must still get the new body."""
    from broadcast.db.models import StationManifest

    client, station_headers, place_item, _, _, database, _ = pull
    place_item("Tin", b"x" * 100)
    first = client.get("/api/v1/stations/HG1-01/manifest", headers=station_headers("HG1-01"))
    old = wire.from_json(first.data)
    newer = wire.for_station(old, "HG1-01", version=old.version + 1, generated_at=old.generated_at)
    with database.sessions() as session:  # written without a bump, as if the bump were still on its way
        row = session.scalar(select(StationManifest).join(Station).where(Station.code == "HG1-01"))
        row.version, row.body = newer.version, wire.to_json(newer).decode()
        row.etag = '"' + "0" * 64 + '"'  # another content's ETag
        session.commit()
    stale = client.get("/api/v1/stations/HG1-01/manifest",
                       headers=station_headers("HG1-01", **{"If-None-Match": '"' + "1" * 64 + '"'}))
    assert stale.status_code == 200 and stale.headers["ETag"] == '"' + "0" * 64 + '"'
    again = client.get("/api/v1/stations/HG1-01/manifest",
                       headers=station_headers("HG1-01", **{"If-None-Match": '"' + "0" * 64 + '"'}))
    assert again.status_code == 304  # and the worker now remembers the new one
