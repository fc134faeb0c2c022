"""Fixtures for the integration tests that need real servers besides the database."""

from __future__ import annotations

import pytest

from tests.sshd import Sshd, sshd_or_skip


@pytest.fixture
def sshd(tmp_path) -> Sshd:
    """A real OpenSSH sshd on 127.0.0.1 with fresh host and client keys, stopped (with its sessions) after."""
    with sshd_or_skip(tmp_path / "sshd") as server:
        yield server
