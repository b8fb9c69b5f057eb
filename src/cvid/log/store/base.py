"""The storage port of the log, and the append algorithm every backend shares.

A store keeps three things: the log's origin and committed tree size (one row), the
C2SP tlog-tiles hash tiles and entry bundles (keyed by :class:`TileId`), and the
signed checkpoints issued so far. Beside the hash tiles it keeps a cache derived from
them, one node-cache row per hash tile (:func:`cvid.log.tiles.node_row`), written in
the same transaction, so that a proof reads subtree hashes instead of computing them.
It knows nothing of Merkle proofs: those are computed by :mod:`cvid.log.merkle` over
tiles the store returns.

Backends provide a write transaction that holds the log's single writer lock; the
append itself (:func:`append_entries`) is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import islice
from typing import Protocol

from cvid.errors import StoreCorruptError
from cvid.log.merkle import HASH_SIZE
from cvid.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileId, TreeEdge, node_row

CHUNK = 16 * 256  # entries hashed and written per step of a large append (bounds memory)


class WriteTransaction(Protocol):
    """One exclusive write transaction: the log's size cannot change under it."""

    def tree_size(self) -> int:
        """The committed tree size, read under the writer lock."""
        ...

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Current contents of each tile (empty bytes for a tile not yet written)."""
        ...

    def write_tiles(
        self, tiles: Sequence[tuple[TileId, bytes]], rows: Sequence[tuple[TileId, bytes]] = ()
    ) -> None:
        """Insert or replace tiles, with the node-cache rows of some hash tiles among them
        (a store that keeps a row beside its tile writes the two at once)."""
        ...

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Node-cache rows of hash tiles (empty bytes where none is kept)."""
        ...

    def write_tile_nodes(self, rows: Sequence[tuple[TileId, bytes]]) -> None:
        """Insert or replace node-cache rows of hash tiles."""
        ...

    def set_tree_size(self, tree_size: int) -> None:
        """Record the new committed size (takes effect at commit)."""
        ...


class LogStore(Protocol):
    """Durable storage for one log. Implementations: memory, SQLite, PostgreSQL."""

    @property
    def url(self) -> str:
        """Where the store lives, without secrets."""
        ...

    def create(self, origin: str) -> None:
        """Initialise an empty log; raises LogExistsError if one exists."""
        ...

    def origin(self) -> str:
        """The log's origin line; raises LogNotFoundError if not initialised."""
        ...

    def tree_size(self) -> int:
        """The committed tree size."""
        ...

    def head(self) -> tuple[str, int]:
        """The origin and the committed tree size, in one read; raises LogNotFoundError."""
        ...

    def write(self) -> AbstractContextManager[WriteTransaction]:
        """Open the exclusive write transaction; commits on normal exit, else rolls back."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Within the block, reads see one state of the log, whatever is appended."""
        ...

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Current contents of each tile (empty bytes for a tile not yet written)."""
        ...

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Tiles of one level from index ``start`` on, in order, as ``(index, data)``."""
        ...

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Node-cache rows of hash tiles (:func:`cvid.log.tiles.node_row`), ``b""`` if none.

        The rows are a cache derived from the hash tiles: never published, and a missing
        one only means hashing that tile again.
        """
        ...

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """:meth:`read_tiles` and :meth:`read_tile_nodes` at once (one round trip if it can)."""
        ...

    def clear_tile_nodes(self) -> None:
        """Drop every node-cache row (they are rebuilt by :func:`rebuild_tile_nodes`)."""
        ...

    def save_checkpoint(self, tree_size: int, note: bytes) -> None:
        """Keep a signed checkpoint note (the newest one per size wins)."""
        ...

    def checkpoints(self) -> list[tuple[int, bytes]]:
        """Every kept checkpoint as ``(tree_size, note)``, by size."""
        ...

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The kept checkpoint of the largest size, if any (without reading the others)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def append_entries(
    txn: WriteTransaction, entries: Iterable[bytes], *, edge: TreeEdge | None = None
) -> range:
    """Append ``entries`` inside ``txn``; return their indices.

    Hashes and writes in chunks, so memory stays bounded however many entries come.
    An invalid entry raises before commit, so the whole batch is discarded.

    ``edge`` is the tree's edge at its current size, if the caller kept it from its
    last append (:class:`TreeEdge`, with ``keep_nodes``); it is extended in place.
    Else it is read from the store.
    """
    start = txn.tree_size()
    if edge is None or edge.size != start:
        edge = TreeEdge.load(start, txn, keep_nodes=True)
    source = iter(entries)
    while chunk := list(islice(source, CHUNK)):
        completed = list(edge.extend(chunk))
        txn.write_tiles(completed, edge.take_node_rows())
    if edge.size != start:
        txn.write_tiles(edge.partial_tiles(), edge.partial_node_rows())
        txn.set_tree_size(edge.size)
    return range(start, edge.size)


def rebuild_tile_nodes(store: LogStore) -> int:
    """Recompute the node-cache row of every hash tile from the tile; return rows written.

    For a store written before the cache existed, or after :meth:`LogStore.clear_tile_nodes`.
    Tiles are read and rows written a batch at a time, in one write transaction.
    """
    written = 0
    with store.write() as txn:
        size = txn.tree_size()
        level, count = 0, size
        while count > 0:
            batch: list[tuple[TileId, bytes]] = []
            for index, data in store.iter_tiles(level):
                width = min(TILE_WIDTH, count - index * TILE_WIDTH)
                if width <= 0:
                    break
                hashes = [data[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)]
                if len(hashes) != width:
                    raise StoreCorruptError(f"tile {level}/{index} holds too few hashes")
                batch.append((TileId(level, index), node_row(hashes)))
                if len(batch) >= CHUNK // TILE_WIDTH:
                    txn.write_tile_nodes(batch)
                    written, batch = written + len(batch), []
            txn.write_tile_nodes(batch)
            written += len(batch)
            level, count = level + 1, count >> TILE_HEIGHT
    return written
