"""Where the service keeps its audio: a folder by default, or an S3-compatible bucket shared by several nodes.

``AUDIO_STORE_URL`` chooses: empty for the folder store under ``AUDIO_DIR``, ``s3://bucket/prefix`` for
:class:`broadcast.storage.s3.S3AudioStore`. Callers see the one small interface,
:class:`audio.processing.AudioStorage`, either way.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from audio.processing import AudioStorage, AudioStore
from broadcast.config import Settings


def audio_store(settings: Settings) -> AudioStorage:
    """The store the settings name; an S3 store is built once per process and configuration."""
    if not settings.audio_store_url:
        return AudioStore(settings.resolved_audio_dir)
    return _s3_store(settings.audio_store_url, settings.audio_store_endpoint_url,
                     settings.audio_store_public_endpoint_url, settings.audio_store_region,
                     settings.audio_store_serve == "redirect", settings.audio_store_url_expiry_s,
                     settings.resolved_audio_cache_dir, settings.audio_cache_max_mb * 1024 * 1024, os.getpid())


@functools.lru_cache(maxsize=8)
def _s3_store(url: str, endpoint_url: str, public_endpoint_url: str, region: str, redirect: bool, expiry_s: int,
              cache_dir: Path, cache_max_bytes: int, pid: int) -> AudioStorage:
    # Cached because a boto3 client takes tens of ms to build and keeps its connection pool; keyed by the pid
    # too, since a forked process must not share the parent's open connections.
    from broadcast.storage.s3 import S3AudioStore, parse_store_url, s3_client  # boto3 only when configured

    client = s3_client(endpoint_url, region)
    presigner = s3_client(public_endpoint_url, region) if public_endpoint_url else client
    return S3AudioStore(client, parse_store_url(url), cache_dir, presign_client=presigner,
                        url_expiry_s=expiry_s, redirect=redirect, cache_max_bytes=cache_max_bytes)
