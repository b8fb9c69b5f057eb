"""The embedded SQLite store (the default).

WAL journal with ``synchronous=FULL``: a commit that returned survives a crash of the
process and of the machine. One writer at a time across processes, by
``BEGIN IMMEDIATE`` with a busy timeout; readers never block.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvid.errors import LogNotFoundError
from cvid.log.store._sql import Row, SQLStore, driver_error, schema

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
        exists = Path(path).is_file()
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

    def _begin_write(self) -> None:
        self._query("BEGIN IMMEDIATE")

    def _begin_snapshot(self) -> None:
        self._query("BEGIN")  # deferred: the first read fixes the WAL snapshot

    def _end(self, *, commit: bool) -> None:
        if self._conn.in_transaction:
            self._query("COMMIT" if commit else "ROLLBACK")

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
