"""Helpers shared by the tests: where the outside vectors live, a reference Merkle tree."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cvid.log.store import LogStore, MemoryStore, open_store

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"  # the outside vectors, when the clone sits beside them
VECTORS = REPO_ROOT / "tests" / "vectors"  # their unchanged copy (tests/vectors/README.md)
CONFORMANCE = VECTORS / "rfc9162"
TLOG_VECTORS = VECTORS / "tlog-vectors.md"


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# A deliberately naive transcription of the RFC 9162 §2.1 recursive definitions, used
# only to cross-check the real implementation (which never recurses over data).


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n])."""
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]), with the empty proof for m == 0 and m == n."""
    if m in (0, len(d)):
        return []
    return ref_subproof(m, d, True)


def make_store(location: str, *, create: bool = True) -> LogStore:
    """Open (for 'memory': make) the store at ``location``."""
    return MemoryStore() if location == "memory" else open_store(location, create=create)
