"""What the agent keeps on disk: verified audio by sha256, and the installed manifest.

Layout of ``cache_dir``: ``manifest.json`` (the installed manifest, exactly as received), ``audio/<sha256>.mp3``
(only ever files whose sha256 and size were checked), ``audio/<sha256>.mp3.part`` (downloads in progress, kept
to be resumed) and ``asrun.sqlite3`` (see :mod:`stations.agent.asrun`). Every file is written under a temporary
name, flushed to disk and renamed into place, so a power cut never leaves a half-written file under a final name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from pathlib import Path

from stations.manifest import AudioFile, Manifest, ManifestError, from_json

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
READ_CHUNK = 1 << 20


class AudioError(Exception):
    """An audio file failed verification (wrong size or sha256) or could not be read; it was not installed."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, flushed and renamed into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)


class AudioCache:
    """Content-addressed audio: ``audio/<sha256>.mp3`` exists only after its sha256 and size were verified."""

    def __init__(self, cache_dir: Path):
        self.root = Path(cache_dir) / "audio"
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / f"{sha256}.mp3"

    def part_for(self, sha256: str) -> Path:
        return self.root / f"{sha256}.mp3.part"

    def ready(self, audio: AudioFile) -> Path | None:
        """The installed file for ``audio`` if it is there with the right size (checked before each play)."""
        path = self.path_for(audio.sha256)
        try:
            return path if path.stat().st_size == audio.size else None
        except OSError:
            return None

    def install_part(self, audio: AudioFile) -> Path:
        """Verify the finished download ``.part`` of ``audio`` and rename it into place; a bad one is deleted."""
        part = self.part_for(audio.sha256)
        try:
            size = part.stat().st_size
            digest = sha256_of(part)
        except OSError as exc:
            raise AudioError(f"{audio.sha256}: cannot read the download ({exc.strerror or exc})") from None
        if size != audio.size or digest != audio.sha256:
            part.unlink(missing_ok=True)  # wrong bytes: resuming them would only repeat the failure
            what = f"{size} bytes, not {audio.size}" if size != audio.size else f"its sha256 is {digest}"
            raise AudioError(f"{audio.sha256}: the download fails verification ({what}); deleted, not installed")
        final = self.path_for(audio.sha256)
        os.replace(part, final)
        fsync_dir(self.root)
        return final

    def install_copy(self, audio: AudioFile, source: Path) -> Path:
        """Copy ``source`` (e.g. a pushed file in the inbox) into the cache, verified like a download."""
        part = self.part_for(audio.sha256)
        try:
            with open(source, "rb") as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out, READ_CHUNK)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise AudioError(f"{audio.sha256}: cannot copy {source} ({exc.strerror or exc})") from None
        return self.install_part(audio)

    def remove_unused(self, keep: set[str], *, min_age_s: float = 3600.0, now: float | None = None) -> int:
        """Delete audio (and stale downloads) not in ``keep``; files younger than ``min_age_s`` stay, since a
        command may have just fetched one to play. Returns how many files went."""
        now = time.time() if now is None else now
        removed = 0
        for path in self.root.iterdir():
            name = path.name
            sha = name.split(".", 1)[0]
            if sha in keep or not (name.endswith(".mp3") or name.endswith(".mp3.part")):
                continue
            try:
                if now - path.stat().st_mtime < min_age_s:
                    continue
                path.unlink()
                removed += 1
            except OSError as exc:
                log.warning("cannot remove %s: %s", path, exc)
        return removed


class ManifestStore:
    """The installed manifest, kept as the exact bytes received, read back with full validation."""

    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / MANIFEST_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> Manifest | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return from_json(data)
        except ManifestError as exc:
            # Only a damaged disk gets here (it was checked before install): fetch a fresh one.
            log.error("the installed manifest %s is unreadable (%s); waiting for a new one", self.path, exc)
            return None

    def save(self, data: bytes) -> None:
        write_atomically(self.path, data)
