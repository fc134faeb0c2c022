"""Audio in an S3-compatible object store (AWS S3, MinIO, Ceph, Garage, ...), for a service on several nodes.

Objects are named as the folder store names its files, ``<prefix>/<sha[:2]>/<sha>.mp3``, so a folder store
moves into a bucket with one ``aws s3 sync``. S3 writes an object whole or not at all, so a reader never sees a
partial file, and content-addressed objects never change once written.

Each node keeps a local cache in the folder store's layout, filled on demand, for the code that needs a file
(ffmpeg, the SFTP push, the service streaming audio itself). A cached file is checked against its sha256 when
it is downloaded; since objects never change, it never goes stale, and the cache may be emptied at any time.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from audio.processing import AudioStore, StoredAudio, StoreUnavailable, file_sha256

log = logging.getLogger(__name__)

# Sent with each object, so whatever serves it (the store, a CDN before it) lets caches keep it for good.
IMMUTABLE = "public, max-age=31536000, immutable"
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoreLocation:
    """A bucket, and the prefix (no leading or trailing slash, maybe empty) under which the audio lives."""

    bucket: str
    prefix: str


def parse_store_url(url: str) -> StoreLocation:
    """``s3://bucket/some/prefix`` -> StoreLocation("bucket", "some/prefix")."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return StoreLocation(bucket, prefix.strip("/"))


def s3_client(endpoint_url: str = "", region: str = "") -> Any:
    """A boto3 S3 client; credentials come from boto3's usual chain (AWS_* variables, ~/.aws, instance roles)."""
    config = Config(
        signature_version="s3v4",  # presigned links of the current kind, which every S3-compatible store takes
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Another store's address is a host of its own, not a bucket.<domain>: ask for bucket/key paths.
        s3={"addressing_style": "path"} if endpoint_url else {},
        # Recent botocore adds CRC checksums to every upload by default, which some S3-compatible stores refuse.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                          config=config)


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


@contextlib.contextmanager
def _reaching(what: str) -> Iterator[None]:
    """Turn the SDK's errors into StoreUnavailable, naming what was being done."""
    try:
        yield
    except ClientError as exc:
        raise StoreUnavailable(f"object store: {what}: {exc}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise StoreUnavailable(f"object store: {what}: {type(exc).__name__}: {exc}") from exc


class S3AudioStore:
    """Content-addressed audio in a bucket, with the interface of the folder store (``AudioStorage``).

    ``redirect``: :meth:`download_url` gives a presigned GET link valid ``url_expiry_s`` seconds, made by
    ``presign_client`` (the store's address as stations reach it); otherwise None, and the service streams the
    file from its cache.
    """

    def __init__(self, client: Any, location: StoreLocation, cache_dir: Path, *, presign_client: Any = None,
                 url_expiry_s: int = 300, redirect: bool = True, cache_max_bytes: int = 0) -> None:
        self.client = client
        self.location = location
        self.cache = AudioStore(cache_dir)
        self.cache_bound = CacheBound(cache_dir, cache_max_bytes)
        self.url_expiry_s = url_expiry_s
        self.redirect = redirect
        self._presigner = presign_client or client
        # Keys seen in the bucket. An object, once there, is never replaced or removed by the service, so a
        # station's every fetch need not ask the bucket again.
        self._present: set[str] = set()

    def key_for(self, sha256: str, suffix: str = ".mp3") -> str:
        self.cache.path_for(sha256, suffix)  # the folder store's checks of the digest and suffix
        name = f"{sha256[:2]}/{sha256}{suffix}"
        return f"{self.location.prefix}/{name}" if self.location.prefix else name

    # -- reading ---------------------------------------------------------------------------------------------

    def exists(self, sha256: str, suffix: str = ".mp3") -> bool:
        key = self.key_for(sha256, suffix)
        return key in self._present or self._size(key) is not None

    def size(self, sha256: str, suffix: str = ".mp3") -> int | None:
        return self._size(self.key_for(sha256, suffix))

    def path_for(self, sha256: str, suffix: str = ".mp3") -> Path:
        """The cached local file, downloaded first if needed; it does not exist when the bucket lacks the audio.

        Unlike the folder store's, this may take a network round trip: call it where a file is needed.
        """
        path = self.cache.path_for(sha256, suffix)
        if path.is_file():
            self.cache_bound.used(path)
        else:
            self._download(self.key_for(sha256, suffix), sha256, suffix)
        return path

    def open(self, sha256: str, suffix: str = ".mp3") -> BinaryIO:
        """The object's bytes, streamed from the bucket (a local copy when there is one)."""
        path = self.cache.path_for(sha256, suffix)
        if path.is_file():
            return path.open("rb")
        key = self.key_for(sha256, suffix)
        with _reaching(f"reading {key}"):
            try:
                return self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"]
            except ClientError as exc:
                if _missing(exc):
                    raise FileNotFoundError(f"no object {key} in bucket {self.location.bucket}") from None
                raise

    def download_url(self, sha256: str, suffix: str = ".mp3") -> str | None:
        key = self.key_for(sha256, suffix)
        if not self.redirect:
            return None
        # Signing is local: no request to the store. Whoever holds the link can fetch this one object until
        # it expires, as with the service's own signed playlist links, so the expiry is short.
        return self._presigner.generate_presigned_url(
            "get_object", Params={"Bucket": self.location.bucket, "Key": key}, ExpiresIn=self.url_expiry_s)

    # -- writing ---------------------------------------------------------------------------------------------

    def put(self, path: Path, suffix: str = ".mp3", *, move: bool = False) -> StoredAudio:
        """Upload the file under its SHA-256 unless the bucket has it already, and keep a local copy."""
        path = Path(path)
        sha, size = file_sha256(path), path.stat().st_size
        key = self.key_for(sha, suffix)
        if key not in self._present and self._size(key) != size:
            with _reaching(f"uploading {key}"):
                # upload_file sends a large file in parts; the object appears only when every part is in.
                self.client.upload_file(str(path), self.location.bucket, key, ExtraArgs=self._object_args(suffix))
            self._present.add(key)
            log.info("stored %s in bucket %s (%d bytes)", key, self.location.bucket, size)
        # The node that rendered the audio is the likeliest to push it next: keep it as the cached file.
        stored = self.cache.put(path, suffix, move=move)
        self.cache_bound.added(stored.size_bytes)
        return stored

    def put_bytes(self, data: bytes, suffix: str = ".mp3") -> StoredAudio:
        """Upload ``data`` under its SHA-256 unless the bucket has it already, and keep a local copy."""
        stored = self.cache.put_bytes(data, suffix)
        self.cache_bound.added(stored.size_bytes)
        key = self.key_for(stored.sha256, suffix)
        if key not in self._present and self._size(key) != stored.size_bytes:
            with _reaching(f"uploading {key}"):
                self.client.put_object(Bucket=self.location.bucket, Key=key, Body=data, **self._object_args(suffix))
            self._present.add(key)
            log.info("stored %s in bucket %s (%d bytes)", key, self.location.bucket, len(data))
        return stored

    # -- plumbing --------------------------------------------------------------------------------------------

    @staticmethod
    def _object_args(suffix: str) -> dict[str, str]:
        mime = "audio/mpeg" if suffix == ".mp3" else mimetypes.guess_type(f"x{suffix}")[0]
        return {"ContentType": mime or "application/octet-stream", "CacheControl": IMMUTABLE}

    def _size(self, key: str) -> int | None:
        """The object's size, or None when the bucket has no such object."""
        with _reaching(f"looking up {key}"):
            try:
                answer = self.client.head_object(Bucket=self.location.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
        self._present.add(key)
        return int(answer["ContentLength"])

    def _download(self, key: str, sha256: str, suffix: str) -> None:
        """Fetch the object into the cache, checked against its name; leaves nothing when the bucket lacks it."""
        self.cache.root.mkdir(parents=True, exist_ok=True)
        tmp = self.cache.root / f".download.{secrets.token_hex(8)}.tmp"
        try:
            with _reaching(f"downloading {key}"):
                try:
                    body = self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"]
                except ClientError as exc:
                    if _missing(exc):
                        return
                    raise
                with body, tmp.open("wb") as out:
                    while block := body.read(_COPY_CHUNK):
                        out.write(block)
            if (found := file_sha256(tmp)) != sha256:
                # Never hand other bytes to ffmpeg or a station under this name; someone must look at the bucket.
                log.error("object %s in bucket %s holds other bytes (sha256 %s); not used", key,
                          self.location.bucket, found)
                return
            stored = self.cache.put(tmp, suffix, move=True)  # written aside, synced and renamed into place
            self._present.add(key)
            self.cache_bound.added(stored.size_bytes)
        finally:
            tmp.unlink(missing_ok=True)


class CacheBound:
    """Keeps a node's cache folder under ``max_bytes`` (0: no bound) by removing the files used longest ago.

    "Used" is the file's modification time, which adding a file sets and :meth:`used` refreshes, since access
    times are often not kept (noatime). Each process sharing the folder (web workers, scheduler, queue workers)
    keeps its own estimate of the total from one scan and what it added since; when that passes the bound it
    scans again and removes the oldest files until the folder is at 90 % of it. A file removed while another
    process reads it stays readable to that process (Linux keeps an open file until it is closed), and one
    asked for again is downloaded again: the cache is only a copy of the bucket.
    """

    KEEP_RATIO = 0.9

    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._estimate: int | None = None
        self._lock = threading.Lock()

    def used(self, path: Path) -> None:
        if self.max_bytes:
            with contextlib.suppress(OSError):
                os.utime(path)

    def added(self, size: int) -> None:
        if not self.max_bytes:
            return
        with self._lock:
            if self._estimate is None:
                self._estimate = sum(size for _, size, _ in self._files())
            else:
                self._estimate += size
            if self._estimate > self.max_bytes:
                self._estimate = self._trim()

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self.root.glob("??/*"):
            with contextlib.suppress(OSError):  # removed by another process meanwhile
                info = path.stat()
                found.append((info.st_mtime, info.st_size, path))
        return found

    def _trim(self) -> int:
        files = sorted(self._files())  # oldest first
        total = sum(size for _, size, _ in files)
        target = int(self.max_bytes * self.KEEP_RATIO)
        removed = 0
        for _, size, path in files:
            if total <= target:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            log.info("audio cache %s: removed %d files used longest ago, %d bytes kept", self.root, removed, total)
        return total
