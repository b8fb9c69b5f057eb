"""The embedded SQLite store (the default).

WAL journal with ``synchronous=FULL``: a commit that returned survives a crash of the
process and of the machine. One writer at a time across processes, by
``BEGIN IMMEDIATE`` with a busy timeout; readers never block.

Opening an existing file costs one statement besides the connection: the journal mode
is kept in the file (set when it is created, and again before a connection's first
write, in case another tool changed it), and the first read of the log's row also
learns which tables exist.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvid.errors import LogNotFoundError, StoreError
from cvid.log.store._sql import Row, SQLStore, driver_error, schema
from cvid.log.tiles import TileId

BUSY_TIMEOUT_S = 60.0
# Hash tiles are 8 KiB and entry bundles often more: on 16 KiB pages most rows fit in one
# page instead of a chain of overflow pages (a new file only; an older one keeps its size).
PAGE_SIZE = 16384


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

    def _read_rows(self, table: str, tiles: Sequence[TileId]) -> list[bytes]:
        """One primary-key lookup per tile, all by one statement prepared once.

        In process there is no round trip to save, and a lookup costs less than planning
        one statement that ORs many keys together (a cold proof reads about ten rows).
        """
        sql = f"SELECT data FROM {table} WHERE level = ? AND idx = ?"
        execute = self._conn.execute
        found: list[bytes] = []
        try:
            for tile in tiles:
                row = execute(sql, (tile.level, tile.index)).fetchone()
                found.append(b"" if row is None else bytes(row[0]))
        except sqlite3.Error as e:
            raise driver_error(self.url, e) from e
        return found

    def read_tiles_and_nodes(
        self, tiles: Sequence[TileId], rows: Sequence[TileId]
    ) -> tuple[list[bytes], list[bytes]]:
        """Tiles and node-cache rows, each by its own lookups (see :meth:`_read_rows`).

        The two need not come from one state of the log: it only grows, and a tile or
        row read later holds at least what an earlier one held.
        """
        return self.read_tiles(tiles), self.read_tile_nodes(rows)

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
        """The log's row and whether the node-cache table exists, in one statement."""
        try:
            rows = self._query(
                "SELECT origin, tree_size, EXISTS (SELECT 1 FROM sqlite_master"
                " WHERE type = 'table' AND name = 'cvid_tile_nodes')"
                f" FROM cvid_log WHERE id = 1{lock}"
            )
        except StoreError:
            if self._has_schema()[0]:
                raise
            raise LogNotFoundError(f"no log has been initialised in {self.url}") from None
        self._nodes_seen = bool(rows[0][2]) if rows else self._has_schema()[1]
        return [row[:2] for row in rows]

    def _has_schema(self) -> tuple[bool, bool]:
        rows = self._query(
            "SELECT name FROM sqlite_master WHERE name IN ('cvid_log', 'cvid_tile_nodes')"
        )
        names = {name for (name,) in rows}
        return "cvid_log" in names, "cvid_tile_nodes" in names

    def _create_schema(self) -> None:
        for statement in schema(self.BLOB):
            self._query(statement)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
