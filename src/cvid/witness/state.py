"""A witness's durable state: per log origin, the latest checkpoint it cosigned.

tlog-witness "add-checkpoint": checking the old size against the latest cosigned
checkpoint and persisting the new one "must be performed atomically", or two
requests could both advance from one size and the second would roll the first back.
:meth:`WitnessState.advance` is that compare-and-swap, in one SQLite ``BEGIN
IMMEDIATE`` transaction (a write lock taken before the read), committed before it
returns.

Signed checkpoints a witness refused as inconsistent are kept as evidence in a
separate table; they never change the cosigned state.

What this module does not do: verify anything (the caller checked the signature
and the consistency proof against the state it read), or read the clock (callers
pass ``at``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cvid.errors import StoreError
from cvid.log.checkpoint import MAX_TREE_SIZE
from cvid.log.merkle import EMPTY_ROOT, HASH_SIZE

MAX_EVIDENCE = 1000  # kept refused requests per log
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin      TEXT PRIMARY KEY,
    tree_size   TEXT NOT NULL,      -- decimal: sizes may exceed SQLite's signed 64 bits
    root_hash   BLOB NOT NULL,
    checkpoint  BLOB NOT NULL,      -- the signed note as received
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      TEXT NOT NULL,
    status      INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    request     BLOB NOT NULL,      -- the whole add-checkpoint body as received
    received_at INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class LogState:
    """What a witness last cosigned for one origin; size 0 and the empty root if nothing."""

    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: bytes | None = None

    def __post_init__(self) -> None:
        if type(self.tree_size) is not int or not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise StoreError(f"witness state holds an invalid tree size {self.tree_size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise StoreError("witness state holds a root hash that is not 32 bytes")


@dataclass(frozen=True)
class Advance:
    """The outcome of a compare-and-swap: whether it advanced, and the state after it."""

    advanced: bool
    current: LogState


@dataclass(frozen=True)
class Evidence:
    """A signed checkpoint the witness refused as inconsistent with what it cosigned."""

    origin: str
    status: int
    reason: str
    request: bytes
    received_at: int


class WitnessState:
    """The witness's SQLite state file; safe to use from several threads and processes.

    Each call opens its own connection, so one instance can serve concurrent requests.

    Raises:
        StoreError: the file cannot be opened or created.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open witness state {self.path}: {e}") from e
        try:
            yield db
        except sqlite3.Error as e:
            raise StoreError(f"witness state {self.path}: {e}") from e
        finally:
            db.close()

    @staticmethod
    def _read(db: sqlite3.Connection, origin: str) -> LogState:
        row = db.execute(
            "SELECT tree_size, root_hash, checkpoint FROM cosigned WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            # tlog-witness: "(or zero if it never cosigned a checkpoint for that origin)".
            return LogState(origin, 0, EMPTY_ROOT)
        size, root, checkpoint = row
        if not isinstance(size, str) or not size.isdigit():
            raise StoreError(f"witness state holds a malformed size for {origin!r}")
        return LogState(origin, int(size), bytes(root), bytes(checkpoint))

    def get(self, origin: str) -> LogState:
        """The latest cosigned checkpoint of ``origin`` (size 0, empty root if none).

        Raises:
            StoreError: the state cannot be read or holds invalid data.
        """
        with self._connect() as db:
            return self._read(db, origin)

    def origins(self) -> list[str]:
        """The origins the witness has cosigned a checkpoint for, sorted."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT origin FROM cosigned ORDER BY origin")]

    def advance(
        self,
        *,
        expected: LogState,
        tree_size: int,
        root_hash: bytes,
        checkpoint: bytes,
        at: int,
    ) -> Advance:
        """Record a cosigned checkpoint if the state is still ``expected``.

        The caller verified the new checkpoint against ``expected`` (the state it
        read); if another request changed the state since, nothing is written and
        ``advanced`` is False, with the state that request left.

        Raises:
            StoreError: ``tree_size`` is smaller than the expected size (a rollback
                is never written), or the database failed.
        """
        new = LogState(expected.origin, tree_size, root_hash, checkpoint)
        if tree_size < expected.tree_size:
            raise StoreError(
                f"refusing to roll {expected.origin!r} back from {expected.tree_size} "
                f"to {tree_size}"
            )
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                current = self._read(db, expected.origin)
                if (current.tree_size, current.root_hash) != (
                    expected.tree_size,
                    expected.root_hash,
                ):
                    db.execute("ROLLBACK")
                    return Advance(advanced=False, current=current)
                db.execute(
                    "INSERT INTO cosigned (origin, tree_size, root_hash, checkpoint, cosigned_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET"
                    " tree_size = excluded.tree_size, root_hash = excluded.root_hash,"
                    " checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at",
                    (new.origin, str(tree_size), root_hash, checkpoint, at),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return Advance(advanced=True, current=new)

    def record_evidence(
        self, *, origin: str, status: int, reason: str, request: bytes, at: int
    ) -> None:
        """Keep a validly signed request that was refused as inconsistent.

        tlog-witness: the witness "MAY log the request even if the consistency proof
        doesn't verify ... as it might be proof of log misbehavior".
        Each distinct request is kept once, and at most ``MAX_EVIDENCE`` per log: a
        422 request can be built by anyone holding a signed checkpoint, so the table
        must not grow without bound.
        """
        with self._connect() as db:
            seen = db.execute(
                "SELECT COUNT(*), SUM(request = ?) FROM evidence WHERE origin = ?",
                (request, origin),
            ).fetchone()
            if seen[0] >= MAX_EVIDENCE or seen[1]:
                return
            db.execute(
                "INSERT INTO evidence (origin, status, reason, request, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (origin, status, reason, request, at),
            )

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        """The refused, validly signed requests, oldest first (of ``origin`` if given)."""
        query = "SELECT origin, status, reason, request, received_at FROM evidence"
        params: tuple[str, ...] = ()
        if origin is not None:
            query += " WHERE origin = ?"
            params = (origin,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [Evidence(o, s, r, bytes(q), t) for o, s, r, q, t in rows]
