"""Full audits: rebuild a log's tree from its entries and compare everything stored.

Two sources are audited the same way: a store (``cvid log verify``) and a published
C2SP tlog-tiles log, a directory or a URL (``cvid log verify-tiles``), which needs
nothing but the tiles and the log's verifier key. Every hash tile is recomputed from the entry
bundles and compared byte for byte; the root is compared with the signed checkpoint.
A store's node-cache rows (the interior nodes of each hash tile, kept to answer proofs
quickly) are recomputed from the tiles they are derived from and compared too.

Reads files and stores, but never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cvid.errors import AuditError, TileError
from cvid.log import merkle
from cvid.log.checkpoint import Checkpoint, open_checkpoint
from cvid.log.merkle import HASH_SIZE
from cvid.log.note import Note, NoteVerifier
from cvid.log.tiles import (
    ENTRIES,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashReader,
    TileId,
    TileReader,
    TreeEdge,
    decode_bundle,
    node_row,
    tile_path,
)
from cvid.log.tlog import Log

Progress = Callable[[int], None]  # called with the number of entries just checked
#: Read a published file by its path (``checkpoint``, ``tile/0/000``): its bytes, or
#: None when there is no such file. Other failures raise AuditError.
Fetch = Callable[[str], bytes | None]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What an audit checked; it only exists if everything agreed."""

    origin: str
    tree_size: int
    root_hash: bytes
    tiles_checked: int
    checkpoints_checked: int
    node_rows_checked: int = 0  # a store's node-cache rows (``b""``: none kept, not counted)


def width_at(tile: TileId, tree_size: int) -> int:
    """How many hashes (or entries) ``tile`` holds in a tree of ``tree_size``."""
    count = tree_size if tile.level == ENTRIES else tree_size >> (TILE_HEIGHT * tile.level)
    return max(0, min(TILE_WIDTH, count - tile.index * TILE_WIDTH))


def _decode(data: bytes, name: str) -> list[bytes]:
    try:
        return decode_bundle(data)
    except TileError as e:
        raise AuditError(f"{name}: {e}") from e


def _check_tile(tile: TileId, stored: bytes, expected: bytes, *, strict: bool) -> None:
    """Compare a stored tile with the recomputed one.

    ``strict``: byte for byte. Otherwise the stored tile may be a wider version of
    the same tile (a later, grown copy), so only the recomputed prefix must match.
    """
    if tile.level == ENTRIES:
        entries = decode_bundle(expected)
        held = _decode(stored, f"entry bundle {tile.index}")
        same = held == entries if strict else held[: len(entries)] == entries
        if not same:
            raise AuditError(f"entry bundle {tile.index} differs from the entries read")
    elif (stored if strict else stored[: len(expected)]) != expected:
        raise AuditError(
            f"hash tile {tile.level}/{tile.index} differs from the hashes of the entries"
        )


def replay(
    tree_size: int,
    bundles: Iterable[bytes],
    reader: TileReader,
    *,
    strict: bool,
    progress: Progress | None = None,
) -> tuple[bytes, int]:
    """Rebuild the tree of ``tree_size`` from its entry bundles; check every tile ``reader`` has.

    Args:
        strict: tiles must be exactly as wide as ``tree_size`` implies (a store read
            in a snapshot); otherwise a grown copy of a tile is accepted.

    Returns:
        The recomputed root and the number of files compared (bundles and hash tiles).

    Raises:
        AuditError: a tile or bundle disagrees with the entries, or entries are missing.
    """
    edge = TreeEdge(size=0, levels=[[]])
    checked = 0
    source = iter(bundles)
    for index in range(-(-tree_size // TILE_WIDTH)):
        width = width_at(TileId(ENTRIES, index), tree_size)
        data = next(source, None)
        if data is None:
            raise AuditError(f"entry bundle {index} is missing")
        held = _decode(data, f"entry bundle {index}")
        entries = held[:width]
        if len(entries) != width or (strict and len(held) != width):
            raise AuditError(f"entry bundle {index} holds {len(held)} entries, not {width}")
        completed = list(edge.extend(entries))
        hashes = [(t, blob) for t, blob in completed if t.level != ENTRIES]
        for (tile, blob), stored in zip(
            hashes, reader.read_tiles([t for t, _ in hashes]), strict=True
        ):
            _check_tile(tile, stored, blob, strict=strict)
        checked += len(completed)
        if progress:
            progress(width)
    partial = edge.partial_tiles()
    for (tile, blob), stored in zip(
        partial, reader.read_tiles([t for t, _ in partial]), strict=True
    ):
        _check_tile(tile, stored, blob, strict=strict)
    checked += len(partial)
    return merkle.tree_root(tree_size, TileHashReader(tree_size, reader)), checked


def _check_checkpoint(
    note: bytes, origin: str, root_of: Callable[[int], bytes], verifier: NoteVerifier | None
) -> Checkpoint:
    if verifier is not None:
        checkpoint, _ = open_checkpoint(note, verifier, origin=origin)
    else:
        checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    if checkpoint.origin != origin:
        raise AuditError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    if checkpoint.root_hash != root_of(checkpoint.tree_size):
        raise AuditError(f"checkpoint at size {checkpoint.tree_size} has a wrong root hash")
    return checkpoint


def audit_log(
    log: Log, *, verifier: NoteVerifier | None = None, progress: Progress | None = None
) -> AuditReport:
    """Audit a stored log end to end, and every checkpoint it has issued.

    Raises:
        AuditError: entries, tiles and checkpoints disagree.
        SignatureError: with ``verifier``, a kept checkpoint is not validly signed.
    """
    with log.store.snapshot():  # appends made meanwhile are not seen: tiles match exactly
        size = log.size()
        bundles = (data for _, data in log.store.iter_tiles(ENTRIES))
        root, checked = replay(size, bundles, log.store, strict=True, progress=progress)
        rows = check_node_rows(log, size)
        kept = log.store.checkpoints()
        for kept_size, note in kept:
            if kept_size > size:
                raise AuditError(f"a checkpoint of size {kept_size} exceeds the log's {size}")
            checkpoint = _check_checkpoint(note, log.origin, log.root, verifier)
            if checkpoint.tree_size != kept_size:
                raise AuditError(f"checkpoint kept at size {kept_size} says {checkpoint.tree_size}")
    return AuditReport(log.origin, size, root, checked, len(kept), rows)


NODE_BATCH = 64  # hash tiles whose node-cache rows are read at once


def check_node_rows(log: Log, tree_size: int) -> int:
    """Compare every node-cache row the store keeps with the row recomputed from its hash
    tile (already checked against the entries); return how many were compared.

    A tile without a row is fine (the row is a cache: the tile is hashed instead). The
    row of a partial tile may be that of a narrower copy of it (kept by an append that
    wrote the tile's row before the tile grew): such a row is compared with that width.

    Raises:
        AuditError: a row differs from the one its tile gives.
    """
    store = log.store
    checked = 0
    level, count = 0, tree_size
    while count > 0:
        batch: list[tuple[TileId, list[bytes]]] = []
        for index, data in store.iter_tiles(level):
            width = min(TILE_WIDTH, count - index * TILE_WIDTH)
            if width <= 0:
                break
            hashes = [data[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)]
            batch.append((TileId(level, index), hashes))
            if len(batch) >= NODE_BATCH:
                checked += _compare_rows(store.read_tile_nodes([t for t, _ in batch]), batch)
                batch = []
        if batch:
            checked += _compare_rows(store.read_tile_nodes([t for t, _ in batch]), batch)
        level, count = level + 1, count >> TILE_HEIGHT
    return checked


def _compare_rows(rows: Sequence[bytes], tiles: Sequence[tuple[TileId, list[bytes]]]) -> int:
    checked = 0
    for row, (tile, hashes) in zip(rows, tiles, strict=True):
        if not row:
            continue
        checked += 1
        if row == node_row(hashes):
            continue
        narrower = len(hashes) < TILE_WIDTH and any(
            row == node_row(hashes[:width]) for width in range(len(hashes) - 1, 0, -1)
        )
        if not narrower:
            raise AuditError(
                f"the node-cache row of hash tile {tile.level}/{tile.index} differs from "
                "the tile it is derived from"
            )
    return checked


class PublishedTiles:
    """A :class:`TileReader` over a published tlog-tiles log, for a tree of ``tree_size``.

    Each tile is read from its partial path for this size or, failing that, its full
    path (the log may have grown since); the file must have exactly the shape its
    path names, so no stray byte goes unread.
    """

    def __init__(self, fetch: Fetch, tree_size: int) -> None:
        self._fetch = fetch
        self._tree_size = tree_size

    def _read(self, tile: TileId) -> bytes:
        width = width_at(tile, self._tree_size)
        if width == 0:
            raise AuditError(f"tile {tile} is beyond tree size {self._tree_size}")
        for shape in dict.fromkeys((width, TILE_WIDTH)):
            name = tile_path(tile, shape)
            data = self._fetch(name)
            if data is None:
                continue
            count = len(_decode(data, name)) if tile.level == ENTRIES else len(data) / HASH_SIZE
            if count != shape:
                raise AuditError(f"{name} holds {count:g} items, not {shape}")
            return data
        raise AuditError(f"{tile_path(tile, width)} is missing")

    def read_tiles(self, tiles: Sequence[TileId]) -> list[bytes]:
        """Read each tile's file; a missing or misshapen one is an AuditError."""
        return [self._read(tile) for tile in tiles]

    def bundles(self) -> Iterator[bytes]:
        """Entry bundles in order."""
        for index in range(-(-self._tree_size // TILE_WIDTH)):
            yield self._read(TileId(ENTRIES, index))


def directory_fetch(root: Path) -> Fetch:
    """Read published files from a tile directory."""

    def fetch(name: str) -> bytes | None:
        try:
            return (root / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise AuditError(f"cannot read {root / name}: {e.strerror}") from e

    return fetch


def verify_tiles(
    directory: Path, verifier: NoteVerifier, *, progress: Progress | None = None
) -> AuditReport:
    """Verify a published tlog-tiles directory (see :func:`verify_published`)."""
    return verify_published(directory_fetch(directory), verifier, progress=progress)


def verify_published(
    fetch: Fetch, verifier: NoteVerifier, *, progress: Progress | None = None
) -> AuditReport:
    """Verify a published tlog-tiles log with nothing but the log's verifier key.

    Raises:
        AuditError: the checkpoint, a tile or a bundle is missing or disagrees with
            the entries, or the checkpoint's root is not the root of the entries.
        SignatureError, NoteFormatError, CheckpointFormatError: the checkpoint is bad.
    """
    note = fetch("checkpoint")
    if note is None:
        raise AuditError("the published log has no checkpoint")
    checkpoint, _ = open_checkpoint(note, verifier)
    tiles = PublishedTiles(fetch, checkpoint.tree_size)
    root, checked = replay(
        checkpoint.tree_size, tiles.bundles(), tiles, strict=False, progress=progress
    )
    if root != checkpoint.root_hash:
        raise AuditError("the root of the published entries is not the signed checkpoint's")
    return AuditReport(checkpoint.origin, checkpoint.tree_size, root, checked, 1)
