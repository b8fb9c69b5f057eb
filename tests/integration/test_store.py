"""One suite, every backend: memory, SQLite and PostgreSQL behave the same."""

from __future__ import annotations

import os

import pytest

from cvid.errors import EntryError, LogExistsError, LogNotFoundError, TreeSizeError
from cvid.log import merkle
from cvid.log.merkle import LeafHashes
from cvid.log.store import LogStore
from cvid.log.tiles import ENTRIES, TileId, tiles_for_size
from cvid.log.tlog import Log
from tests.support import make_store


def _entries(start: int, count: int) -> list[bytes]:
    return [f"entry {i}".encode() * (i % 3) for i in range(start, start + count)]


def test_batches_across_tile_boundaries_match_reference(store: LogStore) -> None:
    log = Log(store)
    data: list[bytes] = []
    for batch in [1, 254, 1, 300, 0, 256, 2, 700]:
        new = _entries(len(data), batch)
        assert log.append(new) == range(len(data), len(data) + batch)
        data += new
    reference = LeafHashes([merkle.leaf_hash(d) for d in data])
    assert log.size() == len(data) == 1514
    sizes = [0, 1, 2, 255, 256, 257, 511, 512, 555, 1024, 1513, 1514]
    for size in sizes:
        assert log.root(size) == merkle.tree_root(size, reference)
    for index, size in [(0, 1), (255, 256), (256, 257), (300, 1514), (1513, 1514), (7, 555)]:
        proof = log.inclusion_proof(index, size)
        assert list(proof.proof) == merkle.inclusion_proof(index, size, reference)
        assert proof.leaf_hash == merkle.leaf_hash(data[index])
        proof.verify()
    for old, size in [(1, 1514), (255, 257), (256, 512), (555, 1024), (1514, 1514), (0, 3)]:
        consistency = log.consistency_proof(old, size)
        assert list(consistency.proof) == merkle.consistency_proof(old, size, reference)
        if old:
            consistency.verify()
    assert list(log.entries()) == data
    assert list(log.entries(250, 600)) == data[250:600]
    assert log.entry(1000) == data[1000]
    # Every tile the published log would hold is in the store, at least as wide.
    for tile, width in tiles_for_size(log.size()):
        (blob,) = store.read_tiles([tile])
        assert blob, tile
        if tile.level != ENTRIES:
            assert len(blob) >= width * merkle.HASH_SIZE


def test_bad_entry_changes_nothing(store: LogStore) -> None:
    log = Log(store)
    log.append(_entries(0, 300))
    before = (log.size(), log.root(), store.read_tiles([TileId(0, 1), TileId(ENTRIES, 1)]))
    with pytest.raises(EntryError, match="65535"):
        log.append([b"ok", b"x" * 65536])
    assert (log.size(), log.root(), store.read_tiles([TileId(0, 1), TileId(ENTRIES, 1)])) == before
    log.append([b"y" * 65535])
    assert log.entry(300) == b"y" * 65535


def test_out_of_range_requests(store: LogStore) -> None:
    log = Log(store)
    log.append(_entries(0, 5))
    with pytest.raises(TreeSizeError):
        log.entry(5)
    with pytest.raises(TreeSizeError):
        log.root(6)
    with pytest.raises(TreeSizeError):
        log.inclusion_proof(5)
    with pytest.raises(TreeSizeError):
        log.consistency_proof(6)
    with pytest.raises(TreeSizeError):
        list(log.entries(4, 2))
    assert log.root(0) == merkle.EMPTY_ROOT


def test_create_twice_is_refused(store: LogStore) -> None:
    with pytest.raises(LogExistsError, match=r"example\.org/log"):
        store.create("another")
    assert store.origin() == "example.org/log"


def test_checkpoints_are_kept(store: LogStore) -> None:
    assert store.latest_checkpoint() is None
    store.save_checkpoint(3, b"three")
    store.save_checkpoint(1, b"one")
    store.save_checkpoint(3, b"three again")
    assert store.checkpoints() == [(1, b"one"), (3, b"three again")]
    assert store.latest_checkpoint() == (3, b"three again")


def test_uninitialised_store(backend: str) -> None:
    opened = make_store(backend)
    try:
        with pytest.raises(LogNotFoundError):
            opened.origin()
        with pytest.raises(LogNotFoundError):
            Log(opened)
    finally:
        opened.close()


def test_missing_sqlite_file_is_not_created(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "absent.db")
    with pytest.raises(LogNotFoundError):
        make_store(path, create=False)
    assert not os.path.exists(path)
