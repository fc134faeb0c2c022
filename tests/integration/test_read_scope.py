"""Reads stay inside the reader's area: another commune's slots, calendar and audio.

Demo data: ``vanhanh`` operates Phường Hà Giang 1 (00694, stations HG1-01 and HG1-02), ``bientap`` edits for the
province (08). Here ``vanhanh2`` operates and ``bientap2`` edits Phường Hà Giang 2 (00691, station HG2-01): the
neighbours who must not read 00694's slots, calendar or draft recordings.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from broadcast.db.models import AudioAsset, NewsItem, Role
from broadcast.services import areas, exports, users

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang
WARD_SLOT = {"name": "Bản tin phường Hà Giang 1", "area": "00694", "start_time": "18:00", "duration_s": 900,
             "valid_from": "2026-11-28", "rrule": "FREQ=DAILY"}
PROVINCE_SLOT = {"name": "Thời sự tỉnh", "area": "08", "start_time": "06:00", "duration_s": 600,
                 "valid_from": "2026-11-28", "rrule": "FREQ=DAILY"}


@pytest.fixture
def world(seeded, client, settings):
    seeded.extensions["clock"] = lambda: NOW
    database = seeded.extensions["database"]
    with database.sessions() as session:
        for name, role in (("vanhanh2", Role.OPERATOR), ("bientap2", Role.EDITOR)):
            users.create_user(session, username=name, password="long enough pass", role=role,
                              scope_area=areas.find_area(session, "00691"))
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("admin", "bientap", "vanhanh", "vanhanh2", "bientap2")}

    def stored_audio(payload: bytes) -> AudioAsset:
        sha = hashlib.sha256(payload).hexdigest()
        folder = settings.resolved_audio_dir / sha[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sha}.mp3").write_bytes(payload)
        return AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=60_000, origin="upload")

    def draft_recording(who: str, payload: bytes) -> str:
        """A draft item of ``who``'s area with an uploaded recording; returns the recording's sha256."""
        created = client.post("/api/v1/items", json={"title": "Bản ghi nháp", "body": "Chưa duyệt."},
                              headers=people[who])
        assert created.status_code == 201, created.json
        with database.sessions() as session:
            asset = stored_audio(payload)
            session.get(NewsItem, created.json["id"]).audio_asset = asset
            session.commit()
            return asset.sha256

    def filler(payload: bytes) -> tuple[int, str]:
        with database.sessions() as session:
            asset = stored_audio(payload)
            session.add(asset)
            session.commit()
            return asset.id, asset.sha256

    return {"api": client, "people": people, "draft_recording": draft_recording, "filler": filler, "app": seeded}


def get(world, url: str, who: str | None = None):
    return world["api"].get(url, headers=world["people"][who] if who else {})


def test_another_communes_slots_and_calendar_are_not_readable(world):
    api, people = world["api"], world["people"]
    ward = api.post("/api/v1/slots", json=WARD_SLOT, headers=people["vanhanh"])
    assert ward.status_code == 201, ward.json
    assert api.post("/api/v1/slots", json=PROVINCE_SLOT, headers=people["bientap"]).status_code == 201

    for who in ("vanhanh", "bientap", "admin"):  # the ward itself, the province above it, everything
        listed = get(world, "/api/v1/slots?area=00694", who)
        assert listed.status_code == 200
        assert {s["name"] for s in listed.json} == {"Bản tin phường Hà Giang 1", "Thời sự tỉnh"}
        calendar = get(world, "/api/v1/areas/00694/schedule.ics", who)
        assert calendar.status_code == 200 and "Bản tin phường Hà Giang 1" in calendar.get_data(as_text=True)

    for who in ("vanhanh2", "bientap2"):  # the neighbouring ward
        listed = get(world, "/api/v1/slots?area=00694", who)
        assert listed.status_code == 403 and "Phường Hà Giang 1" in listed.json["message"]
        calendar = get(world, "/api/v1/areas/00694/schedule.ics", who)
        assert calendar.status_code == 403 and "Bản tin" not in calendar.get_data(as_text=True)
        assert get(world, "/api/v1/slots?station=HG1-01", who).status_code == 404
        # What their own ward inherits from the province stays readable, without the other ward's slot.
        above = get(world, "/api/v1/slots?area=08", who)
        assert above.status_code == 200 and [s["name"] for s in above.json] == ["Thời sự tỉnh"]
        own = get(world, "/api/v1/areas/00691/schedule.ics", who)
        assert own.status_code == 200 and "Thời sự tỉnh" in own.get_data(as_text=True)
        assert "Bản tin phường Hà Giang 1" not in own.get_data(as_text=True)


def test_another_communes_draft_recording_cannot_be_downloaded(world):
    sha = world["draft_recording"]("vanhanh", b"ghi am nhap " * 500)
    for who in ("vanhanh", "bientap", "admin"):
        fetched = get(world, f"/api/v1/audio/{sha}", who)
        assert fetched.status_code == 200 and hashlib.sha256(fetched.data).hexdigest() == sha
    unknown = "f" * 64
    for who in ("vanhanh2", "bientap2"):
        for path in (f"/api/v1/audio/{sha}", f"/api/v1/audio/{sha}.mp3"):
            hidden = get(world, path, who)
            assert hidden.status_code == 404 and b"ghi am" not in hidden.data
        # The same answer as a digest nobody holds: the hash tells nothing of what the other ward keeps.
        absent = get(world, f"/api/v1/audio/{unknown}", who)
        assert absent.status_code == 404
        assert get(world, f"/api/v1/audio/{sha}", who).json["message"].replace(sha, unknown) == absent.json["message"]
    assert get(world, f"/api/v1/audio/{sha}").status_code == 401  # no login at all


def test_what_a_wards_stations_play_is_audible_to_the_ward_only(world):
    """A filler is owned by no item: its audio is the ward's because the ward's stations play it."""
    filler_id, sha = world["filler"](b"nhac nen " * 400)
    api, people = world["api"], world["people"]
    made = api.post("/api/v1/slots", json=WARD_SLOT, headers=people["vanhanh"])
    assert made.status_code == 201, made.json
    assert get(world, f"/api/v1/audio/{sha}", "vanhanh").status_code == 404  # nothing plays it yet
    changed = api.patch(f"/api/v1/slots/{made.json['id']}", json={"filler_asset_id": filler_id},
                        headers=people["vanhanh"])
    assert changed.status_code == 200, changed.json  # recompiled at once: the ward's stations play the filler
    assert get(world, f"/api/v1/audio/{sha}", "vanhanh").status_code == 200
    assert get(world, f"/api/v1/audio/{sha}", "bientap").status_code == 200
    assert get(world, f"/api/v1/audio/{sha}", "vanhanh2").status_code == 404


def test_a_signed_playlist_link_opens_its_one_file_for_anyone(world):
    sha = world["draft_recording"]("vanhanh", b"lien ket ky " * 300)
    other = world["draft_recording"]("vanhanh", b"tep khac " * 300)
    secret = world["app"].extensions["settings"].secret_key
    expires = exports.audio_link_expiry(datetime.now(UTC))
    link = f"/api/v1/audio/{sha}.mp3?expires={expires}&signature={exports.audio_link_signature(secret, sha, expires)}"
    assert get(world, link).status_code == 200  # a player with no login
    assert get(world, link, "vanhanh2").status_code == 200  # the link is the permission, whoever follows it
    wrong = link.replace(sha, other)
    assert get(world, wrong).status_code == 403 and get(world, wrong, "vanhanh2").status_code == 403
