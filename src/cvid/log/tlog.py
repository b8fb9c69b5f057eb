"""The log: a store, the Merkle tree over it, and its signed checkpoints.

This is where the pure pieces meet storage: :class:`Log` appends through a store's
write transaction and answers roots and proofs for any tree size by reading O(log n)
tiles. It does no clock reading and holds no keys: signers are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from cvid.errors import AppendConflictError, ConfigError, TreeSizeError
from cvid.log import merkle
from cvid.log.proof import ConsistencyProof, InclusionProof
from cvid.log.store.base import LogStore, append_entries
from cvid.log.tiles import (
    ENTRIES,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashReader,
    TileId,
    TreeEdge,
    decode_bundle,
)

if TYPE_CHECKING:
    from cvid.log.note import NoteSigner

# Checkpoints (and so the signature library) are imported where a checkpoint is made or an
# origin checked: a process that only reads the log or proves from it never loads them.


class Log:
    """One transparency log over a :class:`LogStore`."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.origin, size = store.head()
        # The largest committed size seen: the log only grows, so a size up to it needs
        # no read of the current size before a proof, a root or an entry is served.
        self._size_seen = size
        # The tree's edge after this object's last committed append: the next append
        # at that size extends it instead of reading the edge's tiles again.
        self._edge: TreeEdge | None = None

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    @staticmethod
    def check_origin(origin: str) -> None:
        """Raise CheckpointFormatError unless ``origin`` can head a checkpoint."""
        from cvid.log.checkpoint import Checkpoint

        Checkpoint(origin=origin, tree_size=0, root_hash=merkle.EMPTY_ROOT)

    @classmethod
    def create(cls, store: LogStore, origin: str) -> Log:
        """Initialise a new, empty log with ``origin`` in ``store``."""
        cls.check_origin(origin)
        store.create(origin)
        return cls(store)

    def size(self) -> int:
        """The committed tree size."""
        size = self.store.tree_size()
        self._size_seen = max(self._size_seen, size)
        return size

    def append(self, entries: Iterable[bytes], *, expected_size: int | None = None) -> range:
        """Append ``entries`` in one transaction; return their leaf indices.

        Args:
            entries: the entries, in order.
            expected_size: append only if the log still has this size (the size the
                caller checked the entries against); else nothing is appended.

        Raises:
            EntryError: an entry is too long (nothing is appended).
            AppendConflictError: the log's size is not ``expected_size``.
            StoreError: the store failed (nothing is appended).
        """
        with self.store.write() as txn:
            size = txn.tree_size()
            if expected_size is not None and size != expected_size:
                raise AppendConflictError(
                    f"the log grew to {size} entries since size {expected_size} was read"
                )
            kept, self._edge = self._edge, None  # a failed append leaves it half-extended
            edge = kept if kept is not None and kept.size == size else None
            if edge is None:
                edge = TreeEdge.load(size, txn, keep_nodes=True)
            indices = append_entries(txn, entries, edge=edge)
        self._edge = edge  # committed
        self._size_seen = max(self._size_seen, edge.size)
        return indices

    def _resolve(self, tree_size: int | None) -> int:
        if tree_size is not None and 0 <= tree_size <= self._size_seen:
            return tree_size
        current = self.size()
        if tree_size is None:
            return current
        if not 0 <= tree_size <= current:
            raise TreeSizeError(f"tree size {tree_size} is not in [0, {current}]")
        return tree_size

    def entry(self, index: int) -> bytes:
        """The entry at ``index``."""
        if not 0 <= index < self._size_seen:
            size = self.size()
            if not 0 <= index < size:
                raise TreeSizeError(f"no entry {index} in a log of size {size}")
        (bundle,) = self.store.read_tiles([TileId(ENTRIES, index >> TILE_HEIGHT)])
        return decode_bundle(bundle)[index % TILE_WIDTH]

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Entries ``[start, end)`` in order (``end`` defaults to the current size)."""
        end = self._resolve(end)
        if not 0 <= start <= end:
            raise TreeSizeError(f"range [{start}, {end}) is not in the log")
        position = start
        for index, data in self.store.iter_tiles(ENTRIES, start >> TILE_HEIGHT):
            for entry in decode_bundle(data)[position - (index << TILE_HEIGHT) :]:
                if position >= end:
                    return
                yield entry
                position += 1
            if position >= end:
                return

    def hashes(self, tree_size: int) -> merkle.HashReader:
        """A hash reader for the tree of ``tree_size`` (which must not exceed the log)."""
        return TileHashReader(tree_size, self.store)

    def root(self, tree_size: int | None = None) -> bytes:
        """MTH of the tree of ``tree_size`` (default: current)."""
        size = self._resolve(tree_size)
        return merkle.tree_root(size, self.hashes(size))

    def inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
        """Proof that entry ``leaf_index`` is in the tree of ``tree_size`` (default: current)."""
        size = self._resolve(tree_size)
        leaf, path, root = merkle.inclusion_proof_and_root(leaf_index, size, self.hashes(size))
        return InclusionProof(
            tree_size=size, leaf_index=leaf_index, leaf_hash=leaf, root_hash=root, proof=tuple(path)
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``old_size`` is a prefix of the one of ``new_size``."""
        new = self._resolve(new_size)
        if not 0 <= old_size <= new:
            raise TreeSizeError(f"old size {old_size} is not in [0, {new}]")
        old_root, proof, new_root = merkle.consistency_proof_and_roots(
            old_size, new, self.hashes(new)
        )
        return ConsistencyProof(
            old_size=old_size,
            old_root=old_root,
            new_size=new,
            new_root=new_root,
            proof=tuple(proof),
        )

    def checkpoint(
        self, signer: NoteSigner, *, tree_size: int | None = None, extensions: Sequence[str] = ()
    ) -> bytes:
        """Sign, keep and return the checkpoint note for ``tree_size`` (default: current)."""
        from cvid.log.checkpoint import Checkpoint, sign_checkpoint

        if signer.name != self.origin:
            # tlog-checkpoint: the log's key name is its origin, so verifiers find it.
            raise ConfigError(f"key {signer.name!r} is not the key of log {self.origin!r}")
        size = self._resolve(tree_size)
        body = Checkpoint(
            origin=self.origin,
            tree_size=size,
            root_hash=self.root(size),
            extensions=tuple(extensions),
        )
        note = sign_checkpoint(body, signer)
        self.store.save_checkpoint(size, note)
        return note

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The kept checkpoint of the largest size, if any."""
        return self.store.latest_checkpoint()
