"""The node cache beside the hash tiles: rows equal the reference, and a proof read through
them equals the RFC 9162 computation, whatever rows are missing."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import TileError
from cvid.log import merkle, tiles
from cvid.log.merkle import HASH_SIZE, LeafHashes, NodeId, perfect_root
from cvid.log.tiles import (
    ENTRIES,
    NODE_LOW,
    NODE_ROW_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashReader,
    TileId,
    TreeEdge,
    node_row,
    tiles_for_size,
)


class DictStore:
    """Tiles and node-cache rows in dicts, counting reads (what a store holds)."""

    def __init__(self) -> None:
        self.tiles: dict[TileId, bytes] = {}
        self.rows: dict[TileId, bytes] = {}
        self.tile_reads: list[TileId] = []
        self.row_reads: list[TileId] = []

    def read_tiles(self, wanted: Sequence[TileId]) -> list[bytes]:
        self.tile_reads += wanted
        return [self.tiles.get(t, b"") for t in wanted]

    def read_tile_nodes(self, wanted: Sequence[TileId]) -> list[bytes]:
        self.row_reads += wanted
        return [self.rows.get(t, b"") for t in wanted]


def _reference_row(hashes: Sequence[bytes]) -> bytes:
    """Sub-levels NODE_LOW..7 of the tile, one slot per node, zeros where not complete."""
    out = b""
    for sub in range(NODE_LOW, TILE_HEIGHT):
        for index in range(TILE_WIDTH >> sub):
            part = hashes[index << sub : (index + 1) << sub]
            out += perfect_root(part) if len(part) == 1 << sub else bytes(HASH_SIZE)
    return out


def _hashes(count: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(HASH_SIZE) for _ in range(count)]


@settings(max_examples=60)
@given(width=st.integers(1, TILE_WIDTH), seed=st.integers(0, 2**32))
def test_node_row_matches_the_reference(width: int, seed: int) -> None:
    hashes = _hashes(width, seed)
    row = node_row(hashes)
    assert len(row) == NODE_ROW_SIZE
    assert row == _reference_row(hashes)


def test_node_row_of_a_full_tile_is_the_one_the_tile_root_is_hashed_through() -> None:
    hashes = _hashes(TILE_WIDTH)
    root, row = tiles._full_tile(hashes)
    assert root == perfect_root(hashes)
    assert row == node_row(hashes)


def test_node_row_refuses_impossible_widths() -> None:
    with pytest.raises(TileError):
        node_row([])
    with pytest.raises(TileError):
        node_row(_hashes(TILE_WIDTH + 1))


def _grow(store: DictStore, batches: Sequence[int], drop: float, seed: int) -> list[bytes]:
    """Append ``batches`` through TreeEdge as append_entries does, losing some rows."""
    rng = random.Random(seed)
    data: list[bytes] = []
    for count in batches:
        edge = TreeEdge.load(len(data), store, keep_nodes=True)
        new = [i.to_bytes(4, "big") for i in range(len(data), len(data) + count)]
        for chunk in (new[: count // 3], new[count // 3 :]):
            store.tiles.update(edge.extend(chunk))
            store.rows.update(edge.take_node_rows())
        store.tiles.update(edge.partial_tiles())
        store.rows.update(edge.partial_node_rows())
        data += new
        for tile in [t for t in store.rows if rng.random() < drop]:
            del store.rows[tile]  # a cache may lose rows: an older store, a cleared cache
    return data


@settings(max_examples=40)
@given(
    batches=st.lists(st.integers(0, 700), min_size=1, max_size=6),
    drop=st.sampled_from([0.0, 0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**32),
)
def test_edge_rows_equal_rows_of_the_stored_tiles(
    batches: list[int], drop: float, seed: int
) -> None:
    """Every row the edge writes, loaded and grown in any batches, is node_row of its tile."""
    store = DictStore()
    data = _grow(store, batches, drop, seed)
    if drop == 0.0:
        assert set(store.rows) == {t for t, _ in tiles_for_size(len(data)) if t.level != ENTRIES}
    for tile, row in store.rows.items():
        blob = store.tiles[tile]
        hashes = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
        assert row == node_row(hashes), tile


@settings(max_examples=40)
@given(
    batches=st.lists(st.integers(0, 700), min_size=1, max_size=6),
    drop=st.sampled_from([0.0, 0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**32),
    picks=st.lists(st.floats(0, 1, exclude_max=True), min_size=3, max_size=3),
)
def test_proofs_through_rows_equal_the_rfc_computation(
    batches: list[int], drop: float, seed: int, picks: list[float]
) -> None:
    """Roots, inclusion and consistency proofs at random sizes equal the reference."""
    store = DictStore()
    data = _grow(store, batches, drop, seed)
    if not data:
        return
    reference = LeafHashes([merkle.leaf_hash(d) for d in data])
    size = 1 + int(picks[0] * len(data))
    index = int(picks[1] * size)
    old = 1 + int(picks[2] * size)
    reader = TileHashReader(size, store)
    root = merkle.tree_root(size, reader)
    assert root == merkle.tree_root(size, reference)
    path = merkle.inclusion_proof(index, size, reader)
    assert path == merkle.inclusion_proof(index, size, reference)
    merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(data[index]),
        leaf_index=index,
        tree_size=size,
        proof=path,
        root_hash=root,
    )
    proof = merkle.consistency_proof(old, size, reader)
    assert proof == merkle.consistency_proof(old, size, reference)
    merkle.verify_consistency(
        old_size=old,
        new_size=size,
        old_root=merkle.tree_root(old, reference),
        new_root=root,
        proof=proof,
    )


def test_cached_nodes_need_no_tile_and_no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DictStore()
    _grow(store, [70_000], 0.0, 0)
    calls: list[int] = []
    real = tiles._sha256

    def counting(data: bytes = b"") -> object:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(tiles, "_sha256", counting)
    reader = TileHashReader(70_000, store)
    reader.read_hashes([NodeId(16, 0)])  # the first read also fetches what the root needs
    assert sorted(set(store.tile_reads)) == [TileId(1, 1), TileId(2, 0)]  # the root needs …
    assert sorted(set(store.row_reads)) == [TileId(0, 273), TileId(1, 1)]  # … and rows
    store.tile_reads.clear()
    store.row_reads.clear()
    # Levels 3..7 of tile level 0 and 11..15 of tile level 1: all read from rows.
    nodes = [NodeId(level, 1) for level in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)]
    hashes = reader.read_hashes(nodes)
    assert calls == []
    assert store.tile_reads == []
    assert sorted(set(store.row_reads)) == [TileId(0, 0), TileId(1, 0)]
    reference = LeafHashes([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)])
    assert hashes == reference.read_hashes(nodes)
    # A whole proof hashes at most 2**NODE_LOW - 1 nodes per node below NODE_LOW.
    merkle.inclusion_proof(12_345, 70_000, reader)
    merkle.tree_root(70_000, reader)
    assert len(calls) <= 3 * 7 * 2


def test_a_row_of_the_wrong_size_is_ignored() -> None:
    store = DictStore()
    data = _grow(store, [3000], 0.0, 0)
    for tile in store.rows:
        store.rows[tile] = store.rows[tile][:-1]
    reference = LeafHashes([merkle.leaf_hash(d) for d in data])
    reader = TileHashReader(3000, store)
    assert merkle.tree_root(3000, reader) == merkle.tree_root(3000, reference)
    assert merkle.inclusion_proof(77, 3000, reader) == merkle.inclusion_proof(77, 3000, reference)
