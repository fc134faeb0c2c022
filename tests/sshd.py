"""A real OpenSSH sshd on 127.0.0.1 with throw-away keys, for the SFTP push tests and the fan-out benchmark.

`Sshd` starts ``/usr/sbin/sshd -D`` from a configuration written into a temporary folder: its own ed25519 host
key, one authorized client key, public-key authentication only, ``internal-sftp``. Use it as a context manager;
leaving the block stops the server and every session process it forked. Keys are made with `cryptography`
(paramiko cannot generate ed25519), so starting one needs nothing but sshd itself.

Pytest code calls `sshd_or_skip`, which skips (or fails under REQUIRE_SERVICES=1) when sshd is not installed;
the benchmark uses `Sshd` directly.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.services import free_port, need_tool

SSHD = os.environ.get("SSHD", "/usr/sbin/sshd")  # sshd refuses to run unless started by its absolute path
PRIVSEP_DIR = Path("/run/sshd")


def new_key(path: Path) -> tuple[paramiko.PKey, str]:
    """Write a fresh ed25519 private key in OpenSSH format to `path`; return it and its public line."""
    private = Ed25519PrivateKey.generate()
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           serialization.NoEncryption()))
    path.chmod(0o600)  # ssh and scp refuse identity files others can read
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return paramiko.Ed25519Key.from_private_key_file(str(path)), public.decode()


def fingerprint(public_line: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line, as `ssh-keygen -lf` prints it."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (no pgrep, so nothing is matched by name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name in parentheses may contain spaces; the parent pid is the second field after it.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Sshd:
    """One sshd process serving SFTP on 127.0.0.1 for the current user, with keys in `workdir`."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path, *, log_level: str = "VERBOSE", max_startups: int = 200):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.username = getpass.getuser()
        self.log_path = self.workdir / "sshd.log"
        self.port = 0
        self._log_level = log_level
        self._max_startups = max_startups
        self._proc: subprocess.Popen | None = None
        host_key_path = self.workdir / "host_ed25519"
        _, self.host_key_line = new_key(host_key_path)
        self.client_key_path = self.workdir / "client_ed25519"
        self.client_key, client_public = new_key(self.client_key_path)
        self.authorized_keys = self.workdir / "authorized_keys"
        self.authorized_keys.write_text(client_public + "\n")
        self._host_key_path = host_key_path

    @property
    def host_key_fingerprint(self) -> str:
        return fingerprint(self.host_key_line)

    @property
    def pid(self) -> int:
        assert self._proc is not None, "sshd is not running"
        return self._proc.pid

    def known_hosts(self, path: Path) -> Path:
        """A known_hosts file pinning this server's key, for OpenSSH clients (ssh, scp)."""
        path.write_text(f"[{self.host}]:{self.port} {self.host_key_line}\n")
        return path

    def _write_config(self) -> Path:
        config = self.workdir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}",
            f"ListenAddress {self.host}",
            f"HostKey {self._host_key_path}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",  # the tests run as root; keys only, like a station
            "UsePAM no",
            "StrictModes no",  # the temporary folder's permissions are not what sshd wants for ~/.ssh
            "Subsystem sftp internal-sftp",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            # One sshd stands in for many stations in the benchmark: do not drop concurrent handshakes.
            f"MaxStartups {self._max_startups}",
            f"LogLevel {self._log_level}",
            "",
        ]))
        return config

    def start(self, timeout: float = 10.0) -> Sshd:
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)  # sshd exits without its privilege-separation directory
        for _attempt in range(3):  # the free port may be taken between choosing and binding it: retry
            self.port = free_port()
            config = self._write_config()
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                              stdout=log, stderr=log)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self._proc.poll() is None:
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return self
                except OSError:
                    time.sleep(0.02)
            if self._proc.poll() is None:
                self.stop()
                raise RuntimeError(f"sshd did not listen on {self.host}:{self.port} within {timeout} s:\n{self.log()}")
            if "Address already in use" not in self.log():
                break
        raise RuntimeError(f"sshd exited with {self._proc.returncode}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill_sessions(self) -> int:
        """SIGKILL every per-connection sshd process (all descendants of the listener); return how many.

        Connections die the way they do when a station loses power: no SSH disconnect, no SFTP close.
        """
        pids, frontier = [], _children(self.pid)
        while frontier:
            pids.extend(frontier)
            frontier = [child for pid in frontier for child in _children(pid)]
        for pid in reversed(pids):  # deepest first, so each parent is still there to reap its child
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        if self._proc is None:
            return
        self.kill_sessions()
        deadline = time.monotonic() + 2
        while _children(self.pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # let the listener reap its sessions, so no zombie outlives the test
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None

    def __enter__(self) -> Sshd:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def sshd_or_skip(workdir: Path) -> Sshd:
    """An unstarted `Sshd`, after skipping (failing under REQUIRE_SERVICES=1) if sshd is not installed."""
    need_tool(SSHD)
    return Sshd(workdir)
