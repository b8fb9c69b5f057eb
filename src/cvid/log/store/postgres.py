"""The PostgreSQL store, for a deployment shared by several service processes.

Writers serialise on ``SELECT … FOR UPDATE`` of the log's one row; a commit that
returned is durable under PostgreSQL's default ``synchronous_commit = on``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg

from cvid.log.store._sql import Row, SQLStore, driver_error, schema

_SCHEMA_LOCK = 0x63766964  # advisory lock key ("cvid") held while creating tables


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStore(SQLStore):
    """A log in a PostgreSQL database (tables in the connection's ``search_path``)."""

    LOCK_CLAUSE = " FOR UPDATE"
    BLOB = "BYTEA"

    def __init__(self, url: str) -> None:
        super().__init__(redact(url))
        try:
            self._conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as e:
            raise driver_error(self.url, e) from e

    @staticmethod
    def _sql(sql: str) -> str:
        # Every query text is built from this package's constants with ? placeholders;
        # values always travel as parameters.
        return sql.replace("?", "%s")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            cursor = self._conn.execute(self._sql(sql), params)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as e:
            raise driver_error(self.url, e) from e

    def _query_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
        except psycopg.Error as e:
            raise driver_error(self.url, e) from e

    def _begin_write(self) -> None:
        self._query("BEGIN")

    def _begin_snapshot(self) -> None:
        self._query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _end(self, *, commit: bool) -> None:
        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self._query("COMMIT" if commit else "ROLLBACK")

    def _has_schema(self) -> tuple[bool, bool, bool]:
        rows = self._query(
            "SELECT to_regclass('cvid_log') IS NOT NULL,"
            " EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('cvid_tiles')"
            " AND attname = 'nodes' AND NOT attisdropped),"
            " to_regclass('cvid_tile_nodes') IS NOT NULL"
        )
        return bool(rows[0][0]), bool(rows[0][1]), bool(rows[0][2])

    def _create_schema(self) -> None:
        self._query("SELECT pg_advisory_xact_lock(?)", [_SCHEMA_LOCK])
        for statement in schema(self.BLOB):
            self._query(statement)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
