"""Getting a new manifest and its audio, over HTTP or from an SSH push inbox, and installing it safely.

A manifest is installed (written atomically as ``<cache_dir>/manifest.json``) only after every audio file it
still needs is in the cache with its sha256 and size verified; until then the station keeps airing the manifest
it has, for as many days as that one covers. HTTP: ``GET /api/v1/stations/<code>/manifest`` with
``If-None-Match`` (304: nothing new), audio from the URL each entry gives, resumed with ``Range``. Inbox: the
``manifest.json`` an SSH push left in ``inbox_dir`` (with ``audio/<sha256>.mp3`` beside it, as its URLs say),
taken when its version is newer than the installed one; its audio is copied into the cache and verified the same
way, and a file missing from the inbox is downloaded from the server's ``/api/v1/audio/<sha256>``. After an
install the agent posts a receipt (retried until the server has it) and forgets audio no remaining day needs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from stations.agent.asrun import AsRunLog
from stations.agent.cache import AudioCache, AudioError, ManifestStore
from stations.agent.server import ServerClient, ServerError
from stations.manifest import AudioFile, Manifest, ManifestError, audio_files, from_json, upcoming

log = logging.getLogger(__name__)

RECEIPT_KEY = "receipt_version"
SERVER_AUDIO = "/api/v1/audio/{sha256}"  # where the server serves any audio a station's manifest names


class SyncError(Exception):
    """A sync round could not install a manifest; the installed one stays."""


class Syncer:
    """Keeps ``cache_dir`` holding the newest manifest whose audio is all verified."""

    def __init__(self, *, client: ServerClient, cache: AudioCache, store: ManifestStore, asrun: AsRunLog,
                 station: str, now: Callable[[], datetime], inbox_dir: Path | None = None,
                 on_install: Callable[[Manifest], None] | None = None):
        self.client = client
        self.cache = cache
        self.store = store
        self.asrun = asrun
        self.station = station
        self.now = now
        self.inbox_dir = inbox_dir
        self.on_install = on_install
        self._installed = store.load()
        self._inbox_seen: tuple[int, int, int] | None = None
        self._wanted: set[str] = set()  # audio of a manifest still being fetched: cleanup keeps it
        self._lock = threading.Lock()

    @property
    def installed(self) -> Manifest | None:
        return self._installed

    def sync(self) -> list[str]:
        """One round: the inbox, then the server, then the receipt and the cleanup. Returns the problems met
        (empty when all went well); never raises for a network or content problem."""
        problems: list[str] = []
        with self._lock:
            for source in (self.sync_inbox, self.sync_http):
                try:
                    source()
                except (SyncError, ServerError) as exc:
                    log.warning("sync: %s", exc)
                    problems.append(str(exc))
            try:
                self.send_receipt()
            except ServerError as exc:
                log.warning("receipt: %s", exc)
                problems.append(str(exc))
            self.cleanup()
        return problems

    def sync_http(self) -> Manifest | None:
        """Fetch the server's manifest if it changed and install it; returns it when installed."""
        installed = self._installed
        got = self.client.fetch_manifest(installed.etag if installed else None)
        if got is None:
            return None
        data, _ = got
        manifest = self._read(data, "the server's manifest")
        if installed is not None and manifest.etag == installed.etag:
            return None
        if installed is not None and manifest.version < installed.version:
            log.warning("the server went back from version %d to %d; following it", installed.version,
                        manifest.version)
        self._install(manifest, data, inbox_audio=None)
        return manifest

    def sync_inbox(self) -> Manifest | None:
        """Take the manifest an SSH push left in the inbox, if it is newer than the installed one."""
        if self.inbox_dir is None:
            return None
        path = self.inbox_dir / "manifest.json"
        try:
            info = path.stat()
            seen = (info.st_mtime_ns, info.st_size, info.st_ino)
            if seen == self._inbox_seen:
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SyncError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            manifest = self._read(data, f"{path}")
        except SyncError:
            self._inbox_seen = seen  # a new push rewrites the file; until then, do not read it again
            raise
        installed = self._installed
        if installed is not None and (manifest.version <= installed.version or manifest.etag == installed.etag):
            self._inbox_seen = seen
            return None
        self._install(manifest, data, inbox_audio=self.inbox_dir / "audio")
        self._inbox_seen = seen
        return manifest

    def send_receipt(self) -> None:
        """Tell the server which version is installed, once per version (retried at each round until it is)."""
        installed = self._installed
        if installed is None or self.asrun.get_state(RECEIPT_KEY) == str(installed.version):
            return
        try:
            self.client.post_receipt(installed.version, installed.etag)
        except ServerError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                raise
            # The server refused this receipt for good (e.g. a version it no longer knows): do not repeat it.
            log.warning("the server refused the receipt for version %d: %s", installed.version, exc)
        self.asrun.set_state(RECEIPT_KEY, str(installed.version))

    def cleanup(self) -> int:
        """Delete cached audio that no day still to come (today included) of the installed manifest uses."""
        installed = self._installed
        if installed is None:
            return 0
        now = self.now()
        today = now.astimezone(ZoneInfo(installed.timezone)).date()
        # A relay's file is its fallback filler (e.file), which it may have none of.
        keep = {e.file.sha256 for e in upcoming(installed, now) if e.file} | set(self._wanted)
        keep |= {e.file.sha256 for day in installed.days if day.date >= today for e in day.entries if e.file}
        removed = self.cache.remove_unused(keep)
        if removed:
            log.info("removed %d audio files no remaining day uses", removed)
        return removed

    # -- internals -----------------------------------------------------------------------------------------

    def _read(self, data: bytes, what: str) -> Manifest:
        try:
            manifest = from_json(data)
        except ManifestError as exc:
            raise SyncError(f"{what} is not a valid manifest ({exc}); keeping the installed one") from None
        if manifest.station != self.station:
            raise SyncError(f"{what} is for station {manifest.station!r}, not {self.station!r}")
        return manifest

    def _install(self, manifest: Manifest, data: bytes, *, inbox_audio: Path | None) -> None:
        needed = audio_files(manifest, self.now())
        self._wanted = {audio.sha256 for audio in needed}
        problems = []
        for audio in needed:
            if self.cache.ready(audio) is not None:
                continue
            try:
                self._fetch(audio, inbox_audio)
            except (AudioError, ServerError) as exc:
                problems.append(str(exc))
        if problems:
            raise SyncError(f"version {manifest.version} not installed: {len(problems)} of {len(needed)} audio "
                            f"files missing or bad: {'; '.join(problems[:3])}")
        self.store.save(data)
        self._installed = manifest
        self._wanted = set()
        log.info("installed manifest version %d (%s, %d days)", manifest.version, manifest.etag, len(manifest.days))
        if self.on_install is not None:
            self.on_install(manifest)

    def _fetch(self, audio: AudioFile, inbox_audio: Path | None) -> Path:
        reference = audio.url
        if inbox_audio is not None:
            pushed = inbox_audio / f"{audio.sha256}.mp3"
            if pushed.is_file():
                return self.cache.install_copy(audio, pushed)
            log.info("%s is not in the inbox; fetching it from the server", audio.sha256)
            # A pushed manifest's URLs name files in the inbox (audio/<sha256>.mp3); the server has them here.
            reference = SERVER_AUDIO.format(sha256=audio.sha256)
        self.client.download(self.client.url_for(reference), self.cache.part_for(audio.sha256), audio.size)
        return self.cache.install_part(audio)
