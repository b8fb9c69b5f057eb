"""What the SQLite and PostgreSQL stores share: the schema, the queries, the transaction.

Tables (``BLOB`` is ``BYTEA`` on PostgreSQL):

* ``cvid_log(id = 1, origin, tree_size)``: one row, also the writer lock on PostgreSQL;
* ``cvid_tiles(level, idx, data, nodes)``: hash tiles (level ≥ 0) and entry bundles
  (level -1) in ``data``, exactly the bytes C2SP tlog-tiles publishes, partial tiles
  replaced as they grow; beside a hash tile, in ``nodes``, its node-cache row
  (:func:`cvid.log.tiles.node_row`), a cache derived from the tile and written in the
  same transaction, never published (NULL where none is kept). One row holds both, so a
  proof reads one row per tile it needs;
* ``cvid_checkpoints(tree_size, note)``: signed checkpoint notes.

Older stores keep node-cache rows in a table of their own, ``cvid_tile_nodes(level, idx,
data)``, or none at all. They are read as they are; the first write of a row adds the
``nodes`` column and copies the old table's rows into it (the table is left, unused, for
a process that opened the store before and still reads it).

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
        f" level INTEGER NOT NULL, idx BIGINT NOT NULL, data {blob} NOT NULL, nodes {blob},"
        " PRIMARY KEY (level, idx))",
        "CREATE TABLE IF NOT EXISTS cvid_checkpoints ("
        f" tree_size BIGINT PRIMARY KEY, note {blob} NOT NULL)",
    ]


# Where a store keeps its node-cache rows (see the module docstring).
NODES_COLUMN = "column"  # cvid_tiles.nodes
NODES_TABLE = "table"  # the cvid_tile_nodes table of an older store
NO_NODES = ""  # an older store still: no row anywhere


class SQLStore(ABC):
    """A log store over a DB-API connection; subclasses connect and lock."""

    LOCK_CLAUSE = ""  # appended to the SELECT of the log's row inside a write transaction
    BLOB = "BLOB"  # the backend's name for a byte string column

    def __init__(self, url: str) -> None:
        self._url = url
        self._schema_seen = False  # tables are never dropped: check once, not per read
        self._nodes: str | None = None  # where node-cache rows are kept, once known

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
    def _has_schema(self) -> tuple[bool, bool, bool]:
        """Whether cvid's tables exist, ``cvid_tiles.nodes`` does, and the table of an
        older layout, ``cvid_tile_nodes``, does."""

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

        Checks first that the tables exist and where node-cache rows are kept; a backend
        may override this (and learn the latter later, see :meth:`_nodes_layout`).
        """
        self._read_layout()
        return self._query(f"SELECT origin, tree_size FROM cvid_log WHERE id = 1{lock}")

    def _read_layout(self) -> str:
        """Read from the catalog where node-cache rows are kept (NODES_*).

        Raises:
            LogNotFoundError: no log has been initialised here.
        """
        log, column, table = self._has_schema()
        if not log:
            raise LogNotFoundError(f"no log has been initialised in {self._url}")
        self._nodes = NODES_COLUMN if column else NODES_TABLE if table else NO_NODES
        return self._nodes

    def _nodes_layout(self) -> str:
        """Where node-cache rows are kept (NODES_*), read from the catalog once."""
        return self._read_layout() if self._nodes is None else self._nodes

    def _add_nodes_column(self, *, copy: bool) -> None:
        """Inside the write transaction: make ``cvid_tiles.nodes`` the home of the rows.

        The catalog is read again under the writer lock (another process may have done
        it since this one looked). With ``copy``, the rows of an older store's node-cache
        table are copied into the column.
        """
        _, column, table = self._has_schema()
        if not column:
            self._query(f"ALTER TABLE cvid_tiles ADD COLUMN nodes {self.BLOB}")
            if copy and table:
                self._query(
                    "UPDATE cvid_tiles SET nodes = (SELECT n.data FROM cvid_tile_nodes n"
                    " WHERE n.level = cvid_tiles.level AND n.idx = cvid_tiles.idx)"
                    " WHERE level >= 0"
                )
        self._nodes = NODES_COLUMN

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
            # a table or column created in it is gone: look again
            self._schema_seen, self._nodes = False, None
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
        layout = self._nodes_layout()
        if layout == NODES_COLUMN:
            return self._read_rows("cvid_tiles", tiles, "nodes")
        if layout == NODES_TABLE:
            return self._read_rows("cvid_tile_nodes", tiles, "data")
        return [b""] * len(tiles)

    def clear_tile_nodes(self) -> None:
        """Drop every node-cache row (an older store's node-cache table is emptied too)."""
        with self._transaction():
            _, column, table = self._has_schema()
            if column:
                self._query("UPDATE cvid_tiles SET nodes = NULL WHERE nodes IS NOT NULL")
            else:
                self._add_nodes_column(copy=False)
            if table:
                self._query("DELETE FROM cvid_tile_nodes")
            self._nodes = NODES_COLUMN

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and node-cache rows; both from one row per tile where the store can."""
        if self._nodes_layout() != NODES_COLUMN:
            return self.read_tiles(tiles), self.read_tile_nodes(rows)
        return self._read_both(tiles, rows)

    def _read_both(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and rows from ``cvid_tiles``, each table row read once for both."""
        keys = list(dict.fromkeys([(t.level, t.index) for t in (*tiles, *rows)]))
        found: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        for i in range(0, len(keys), _READ_BATCH):
            batch = keys[i : i + _READ_BATCH]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(batch))
            params = [v for key in batch for v in key]
            for level, idx, data, nodes in self._query(
                f"SELECT level, idx, data, nodes FROM cvid_tiles WHERE {where}", params
            ):
                found[int(level), int(idx)] = (bytes(data), b"" if nodes is None else bytes(nodes))
        absent = (b"", b"")
        return (
            [found.get((t.level, t.index), absent)[0] for t in tiles],
            [found.get((t.level, t.index), absent)[1] for t in rows],
        )

    def _read_rows(self, table: str, tiles: Sequence[TileId], column: str = "data") -> list[bytes]:
        """One column of the rows of ``table`` keyed by ``tiles``; ``b""`` where absent."""
        found: dict[tuple[int, int], bytes] = {}
        for i in range(0, len(tiles), _READ_BATCH):
            batch = tiles[i : i + _READ_BATCH]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(batch))
            params = [v for t in batch for v in (t.level, t.index)]
            for level, idx, data in self._query(
                f"SELECT level, idx, {column} FROM {table} WHERE {where}", params
            ):
                if data is not None:
                    found[int(level), int(idx)] = bytes(data)
        return [found.get((t.level, t.index), b"") for t in tiles]

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

    def write_tiles(
        self, tiles: Sequence[tuple[TileId, bytes]], rows: Sequence[tuple[TileId, bytes]] = ()
    ) -> None:
        """Insert or replace tiles, each with its node-cache row where ``rows`` has one.

        A tile written without a row keeps the row it had: still right, since a tile only
        grows and a complete subtree's hash never changes (the row lacks the new nodes).
        """
        store = self._store
        if rows and store._nodes != NODES_COLUMN:  # perhaps an older store: give it the column
            store._add_nodes_column(copy=True)
        if store._nodes != NODES_COLUMN:  # no row to write, and perhaps no column to write it
            if tiles:
                store._query_many(
                    "INSERT INTO cvid_tiles (level, idx, data) VALUES (?, ?, ?)"
                    " ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data",
                    [(t.level, t.index, data) for t, data in tiles],
                )
            return
        nodes = {(t.level, t.index): row for t, row in rows}
        if tiles:
            store._query_many(
                "INSERT INTO cvid_tiles (level, idx, data, nodes) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data,"
                " nodes = COALESCE(excluded.nodes, cvid_tiles.nodes)",
                [
                    (t.level, t.index, data, nodes.pop((t.level, t.index), None))
                    for t, data in tiles
                ],
            )
        if nodes:  # rows of tiles written before
            self.write_tile_nodes([(TileId(*key), row) for key, row in nodes.items()])

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        return self._store.read_tile_nodes(tiles)

    def write_tile_nodes(self, rows: Sequence[tuple[TileId, bytes]]) -> None:
        """Set the rows beside their tiles (written before)."""
        if not rows:
            return
        store = self._store
        if store._nodes != NODES_COLUMN:  # perhaps an older store: give it the column
            store._add_nodes_column(copy=True)
        store._query_many(
            "UPDATE cvid_tiles SET nodes = ? WHERE level = ? AND idx = ?",
            [(data, t.level, t.index) for t, data in rows],
        )

    def set_tree_size(self, tree_size: int) -> None:
        self._store._query("UPDATE cvid_log SET tree_size = ? WHERE id = 1", [tree_size])


def driver_error(url: str, error: BaseException) -> StoreError:
    """A StoreError naming the store and the driver's message."""
    return StoreError(f"{url}: {type(error).__name__}: {error}")
