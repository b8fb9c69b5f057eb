"""Full audits of stored logs and of published tile directories, and tampering with both."""

from __future__ import annotations

import functools
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.errors import AuditError, Error, InputError, SignatureError
from cvid.log import merkle
from cvid.log.audit import AuditReport, audit_log, verify_tiles
from cvid.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from cvid.log.note import Signer
from cvid.log.publish import export_tiles
from cvid.log.store import LogStore, MemoryStore, open_store
from cvid.log.tiles import ENTRIES, encode_bundle, tile_path, tiles_for_size
from cvid.log.tlog import Log

ORIGIN = "example.org/log"
SIGNER = Signer.generate(ORIGIN, seed=bytes(32))
IMPOSTOR = Signer.generate(ORIGIN, seed=b"\x07" * 32)  # the log's name, another key
VERIFIER = SIGNER.verifier


def make_entries(start: int, count: int, seed: int = 0) -> list[bytes]:
    """Deterministic entries of varied lengths, some empty."""
    rng = random.Random(seed * 1_000_003 + start)
    return [
        f"entry {i}:".encode() + rng.randbytes(rng.choice([0, 1, 5, 40])) if i % 7 != 3 else b""
        for i in range(start, start + count)
    ]


def tile_counts(size: int) -> tuple[int, int]:
    """(hash tiles, hash tiles + entry bundles) of a tree of ``size``."""
    tiles = list(tiles_for_size(size))
    return sum(1 for t, _ in tiles if t.level != ENTRIES), len(tiles)


def check_report(report: AuditReport, log: Log, kept: int) -> None:
    size = log.size()
    leaves = merkle.LeafHashes([merkle.leaf_hash(e) for e in log.entries()])
    assert report.origin == ORIGIN
    assert report.tree_size == size
    assert report.root_hash == log.root() == merkle.tree_root(size, leaves)
    assert report.checkpoints_checked == kept


# --- a good log ---------------------------------------------------------------------------


def test_good_log_audits_clean(store: LogStore) -> None:
    log = Log(store)
    check_report(audit_log(log), log, 0)
    kept = 0
    for batch in [1, 254, 1, 44, 212, 1]:  # sizes 1, 255, 256, 300, 512, 513
        log.append(make_entries(log.size(), batch))
        if log.size() != 256:
            log.checkpoint(SIGNER)
            kept += 1
        advanced: list[int] = []
        check_report(audit_log(log, verifier=VERIFIER, progress=advanced.append), log, kept)
        assert sum(advanced) == log.size()
    check_report(audit_log(log), log, kept)


def test_tiles_checked_is_a_consistent_count() -> None:
    """``tiles_checked`` (printed by ``cvid log verify``) counts hash tiles, or all tiles.

    Either meaning is fine; a count that depends on whether the last bundle is full is not.
    """
    log = Log.create(MemoryStore(), ORIGIN)
    wrong = {}
    for size in [0, 1, 100, 255, 256, 257, 300, 512, 513, 600, 65536 + 3]:
        log.append(make_entries(log.size(), size - log.size()))
        checked = audit_log(log).tiles_checked
        if checked not in tile_counts(size):
            wrong[size] = (checked, tile_counts(size))
    assert not wrong, f"size: (tiles_checked, (hash tiles, all tiles)): {wrong}"


def test_exported_directory_verifies_with_the_same_result(store: LogStore, tmp_path: Path) -> None:
    log = Log(store)
    log.append(make_entries(0, 600))
    note = log.checkpoint(SIGNER)
    export = export_tiles(log, tmp_path / "tiles", note)
    assert (export.tree_size, export.unchanged) == (600, 0)
    assert export.written == tile_counts(600)[1]
    advanced: list[int] = []
    report = verify_tiles(tmp_path / "tiles", VERIFIER, progress=advanced.append)
    assert sum(advanced) == 600
    stored = audit_log(log, verifier=VERIFIER)
    assert (report.origin, report.tree_size, report.root_hash) == (
        stored.origin,
        stored.tree_size,
        stored.root_hash,
    )
    assert report.tiles_checked == stored.tiles_checked
    assert (tmp_path / "tiles" / "checkpoint").read_bytes() == note


# --- tampering with a SQLite store ----------------------------------------------------------

Tamper = Callable[[sqlite3.Connection], None]
SIZE = 300  # bundles 0 (full) and 1 (44); tiles 0/0 (full), 0/1 (44), 1/0 (1)


def _data(conn: sqlite3.Connection, level: int, idx: int) -> bytes:
    row = conn.execute(
        "SELECT data FROM cvid_tiles WHERE level = ? AND idx = ?", (level, idx)
    ).fetchone()
    assert row is not None, (level, idx)
    return bytes(row[0])


def _set(conn: sqlite3.Connection, level: int, idx: int, data: bytes) -> None:
    conn.execute("UPDATE cvid_tiles SET data = ? WHERE level = ? AND idx = ?", (data, level, idx))


def flip(level: int, idx: int, offset: int) -> Tamper:
    def tamper(conn: sqlite3.Connection) -> None:
        data = bytearray(_data(conn, level, idx))
        data[offset] ^= 0x01
        _set(conn, level, idx, bytes(data))

    return tamper


def edit(level: int, idx: int, change: Callable[[bytes], bytes]) -> Tamper:
    def tamper(conn: sqlite3.Connection) -> None:
        _set(conn, level, idx, change(_data(conn, level, idx)))

    return tamper


def delete(level: int, idx: int) -> Tamper:
    def tamper(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM cvid_tiles WHERE level = ? AND idx = ?", (level, idx))

    return tamper


def set_size(size: int) -> Tamper:
    def tamper(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE cvid_log SET tree_size = ?", (size,))

    return tamper


def keep_checkpoint(kept_at: int, checkpoint: Checkpoint, signer: Signer = SIGNER) -> Tamper:
    def tamper(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO cvid_checkpoints (tree_size, note) VALUES (?, ?)"
            " ON CONFLICT (tree_size) DO UPDATE SET note = excluded.note",
            (kept_at, sign_checkpoint(checkpoint, signer)),
        )

    return tamper


def resign_kept(signer: Signer) -> Tamper:
    """Replace the checkpoint at SIZE by a correct one signed with ``signer``."""

    def tamper(conn: sqlite3.Connection) -> None:
        (note,) = conn.execute(
            "SELECT note FROM cvid_checkpoints WHERE tree_size = ?", (SIZE,)
        ).fetchone()
        checkpoint, _ = open_checkpoint(bytes(note), VERIFIER)
        keep_checkpoint(SIZE, checkpoint, signer)(conn)

    return tamper


def drop_last_entry(data: bytes) -> bytes:
    entries = []
    offset = 0
    while offset < len(data):
        n = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + n])
        offset += 2 + n
    return encode_bundle(entries[:-1])


WRONG_ROOT = Checkpoint(ORIGIN, SIZE, bytes(32))
STORE_TAMPERING: list[tuple[str, Tamper, type[Exception]]] = [
    ("flip-full-hash-tile", flip(0, 0, 1000), AuditError),
    ("flip-partial-hash-tile", flip(0, 1, 43 * 32 + 31), AuditError),
    ("flip-level-1-partial-tile", flip(1, 0, 0), AuditError),
    ("flip-entry-in-full-bundle", flip(ENTRIES, 0, 2), AuditError),
    ("flip-entry-in-partial-bundle", flip(ENTRIES, 1, 3), AuditError),
    ("flip-length-prefix-in-bundle", flip(ENTRIES, 1, 1), AuditError),
    ("truncate-bundle-mid-entry", edit(ENTRIES, 1, lambda d: d[:-1]), AuditError),
    ("truncate-bundle-by-an-entry", edit(ENTRIES, 1, drop_last_entry), AuditError),
    ("truncate-full-hash-tile", edit(0, 0, lambda d: d[:-32]), AuditError),
    ("extra-entry-in-partial-bundle", edit(ENTRIES, 1, lambda d: d + b"\x00\x00"), AuditError),
    ("extra-hash-in-partial-tile", edit(0, 1, lambda d: d + bytes(32)), AuditError),
    ("delete-full-hash-tile", delete(0, 0), AuditError),
    ("delete-partial-hash-tile", delete(0, 1), AuditError),
    ("delete-level-1-tile", delete(1, 0), AuditError),
    ("delete-full-bundle", delete(ENTRIES, 0), AuditError),
    ("delete-partial-bundle", delete(ENTRIES, 1), AuditError),
    ("tree-size-beyond-data", set_size(SIZE + 1), AuditError),
    ("tree-size-whole-tiles-beyond", set_size(512), AuditError),
    ("tree-size-far-beyond", set_size(10_000), AuditError),
    ("tree-size-below-a-kept-checkpoint", set_size(SIZE - 1), AuditError),
    ("checkpoint-wrong-root", keep_checkpoint(SIZE, WRONG_ROOT), AuditError),
    (
        "checkpoint-beyond-log",
        keep_checkpoint(SIZE + 1, Checkpoint(ORIGIN, SIZE + 1, bytes(32))),
        AuditError,
    ),
    (
        "checkpoint-other-origin",
        keep_checkpoint(SIZE, Checkpoint("x.org/log", SIZE, bytes(32))),
        SignatureError,
    ),
    ("checkpoint-signed-by-another-key", resign_kept(IMPOSTOR), SignatureError),
]


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Path:
    """A SQLite log of SIZE entries with checkpoints at 100 and SIZE; audited clean."""
    path = tmp_path / "log.db"
    with Log.create(open_store(path, create=True), ORIGIN) as log:
        log.append(make_entries(0, 100))
        log.checkpoint(SIGNER)
        log.append(make_entries(100, SIZE - 100))
        log.checkpoint(SIGNER)
        check_report(audit_log(log, verifier=VERIFIER), log, 2)
    return path


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [pytest.param(t, e, id=name) for name, t, e in STORE_TAMPERING],
)
def test_tampered_store_fails_audit(
    sqlite_log: Path, tamper: Tamper, expected: type[Exception]
) -> None:
    conn = sqlite3.connect(sqlite_log, isolation_level=None)
    try:
        tamper(conn)
    finally:
        conn.close()
    with Log(open_store(sqlite_log)) as log, pytest.raises(expected):
        audit_log(log, verifier=VERIFIER)


def test_checkpoint_of_another_origin_is_caught_without_a_verifier(sqlite_log: Path) -> None:
    with Log(open_store(sqlite_log)) as log:
        log.store.save_checkpoint(
            SIZE, sign_checkpoint(Checkpoint("x.org/log", SIZE, log.root()), SIGNER)
        )
        with pytest.raises(AuditError, match="origin"):
            audit_log(log)


def test_checkpoint_kept_under_another_size_is_caught(sqlite_log: Path) -> None:
    """A valid checkpoint for size 100 kept as the one for SIZE."""
    with Log(open_store(sqlite_log)) as log:
        note_100 = dict(log.store.checkpoints())[100]
        log.store.save_checkpoint(SIZE, note_100)
        with pytest.raises(AuditError, match="says 100"):
            audit_log(log)


# --- tampering with a tile directory --------------------------------------------------------

DIR_SIZE = 600  # bundles 000, 001, 002.p/88; tiles 0/000, 0/001, 0/002.p/88, 1/000.p/2
TILE_FILES = [tile_path(t, w) for t, w in tiles_for_size(DIR_SIZE)]
BUNDLE_FILES = [p for p in TILE_FILES if p.startswith("tile/entries/")]
HASH_FILES = [p for p in TILE_FILES if not p.startswith("tile/entries/")]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tile directory of DIR_SIZE entries (every entry non-empty), verified clean."""
    log = Log.create(MemoryStore(), ORIGIN)
    log.append([f"published entry {i}".encode() for i in range(DIR_SIZE)])
    out = tmp_path_factory.mktemp("published") / "tiles"
    export_tiles(log, out, log.checkpoint(SIGNER))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        [*TILE_FILES, "checkpoint"]
    )
    assert verify_tiles(out, VERIFIER).tree_size == DIR_SIZE
    return out


@pytest.fixture
def tiles(published: Path, tmp_path: Path) -> Path:
    """A private copy of the published directory, to tamper with."""
    copy = tmp_path / "tiles"
    shutil.copytree(published, copy)
    return copy


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("rel", TILE_FILES)
def test_flipped_byte_in_a_tile_file_is_caught(tiles: Path, rel: str) -> None:
    path = tiles / rel
    # In a bundle, offset 2 is the first byte of the first entry; in a tile, mid-hash.
    _flip(path, 2 if rel in BUNDLE_FILES else len(path.read_bytes()) // 2 + 5)
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


@pytest.mark.parametrize("rel", ["tile/entries/000", "tile/entries/002.p/88"])
def test_flipped_length_prefix_in_a_bundle_is_an_audit_error(tiles: Path, rel: str) -> None:
    """A malformed published bundle is tampering (VerificationError), not a user's bad input."""
    _flip(tiles / rel, 1)
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


def test_one_stray_byte_after_a_bundle_is_an_audit_error(tiles: Path) -> None:
    path = tiles / "tile/entries/002.p/88"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


@pytest.mark.parametrize("rel", [*TILE_FILES, "checkpoint"])
def test_deleted_file_is_caught(tiles: Path, rel: str) -> None:
    (tiles / rel).unlink()
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


@pytest.mark.parametrize("rel", TILE_FILES)
def test_trailing_bytes_on_a_tile_file_are_caught(tiles: Path, rel: str) -> None:
    """Bytes after a tile's content are tampering, even when they parse.

    A bundle gets one more well-formed entry; a hash tile one more hash.
    """
    path = tiles / rel
    path.write_bytes(path.read_bytes() + (b"\x00\x05hello" if rel in BUNDLE_FILES else bytes(32)))
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


@pytest.mark.parametrize("rel", [p for p in HASH_FILES if ".p/" in p])
def test_partial_tile_padded_to_a_full_tile_is_caught(tiles: Path, rel: str) -> None:
    """``tile/0/002.p/88`` must hold 88 hashes, not 256 of which 88 are checked."""
    path = tiles / rel
    data = path.read_bytes()
    path.write_bytes(data + bytes(256 * 32 - len(data)))
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


def _published_checkpoint(tiles: Path) -> Checkpoint:
    checkpoint, _ = open_checkpoint((tiles / "checkpoint").read_bytes(), VERIFIER)
    return checkpoint


def test_checkpoint_signed_by_another_key_is_caught(tiles: Path) -> None:
    genuine = _published_checkpoint(tiles)
    (tiles / "checkpoint").write_bytes(sign_checkpoint(genuine, IMPOSTOR))
    with pytest.raises(SignatureError):
        verify_tiles(tiles, VERIFIER)
    assert verify_tiles(tiles, IMPOSTOR.verifier).root_hash == genuine.root_hash  # only the key


def test_resigned_checkpoint_with_another_root_is_caught(tiles: Path) -> None:
    genuine = _published_checkpoint(tiles)
    root = bytearray(genuine.root_hash)
    root[0] ^= 1
    forged = Checkpoint(ORIGIN, genuine.tree_size, bytes(root))
    (tiles / "checkpoint").write_bytes(sign_checkpoint(forged, SIGNER))
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


def test_resigned_checkpoint_beyond_the_tiles_is_caught(tiles: Path) -> None:
    genuine = _published_checkpoint(tiles)
    forged = Checkpoint(ORIGIN, genuine.tree_size + 1, genuine.root_hash)
    (tiles / "checkpoint").write_bytes(sign_checkpoint(forged, SIGNER))
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


@pytest.mark.parametrize(
    ("a", "b"),
    [("tile/entries/000", "tile/entries/001"), ("tile/0/000", "tile/0/001")],
    ids=["bundles", "hash-tiles"],
)
def test_swapped_files_are_caught(tiles: Path, a: str, b: str) -> None:
    first, second = (tiles / a).read_bytes(), (tiles / b).read_bytes()
    assert first != second
    (tiles / a).write_bytes(second)
    (tiles / b).write_bytes(first)
    with pytest.raises(AuditError):
        verify_tiles(tiles, VERIFIER)


# --- any single-byte change ----------------------------------------------------------------


@functools.cache
def _export(size: int, seed: int) -> tuple[tuple[str, bytes], ...]:
    """The files of an exported log of ``size`` random entries, by relative path."""
    log = Log.create(MemoryStore(), ORIGIN)
    log.append(make_entries(0, size, seed))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tiles"
        export_tiles(log, out, log.checkpoint(SIGNER))
        return tuple(
            sorted(
                (p.relative_to(out).as_posix(), p.read_bytes())
                for p in out.rglob("*")
                if p.is_file()
            )
        )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 600),
    seed=st.integers(0, 3),
    which=st.integers(0, 10**6),
    where=st.integers(0, 10**9),
    change=st.sampled_from(["replace", "insert", "delete"]),
    byte=st.integers(0, 255),
)
def test_any_single_byte_change_is_detected(
    *, size: int, seed: int, which: int, where: int, change: str, byte: int
) -> None:
    files = dict(_export(size, seed))
    name = sorted(files)[which % len(files)]
    data = bytearray(files[name])
    at = where % (len(data) + (change == "insert"))
    if change == "replace":
        data[at] ^= byte or 0x80
    elif change == "insert":
        data.insert(at, byte)
    else:
        del data[at]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(bytes(data) if rel == name else content)
        # Detected, as a cvid error (not a crash); which family a malformed bundle
        # raises is checked by the tests above.
        with pytest.raises(Error, match=r"\w"):
            verify_tiles(root, VERIFIER)


# --- export_tiles refuses checkpoints that are not this log's -------------------------------


def test_export_refuses_another_logs_checkpoint(tmp_path: Path) -> None:
    log = Log.create(MemoryStore(), ORIGIN)
    log.append(make_entries(0, 10))
    other = Signer.generate("other.example/log", seed=bytes(32))
    note = sign_checkpoint(Checkpoint("other.example/log", 10, log.root()), other)
    with pytest.raises(InputError, match=r"other\.example/log"):
        export_tiles(log, tmp_path / "tiles", note)
    assert not (tmp_path / "tiles").exists()


def test_export_refuses_a_checkpoint_with_another_root(tmp_path: Path) -> None:
    log = Log.create(MemoryStore(), ORIGIN)
    log.append(make_entries(0, 300))
    note = sign_checkpoint(Checkpoint(ORIGIN, 300, log.root(299)), SIGNER)
    with pytest.raises(AuditError):
        export_tiles(log, tmp_path / "tiles", note)
    assert not (tmp_path / "tiles").exists()


def test_export_refuses_a_checkpoint_beyond_the_log(tmp_path: Path) -> None:
    log = Log.create(MemoryStore(), ORIGIN)
    log.append(make_entries(0, 5))
    note = sign_checkpoint(Checkpoint(ORIGIN, 6, log.root()), SIGNER)
    with pytest.raises(InputError):
        export_tiles(log, tmp_path / "tiles", note)
    assert not (tmp_path / "tiles").exists()


# --- the node cache -----------------------------------------------------------------------


def _rows(path: Path) -> dict[tuple[int, int], bytes]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        found = conn.execute("SELECT level, idx, nodes FROM cvid_tiles WHERE nodes IS NOT NULL")
        return {(lv, i): bytes(d) for lv, i, d in found}
    finally:
        conn.close()


def _set_row(path: Path, level: int, index: int, data: bytes | None) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "UPDATE cvid_tiles SET nodes = ? WHERE level = ? AND idx = ?", (data, level, index)
        )
    finally:
        conn.close()


def test_every_node_cache_row_is_checked(sqlite_log: Path) -> None:
    rows = _rows(sqlite_log)
    assert (0, 0) in rows  # a full hash tile
    assert (0, 1) in rows  # a partial one
    with Log(open_store(sqlite_log)) as log:
        assert audit_log(log).node_rows_checked == len(rows)


@pytest.mark.parametrize("tile", [(0, 0), (0, 1)], ids=["full-tile", "partial-tile"])
def test_a_corrupted_node_cache_row_is_reported(sqlite_log: Path, tile: tuple[int, int]) -> None:
    row = bytearray(_rows(sqlite_log)[tile])
    row[len(row) // 2] ^= 0x01
    _set_row(sqlite_log, *tile, bytes(row))
    with Log(open_store(sqlite_log)) as log, pytest.raises(AuditError, match="node-cache row"):
        audit_log(log)


def test_a_missing_node_cache_row_is_not_an_error(sqlite_log: Path) -> None:
    rows = _rows(sqlite_log)
    _set_row(sqlite_log, 0, 0, None)
    with Log(open_store(sqlite_log)) as log:
        assert audit_log(log, verifier=VERIFIER).node_rows_checked == len(rows) - 1
