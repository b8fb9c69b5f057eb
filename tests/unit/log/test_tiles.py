"""tlog-tiles paths, bundles and tree growth by tiles."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import StoreCorruptError, TileError, TreeSizeError
from cvid.log import merkle
from cvid.log.merkle import LeafHashes, NodeId
from cvid.log.tiles import (
    ENTRIES,
    TileHashReader,
    TileId,
    TreeEdge,
    decode_bundle,
    encode_bundle,
    encode_index,
    parse_tile_path,
    tile_path,
    tiles_for_size,
)


class DictTiles:
    """A TileReader over a dict (what a store holds)."""

    def __init__(self) -> None:
        self.tiles: dict[TileId, bytes] = {}
        self.reads = 0

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        self.reads += 1
        return [self.tiles.get(t, b"") for t in tiles]


def test_index_encoding_vectors() -> None:  # tlog-vectors.md §3
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(TileId(0, 1234067)) == "tile/0/x001/x234/067"
    assert tile_path(TileId(ENTRIES, 5), 7) == "tile/entries/005.p/7"
    assert encode_index(0) == "000"


def _summary(size: int) -> dict[int, tuple[int, int]]:
    """Per level: (full tiles, width of the partial tile or 0)."""
    out: dict[int, tuple[int, int]] = {}
    for tile, width in tiles_for_size(size):
        full, partial = out.get(tile.level, (0, 0))
        out[tile.level] = (full + 1, partial) if width == 256 else (full, width)
    return out


def test_tiles_for_size_vectors() -> None:  # tlog-vectors.md §3
    assert _summary(70_000) == {ENTRIES: (273, 112), 0: (273, 112), 1: (1, 17), 2: (0, 1)}
    assert _summary(256) == {ENTRIES: (1, 0), 0: (1, 0), 1: (0, 1)}
    assert _summary(0) == {}


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/x001/067.p/0",  # width 0
        "tile/0/067.p/256",  # a full tile has no .p
        "tile/0/067.p/07",  # leading zero in width
        "tile/0/x000/067",  # non-canonical index
        "tile/0/67",  # index not in 3 digits
        "tile/64x/000",
        "tile/entries/1000",
        "tiles/0/000",
    ],
)
def test_bad_tile_paths(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


@given(
    level=st.one_of(st.just(ENTRIES), st.integers(0, 63)),
    index=st.integers(0, 10**15),
    width=st.integers(1, 256),
)
def test_tile_path_round_trip(level: int, index: int, width: int) -> None:
    tile = TileId(level, index)
    assert parse_tile_path(tile_path(tile, width)) == (tile, width)


def test_tile_width_and_index_bounds() -> None:
    with pytest.raises(TileError):
        tile_path(TileId(0, 0), 0)
    with pytest.raises(TileError):
        encode_index(-1)


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_bundle_round_trip(entries: list[bytes]) -> None:
    assert decode_bundle(encode_bundle(entries)) == entries


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x05abc"])
def test_truncated_bundles(data: bytes) -> None:
    with pytest.raises(TileError):
        decode_bundle(data)


@settings(max_examples=30, deadline=None)
@given(batches=st.lists(st.integers(0, 700), min_size=1, max_size=6))
def test_tree_edge_builds_the_rfc_tree(batches: list[int]) -> None:
    """Growing by tiles, in any batch sizes, gives RFC 9162 roots and proofs at every size."""
    store = DictTiles()
    data: list[bytes] = []
    for count in batches:
        edge = TreeEdge.load(len(data), store)
        new = [i.to_bytes(4, "big") for i in range(len(data), len(data) + count)]
        for chunk in (new[: count // 2], new[count // 2 :]):
            store.tiles.update(edge.extend(chunk))
        store.tiles.update(edge.partial_tiles())
        data += new
        assert edge.size == len(data)
    reference = LeafHashes([merkle.leaf_hash(d) for d in data])
    for size in sorted(
        {s for s in (0, 1, len(data) // 2, len(data) - 1, len(data)) if 0 <= s <= len(data)}
    ):
        reader = TileHashReader(size, store)
        assert merkle.tree_root(size, reader) == merkle.tree_root(size, reference)
        if size:
            index = size // 3
            assert merkle.inclusion_proof(index, size, reader) == merkle.inclusion_proof(
                index, size, reference
            )
    assert set(store.tiles) == {tile for tile, _ in tiles_for_size(len(data))}
    assert [
        e
        for i in range(-(-len(data) // 256))
        for e in decode_bundle(store.tiles[TileId(ENTRIES, i)])
    ] == data


def test_proof_reads_each_tile_once() -> None:
    store = DictTiles()
    edge = TreeEdge.load(0, store)
    store.tiles.update(edge.extend([i.to_bytes(4, "big") for i in range(70_000)]))
    store.tiles.update(edge.partial_tiles())
    reader = TileHashReader(70_000, store)
    merkle.inclusion_proof(12_345, 70_000, reader)
    merkle.tree_root(70_000, reader)
    reads = store.reads
    assert reads <= 2
    merkle.inclusion_proof(12_345, 70_000, reader)
    merkle.tree_root(70_000, reader)
    assert store.reads == reads  # every tile is read once per reader


def test_hash_reader_rejects_short_tiles_and_far_nodes() -> None:
    store = DictTiles()
    store.tiles[TileId(0, 0)] = bytes(32 * 3)
    reader = TileHashReader(4, store)
    with pytest.raises(StoreCorruptError):
        reader.read_hashes([NodeId(2, 0)])
    with pytest.raises(TreeSizeError):
        reader.read_hashes([NodeId(3, 0)])


def test_edge_load_rejects_short_partial_tiles() -> None:
    store = DictTiles()
    store.tiles[TileId(0, 0)] = bytes(32)
    store.tiles[TileId(ENTRIES, 0)] = encode_bundle([b"a", b"b"])
    with pytest.raises(StoreCorruptError):
        TreeEdge.load(2, store)
    store.tiles[TileId(0, 0)] = bytes(64)
    store.tiles[TileId(ENTRIES, 0)] = encode_bundle([b"a"])
    with pytest.raises(StoreCorruptError):
        TreeEdge.load(2, store)
