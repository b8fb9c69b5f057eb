"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Pure: bytes in, bytes out. This module reads no storage and keeps no tree. Proof
*generation* is expressed as the list of complete subtrees whose hashes a proof
needs (:class:`NodeId`); the caller supplies those hashes through a
:class:`HashReader`, so a store holding complete-subtree hashes answers any proof
for any past tree size with O(log n) reads and no rebuild.

Proof *verification* follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
Range proofs (:func:`range_proof`, :func:`verify_range`) are not in the RFC: they
extend its inclusion-proof recursion to a contiguous run of leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from cvid.errors import ProofError, TreeSizeError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = HASH()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 §2.1.1 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 §2.1.1 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


class NodeId(NamedTuple):
    """A complete, aligned subtree: the leaves ``[index * 2**level, (index + 1) * 2**level)``.

    Level 0 nodes are leaf hashes. A named tuple: a proof makes and looks up dozens of
    them, and a tuple is made and hashed without running any Python code.
    """

    level: int
    index: int  # type: ignore[assignment]  # the field's name since before; tuple.index unused

    @property
    def start(self) -> int:
        """First leaf index covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf index covered."""
        return (self.index + 1) << self.level


class HashReader(Protocol):
    """Supplies the hashes of complete subtrees (the port proofs are generated through)."""

    def read_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Return the hash of each node, in the order asked."""
        ...


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Split the leaf range ``[start, end)`` into complete subtrees, left to right.

    The range must be one that the RFC 9162 recursion produces: ``start`` aligned to
    the smallest power of two not less than ``end - start``. Its MTH is then the
    right fold of the subtree hashes (see :func:`fold_range`).
    """
    nodes: list[NodeId] = []
    width = end - start
    position = start
    while width > 0:  # one step per set bit of the width, the largest first
        level = width.bit_length() - 1
        nodes.append(NodeId(level, position >> level))
        position += 1 << level
        width -= 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its :func:`range_nodes`, folded right to left."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, bottom-up."""
    path: list[tuple[int, int]] = []
    while end - start > 1:
        k = 1 << ((end - start - 1).bit_length() - 1)  # _largest_power_of_two_below, inline
        if index < start + k:
            path.append((start + k, end))  # PATH(m, D[0:k]) : MTH(D[k:n])
            end = start + k
        else:
            path.append((start, start + k))  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            start += k
    path.reverse()
    return path


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges."""
    path: list[tuple[int, int]] = []
    start, end, complete = 0, new_size, True
    while old_size != end:  # m (relative to start) differs from the range's size
        k = 1 << ((end - start - 1).bit_length() - 1)  # _largest_power_of_two_below, inline
        if old_size - start <= k:
            path.append((start + k, end))  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            end = start + k
        else:
            path.append((start, start + k))  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            start += k
            complete = False
    if not complete:
        path.append((start, end))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    path.reverse()
    return path


def _hash_ranges(ranges: Sequence[tuple[int, int]], reader: HashReader) -> list[bytes]:
    """MTH of each range, reading every needed subtree hash in one call."""
    nodes: list[NodeId] = []
    counts: list[int] = []
    for start, end in ranges:
        width = end - start
        if width <= 0 or width & (width - 1):
            split = range_nodes(start, end)
            nodes += split
            counts.append(len(split))
        else:  # a perfect subtree (most ranges of a proof): its MTH is the node's hash
            level = width.bit_length() - 1
            nodes.append(NodeId(level, start >> level))
            counts.append(1)
    hashes = reader.read_hashes(nodes)
    out: list[bytes] = []
    folded: dict[tuple[int, int], bytes] = {}  # MTH of the ranges of several nodes so far
    offset = 0
    for (start, end), count in zip(ranges, counts, strict=True):
        if count == 1:
            out.append(hashes[offset])
        else:
            # Fold right to left from the longest suffix already folded: a root and the
            # last element of its proofs end at the same leaf (MTH(D[k:n]), RFC 9162).
            first = offset + count - 1
            result = hashes[first]
            position = start
            for at in range(offset, first):
                suffix = folded.get((position, end))
                if suffix is not None:
                    first, result = at, suffix
                    break
                position += 1 << nodes[at].level
            for left in reversed(hashes[offset:first]):
                result = node_hash(left, result)
            folded[start, end] = result
            out.append(result)
        offset += count
    return out


def tree_root(tree_size: int, reader: HashReader) -> bytes:
    """Return MTH of the first ``tree_size`` leaves (RFC 9162 §2.1.1)."""
    if tree_size < 0:
        raise TreeSizeError(f"tree size must not be negative, got {tree_size}")
    if tree_size == 0:
        return EMPTY_ROOT
    return _hash_ranges([(0, tree_size)], reader)[0]


def inclusion_proof(leaf_index: int, tree_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.3.1 inclusion proof of ``leaf_index`` in a tree of ``tree_size``.

    Raises:
        TreeSizeError: ``leaf_index`` is not within ``[0, tree_size)``.
    """
    if not 0 <= leaf_index < tree_size:
        raise TreeSizeError(f"leaf index {leaf_index} is not in a tree of size {tree_size}")
    return _hash_ranges(_inclusion_ranges(leaf_index, 0, tree_size), reader)


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.4.1 consistency proof from ``old_size`` to ``new_size``.

    Equal sizes and ``old_size == 0`` give the empty proof.

    Raises:
        TreeSizeError: ``old_size`` is negative or greater than ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise TreeSizeError(f"cannot prove consistency from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    return _hash_ranges(_consistency_ranges(old_size, new_size), reader)


def inclusion_proof_and_root(
    leaf_index: int, tree_size: int, reader: HashReader
) -> tuple[bytes, list[bytes], bytes]:
    """The leaf hash, the :func:`inclusion_proof` and the :func:`tree_root`, read at once.

    One call of ``reader.read_hashes`` asks for every node the three need (a store reads
    them in one go).

    Raises:
        TreeSizeError: ``leaf_index`` is not within ``[0, tree_size)``.
    """
    if not 0 <= leaf_index < tree_size:
        raise TreeSizeError(f"leaf index {leaf_index} is not in a tree of size {tree_size}")
    ranges = _inclusion_ranges(leaf_index, 0, tree_size)
    *path, leaf, root = _hash_ranges(
        [*ranges, (leaf_index, leaf_index + 1), (0, tree_size)], reader
    )
    return leaf, path, root


def consistency_proof_and_roots(
    old_size: int, new_size: int, reader: HashReader
) -> tuple[bytes, list[bytes], bytes]:
    """The old root, the :func:`consistency_proof` and the new root, read at once.

    One call of ``reader.read_hashes`` asks for every node the three need.

    Raises:
        TreeSizeError: ``old_size`` is negative or greater than ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise TreeSizeError(f"cannot prove consistency from size {old_size} to {new_size}")
    if new_size == 0:
        return EMPTY_ROOT, [], EMPTY_ROOT
    if old_size == 0:
        return EMPTY_ROOT, [], tree_root(new_size, reader)
    ranges = [] if old_size == new_size else _consistency_ranges(old_size, new_size)
    *proof, old_root, new_root = _hash_ranges([*ranges, (0, old_size), (0, new_size)], reader)
    return old_root, proof, new_root


def _shift_until_odd(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0 (RFC 9162 steps 4.b.ii and 6.b.ii)."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, expected {HASH_SIZE}")


def verify_inclusion(
    *,
    leaf_hash: bytes,
    leaf_index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root_hash: bytes,
) -> None:
    """Verify an inclusion proof by RFC 9162 §2.1.3.2.

    Raises:
        ProofError: the proof does not show ``leaf_hash`` at ``leaf_index`` under ``root_hash``.
    """
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root hash", root_hash)
    for element in proof:
        _check_hash("proof element", element)
    # Step 1: compare leaf_index against tree_size.
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is not in a tree of size {tree_size}")
    # Steps 2-3.
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:  # 4.a
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 4.b
            r = node_hash(p, r)  # 4.b.i
            fn, sn = _shift_until_odd(fn, sn)  # 4.b.ii
        else:
            r = node_hash(r, p)  # 4.b "otherwise"
        fn >>= 1  # 4.c
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root_hash:
        raise ProofError("inclusion proof does not lead to the root hash")


def _consistency_edge_case(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Settle the cases RFC 9162 §2.1.4.2 leaves to the caller; True if settled (valid)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} is not within [0, new size {new_size}]")
    if old_size == 0:
        # Every tree extends the empty tree, so such a "proof" shows nothing; callers
        # that track a first checkpoint (a new witness) special-case it themselves.
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size != new_size:
        return False
    if proof:
        raise ProofError("consistency proof between equal sizes must be empty")
    if old_root != new_root:
        raise ProofError("trees of equal size have different roots")
    return True


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Verify a consistency proof by RFC 9162 §2.1.4.2.

    Edge cases the RFC leaves to the caller: equal sizes need an empty proof and equal
    roots; ``old_size == 0`` is always rejected, as the transparency-dev conformance
    suite demands: there is no proof to check, and a caller that trusts nothing yet
    has nothing to compare.

    Raises:
        ProofError: the proof does not show the old tree is a prefix of the new one.
    """
    if _consistency_edge_case(old_size, new_size, old_root, new_root, proof):
        return
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    for element in proof:
        _check_hash("proof element", element)
    # Step 1.
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    # Step 2: if first is an exact power of 2, prepend first_hash.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Step 3.
    fn, sn = old_size - 1, new_size - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6.a
            raise ProofError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:  # 6.b
            fr = node_hash(c, fr)  # 6.b.i
            sr = node_hash(c, sr)
            fn, sn = _shift_until_odd(fn, sn)  # 6.b.ii
        else:
            sr = node_hash(sr, c)  # 6.b "otherwise"
        fn >>= 1  # 6.c
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than needed")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


def _range_ranges(start: int, end: int, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    """RANGE(start, end, D[lo:hi]) as leaf ranges, in proof order (see :func:`range_proof`)."""
    if start == lo and end == hi:
        return  # RANGE(0, n, D[n]) = {}
    mid = lo + _largest_power_of_two_below(hi - lo)
    if end <= mid:
        _range_ranges(start, end, lo, mid, out)  # RANGE(s, e, D[0:k]) : MTH(D[k:n])
        out.append((mid, hi))
    elif start >= mid:
        _range_ranges(start, end, mid, hi, out)  # RANGE(s - k, e - k, D[k:n]) : MTH(D[0:k])
        out.append((lo, mid))
    else:
        _range_ranges(start, mid, lo, mid, out)  # RANGE(s, k, D[0:k]) :
        _range_ranges(mid, end, mid, hi, out)  # RANGE(0, e - k, D[k:n])


def range_proof(start: int, end: int, tree_size: int, reader: HashReader) -> list[bytes]:
    """Return the proof that the leaves ``[start, end)`` are in a tree of ``tree_size``.

    RFC 9162 defines no range proof; this one generalises the recursion of its inclusion
    proof, PATH(m, D[n]) in §2.1.3.1, from one leaf to a contiguous run. With ``k`` the
    largest power of two smaller than ``n`` (§2.1.1), the proof RANGE(s, e, D[n]) is:

    * ``{}`` when the range is the whole tree (``s == 0`` and ``e == n``);
    * ``RANGE(s, e, D[0:k]) : MTH(D[k:n])`` when ``e <= k`` (the range is on the left);
    * ``RANGE(s - k, e - k, D[k:n]) : MTH(D[0:k])`` when ``s >= k`` (on the right);
    * ``RANGE(s, k, D[0:k]) : RANGE(0, e - k, D[k:n])`` otherwise (it straddles ``k``).

    It is the hashes of the subtrees outside the range that the recursion meets, at most
    two per level; a range of one leaf gives exactly PATH(m, D[n]). Check it with
    :func:`verify_range`.

    Raises:
        TreeSizeError: the range is empty or not within ``[0, tree_size)``.
    """
    if not 0 <= start < end <= tree_size:
        raise TreeSizeError(f"leaf range [{start}, {end}) is not a non-empty range of {tree_size}")
    ranges: list[tuple[int, int]] = []
    _range_ranges(start, end, 0, tree_size, ranges)
    return _hash_ranges(ranges, reader)


def mth_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) of a non-empty list of leaf hashes, computed level by level.

    Pairing neighbours from the left and carrying an unpaired last node up unchanged
    splits every level exactly where the §2.1.1 recursion splits at ``k``.
    """
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_range(
    leaf_hashes: Sequence[bytes],
    start: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Verify a :func:`range_proof` for the leaves ``[start, start + len(leaf_hashes))``.

    Follows the RANGE recursion of :func:`range_proof` from the top: a subtree inside
    the range is hashed from the leaves (MTH, §2.1.1), a subtree outside it takes the
    next proof hash, in the order the recursion emitted them. Every proof hash must be
    used, and the result must be ``root``. Costs ``O(len(leaf_hashes) + log(tree_size))``
    hashes.

    As with §2.1.3.2, the root does not commit to the tree size: a proof can also pass
    for another size that gives the recursion the same shape. Take ``tree_size`` from
    the same signed statement as ``root``.

    Raises:
        ProofError: the proof does not show these leaves at ``start`` under ``root``,
            or it has hashes missing or left over.
    """
    _check_hash("root hash", root)
    for element in leaf_hashes:
        _check_hash("leaf hash", element)
    for element in proof:
        _check_hash("proof element", element)
    end = start + len(leaf_hashes)
    if not leaf_hashes:
        raise ProofError("a range proof needs at least one leaf")
    if not 0 <= start < end <= tree_size:
        raise ProofError(f"leaf range [{start}, {end}) is not within a tree of size {tree_size}")
    path = iter(proof)

    def take() -> bytes:
        element = next(path, None)
        if element is None:
            raise ProofError("range proof is shorter than the recursion needs")
        return element

    def walk(s: int, e: int, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) given the leaves [s, e) within it."""
        if s == lo and e == hi:
            return mth_of_leaf_hashes(leaf_hashes[s - start : e - start])
        mid = lo + _largest_power_of_two_below(hi - lo)
        if e <= mid:
            left = walk(s, e, lo, mid)
            return node_hash(left, take())
        if s >= mid:
            right = walk(s, e, mid, hi)
            return node_hash(take(), right)
        left = walk(s, mid, lo, mid)
        return node_hash(left, walk(mid, e, mid, hi))

    computed = walk(start, end, 0, tree_size)
    if next(path, None) is not None:
        raise ProofError("range proof is longer than the recursion needs")
    if computed != root:
        raise ProofError("range proof does not lead to the root hash")


class LeafHashes:
    """A :class:`HashReader` over a list of leaf hashes, for small trees and tests.

    Each node is computed on demand (O(2**level) hashing), so it suits trees that fit
    in memory; stores use tiles instead.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = list(leaf_hashes)

    def __len__(self) -> int:
        return len(self._leaves)

    def read_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Return each node's hash, computed from the leaves."""
        return [self._hash(node) for node in nodes]

    def _hash(self, node: NodeId) -> bytes:
        if node.end > len(self._leaves):
            raise TreeSizeError(f"node {node} lies beyond {len(self._leaves)} leaves")
        return perfect_root(self._leaves[node.start : node.end])


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree given its 2**k bottom-level hashes."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]
