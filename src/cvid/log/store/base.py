"""The storage port of the log, and the append algorithm every backend shares.

A store keeps three things: the log's origin and committed tree size (one row), the
C2SP tlog-tiles hash tiles and entry bundles (keyed by :class:`TileId`), and the
signed checkpoints issued so far. It knows nothing of Merkle proofs: those are
computed by :mod:`cvid.log.merkle` over tiles the store returns.

Backends provide a write transaction that holds the log's single writer lock; the
append itself (:func:`append_entries`) is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import islice
from typing import Protocol

from cvid.log.tiles import TileId, TreeEdge

CHUNK = 16 * 256  # entries hashed and written per step of a large append (bounds memory)


class WriteTransaction(Protocol):
    """One exclusive write transaction: the log's size cannot change under it."""

    def tree_size(self) -> int:
        """The committed tree size, read under the writer lock."""
        ...

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Current contents of each tile (empty bytes for a tile not yet written)."""
        ...

    def write_tiles(self, tiles: Sequence[tuple[TileId, bytes]]) -> None:
        """Insert or replace tiles."""
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


def append_entries(txn: WriteTransaction, entries: Iterable[bytes]) -> range:
    """Append ``entries`` inside ``txn``; return their indices.

    Hashes and writes in chunks, so memory stays bounded however many entries come.
    An invalid entry raises before commit, so the whole batch is discarded.
    """
    start = txn.tree_size()
    edge = TreeEdge.load(start, txn)
    source = iter(entries)
    while chunk := list(islice(source, CHUNK)):
        txn.write_tiles(list(edge.extend(chunk)))
    if edge.size != start:
        txn.write_tiles(edge.partial_tiles())
        txn.set_tree_size(edge.size)
    return range(start, edge.size)
