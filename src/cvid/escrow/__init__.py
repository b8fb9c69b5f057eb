"""Declarations in escrow: commit to a complete declaration, reveal it cell by cell.

A generic salted-commitment construction under a Merkle root (see
:mod:`cvid.escrow.commit`); the reveal side proves each run of leaves against the
root and tracks which cells are completely revealed (:mod:`cvid.escrow.reveal`); the
committer keeps its secrets in an encrypted file (:mod:`cvid.escrow.store`).
"""

from __future__ import annotations

from cvid.escrow.commit import Escrow, Item, Partition, commit
from cvid.escrow.reveal import (
    Reveal,
    RevealedLeaf,
    RevealTracker,
    VerifiedReveal,
    reveal_cells,
    verify_reveal,
)
from cvid.escrow.store import load_escrow, save_escrow

__all__ = [
    "Escrow",
    "Item",
    "Partition",
    "Reveal",
    "RevealTracker",
    "RevealedLeaf",
    "VerifiedReveal",
    "commit",
    "load_escrow",
    "reveal_cells",
    "save_escrow",
    "verify_reveal",
]
