"""Content-addressed audio files: one file per distinct content, named by its SHA-256.

`AudioStore` keeps them in a folder. `AudioStorage` is the small interface the central service uses, so that
another store (the service's S3 store, for several nodes) can stand in for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

logger = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class StoredAudio:
    """A file in the store: its hash, size and where it lives."""

    sha256: str
    size_bytes: int
    path: Path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class StoreUnavailable(OSError):
    """The store could not be reached or refused the request (not: the audio is absent)."""


class AudioStorage(Protocol):
    """What callers need from a content-addressed audio store, whatever holds the bytes."""

    def path_for(self, sha256: str, suffix: str = ".mp3") -> Path:
        """A local file with the content; it does not exist when the store lacks the audio."""

    def exists(self, sha256: str, suffix: str = ".mp3") -> bool:
        """Whether the store holds the audio."""

    def size(self, sha256: str, suffix: str = ".mp3") -> int | None:
        """Its size in bytes, or None when the store lacks it."""

    def open(self, sha256: str, suffix: str = ".mp3") -> BinaryIO:
        """Its bytes as a stream; FileNotFoundError when the store lacks it."""

    def put(self, path: Path, suffix: str = ".mp3", *, move: bool = False) -> StoredAudio:
        """Store a file under its SHA-256; idempotent."""

    def put_bytes(self, data: bytes, suffix: str = ".mp3") -> StoredAudio:
        """Store bytes under their SHA-256; idempotent."""

    def download_url(self, sha256: str, suffix: str = ".mp3") -> str | None:
        """A short-lived URL a station can fetch the audio from directly, or None: serve the local file."""


class AudioStore:
    """Content-addressed files: <root>/<sha[:2]>/<sha>.mp3; identical audio is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, suffix: str = ".mp3") -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a lower-case SHA-256 hex digest: {sha256!r}")
        if not _SUFFIX.match(suffix):
            raise ValueError(f"bad suffix {suffix!r}")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def exists(self, sha256: str, suffix: str = ".mp3") -> bool:
        return self.path_for(sha256, suffix).is_file()

    def size(self, sha256: str, suffix: str = ".mp3") -> int | None:
        try:
            return self.path_for(sha256, suffix).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, sha256: str, suffix: str = ".mp3") -> BinaryIO:
        return self.path_for(sha256, suffix).open("rb")

    def download_url(self, sha256: str, suffix: str = ".mp3") -> str | None:
        """None: the service serves the file itself (with its sha256 as ETag)."""
        self.path_for(sha256, suffix)  # the same refusal of bad names as every other method
        return None

    def put_bytes(self, data: bytes, suffix: str = ".mp3") -> StoredAudio:
        """Store ``data``; written to a temporary file in the store's folder, then stored as :meth:`put` does."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".incoming.{secrets.token_hex(8)}.tmp"
        try:
            tmp.write_bytes(data)
            return self.put(tmp, suffix, move=True)
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, path: Path, suffix: str = ".mp3", *, move: bool = False) -> StoredAudio:
        """Store the file at `path` (copied, or moved with move=True) and return where it lives.

        Idempotent: content already stored is neither copied nor replaced. The copy is written under a
        temporary name in the target folder and renamed, so stations and concurrent writers never see a
        partial file; two processes storing the same content race harmlessly to the same bytes.
        """
        path = Path(path)
        sha = file_sha256(path)
        size = path.stat().st_size
        target = self.path_for(sha, suffix)
        if target.is_file() and target.stat().st_size == size:
            logger.debug("already stored: %s", target.name)
            if move:
                path.unlink()
            return StoredAudio(sha, size, target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            if move:
                shutil.move(path, tmp)
            else:
                shutil.copyfile(path, tmp)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        logger.info("stored %s (%d bytes)", target.name, size)
        return StoredAudio(sha, size, target)
