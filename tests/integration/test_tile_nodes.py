"""The node cache on every backend: proofs through it equal the RFC 9162 computation after
the store is reopened, after the cache is cleared, and on a store that predates it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import EntryError
from cvid.log import merkle
from cvid.log.merkle import HASH_SIZE, LeafHashes
from cvid.log.store import LogStore, MemoryStore, open_store, rebuild_tile_nodes
from cvid.log.store.base import CHUNK
from cvid.log.tiles import ENTRIES, TileId, node_row, tiles_for_size
from cvid.log.tlog import Log
from tests.conftest import postgres_base_url

ORIGIN = "example.org/log"
BACKENDS = ["memory", "sqlite", "postgres"]


@contextmanager
def fresh_store(kind: str, directory: Path) -> Iterator[tuple[LogStore, str]]:
    """A new, initialised store and where it lives (memory: the same object each time)."""
    if kind == "memory":
        memory = MemoryStore()
        memory.create(ORIGIN)
        yield memory, "memory"
    elif kind == "sqlite":
        location = str(directory / f"{uuid.uuid4().hex}.db")
        store = open_store(location, create=True)
        store.create(ORIGIN)
        yield store, location
        store.close()
    else:
        base = postgres_base_url()
        name = f"cvid_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{name}"')
            sep = "&" if "?" in base else "?"
            location = f"{base}{sep}options=-csearch_path%3D{name}"
            try:
                store = open_store(location)
                store.create(ORIGIN)
                yield store, location
                store.close()
            finally:
                admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def reopen(store: LogStore, location: str) -> LogStore:
    """A new connection to the same store (memory has only the one)."""
    if location == "memory":
        return store
    return open_store(location)


def _entries(start: int, count: int) -> list[bytes]:
    return [f"e{i}".encode() * (1 + i % 4) for i in range(start, start + count)]


def check_against_reference(log: Log, data: list[bytes], picks: list[float]) -> None:
    """Roots and proofs at sizes and indices chosen by ``picks`` equal the reference."""
    reference = LeafHashes([merkle.leaf_hash(d) for d in data])
    assert log.size() == len(data)
    for n in range(0, len(picks) - 2, 3):
        size = 1 + int(picks[n] * len(data))
        index = int(picks[n + 1] * size)
        old = 1 + int(picks[n + 2] * size)
        assert log.root(size) == merkle.tree_root(size, reference)
        inclusion = log.inclusion_proof(index, size)
        assert list(inclusion.proof) == merkle.inclusion_proof(index, size, reference)
        assert inclusion.leaf_hash == merkle.leaf_hash(data[index])
        inclusion.verify()
        consistency = log.consistency_proof(old, size)
        assert list(consistency.proof) == merkle.consistency_proof(old, size, reference)
        consistency.verify()


def stored_rows_match_tiles(store: LogStore, size: int) -> int:
    """Every stored row is node_row of its tile; return how many tiles have one."""
    hash_tiles = [t for t, _ in tiles_for_size(size) if t.level != ENTRIES]
    found = 0
    for tile, blob, row in zip(
        hash_tiles, store.read_tiles(hash_tiles), store.read_tile_nodes(hash_tiles), strict=True
    ):
        if row:
            hashes = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
            assert row == node_row(hashes), tile
            found += 1
    return found


@pytest.mark.parametrize("kind", BACKENDS)
def test_random_growth_then_reopen_equals_reference(kind: str, tmp_path: Path) -> None:
    @settings(max_examples=8 if kind == "postgres" else 15)
    @given(
        batches=st.lists(
            st.one_of(st.integers(0, 300), st.sampled_from([255, 256, 257, 4096, 5000])),
            min_size=1,
            max_size=5,
        ),
        picks=st.lists(st.floats(0, 1, exclude_max=True), min_size=6, max_size=6),
    )
    def run(batches: list[int], picks: list[float]) -> None:
        with fresh_store(kind, tmp_path) as (store, location):
            log = Log(store)
            data: list[bytes] = []
            for count in batches:
                new = _entries(len(data), count)
                log.append(new)
                data += new
            if not data:
                return
            with Log(reopen(store, location)) as reopened:
                some = [t for t, _ in tiles_for_size(len(data))][:: 1 + len(data) // 2000]
                hashes = [t for t in some if t.level != ENTRIES]
                assert reopened.store.read_tiles_and_nodes(some, hashes) == (
                    reopened.store.read_tiles(some),
                    reopened.store.read_tile_nodes(hashes),
                )
                check_against_reference(reopened, data, picks)
                hash_tiles = sum(1 for t, _ in tiles_for_size(len(data)) if t.level != ENTRIES)
                assert stored_rows_match_tiles(reopened.store, len(data)) == hash_tiles
                reopened.store.clear_tile_nodes()
                assert stored_rows_match_tiles(reopened.store, len(data)) == 0
            with Log(reopen(store, location)) as cleared:
                check_against_reference(cleared, data, picks)  # hashed from the tiles
                assert rebuild_tile_nodes(cleared.store) == hash_tiles
                assert stored_rows_match_tiles(cleared.store, len(data)) == hash_tiles
                check_against_reference(cleared, data, picks)
                more = _entries(len(data), 300)
                cleared.append(more)
                check_against_reference(cleared, data + more, picks)

    run()


def make_older(store: LogStore, layout: str) -> None:
    """Give a store the layout an older version left: node-cache rows in a table of their
    own (``"table"``), or none at all (``"none"``, from before the cache)."""
    query = store._query  # type: ignore[attr-defined]
    if layout == "table":
        query(
            "CREATE TABLE cvid_tile_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL,"
            f" data {store.BLOB} NOT NULL, PRIMARY KEY (level, idx))"  # type: ignore[attr-defined]
        )
        query(
            "INSERT INTO cvid_tile_nodes"
            " SELECT level, idx, nodes FROM cvid_tiles WHERE nodes IS NOT NULL"
        )
    query("ALTER TABLE cvid_tiles DROP COLUMN nodes")


def old_table_rows(store: LogStore) -> int:
    return int(store._query("SELECT count(*) FROM cvid_tile_nodes")[0][0])  # type: ignore[attr-defined]


@pytest.mark.parametrize("layout", ["none", "table"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_store_of_an_older_layout(kind: str, layout: str, tmp_path: Path) -> None:
    """An older store answers as it is; the first append that writes a row moves the rows
    beside the tiles, and a process that read the older layout before still answers."""
    with fresh_store(kind, tmp_path) as (store, location):
        data = _entries(0, 1000)
        Log(store).append(data)
        rows_before = stored_rows_match_tiles(store, len(data))
        assert rows_before == 5  # 3 full and 1 partial tile at level 0, 1 partial at level 1
        make_older(store, layout)
        with Log(reopen(store, location)) as old:
            expected = rows_before if layout == "table" else 0
            assert stored_rows_match_tiles(old.store, len(data)) == expected
            assert old.store.read_tiles_and_nodes([TileId(0, 0)], [TileId(0, 0)])[1] == (
                old.store.read_tile_nodes([TileId(0, 0)])
            )
            check_against_reference(old, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
        stale = Log(reopen(store, location))  # reads the older layout, and keeps reading it
        check_against_reference(stale, data, [0.3, 0.6, 0.1])
        with Log(reopen(store, location)) as old:
            # A refused append that had added the column leaves none behind, and says so.
            with pytest.raises(EntryError):
                old.append([*_entries(1000, CHUNK + 10), b"x" * 65536])
            assert stored_rows_match_tiles(old.store, len(data)) == expected
            check_against_reference(old, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
            more = _entries(1000, 600)
            old.append(more)
            data += more
            (row,) = old.store.read_tile_nodes([TileId(0, 3)])  # completed in this append
            assert row != b""
            (row,) = old.store.read_tile_nodes([TileId(0, 0)])  # not rewritten: copied, or none
            assert (row != b"") == (layout == "table")
            check_against_reference(old, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
            check_against_reference(stale, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
            assert rebuild_tile_nodes(old.store) == 8  # 7 at level 0, 1 at level 1
            assert stored_rows_match_tiles(old.store, len(data)) == 8
            check_against_reference(old, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
            old.store.clear_tile_nodes()  # every row, the older table's too
            assert stored_rows_match_tiles(old.store, len(data)) == 0
            if layout == "table":
                assert old_table_rows(old.store) == 0
            check_against_reference(stale, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])
        stale.close()
        with Log(reopen(store, location)) as new:
            assert stored_rows_match_tiles(new.store, len(data)) == 0
            new.store.clear_tile_nodes()  # the column exists now: only emptied again
            rebuild_tile_nodes(new.store)
            assert stored_rows_match_tiles(new.store, len(data)) == 8
            check_against_reference(new, data, [0.5, 0.2, 0.7, 0.99, 0.99, 0.01])


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_refused_batch_writes_no_row(kind: str, tmp_path: Path) -> None:
    with fresh_store(kind, tmp_path) as (store, _):
        log = Log(store)
        log.append(_entries(0, 300))
        before = store.read_tile_nodes([TileId(0, 0), TileId(0, 1), TileId(0, 2)])
        with pytest.raises(EntryError, match="65535"):
            log.append([*_entries(300, 400), b"x" * 65536])
        assert store.read_tile_nodes([TileId(0, 0), TileId(0, 1), TileId(0, 2)]) == before
