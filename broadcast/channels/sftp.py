"""SFTP push: get one station's manifest and the audio it names into the station's inbox over SSH.

Layout on the station: ``<remote_dir>/manifest.json``, ``<remote_dir>/audio/<sha256>.mp3`` and, for remote
commands such as an emergency broadcast, ``<remote_dir>/commands/<id>.json`` (:func:`push_command`). The pushed
manifest is the server's with each audio ``url`` naming its file in the inbox, ``audio/<sha256>.mp3``, as the
manifest format has it (:func:`inbox_manifest`).

What a station can observe, whatever happens to the connection:

- it never sees a partial file under a final name: every file is written as ``.<name>.<random>.part`` in the same
  directory, its size checked with a stat, then renamed into place with ``posix-rename@openssh.com`` (atomic,
  and unlike plain SFTP rename it replaces an existing file);
- it never sees a manifest naming audio it lacks: the manifest goes up last, after every audio file it names
  is in place;
- it is only ever talked to after proving it holds the pinned host key, and we only ever offer our key.

Audio is content-addressed, so a push lists ``audio/`` once and sends only what is missing or has another size.
The manifest (about 10 KB) is always sent, even when unchanged: reading it back to compare would cost the same
round trips, and rewriting it repairs a station copy damaged on its side.

Retention, after the new manifest is in place: ``<sha256>.mp3`` files the new manifest does not name are removed
once older than ``keep_unreferenced_s``, and ``.part`` files once older than `STALE_TEMP_S` (one hour). A
``.part`` younger than that may belong to another push still running (two delivery runs overlapping), and
deleting it would break that push's rename; one hour old, it can only be the leftover of a killed push. Ages are
taken on the station's clock (the mtime of the manifest we just wrote), so a skewed clock at either end does not
delete fresh files. Names that are neither ours nor temp files are never touched.

This module knows nothing of the web application or the database: the delivery job gives it bytes and paths.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging
import re
import secrets
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import paramiko
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY
from paramiko.ssh_exception import AuthenticationException, IncompatiblePeer, SSHException

from stations import manifest as wire

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
AUDIO_DIR = "audio"
COMMANDS_DIR = "commands"  # remote commands (emergencies) for the agent to act on
STALE_TEMP_S = 3600.0
KEEP_COMMANDS_S = 3 * 24 * 3600.0  # longer than any emergency lives (72 h)
READ_CHUNK = 1 << 20  # local reads; paramiko splits them into SFTP write requests
SFTP_WRITE = 32768  # what every SFTP server must accept in one write
SFTP_WRITE_MAX = 256 * 1024 - 1024  # OpenSSH's own ceiling for one write request
# AES-GCM first: it needs no separate MAC, and against aes128-ctr with hmac-sha2-256 (paramiko's default) it
# took a third less of our CPU and made the fan-out benchmark about 15 % faster. CTR stays for older stations.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")

_AUDIO_NAME = re.compile(r"[0-9a-f]{64}\.mp3")
_COMMAND_NAME = re.compile(r"[0-9]+\.json")
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.part")
_SHA256 = re.compile(r"[0-9a-f]{64}")

Progress = Callable[[str, int, int], None]  # (file name, bytes sent, bytes expected)


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    username: str
    remote_dir: str  # the station's inbox; absolute, or relative to the login directory
    host_key: str  # the pinned public key, one OpenSSH line "ssh-ed25519 AAAA..." (known_hosts minus the host)

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"


@dataclass(frozen=True)
class LocalAudio:
    sha256: str
    size: int
    path: Path

    def __post_init__(self) -> None:
        # The digest becomes a remote file name: anything but lowercase hex could climb out of audio/.
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"not a lowercase hex sha256: {self.sha256!r}")

    @property
    def name(self) -> str:
        return f"{self.sha256}.mp3"


@dataclass
class PushResult:
    uploaded_files: int  # audio files sent plus the manifest
    uploaded_bytes: int
    audio_bytes: int  # the audio part of uploaded_bytes: 0 when the station already had everything
    skipped_files: int  # audio the station already had
    removed_files: int  # unreferenced audio and stale temp files deleted
    seconds: float


class PushError(Exception):
    """A push did not complete; the station still has a consistent (older) inbox."""


class HostKeyMismatch(PushError):
    """The station did not present the pinned host key: nothing was authenticated or sent."""


class PushFailed(PushError):
    """Connection, authentication or transfer failure, with the station and the step in the message."""


def inbox_manifest(manifest: bytes) -> bytes:
    """The server's ``manifest`` as a push leaves it in the inbox: each audio ``url`` names the file the push
    writes beside it, ``audio/<sha256>.mp3`` (a URI reference resolved against the manifest's own location),
    instead of the server's HTTP route; the ETag is computed again, since it covers the URLs.

    Works on the JSON rather than through ``stations.manifest.from_json``: the body is the server's own checked
    canonical form, and validating it against the schema again would cost about 60 ms a station, more than a
    push's SSH work. ValueError when it is not a manifest.
    """
    try:
        doc = json.loads(manifest)
        for day in doc["days"]:
            for entry in day["entries"]:
                for audio in wire.entry_audio(entry):  # a relay names its fallback filler (or nothing)
                    if not isinstance(audio["sha256"], str) or not _SHA256.fullmatch(audio["sha256"]):
                        raise ValueError(f"audio sha256 {audio['sha256']!r} is not lowercase hex")
                    audio["url"] = f"{AUDIO_DIR}/{audio['sha256']}.mp3"
        content = {key: doc[key] for key in ("days", "schema", "station", "timezone")}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a station manifest: {exc}") from None
    # The format's rule: the sha256 of the canonical JSON of these four fields (see stations.manifest).
    doc["etag"] = f'"{hashlib.sha256(_canonical(content)).hexdigest()}"'
    return _canonical(doc)


def _canonical(value: object) -> bytes:
    # The manifest format's canonical JSON: sorted keys, no whitespace, UTF-8 rather than \u escapes.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_host_key(line: str) -> paramiko.PKey:
    """The public key of one OpenSSH line ``<type> <base64> [comment]``; ValueError when it is not one."""
    parts = line.split()
    try:
        key = paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (IndexError, binascii.Error, paramiko.UnknownKeyType, SSHException, ValueError) as exc:
        raise ValueError(f"not an OpenSSH public key line: {line!r} ({exc})") from exc
    if key.get_name() != parts[0]:
        raise ValueError(f"key line says {parts[0]} but holds a {key.get_name()} key")
    return key


def _describe(exc: BaseException) -> str:
    # paramiko reports a connection closed under it as a bare EOFError, whose str() is empty.
    if isinstance(exc, EOFError):
        return "the connection was closed"
    return str(exc) or type(exc).__name__


def _host_key_algorithms(key: paramiko.PKey) -> tuple[str, ...]:
    # Offer only the pinned key's algorithm, as OpenSSH does for a known host: a station with several host keys
    # must show us the one we pinned, not whichever it prefers.
    if key.get_name() == "ssh-rsa":
        return ("rsa-sha2-512", "rsa-sha2-256")
    return (key.get_name(),)


class _QuickAckSocket(socket.socket):
    """A TCP socket that never delays its ACKs nor its small packets.

    SSH is chatty while connecting (several small packets each way), and sshd only turns Nagle off once a
    session starts. With Nagle on either side waiting for the other's delayed ACK, each exchange stalled about
    40 ms (measured: authentication took 50 ms instead of 7, opening the SFTP channel 42 ms instead of 1).
    Linux drops TCP_QUICKACK after a while, hence re-arming it after every read; elsewhere it is a no-op.
    """

    @classmethod
    def wrap(cls, sock: socket.socket) -> _QuickAckSocket:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        timeout = sock.gettimeout()
        wrapped = cls(fileno=sock.detach())
        wrapped.settimeout(timeout)
        return wrapped

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        if _QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return data


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


@contextmanager
def _session(target: SftpTarget, client_key: paramiko.PKey, timeout: float) -> Iterator[paramiko.SFTPClient]:
    """An authenticated SFTP session, after checking the host key against the pin."""
    pinned = parse_host_key(target.host_key)
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        raise PushFailed(f"cannot connect to {target.address}: {exc.strerror or exc}") from exc
    transport = paramiko.Transport(_QuickAckSocket.wrap(sock))
    try:
        options = transport.get_security_options()
        options.key_types = _host_key_algorithms(pinned)
        options.ciphers = tuple(c for c in PREFERRED_CIPHERS if c in options.ciphers) + tuple(
            c for c in options.ciphers if c not in PREFERRED_CIPHERS)
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
        try:
            transport.start_client(timeout=timeout)
        except IncompatiblePeer as exc:
            if "host key" in str(exc):
                raise HostKeyMismatch(f"{target.address} has no {pinned.get_name()} host key; expected "
                                      f"{pinned.fingerprint}") from exc
            raise PushFailed(f"SSH negotiation with {target.address} failed: {exc}") from exc
        except (SSHException, OSError, EOFError) as exc:
            raise PushFailed(f"SSH handshake with {target.address} failed: {_describe(exc)}") from exc
        offered = transport.get_remote_server_key()
        # Checked after key exchange (which proves the server holds the key it shows) and before we authenticate
        # or send anything: a host that is not the station we pinned learns nothing but our SSH version string.
        if offered.asbytes() != pinned.asbytes():
            raise HostKeyMismatch(f"{target.address} offered host key {offered.get_name()} {offered.fingerprint}; "
                                  f"expected {pinned.get_name()} {pinned.fingerprint}")
        try:
            # Only our key: no password, no agent, nothing from ~/.ssh (Transport never looks at those).
            transport.auth_publickey(target.username, client_key)
        except AuthenticationException as exc:
            raise PushFailed(f"{target.address} refused our key {client_key.get_name()} {client_key.fingerprint}: "
                             f"{exc}") from exc
        except (SSHException, OSError, EOFError) as exc:
            raise PushFailed(f"authenticating to {target.address} failed: {_describe(exc)}") from exc
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (SSHException, OSError, EOFError) as exc:
            raise PushFailed(f"{target.address} did not start its SFTP subsystem: {_describe(exc)}") from exc
        sftp.get_channel().settimeout(timeout)  # a station that stops answering fails the push, not hangs it
        try:
            yield sftp
        finally:
            try:
                sftp.close()
            except (OSError, EOFError, SSHException):
                pass  # the connection is already gone; what went wrong before is what the caller hears
    finally:
        transport.close()


def _write_size(sftp: paramiko.SFTPClient) -> int:
    """Bytes per SFTP write request: the server's stated limit (OpenSSH's limits@openssh.com), else 32 KB.

    OpenSSH's own sftp and scp do the same. Fewer, larger writes cut our CPU per megabyte by a quarter and the
    fan-out benchmark's time by about 8 % (measured), and spare the station a write(2) and a status reply per
    32 KB. paramiko has no public call for an extension request, hence its `_request` (paramiko is pinned).
    """
    try:
        kind, reply = sftp._request(CMD_EXTENDED, "limits@openssh.com")
    except (OSError, EOFError, SSHException):
        return SFTP_WRITE  # not OpenSSH, or too old (before 8.6): keep to what every server accepts
    if kind != CMD_EXTENDED_REPLY:
        return SFTP_WRITE
    reply.get_int64()  # max packet length
    reply.get_int64()  # max read length
    stated = reply.get_int64()
    return min(stated, SFTP_WRITE_MAX) if stated >= SFTP_WRITE else SFTP_WRITE


class _Push:
    """The steps of one push over an open session; `push` calls them in the order the module docstring promises."""

    def __init__(self, sftp: paramiko.SFTPClient, target: SftpTarget, progress: Progress | None):
        self.sftp = sftp
        self.target = target
        self.progress = progress
        self.root = target.remote_dir.rstrip("/") or "/"
        self.audio_dir = f"{self.root}/{AUDIO_DIR}"
        self.token = secrets.token_hex(4)  # marks this push's temp files, so retention can tell them apart
        self.write_size = _write_size(sftp)

    def _fail(self, doing: str, exc: BaseException) -> PushFailed:
        return PushFailed(f"{self.target.address}: {doing} failed: {_describe(exc)}")

    def list_audio(self) -> dict[str, paramiko.SFTPAttributes]:
        """The station's audio directory, created (with the inbox) when missing."""
        try:
            return {entry.filename: entry for entry in self.sftp.listdir_attr(self.audio_dir)}
        except FileNotFoundError:
            pass
        except (OSError, EOFError, SSHException) as exc:
            raise self._fail(f"listing {self.audio_dir}", exc) from exc
        for path in (self.root, self.audio_dir):
            try:
                self.sftp.mkdir(path)
            except OSError as exc:
                # An SFTP server answers mkdir on an existing path with a generic failure: accept a directory.
                if not self._is_dir(path):
                    raise self._fail(f"creating {path}", exc) from exc
        return {}

    def _is_dir(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(self.sftp.stat(path).st_mode or 0)
        except OSError:
            return False

    def upload(self, directory: str, name: str, source: BinaryIO, size: int) -> paramiko.SFTPAttributes:
        """Write `source` as a temp file in `directory`, check its size, rename it to `name`; return its stat."""
        temp = f"{directory}/.{name}.{self.token}.part"
        final = f"{directory}/{name}"
        try:
            with self.sftp.open(temp, "wb") as remote:
                remote.set_pipelined(True)  # do not wait for each write's answer; errors surface at close
                remote.MAX_REQUEST_SIZE = self.write_size
                sent = 0
                while chunk := source.read(READ_CHUNK):
                    remote.write(chunk)
                    sent += len(chunk)
                    if self.progress is not None:
                        self.progress(name, sent, size)
            attributes = self.sftp.stat(temp)
            if attributes.st_size != size:
                self._remove_quietly(temp)
                raise PushFailed(f"{self.target.address}: {final} is {attributes.st_size} bytes after upload, "
                                 f"expected {size}; not installed")
            self.sftp.posix_rename(temp, final)
        except PushFailed:
            raise
        except (OSError, EOFError, SSHException) as exc:
            self._remove_quietly(temp)  # best effort: a dead connection leaves it to a later push's retention
            raise self._fail(f"uploading {final}", exc) from exc
        return attributes

    def _remove_quietly(self, path: str) -> bool:
        try:
            self.sftp.remove(path)
            return True
        except (OSError, EOFError, SSHException) as exc:
            log.debug("could not remove %s on %s: %s", path, self.target.address, exc)
            return False

    def retain_commands(self, directory: str, station_now: float) -> int:
        """Remove command files older than KEEP_COMMANDS_S (the agent removes those it handled when the inbox's
        permissions let it; these are what is left), and stale temp files."""
        try:
            entries = self.sftp.listdir_attr(directory)
        except (OSError, EOFError, SSHException) as exc:
            log.warning("%s: listing %s failed: %s", self.target.address, directory, exc)
            return 0
        removed = 0
        for entry in entries:
            name, mtime = entry.filename, entry.st_mtime or 0
            old = (_COMMAND_NAME.fullmatch(name) and mtime <= station_now - KEEP_COMMANDS_S) or (
                _TEMP_NAME.fullmatch(name) and not name.endswith(f".{self.token}.part")
                and mtime <= station_now - STALE_TEMP_S)
            if old and stat.S_ISREG(entry.st_mode or 0) and self._remove_quietly(f"{directory}/{name}"):
                removed += 1
        return removed

    def retain(self, listed: dict[str, paramiko.SFTPAttributes], wanted: set[str], station_now: float,
               keep_unreferenced_s: float) -> int:
        """Delete unreferenced audio and stale temp files; failures are logged, the push has already succeeded."""
        try:
            in_root = self.sftp.listdir_attr(self.root)
        except (OSError, EOFError, SSHException) as exc:
            log.warning("%s: listing %s for stale temp files failed: %s", self.target.address, self.root, exc)
            in_root = []
        candidates = [(self.audio_dir, entry) for entry in listed.values()] + [(self.root, e) for e in in_root]
        removed = 0
        for directory, entry in candidates:
            name, mtime = entry.filename, entry.st_mtime or 0
            if not stat.S_ISREG(entry.st_mode or 0):
                continue
            if directory == self.audio_dir and _AUDIO_NAME.fullmatch(name) and name not in wanted:
                expired = mtime <= station_now - keep_unreferenced_s
            elif _TEMP_NAME.fullmatch(name) and not name.endswith(f".{self.token}.part"):
                expired = mtime <= station_now - STALE_TEMP_S
            else:
                continue
            if expired and self._remove_quietly(f"{directory}/{name}"):
                removed += 1
        return removed


def push(
    target: SftpTarget,
    client_key: paramiko.PKey,
    manifest: bytes,
    audio: Sequence[LocalAudio],
    *,
    timeout: float = 20.0,
    keep_unreferenced_s: float = 0,
    progress: Progress | None = None,
) -> PushResult:
    """Deliver `manifest` (the server's, written as :func:`inbox_manifest` makes it) and the `audio` it names to
    one station; see the module docstring for the guarantees.

    Raises HostKeyMismatch when the station does not show the pinned key, PushFailed for anything else that
    stops the delivery, ValueError when `target.host_key` is not a public key line or `manifest` not a manifest.
    `progress(name, sent, expected)` is called after each chunk of each uploaded file (tests use it to cut the
    connection mid-file).
    """
    started = time.monotonic()
    manifest = inbox_manifest(manifest)  # before connecting: a bad manifest costs the station nothing
    wanted = {item.name: item for item in audio}
    with _session(target, client_key, timeout) as sftp:
        job = _Push(sftp, target, progress)
        listed = job.list_audio()
        uploaded = audio_bytes = skipped = 0
        for name, item in wanted.items():
            present = listed.get(name)
            if present is not None and stat.S_ISREG(present.st_mode or 0) and present.st_size == item.size:
                skipped += 1
                continue
            try:
                source = item.path.open("rb")
            except OSError as exc:
                raise PushFailed(f"{target.address}: cannot read local audio {item.path}: {exc}") from exc
            with source:
                job.upload(job.audio_dir, name, source, item.size)
            uploaded += 1
            audio_bytes += item.size
        written = job.upload(job.root, MANIFEST_NAME, io.BytesIO(manifest), len(manifest))
        station_now = float(written.st_mtime or 0)
        removed = job.retain(listed, set(wanted), station_now, keep_unreferenced_s)
    result = PushResult(uploaded_files=uploaded + 1, uploaded_bytes=audio_bytes + len(manifest),
                        audio_bytes=audio_bytes, skipped_files=skipped, removed_files=removed,
                        seconds=time.monotonic() - started)
    log.info("pushed to %s:%s: %d files, %d bytes (%d audio skipped, %d removed) in %.2f s", target.address,
             target.remote_dir, result.uploaded_files, result.uploaded_bytes, skipped, removed, result.seconds)
    return result


def push_command(
    target: SftpTarget,
    client_key: paramiko.PKey,
    name: str,
    command: bytes,
    audio: Sequence[LocalAudio] = (),
    *,
    timeout: float = 20.0,
) -> PushResult:
    """Put one remote command (an emergency broadcast, or its cancellation) into the station's inbox as
    ``commands/<name>``, after the audio it needs, with the same guarantees as :func:`push`. The agent picks
    it up within a second or two and acts on it once, whatever other path also brought it."""
    started = time.monotonic()
    with _session(target, client_key, timeout) as sftp:
        job = _Push(sftp, target, None)
        listed = job.list_audio()
        uploaded = audio_bytes = skipped = 0
        for item in audio:
            present = listed.get(item.name)
            if present is not None and stat.S_ISREG(present.st_mode or 0) and present.st_size == item.size:
                skipped += 1
                continue
            with item.path.open("rb") as source:
                job.upload(job.audio_dir, item.name, source, item.size)
            uploaded += 1
            audio_bytes += item.size
        commands_dir = f"{job.root}/{COMMANDS_DIR}"
        if not job._is_dir(commands_dir):
            try:
                sftp.mkdir(commands_dir)
            except OSError as exc:
                if not job._is_dir(commands_dir):
                    raise job._fail(f"creating {commands_dir}", exc) from exc
        written = job.upload(commands_dir, name, io.BytesIO(command), len(command))
        removed = job.retain_commands(commands_dir, float(written.st_mtime or 0))
    return PushResult(uploaded_files=uploaded + 1, uploaded_bytes=audio_bytes + len(command),
                      audio_bytes=audio_bytes, skipped_files=skipped, removed_files=removed,
                      seconds=time.monotonic() - started)


def push_many(
    jobs: Iterable[tuple[SftpTarget, bytes, Sequence[LocalAudio]]],
    client_key: paramiko.PKey,
    *,
    concurrency: int = 8,
    timeout: float = 20.0,
    keep_unreferenced_s: float = 0,
) -> list[PushResult | Exception]:
    """Push to many stations, at most `concurrency` at once; one outcome per job, in order.

    A station's failure is its own outcome (the exception, not raised) so one dead station never stops the rest.
    """
    def one(job: tuple[SftpTarget, bytes, Sequence[LocalAudio]]) -> PushResult | Exception:
        target, manifest, audio = job
        try:
            return push(target, client_key, manifest, audio, timeout=timeout, keep_unreferenced_s=keep_unreferenced_s)
        except Exception as exc:  # noqa: BLE001 - the caller records every station's outcome, whatever it is
            log.warning("push to %s failed: %s", target.address, exc)
            return exc

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sftp-push") as pool:
        return list(pool.map(one, jobs))
