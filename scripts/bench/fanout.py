"""Benchmark: push one day's package to many stations over SFTP, against a shell loop of OpenSSH scp.

One real sshd on 127.0.0.1 (started here, as the tests do) stands in for every station: each station is its
own inbox directory. The package is one day's manifest (about 10 KB of JSON) and 10 "MP3" files of random bytes
totalling about 10 MB, named by their sha256. Ours: broadcast.channels.sftp.push_many to 50 station directories
(--quick: 10). The floor, in the same run: a bash loop running one `scp -r` per station that carries the same
files into 50 other directories, with the same client key, the host key pinned in a known_hosts file
(StrictHostKeyChecking=yes) and BatchMode. Then ours pushes the unchanged package again, which must send no
audio.

    python scripts/bench/fanout.py [--quick] [--stations N] [--concurrency N]

The last line is ``RESULT ratio_vs_scp=... repush_audio_bytes=... ours_s=... scp_s=... stations=...
mb_per_station=...``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from broadcast.channels.sftp import LocalAudio, PushResult, SftpTarget, push_many  # noqa: E402
from tests.sshd import Sshd  # noqa: E402

FILES = 10
TOTAL_BYTES = 10 * 1024 * 1024


def make_package(out: Path) -> tuple[bytes, list[LocalAudio]]:
    """`out/manifest.json` and `out/audio/<sha256>.mp3`: ten files of varied sizes, random bytes."""
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True)
    weights = [1.0 + 0.25 * (i % 5) for i in range(FILES)]  # 1.0 .. 2.0: a mix of short and long items
    audio = []
    for weight in weights:
        data = os.urandom(int(TOTAL_BYTES * weight / sum(weights)))
        digest = hashlib.sha256(data).hexdigest()
        path = audio_dir / f"{digest}.mp3"
        path.write_bytes(data)
        audio.append(LocalAudio(sha256=digest, size=len(data), path=path))
    entries = []
    for n in range(40):  # two sessions of twenty entries: about 10 KB, like a real day
        item = audio[n % FILES]
        entries.append({"start": f"2026-11-29T{6 + n // 20 * 11:02}:{n % 20 * 2:02}:00+07:00", "sha256": item.sha256,
                        "size": item.size, "duration_ms": 150_000 + n, "title": f"Bản tin số {n} của xã",
                        "url": f"audio/{item.sha256}.mp3", "gain_db": -1.5, "kind": "news", "priority": 0})
    manifest = json.dumps({"version": 1, "station": "bench", "date": "2026-11-29", "entries": entries},
                          ensure_ascii=False, indent=1).encode()
    (out / "manifest.json").write_bytes(manifest)
    return manifest, audio


def scp_floor(sshd: Sshd, work: Path, package: Path, stations: int) -> float:
    """One scp per station, in a bash loop, copying the package folder (manifest and audio/) to a new inbox."""
    known_hosts = sshd.known_hosts(work / "known_hosts")
    base = work / "scp"
    base.mkdir()
    scp = " ".join(shlex.quote(a) for a in [
        "scp", "-q", "-r", "-P", str(sshd.port), "-i", str(sshd.client_key_path), "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
        str(package)])
    loop = (f"set -e; for i in $(seq -w 1 {stations}); do "
            f"{scp} {shlex.quote(f'{sshd.username}@{sshd.host}:{base}')}/s$i; done")
    start = time.perf_counter()
    subprocess.run(["bash", "-c", loop], check=True, timeout=600)
    seconds = time.perf_counter() - start
    copied = sorted(base.iterdir())
    assert len(copied) == stations and all((d / "manifest.json").exists() for d in copied), "scp did not copy"
    return seconds


def check_inbox(inbox: Path, manifest: bytes, audio: list[LocalAudio]) -> None:
    assert (inbox / "manifest.json").read_bytes() == manifest, f"{inbox}: wrong manifest"
    names = sorted(p.name for p in (inbox / "audio").iterdir())
    assert names == sorted(a.name for a in audio), f"{inbox}: audio is {names}"
    for item in audio:
        assert (inbox / "audio" / item.name).stat().st_size == item.size, f"{inbox}: {item.name} has another size"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 stations instead of 50")
    parser.add_argument("--stations", type=int, default=None, help="number of stations (default 50, --quick 10)")
    parser.add_argument("--concurrency", type=int, default=4, help="pushes at once")
    args = parser.parse_args()
    stations = args.stations or (10 if args.quick else 50)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest, audio = make_package(work / "package")
        mb = (sum(a.size for a in audio) + len(manifest)) / 1e6
        with Sshd(work / "sshd", log_level="ERROR") as sshd:
            targets = [SftpTarget(host=sshd.host, port=sshd.port, username=sshd.username,
                                  remote_dir=str(work / "ours" / f"s{i:03}"), host_key=sshd.host_key_line)
                       for i in range(1, stations + 1)]
            (work / "ours").mkdir()
            jobs = [(target, manifest, audio) for target in targets]

            start = time.perf_counter()
            outcomes = push_many(jobs, sshd.client_key, concurrency=args.concurrency)
            ours_s = time.perf_counter() - start
            failures = [o for o in outcomes if not isinstance(o, PushResult)]
            if failures:
                raise SystemExit(f"{len(failures)} pushes failed, first: {failures[0]!r}")
            for target in targets:
                check_inbox(Path(target.remote_dir), manifest, audio)
            print(f"ours: {stations} stations x {mb:.2f} MB in {ours_s:.2f} s "
                  f"({stations * mb / ours_s:.0f} MB/s, concurrency {args.concurrency})", flush=True)

            scp_s = scp_floor(sshd, work, work / "package", stations)
            print(f"scp loop: {stations} stations in {scp_s:.2f} s ({stations * mb / scp_s:.0f} MB/s)", flush=True)

            start = time.perf_counter()
            again = push_many(jobs, sshd.client_key, concurrency=args.concurrency)
            repush_s = time.perf_counter() - start
            failures = [o for o in again if not isinstance(o, PushResult)]
            if failures:
                raise SystemExit(f"{len(failures)} re-pushes failed, first: {failures[0]!r}")
            repush_audio_bytes = sum(o.audio_bytes for o in again)
            print(f"re-push of the unchanged day: {repush_s:.2f} s, {repush_audio_bytes} audio bytes, "
                  f"{sum(o.uploaded_bytes for o in again)} bytes in all", flush=True)
    print(f"RESULT ratio_vs_scp={ours_s / scp_s:.3f} repush_audio_bytes={repush_audio_bytes} ours_s={ours_s:.2f} "
          f"scp_s={scp_s:.2f} stations={stations} mb_per_station={mb:.2f}")


if __name__ == "__main__":
    main()
