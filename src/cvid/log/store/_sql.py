"""What the SQLite and PostgreSQL stores share: the schema, the queries, the transaction.

Tables (``BLOB`` is ``BYTEA`` on PostgreSQL):

* ``cvid_log(id = 1, origin, tree_size)``: one row, also the writer lock on PostgreSQL;
* ``cvid_tiles(level, idx, data)``: hash tiles (level ≥ 0) and entry bundles (level -1),
  exactly the bytes C2SP tlog-tiles publishes, partial tiles replaced as they grow;
* ``cvid_checkpoints(tree_size, note)``: signed checkpoint notes;
* ``cvid_tile_nodes(level, idx, data)``: the node-cache row of each hash tile
  (:func:`cvid.log.tiles.node_row`), a cache derived from ``cvid_tiles`` and written in
  the same transaction; never published. A store created before it existed gets the
  table at its next append (reads find no rows meanwhile and hash from the tiles).

Queries are written with ``?`` placeholders; a backend may rewrite them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cvid.errors import LogExistsError, LogNotFoundError, StoreError
from cvid.log.tiles import TileId

Row = tuple[Any, ...]

_READ_BATCH = 200  # tiles per SELECT when many are asked for at once


def schema(blob: str) -> list[str]:
    """The DDL, with the backend's name for a byte string column."""
    return [
        "CREATE TABLE IF NOT EXISTS cvid_log ("
        " id INTEGER PRIMARY KEY CHECK (id = 1),"
        " origin TEXT NOT NULL,"
        " tree_size BIGINT NOT NULL CHECK (tree_size >= 0))",
        "CREATE TABLE IF NOT EXISTS cvid_tiles ("
        f" level INTEGER NOT NULL, idx BIGINT NOT NULL, data {blob} NOT NULL,"
        " PRIMARY KEY (level, idx))",
        "CREATE TABLE IF NOT EXISTS cvid_checkpoints ("
        f" tree_size BIGINT PRIMARY KEY, note {blob} NOT NULL)",
        nodes_schema(blob),
    ]


def nodes_schema(blob: str) -> str:
    """The DDL of the node-cache table (also run on a store that predates it)."""
    return (
        "CREATE TABLE IF NOT EXISTS cvid_tile_nodes ("
        f" level INTEGER NOT NULL, idx BIGINT NOT NULL, data {blob} NOT NULL,"
        " PRIMARY KEY (level, idx))"
    )


class SQLStore(ABC):
    """A log store over a DB-API connection; subclasses connect and lock."""

    LOCK_CLAUSE = ""  # appended to the SELECT of the log's row inside a write transaction
    BLOB = "BLOB"  # the backend's name for a byte string column

    def __init__(self, url: str) -> None:
        self._url = url
        self._schema_seen = False  # tables are never dropped: check once, not per read
        self._nodes_seen = False  # whether cvid_tile_nodes exists (older stores lack it)

    @property
    def url(self) -> str:
        """Where the store lives."""
        return self._url

    # --- what a backend provides -------------------------------------------------------

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement, return its rows; translate driver errors to StoreError."""

    @abstractmethod
    def _query_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""

    @abstractmethod
    def _begin_write(self) -> None:
        """Start a transaction holding the log's single writer lock."""

    @abstractmethod
    def _begin_snapshot(self) -> None:
        """Start a read-only transaction that sees one state of the database."""

    @abstractmethod
    def _end(self, *, commit: bool) -> None:
        """Commit or roll back the open transaction."""

    @abstractmethod
    def _has_schema(self) -> tuple[bool, bool]:
        """Whether cvid's tables exist, and whether its node-cache table does."""

    @abstractmethod
    def _create_schema(self) -> None:
        """Create the tables (inside the open write transaction)."""

    # --- the store ---------------------------------------------------------------------

    def create(self, origin: str) -> None:
        """Initialise an empty log with ``origin``.

        Raises:
            LogExistsError: a log is already initialised here.
        """
        with self._transaction(create=True):
            rows = self._query("SELECT origin FROM cvid_log WHERE id = 1")
            if rows:
                raise LogExistsError(f"a log with origin {rows[0][0]!r} already exists here")
            self._query("INSERT INTO cvid_log (id, origin, tree_size) VALUES (1, ?, 0)", [origin])

    def _first_head(self, lock: str) -> list[Row]:
        """The log's row, read for the first time on this connection.

        Checks first that the tables exist and whether the node-cache table does; a
        backend may override this to do both in one statement.
        """
        log, nodes = self._has_schema()
        if not log:
            raise LogNotFoundError(f"no log has been initialised in {self._url}")
        self._nodes_seen = nodes
        return self._query(f"SELECT origin, tree_size FROM cvid_log WHERE id = 1{lock}")

    def _head(self, *, lock: str = "") -> tuple[str, int]:
        if self._schema_seen:
            rows = self._query(f"SELECT origin, tree_size FROM cvid_log WHERE id = 1{lock}")
        else:
            rows = self._first_head(lock)
            self._schema_seen = True
        if not rows:
            raise LogNotFoundError(f"no log has been initialised in {self._url}")
        return str(rows[0][0]), int(rows[0][1])

    def head(self) -> tuple[str, int]:
        """The log's origin line and committed tree size, in one read."""
        return self._head()

    def origin(self) -> str:
        """The log's origin line."""
        return self._head()[0]

    def tree_size(self) -> int:
        """The committed tree size."""
        return self._head()[1]

    @contextmanager
    def _transaction(self, *, create: bool = False) -> Iterator[None]:
        self._begin_write()
        try:
            if create:
                self._create_schema()
            yield
        except BaseException:
            self._end(commit=False)
            self._schema_seen = False  # a table created in it is gone: look again
            raise
        self._end(commit=True)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside the block see one committed state of the log."""
        self._begin_snapshot()
        try:
            yield
        finally:
            self._end(commit=False)

    @contextmanager
    def write(self) -> Iterator[_SQLTransaction]:
        """The exclusive write transaction."""
        with self._transaction():
            yield _SQLTransaction(self)

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Current tile contents, empty bytes where none is stored."""
        return self._read_rows("cvid_tiles", tiles)

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Node-cache rows of hash tiles, empty bytes where none is stored."""
        if not self._schema_seen:
            self._head()  # learns whether the table exists
        if not self._nodes_seen:
            return [b""] * len(tiles)
        return self._read_rows("cvid_tile_nodes", tiles)

    def clear_tile_nodes(self) -> None:
        """Drop every node-cache row."""
        with self._transaction():
            self._query(nodes_schema(self.BLOB))
            self._query("DELETE FROM cvid_tile_nodes")
            self._nodes_seen = True

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and node-cache rows in one statement (a cold proof's one round trip)."""
        if not self._schema_seen:
            self._head()
        if not self._nodes_seen or len(tiles) + len(rows) > _READ_BATCH:
            return self.read_tiles(tiles), self.read_tile_nodes(rows)

        def where(batch: Sequence[TileId]) -> str:
            return " OR ".join(["(level = ? AND idx = ?)"] * len(batch))

        selects, params = [], []
        for kind, table, batch in ((0, "cvid_tiles", tiles), (1, "cvid_tile_nodes", rows)):
            if batch:
                selects.append(f"SELECT {kind}, level, idx, data FROM {table} WHERE {where(batch)}")
                params += [v for t in batch for v in (t.level, t.index)]
        found: tuple[dict[TileId, bytes], dict[TileId, bytes]] = ({}, {})
        for kind, level, idx, data in self._query(" UNION ALL ".join(selects), params):
            found[int(kind)][TileId(int(level), int(idx))] = bytes(data)
        return [found[0].get(t, b"") for t in tiles], [found[1].get(t, b"") for t in rows]

    def _read_rows(self, table: str, tiles: Sequence[TileId]) -> list[bytes]:
        found: dict[TileId, bytes] = {}
        for i in range(0, len(tiles), _READ_BATCH):
            batch = tiles[i : i + _READ_BATCH]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(batch))
            params = [v for t in batch for v in (t.level, t.index)]
            for level, idx, data in self._query(
                f"SELECT level, idx, data FROM {table} WHERE {where}", params
            ):
                found[TileId(int(level), int(idx))] = bytes(data)
        return [found.get(t, b"") for t in tiles]

    def iter_tiles(self, level: int, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """Tiles of one level in index order, read a batch at a time."""
        while True:
            rows = self._query(
                "SELECT idx, data FROM cvid_tiles WHERE level = ? AND idx >= ?"
                " ORDER BY idx LIMIT ?",
                [level, start, _READ_BATCH],
            )
            for idx, data in rows:
                yield int(idx), bytes(data)
            if len(rows) < _READ_BATCH:
                return
            start = int(rows[-1][0]) + 1

    def save_checkpoint(self, tree_size: int, note: bytes) -> None:
        """Keep a signed checkpoint; a newer one at the same size replaces the older."""
        with self._transaction():
            self._query(
                "INSERT INTO cvid_checkpoints (tree_size, note) VALUES (?, ?)"
                " ON CONFLICT (tree_size) DO UPDATE SET note = excluded.note",
                [tree_size, note],
            )

    def checkpoints(self) -> list[tuple[int, bytes]]:
        """Kept checkpoints by size."""
        rows = self._query("SELECT tree_size, note FROM cvid_checkpoints ORDER BY tree_size")
        return [(int(size), bytes(note)) for size, note in rows]

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The kept checkpoint of the largest size, if any (one row read)."""
        rows = self._query(
            "SELECT tree_size, note FROM cvid_checkpoints ORDER BY tree_size DESC LIMIT 1"
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None


class _SQLTransaction:
    """The write transaction of an :class:`SQLStore` (its lock is already held)."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def tree_size(self) -> int:
        return self._store._head(lock=self._store.LOCK_CLAUSE)[1]

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        return self._store.read_tiles(tiles)

    def write_tiles(self, tiles: Sequence[tuple[TileId, bytes]]) -> None:
        if not tiles:
            return
        self._store._query_many(
            "INSERT INTO cvid_tiles (level, idx, data) VALUES (?, ?, ?)"
            " ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data",
            [(t.level, t.index, data) for t, data in tiles],
        )

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        return self._store.read_tile_nodes(tiles)

    def write_tile_nodes(self, rows: Sequence[tuple[TileId, bytes]]) -> None:
        if not rows:
            return
        store = self._store
        if not store._nodes_seen:  # perhaps a store from before the cache: add its table
            store._query(nodes_schema(store.BLOB))
            store._nodes_seen = True
        store._query_many(
            "INSERT INTO cvid_tile_nodes (level, idx, data) VALUES (?, ?, ?)"
            " ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data",
            [(t.level, t.index, data) for t, data in rows],
        )

    def set_tree_size(self, tree_size: int) -> None:
        self._store._query("UPDATE cvid_log SET tree_size = ? WHERE id = 1", [tree_size])


def driver_error(url: str, error: BaseException) -> StoreError:
    """A StoreError naming the store and the driver's message."""
    return StoreError(f"{url}: {type(error).__name__}: {error}")
