"""The embedded SQLite store (the default).

WAL journal with ``synchronous=FULL``: a commit that returned survives a crash of the
process and of the machine. One writer at a time across processes, by
``BEGIN IMMEDIATE`` with a busy timeout; readers never block.

Opening an existing file costs the connection and two statements: the journal mode is
kept in the file (set when it is created, and again before a connection's first write,
in case another tool changed it), and the log's row is read as it always is (the catalog
only if that fails, or if an older layout is met, see :mod:`cvid.log.store._sql`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cvid.errors import LogNotFoundError, StoreError
from cvid.log.store._sql import NODES_COLUMN, Row, SQLStore, driver_error, schema
from cvid.log.tiles import TileId

BUSY_TIMEOUT_S = 60.0
# Hash tiles are 8 KiB and entry bundles often more: on 16 KiB pages most rows fit in one
# page instead of a chain of overflow pages (a new file only; an older one keeps its size).
PAGE_SIZE = 16384

_T = TypeVar("_T")


class SQLiteStore(SQLStore):
    """A log in one SQLite file.

    Args:
        path: the database file.
        create: create the file if it does not exist (only ``log init`` does).
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        super().__init__(str(path))
        exists = os.path.isfile(path)
        if not create and not exists:
            raise LogNotFoundError(f"no log database at {path}")
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False
            )
            if not exists:  # only a new file can choose its page size (before WAL is set)
                self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e
        self._wal_checked = not exists

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e

    def _query_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e

    def _read_rows(self, table: str, tiles: Sequence[TileId], column: str = "data") -> list[bytes]:
        """One primary-key lookup per tile, all by one statement prepared once.

        In process there is no round trip to save, and a lookup costs less than planning
        one statement that ORs many keys together (a cold proof reads a handful of rows).
        """
        sql = f"SELECT {column} FROM {table} WHERE level = ? AND idx = ?"
        execute = self._conn.execute
        found: list[bytes] = []
        try:
            for tile in tiles:
                row = execute(sql, (tile.level, tile.index)).fetchone()
                found.append(b"" if row is None or row[0] is None else bytes(row[0]))
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e
        return found

    def _read_both(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and rows by one lookup per table row, whichever of the two is asked."""
        execute = self._conn.execute
        found: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        try:
            for tile in (*tiles, *rows):
                key = (tile.level, tile.index)
                if key not in found:
                    row = execute(
                        "SELECT data, nodes FROM cvid_tiles WHERE level = ? AND idx = ?", key
                    ).fetchone()
                    found[key] = (
                        (b"", b"") if row is None else (bytes(row[0]), bytes(row[1] or b""))
                    )
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e
        tile_data = [found[t.level, t.index][0] for t in tiles]
        return tile_data, [found[t.level, t.index][1] for t in rows]

    # A store of the current layout is read without asking the catalog first: a statement
    # naming cvid_tiles.nodes fails on an older store, and only then is the catalog read.

    def _layout_first(self, current: Callable[[], _T], known: Callable[[], _T]) -> _T:
        """``current()`` (a read of the current layout) while the layout is not known yet;
        when it fails on an older store, the layout is read and ``known()`` answers (as
        it does from then on)."""
        if self._nodes is None:
            try:
                found = current()
            except StoreError:
                if self._read_layout() == NODES_COLUMN:
                    raise
            else:
                self._nodes = NODES_COLUMN
                return found
        return known()

    def read_tile_nodes(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Node-cache rows of hash tiles, empty bytes where none is stored."""
        return self._layout_first(
            lambda: self._read_rows("cvid_tiles", tiles, "nodes"),
            lambda: super(SQLiteStore, self).read_tile_nodes(tiles),
        )

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and node-cache rows, one lookup per table row (see :meth:`_read_both`)."""
        return self._layout_first(
            lambda: self._read_both(tiles, rows),
            lambda: super(SQLiteStore, self).read_tiles_and_nodes(tiles, rows),
        )

    def _begin_write(self) -> None:
        if not self._wal_checked:  # WAL is stored in the file: readers need not set it
            self._query("PRAGMA journal_mode = WAL")
            self._wal_checked = True
        self._query("BEGIN IMMEDIATE")

    def _begin_snapshot(self) -> None:
        self._query("BEGIN")  # deferred: the first read fixes the WAL snapshot

    def _end(self, *, commit: bool) -> None:
        if self._conn.in_transaction:
            self._query("COMMIT" if commit else "ROLLBACK")

    def _first_head(self, lock: str) -> list[Row]:
        """The log's row, by the statement that reads it every time.

        The catalog is read only if it fails (to tell a missing log from another error);
        where node-cache rows are kept is learnt when they are first read.
        """
        try:
            return self._query(f"SELECT origin, tree_size FROM cvid_log WHERE id = 1{lock}")
        except StoreError:
            if self._has_schema()[0]:
                raise
            raise LogNotFoundError(f"no log has been initialised in {self.url}") from None

    def _has_schema(self) -> tuple[bool, bool, bool]:
        rows = self._query(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
            " AND name = 'cvid_log'),"
            " EXISTS (SELECT 1 FROM pragma_table_info('cvid_tiles') WHERE name = 'nodes'),"
            " EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
            " AND name = 'cvid_tile_nodes')"
        )
        return bool(rows[0][0]), bool(rows[0][1]), bool(rows[0][2])

    def _create_schema(self) -> None:
        for statement in schema(self.BLOB):
            self._query(statement)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
