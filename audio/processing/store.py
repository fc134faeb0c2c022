"""Content-addressed audio files: one file per distinct content, named by its SHA-256."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

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
