"""Broadcast-ready audio: validate uploads, measure loudness, prepare and assemble files, store by content hash.

Everything goes through ffmpeg/ffprobe subprocesses (argument lists, timeouts) and numpy/pyloudnorm on the
decoded samples. Nothing here imports the central service.
"""

from audio.processing.assemble import Silence, assemble
from audio.processing.encode import PreparedAudio
from audio.processing.errors import REASONS, InvalidAudio
from audio.processing.formats import StationFormat
from audio.processing.loudness import Loudness, measure_loudness
from audio.processing.pcm import ToolError
from audio.processing.prepare import prepare
from audio.processing.probe import AudioInfo, probe, validate_upload
from audio.processing.store import AudioStorage, AudioStore, StoredAudio, StoreUnavailable, file_sha256

__all__ = [
    "REASONS",
    "AudioInfo",
    "AudioStorage",
    "AudioStore",
    "InvalidAudio",
    "Loudness",
    "PreparedAudio",
    "Silence",
    "StationFormat",
    "StoreUnavailable",
    "StoredAudio",
    "ToolError",
    "assemble",
    "file_sha256",
    "measure_loudness",
    "prepare",
    "probe",
    "validate_upload",
]
