"""Publish a log as a static C2SP tlog-tiles directory.

Incremental: tiles are immutable once written (a partial tile's path names its
width), so only files that do not yet exist are written; the checkpoint is written
last, atomically, so a reader never sees a checkpoint whose tiles are missing.
Does not serve HTTP and does not delete superseded partial tiles.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cvid.errors import AuditError, InputError
from cvid.log.checkpoint import Checkpoint
from cvid.log.note import Note
from cvid.log.tiles import published_tile, tile_path, tiles_for_size
from cvid.log.tlog import Log

_BATCH = 256  # tiles read from the store at once


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did."""

    tree_size: int
    written: int
    unchanged: int


def _write_atomically(path: Path, data: bytes, *, sync: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_tiles(
    log: Log, out: Path, note: bytes, *, progress: Callable[[int], None] | None = None
) -> ExportReport:
    """Write the tiles of ``note``'s tree size, then ``note`` as ``out/checkpoint``.

    Raises:
        InputError: ``note`` is not a checkpoint of this log.
        AuditError: ``note``'s root is not this log's root at its size.
    """
    checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    if checkpoint.origin != log.origin:
        raise InputError(f"checkpoint is for {checkpoint.origin!r}, not {log.origin!r}")
    if checkpoint.root_hash != log.root(checkpoint.tree_size):
        raise AuditError(f"checkpoint root is not the log's root at size {checkpoint.tree_size}")
    wanted = [
        (tile, width)
        for tile, width in tiles_for_size(checkpoint.tree_size)
        if not (out / tile_path(tile, width)).exists()
    ]
    total = sum(1 for _ in tiles_for_size(checkpoint.tree_size))
    for i in range(0, len(wanted), _BATCH):
        batch = wanted[i : i + _BATCH]
        for (tile, width), data in zip(
            batch, log.store.read_tiles([t for t, _ in batch]), strict=True
        ):
            _write_atomically(out / tile_path(tile, width), published_tile(tile, width, data))
        if progress:
            progress(len(batch))
    if wanted:
        os.sync()  # tiles reach the disk before the checkpoint that points at them
    _write_atomically(out / "checkpoint", note, sync=True)
    return ExportReport(checkpoint.tree_size, len(wanted), total - len(wanted))
