"""Log storage: one :class:`LogStore` port, memory, SQLite and PostgreSQL backends."""

from __future__ import annotations

from pathlib import Path

from cvid.log.store.base import LogStore, WriteTransaction, append_entries, rebuild_tile_nodes
from cvid.log.store.memory import MemoryStore

__all__ = [
    "LogStore",
    "MemoryStore",
    "WriteTransaction",
    "append_entries",
    "open_store",
    "rebuild_tile_nodes",
]


def open_store(location: str | Path, *, create: bool = False) -> LogStore:
    """Open the store at ``location``: a ``postgresql://`` URL or a SQLite file path.

    Args:
        location: ``postgresql://…``/``postgres://…``, ``sqlite:///path``, or a path.
        create: allow creating a new SQLite file (for ``log init``).
    """
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        from cvid.log.store.postgres import PostgresStore

        return PostgresStore(text)
    from cvid.log.store.sqlite import SQLiteStore

    return SQLiteStore(text.removeprefix("sqlite://"), create=create)
