"""An in-memory :class:`~cvid.log.store.base.LogStore`: a real fake for tests.

Same semantics as the durable stores (one writer at a time, all-or-nothing batches),
but nothing survives the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from cvid.errors import LogExistsError, LogNotFoundError
from cvid.log.tiles import TileId


class _MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.staged: dict[TileId, bytes] = {}
        self.staged_nodes: dict[TileId, bytes] = {}
        self.size = store.tree_size()

    def tree_size(self) -> int:
        return self.size

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        return [self.staged.get(t, self._store.tiles.get(t, b"")) for t in tiles]

    def write_tiles(
        self, tiles: Sequence[tuple[TileId, bytes]], rows: Sequence[tuple[TileId, bytes]] = ()
    ) -> None:
        self.staged.update(tiles)
        self.staged_nodes.update(rows)

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        return [self.staged_nodes.get(t, self._store.nodes.get(t, b"")) for t in tiles]

    def write_tile_nodes(self, rows: Sequence[tuple[TileId, bytes]]) -> None:
        self.staged_nodes.update(rows)

    def set_tree_size(self, tree_size: int) -> None:
        self.size = tree_size


class MemoryStore:
    """A log held in dictionaries."""

    url = "memory:"

    def __init__(self) -> None:
        self._origin: str | None = None
        self._size = 0
        self.tiles: dict[TileId, bytes] = {}
        self.nodes: dict[TileId, bytes] = {}  # node-cache rows of hash tiles
        self._checkpoints: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def create(self, origin: str) -> None:
        """Initialise an empty log."""
        if self._origin is not None:
            raise LogExistsError(f"a log with origin {self._origin!r} already exists")
        self._origin = origin

    def origin(self) -> str:
        """The log's origin."""
        if self._origin is None:
            raise LogNotFoundError("no log has been initialised in this store")
        return self._origin

    def tree_size(self) -> int:
        """The committed size."""
        self.origin()
        return self._size

    def head(self) -> tuple[str, int]:
        """The origin and the committed size."""
        return self.origin(), self._size

    @contextmanager
    def write(self) -> Iterator[_MemoryTransaction]:
        """Stage writes; apply them only if the block finishes without an exception."""
        with self._lock:
            txn = _MemoryTransaction(self)
            yield txn
            self.tiles.update(txn.staged)
            self.nodes.update(txn.staged_nodes)
            self._size = txn.size

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Hold off writers while the block reads."""
        with self._lock:
            yield

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Current tile contents."""
        return [self.tiles.get(t, b"") for t in tiles]

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Tiles of one level in index order."""
        found = sorted(t.index for t in self.tiles if t.level == level and t.index >= start)
        for index in found:
            yield index, self.tiles[TileId(level, index)]

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Node-cache rows of hash tiles."""
        return [self.nodes.get(t, b"") for t in tiles]

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and node-cache rows together."""
        return self.read_tiles(tiles), self.read_tile_nodes(rows)

    def clear_tile_nodes(self) -> None:
        """Drop every node-cache row."""
        with self._lock:
            self.nodes.clear()

    def save_checkpoint(self, tree_size: int, note: bytes) -> None:
        """Keep a checkpoint."""
        self._checkpoints[tree_size] = note

    def checkpoints(self) -> list[tuple[int, bytes]]:
        """Kept checkpoints by size."""
        return sorted(self._checkpoints.items())

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The kept checkpoint of the largest size, if any."""
        if not self._checkpoints:
            return None
        size = max(self._checkpoints)
        return size, self._checkpoints[size]

    def close(self) -> None:
        """Nothing to release."""
