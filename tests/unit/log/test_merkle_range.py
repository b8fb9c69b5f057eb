"""Range proofs: every range of every small tree verifies, and any change to it fails.

One caveat, shared with RFC 9162 inclusion proofs: the root does not encode the tree
size (a checkpoint signs the two together), so a proof checked against another size
passes exactly when that size gives the recursion the same shape. The property test
works out, from a symbolic transcription of the recursion, which wrong sizes and
starts must pass, and requires every other one to fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import ProofError, TreeSizeError
from cvid.log import merkle
from cvid.log.merkle import LeafHashes
from tests.support import ref_mth

MAX_SIZE = 70


def _leaves(size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"leaf %d" % i) for i in range(size)]


def _flip(value: bytes, bit: int) -> bytes:
    mutable = bytearray(value)
    mutable[bit // 8 % len(mutable)] ^= 1 << (bit % 8)
    return bytes(mutable)


# --- a symbolic transcription of RANGE, for the oracle ------------------------------------
# A tree is a leaf index (int) or a pair of trees: what a hash stands for.

Tree = Any


def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _mth_tree(lo: int, hi: int) -> Tree:
    if hi - lo == 1:
        return lo
    mid = lo + _k(hi - lo)
    return (_mth_tree(lo, mid), _mth_tree(mid, hi))


def _ref_ranges(start: int, end: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """RANGE(start, end, D[lo:hi]) as the subtrees it lists, in order."""
    if (start, end) == (lo, hi):
        return []
    mid = lo + _k(hi - lo)
    if end <= mid:
        return [*_ref_ranges(start, end, lo, mid), (mid, hi)]
    if start >= mid:
        return [*_ref_ranges(start, end, mid, hi), (lo, mid)]
    return [*_ref_ranges(start, mid, lo, mid), *_ref_ranges(mid, end, mid, hi)]


def _symbolic_accepts(
    leaves: list[Tree], proof: list[Tree], start: int, size: int, root: Tree
) -> bool:
    """Whether the verification recursion, run on what each input stands for, gives root."""
    end = start + len(leaves)
    if not leaves or not 0 <= start < end <= size:
        return False
    path = iter(proof)
    short = object()

    def mth(trees: list[Tree]) -> Tree:
        if len(trees) == 1:
            return trees[0]
        k = _k(len(trees))
        return (mth(trees[:k]), mth(trees[k:]))

    def walk(s: int, e: int, lo: int, hi: int) -> Tree:
        if (s, e) == (lo, hi):
            return mth(leaves[s - start : e - start])
        mid = lo + _k(hi - lo)
        if e <= mid:
            return (walk(s, e, lo, mid), next(path, short))
        if s >= mid:
            right = walk(s, e, mid, hi)
            return (next(path, short), right)
        return (walk(s, mid, lo, mid), walk(mid, e, mid, hi))

    computed = walk(start, end, 0, size)
    return next(path, short) is short and computed == root and short not in _flatten(computed)


def _flatten(tree: Tree) -> list[Tree]:
    return [tree] if not isinstance(tree, tuple) else [x for t in tree for x in _flatten(t)]


def _rejects(**kwargs: Any) -> bool:
    try:
        merkle.verify_range(**kwargs)
    except ProofError:
        return True
    return False


def test_every_range_of_every_size_verifies() -> None:
    for size in range(1, MAX_SIZE + 1):
        hashes = _leaves(size)
        tree = LeafHashes(hashes)
        root = merkle.tree_root(size, tree)
        for start in range(size):
            for end in range(start + 1, size + 1):
                proof = merkle.range_proof(start, end, size, tree)
                merkle.verify_range(hashes[start:end], start, size, proof, root)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 64, 70])
def test_one_leaf_range_is_the_inclusion_proof(size: int) -> None:
    tree = LeafHashes(_leaves(size))
    for index in range(size):
        assert merkle.range_proof(index, index + 1, size, tree) == merkle.inclusion_proof(
            index, size, tree
        )


def test_whole_tree_needs_no_proof() -> None:
    hashes = _leaves(11)
    assert merkle.range_proof(0, 11, 11, LeafHashes(hashes)) == []
    merkle.verify_range(hashes, 0, 11, [], merkle.tree_root(11, LeafHashes(hashes)))


def test_proof_length_is_logarithmic() -> None:
    size = 1000
    tree = LeafHashes(_leaves(size))
    longest = max(
        len(merkle.range_proof(s, e, size, tree)) for s in range(0, size, 37) for e in (s + 1, size)
    )
    assert longest <= 2 * (size - 1).bit_length()


def test_mth_of_leaf_hashes_matches_the_rfc_recursion() -> None:
    for size in range(1, MAX_SIZE + 1):
        data = [b"d%d" % i for i in range(size)]
        assert merkle.mth_of_leaf_hashes([merkle.leaf_hash(d) for d in data]) == ref_mth(data)


@pytest.mark.parametrize(("start", "end", "size"), [(0, 0, 4), (2, 1, 4), (-1, 2, 4), (3, 5, 4)])
def test_bad_ranges_are_refused(start: int, end: int, size: int) -> None:
    with pytest.raises(TreeSizeError):
        merkle.range_proof(start, end, size, LeafHashes(_leaves(4)))


def test_verify_refuses_malformed_input() -> None:
    hashes = _leaves(4)
    root = merkle.tree_root(4, LeafHashes(hashes))
    with pytest.raises(ProofError, match="at least one leaf"):
        merkle.verify_range([], 0, 4, [], root)
    with pytest.raises(ProofError, match="not within"):
        merkle.verify_range(hashes[:2], 3, 4, [], root)
    with pytest.raises(ProofError, match="not within"):
        merkle.verify_range(hashes[:2], -1, 4, [], root)
    with pytest.raises(ProofError, match="leaf hash is 31 bytes"):
        merkle.verify_range([bytes(31)], 0, 4, [], root)
    with pytest.raises(ProofError, match="proof element"):
        merkle.verify_range(hashes[:1], 0, 4, [b"x"], root)
    with pytest.raises(ProofError, match="root hash"):
        merkle.verify_range(hashes[:1], 0, 4, [], root[:5])


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(1, MAX_SIZE),
    a=st.integers(min_value=0),
    b=st.integers(min_value=0),
    bit=st.integers(0, 255),
    shift=st.integers(1, 5),
)
def test_range_property(size: int, a: int, b: int, bit: int, shift: int) -> None:
    data = [b"x%d" % i for i in range(size)]
    hashes = [merkle.leaf_hash(d) for d in data]
    tree = LeafHashes(hashes)
    start = a % size
    end = start + 1 + b % (size - start)
    root = merkle.tree_root(size, tree)
    assert root == ref_mth(data)
    proof = merkle.range_proof(start, end, size, tree)
    ranges = _ref_ranges(start, end, 0, size)
    assert proof == [ref_mth(data[lo:hi]) for lo, hi in ranges]
    base: dict[str, Any] = {
        "leaf_hashes": hashes[start:end],
        "start": start,
        "tree_size": size,
        "proof": proof,
        "root": root,
    }
    merkle.verify_range(**base)

    leaves = hashes[start:end]
    mutations: list[dict[str, Any]] = [{"root": _flip(root, bit)}]
    for i in range(len(leaves)):
        changed = list(leaves)
        changed[i] = _flip(changed[i], bit)
        mutations.append({"leaf_hashes": changed})
    for i in range(len(proof)):
        changed = list(proof)
        changed[i] = _flip(changed[i], bit)
        mutations.append({"proof": changed})
    if proof:
        mutations += [{"proof": proof[:-1]}, {"proof": proof[1:]}]
    if len(proof) > 1:
        mutations.append({"proof": proof[::-1]})
    mutations += [{"proof": [*proof, root]}, {"proof": [root, *proof]}]
    if len(leaves) > 1:
        mutations += [{"leaf_hashes": leaves[:-1]}, {"leaf_hashes": leaves[1:]}]
        mutations.append({"leaf_hashes": leaves[::-1]})
    mutations.append({"leaf_hashes": [*leaves, leaves[-1]]})
    for change in mutations:
        assert _rejects(**{**base, **change}), change

    # A wrong start or size fails unless it leaves the recursion's shape unchanged.
    symbols = list(range(start, end))
    meaning = [_mth_tree(lo, hi) for lo, hi in ranges]
    truth = _mth_tree(0, size)
    assert _symbolic_accepts(symbols, meaning, start, size, truth)
    for other_start, other_size in [
        (start + shift, size),
        (start - shift, size),
        (start, size - shift),
        (start, size + shift),
        (start + shift, size + shift),
    ]:
        if other_start < 0 or other_size < 1:
            continue
        expected = _symbolic_accepts(symbols, meaning, other_start, other_size, truth)
        change = {"start": other_start, "tree_size": other_size}
        assert _rejects(**{**base, **change}) is not expected, change
        if other_size == size:
            assert not expected, "for a given size, a range proof binds the position"


def test_a_wrong_size_can_pass_only_with_the_same_shape() -> None:
    """As with RFC 9162 inclusion proofs: the size comes with the root, from a checkpoint."""
    hashes = _leaves(3)
    tree = LeafHashes(hashes)
    root = merkle.tree_root(3, tree)
    proof = merkle.range_proof(0, 1, 3, tree)
    merkle.verify_range(hashes[:1], 0, 4, proof, root)  # D[2:4] stands in for D[2:3]
    assert merkle.inclusion_proof(0, 3, tree) == proof
    merkle.verify_inclusion(
        leaf_hash=hashes[0], leaf_index=0, tree_size=4, proof=proof, root_hash=root
    )
    with pytest.raises(ProofError):
        merkle.verify_range(hashes[:1], 0, 5, proof, root)
