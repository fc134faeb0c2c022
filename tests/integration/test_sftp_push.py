"""The SFTP push channel against a real OpenSSH sshd on 127.0.0.1: what a station's inbox holds after each push.

The sshd runs on this machine, so the tests look at the station's inbox directly on the filesystem.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import paramiko
import pytest

from broadcast.channels.sftp import (
    HostKeyMismatch,
    LocalAudio,
    PushFailed,
    PushResult,
    SftpTarget,
    inbox_manifest,
    push,
    push_many,
)
from stations.manifest import AudioFile, Day, Entry, build_manifest, from_json, to_json
from tests.services import free_port
from tests.sshd import fingerprint, new_key

pytestmark = pytest.mark.timeout(120)
ZONE = "Asia/Ho_Chi_Minh"


def make_audio(folder: Path, *sizes: int) -> list[LocalAudio]:
    """Files of random bytes named by their sha256, as the audio store keeps them."""
    folder.mkdir(parents=True, exist_ok=True)
    audio = []
    for size in sizes:
        data = os.urandom(size)
        digest = hashlib.sha256(data).hexdigest()
        path = folder / f"{digest}.mp3"
        path.write_bytes(data)
        audio.append(LocalAudio(sha256=digest, size=size, path=path))
    return audio


def manifest_for(audio: list[LocalAudio], day: str = "2026-11-29") -> bytes:
    """The server's manifest (as the HTTP API serves it) of one day airing each file once, from 06:00."""
    local = date.fromisoformat(day)
    start = datetime(local.year, local.month, local.day, 6, tzinfo=ZoneInfo(ZONE))
    entries = []
    for n, a in enumerate(audio):
        media = AudioFile(sha256=a.sha256, size=a.size, duration_ms=1000, url=f"/api/v1/audio/{a.sha256}")
        entries.append(Entry(id=f"4@{day}#{n}", start=start, end=start + timedelta(seconds=1), kind="item",
                             item_id=n + 1, title=f"Tin {n + 1}", item_class="normal", audio=media, play_ms=1000,
                             slot_id=4, occurrence_key=f"4@{day}"))
        start += timedelta(seconds=1)
    return to_json(build_manifest("DV-01", ZONE, datetime(2026, 11, 28, 22, tzinfo=ZoneInfo(ZONE)),
                                  [Day(local, 1, tuple(entries))], version=1))


def target(sshd, inbox: Path, host_key: str | None = None, port: int | None = None) -> SftpTarget:
    return SftpTarget(host=sshd.host, port=port or sshd.port, username=sshd.username, remote_dir=str(inbox),
                      host_key=host_key or sshd.host_key_line)


def files(inbox: Path) -> dict[str, str]:
    """Every file under the inbox (temp files included), relative path -> sha256 of its content."""
    if not inbox.exists():
        return {}
    return {str(p.relative_to(inbox)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(inbox.rglob("*")) if p.is_file()}


def expected(manifest: bytes, audio: list[LocalAudio]) -> dict[str, str]:
    return {"manifest.json": hashlib.sha256(inbox_manifest(manifest)).hexdigest(),
            **{f"audio/{a.name}": a.sha256 for a in audio}}


def assert_no_partial_audio(inbox: Path) -> None:
    """Every audio file under its final name holds exactly the content its name promises."""
    for path in (inbox / "audio").glob("*.mp3"):
        if path.is_file() and not path.name.startswith("."):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, f"partial or wrong {path.name}"


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_first_push_creates_the_inbox_with_manifest_and_all_audio(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 1000, 20_000, 70_000)
    manifest = manifest_for(audio)
    inbox = tmp_path / "station" / "inbox"
    (tmp_path / "station").mkdir()

    result = push(target(sshd, inbox), sshd.client_key, manifest, audio)

    assert files(inbox) == expected(manifest, audio)  # right content, and no .part file left anywhere
    assert (result.uploaded_files, result.skipped_files, result.removed_files) == (4, 0, 0)
    assert result.audio_bytes == 91_000 and result.uploaded_bytes == 91_000 + len(inbox_manifest(manifest))


def test_the_pushed_manifest_names_its_audio_as_the_files_beside_it(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 1000, 2000)
    manifest = manifest_for(audio)
    inbox = tmp_path / "inbox"

    push(target(sshd, inbox), sshd.client_key, manifest, audio)

    pushed, sent = from_json((inbox / "manifest.json").read_bytes()), from_json(manifest)  # both fully valid
    entries = [e for day in pushed.days for e in day.entries]
    assert [e.audio.url for e in entries] == [f"audio/{a.sha256}.mp3" for a in audio]  # as the format says
    for e in entries:  # each URL, resolved against the manifest's own location, is that very file
        found = Path(url2pathname(urlsplit(urljoin((inbox / "manifest.json").as_uri(), e.audio.url)).path))
        assert hashlib.sha256(found.read_bytes()).hexdigest() == e.audio.sha256 and found.parent == inbox / "audio"
    # Only the URLs changed, and so the ETag (it covers them): the station, version and every entry are the same.
    assert (pushed.station, pushed.version, pushed.generated_at) == (sent.station, sent.version, sent.generated_at)
    assert without_urls(pushed) == without_urls(sent) and pushed.etag != sent.etag


def without_urls(manifest) -> list:
    return [dataclasses.replace(e, audio=dataclasses.replace(e.audio, url="")) for day in manifest.days
            for e in day.entries]


def test_what_is_not_a_manifest_is_refused_before_connecting(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 1000)
    inbox = tmp_path / "inbox"

    with pytest.raises(ValueError, match="not a station manifest"):
        push(target(sshd, inbox), sshd.client_key, json.dumps({"entries": []}).encode(), audio)

    assert not inbox.exists()


def test_unchanged_repush_sends_only_the_manifest_and_leaves_audio_untouched(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 5000, 6000)
    manifest = manifest_for(audio)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest, audio)
    inodes = {p.name: p.stat().st_ino for p in (inbox / "audio").iterdir()}

    again = push(target(sshd, inbox), sshd.client_key, manifest, audio)

    # The manifest is always rewritten (it is small, and that repairs a damaged station copy); audio never is.
    assert (again.audio_bytes, again.uploaded_files, again.skipped_files) == (0, 1, 2)
    assert again.uploaded_bytes == len(inbox_manifest(manifest))
    assert {p.name: p.stat().st_ino for p in (inbox / "audio").iterdir()} == inodes
    assert files(inbox) == expected(manifest, audio)


def test_a_station_copy_of_another_size_is_sent_again(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 5000, 6000)
    manifest = manifest_for(audio)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest, audio)
    damaged = inbox / "audio" / audio[1].name
    damaged.write_bytes(damaged.read_bytes()[:100])  # e.g. the station's disk filled up

    again = push(target(sshd, inbox), sshd.client_key, manifest, audio)

    assert (again.audio_bytes, again.skipped_files) == (6000, 1)
    assert files(inbox) == expected(manifest, audio)


def test_another_host_key_is_refused_before_authenticating_or_writing(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 3000)
    _, other_line = new_key(tmp_path / "impostor_key")
    inbox = tmp_path / "inbox"

    with pytest.raises(HostKeyMismatch) as caught:
        push(target(sshd, inbox, host_key=other_line), sshd.client_key, manifest_for(audio), audio)

    message = str(caught.value)
    assert fingerprint(other_line) in message and sshd.host_key_fingerprint in message
    assert not inbox.exists()
    assert "Accepted publickey" not in sshd.log()  # we never authenticated, so nothing could have been sent


def test_a_pinned_key_of_a_type_the_station_lacks_is_a_mismatch(sshd, tmp_path):
    ecdsa = paramiko.ECDSAKey.generate()
    pinned = f"{ecdsa.get_name()} {ecdsa.get_base64()}"
    audio = make_audio(tmp_path / "store", 3000)
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    with pytest.raises(HostKeyMismatch, match="ecdsa-sha2-nistp256"):
        push(target(sshd, inbox, host_key=pinned), sshd.client_key, manifest_for(audio), audio)

    assert files(inbox) == {}


def test_a_mismatch_leaves_an_existing_inbox_as_it_was(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 3000, 4000)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest_for(audio[:1]), audio[:1])
    before = files(inbox)
    _, other_line = new_key(tmp_path / "impostor_key")

    with pytest.raises(HostKeyMismatch):
        push(target(sshd, inbox, host_key=other_line), sshd.client_key, manifest_for(audio), audio)

    assert files(inbox) == before


def test_a_push_killed_mid_transfer_leaves_the_old_day_and_the_next_push_completes(sshd, tmp_path):
    day_a = make_audio(tmp_path / "store", 2000, 3000)
    manifest_a = manifest_for(day_a, "2026-11-29")
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest_a, day_a)

    day_b = [day_a[0], *make_audio(tmp_path / "store", 4000, 4 * 1024 * 1024)]  # the big one goes up last
    manifest_b = manifest_for(day_b, "2026-11-30")
    big = day_b[-1]
    killed = []

    def pull_the_plug(name: str, sent: int, size: int) -> None:
        if name == big.name and sent >= 1024 * 1024 and not killed:
            killed.append(sshd.kill_sessions())  # the station's sshd dies: no SFTP close, no SSH disconnect

    with pytest.raises(PushFailed, match=big.name):
        push(target(sshd, inbox), sshd.client_key, manifest_b, day_b, timeout=10, progress=pull_the_plug)

    assert killed and killed[0] > 0
    assert (inbox / "manifest.json").read_bytes() == inbox_manifest(manifest_a)
    assert not (inbox / "audio" / big.name).exists()
    assert_no_partial_audio(inbox)
    leftovers = [p for p in (inbox / "audio").iterdir() if p.name.endswith(".part")]
    assert all(p.stat().st_size < big.size for p in leftovers)  # whatever got there is partial, and hidden

    for leftover in leftovers:
        age(leftover, 2 * 3600)  # the next push comes after the stale-temp hour (a younger one may be live)
    result = push(target(sshd, inbox), sshd.client_key, manifest_b, day_b)

    assert files(inbox) == expected(manifest_b, day_b)
    assert result.removed_files == 1 + len(leftovers)  # day A's unreferenced file and the killed push's temp


@pytest.mark.parametrize("failure", ["local file shorter than announced", "final name taken by a directory"])
def test_an_audio_failure_leaves_the_previous_manifest_in_place(sshd, tmp_path, failure):
    day_a = make_audio(tmp_path / "store", 2000)
    manifest_a = manifest_for(day_a)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest_a, day_a)
    good, bad = make_audio(tmp_path / "store", 3000, 5000)
    if failure == "local file shorter than announced":
        bad.path.write_bytes(bad.path.read_bytes()[:4000])
        match = "4000 bytes after upload, expected 5000"
    else:
        (inbox / "audio" / bad.name).mkdir()
        match = f"uploading .*{bad.name}"
    day_b = [*day_a, good, bad]

    with pytest.raises(PushFailed, match=match):
        push(target(sshd, inbox), sshd.client_key, manifest_for(day_b), day_b)

    assert (inbox / "manifest.json").read_bytes() == inbox_manifest(manifest_a)
    assert not (inbox / "audio" / bad.name).is_file()
    assert not [p for p in inbox.rglob("*.part")]  # the failed file's temp was removed
    assert_no_partial_audio(inbox)


def test_retention_removes_unreferenced_audio_and_stale_temp_files_only(sshd, tmp_path):
    day_a = make_audio(tmp_path / "store", 1000, 2000, 3000)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest_for(day_a), day_a)
    audio_dir = inbox / "audio"
    stale_audio_temp = audio_dir / f".{'a' * 64}.mp3.0badf00d.part"
    stale_manifest_temp = inbox / ".manifest.json.12345678.part"
    live_temp = audio_dir / f".{'b' * 64}.mp3.cafebabe.part"  # another push may be writing it right now
    operator_file = audio_dir / "notes.txt"
    for path in (stale_audio_temp, stale_manifest_temp, live_temp, operator_file):
        path.write_bytes(b"x")
    age(stale_audio_temp, 2 * 3600)
    age(stale_manifest_temp, 2 * 3600)
    day_b = [day_a[0], *make_audio(tmp_path / "store", 4000)]

    result = push(target(sshd, inbox), sshd.client_key, manifest_for(day_b), day_b)

    assert result.removed_files == 4
    assert sorted(p.name for p in audio_dir.iterdir()) == sorted([a.name for a in day_b] + [live_temp.name,
                                                                                           "notes.txt"])
    assert not stale_manifest_temp.exists()
    assert_no_partial_audio(inbox)


def test_keep_unreferenced_keeps_recent_audio_until_it_is_old_enough(sshd, tmp_path):
    day_a = make_audio(tmp_path / "store", 1000, 2000)
    inbox = tmp_path / "inbox"
    push(target(sshd, inbox), sshd.client_key, manifest_for(day_a), day_a)
    day_b = day_a[:1]
    dropped = inbox / "audio" / day_a[1].name

    kept = push(target(sshd, inbox), sshd.client_key, manifest_for(day_b), day_b, keep_unreferenced_s=86_400)
    assert kept.removed_files == 0 and dropped.exists()

    age(dropped, 86_400 + 60)
    removed = push(target(sshd, inbox), sshd.client_key, manifest_for(day_b), day_b, keep_unreferenced_s=86_400)
    assert removed.removed_files == 1 and not dropped.exists()
    assert (inbox / "audio" / day_a[0].name).exists()


def test_a_key_the_station_does_not_know_fails_clearly(sshd, tmp_path):
    stranger, _ = new_key(tmp_path / "stranger_key")
    audio = make_audio(tmp_path / "store", 1000)
    inbox = tmp_path / "inbox"

    with pytest.raises(PushFailed, match=re.escape(f"refused our key ssh-ed25519 {stranger.fingerprint}")):
        push(target(sshd, inbox), stranger, manifest_for(audio), audio)

    assert not inbox.exists()


def test_nothing_listening_fails_clearly(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 1000)
    closed_port = free_port()

    with pytest.raises(PushFailed, match=f"cannot connect to .*:{closed_port}: Connection refused"):
        push(target(sshd, tmp_path / "inbox", port=closed_port), sshd.client_key, manifest_for(audio), audio,
             timeout=5)


def test_push_many_reports_each_station_and_is_not_stopped_by_one_failure(sshd, tmp_path):
    audio = make_audio(tmp_path / "store", 1000, 2000)
    manifest = manifest_for(audio)
    good = [target(sshd, tmp_path / f"station{i}") for i in range(3)]
    dead = target(sshd, tmp_path / "dead", port=free_port())

    outcomes = push_many([(t, manifest, audio) for t in [good[0], dead, *good[1:]]], sshd.client_key,
                         concurrency=2, timeout=5)

    assert [type(o) for o in outcomes] == [PushResult, PushFailed, PushResult, PushResult]
    for station in good:
        assert files(Path(station.remote_dir)) == expected(manifest, audio)


def test_an_audio_digest_cannot_name_a_path_outside_the_inbox(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        LocalAudio(sha256="../../etc/cron.d/x", size=1, path=tmp_path / "x")
