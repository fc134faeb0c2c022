"""AudioStore on real encoded audio: content addressing, idempotence, atomic placement."""

from __future__ import annotations

import hashlib

import pytest

from audio.processing import AudioStore, StationFormat, prepare
from tests import audio_fixtures as fx
from tests.services import need_tool


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    need_tool("ffmpeg")
    folder = tmp_path_factory.mktemp("store-sources")
    a = prepare(fx.tone(folder / "a.wav", 1.5, freq=440), StationFormat(), folder / "a.mp3").path
    b = prepare(fx.tone(folder / "b.wav", 1.5, freq=880), StationFormat(), folder / "b.mp3").path
    return a, b


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_same_content_twice_is_one_file_with_one_hash(encoded, tmp_path):
    a, _ = encoded
    store = AudioStore(tmp_path / "store")
    twin = fx.copy(a, tmp_path / "twin.mp3")

    first = store.put(a)
    second = store.put(twin)

    sha = hashlib.sha256(a.read_bytes()).hexdigest()
    assert first == second
    assert first.sha256 == sha and first.size_bytes == a.stat().st_size
    assert first.path == tmp_path / "store" / sha[:2] / f"{sha}.mp3"
    assert first.path.read_bytes() == a.read_bytes()
    assert _files(tmp_path / "store") == [f"{sha[:2]}/{sha}.mp3"]  # no temporary files left behind
    assert store.exists(sha) and store.path_for(sha) == first.path


def test_different_content_is_stored_separately(encoded, tmp_path):
    a, b = encoded
    store = AudioStore(tmp_path / "store")

    stored = [store.put(a), store.put(b)]

    assert stored[0].sha256 != stored[1].sha256
    assert len(_files(tmp_path / "store")) == 2


def test_same_audio_prepared_twice_is_byte_identical(encoded, tmp_path):
    # Content addressing only deduplicates renders if encoding is deterministic.
    a, _ = encoded
    again = prepare(a.with_name("a.wav"), StationFormat(), tmp_path / "again.mp3").path
    assert again.read_bytes() == a.read_bytes()


def test_move_takes_the_file_and_is_idempotent(encoded, tmp_path):
    a, _ = encoded
    store = AudioStore(tmp_path / "store")
    first_copy, second_copy = fx.copy(a, tmp_path / "1.mp3"), fx.copy(a, tmp_path / "2.mp3")

    first = store.put(first_copy, move=True)
    second = store.put(second_copy, move=True)

    assert first == second
    assert not first_copy.exists() and not second_copy.exists()
    assert len(_files(tmp_path / "store")) == 1


@pytest.mark.parametrize(
    ("sha", "suffix"),
    [("abc", ".mp3"), ("A" * 64, ".mp3"), ("0" * 64, "mp3"), ("0" * 64, "/../x")],
)
def test_bad_names_are_refused(tmp_path, sha, suffix):
    with pytest.raises(ValueError):
        AudioStore(tmp_path).path_for(sha, suffix)


def test_unknown_hash_does_not_exist(tmp_path):
    assert not AudioStore(tmp_path).exists("0" * 64)
