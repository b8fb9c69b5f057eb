"""RFC 9162 hashing and proofs: outside vectors, a reference transcription, properties."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import ProofError, TreeSizeError
from cvid.log import merkle
from cvid.log.merkle import LeafHashes, NodeId
from tests.support import CONFORMANCE, TLOG_VECTORS, ref_mth, ref_path, ref_proof


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _cases(kind: str) -> list[Any]:
    files = sorted((CONFORMANCE / kind).rglob("*.json"))
    assert len(files) > 20, f"conformance vectors for {kind} are missing"
    return [pytest.param(path, id=str(path.relative_to(CONFORMANCE))) for path in files]


def _accepts(check: Any) -> bool:
    try:
        check()
    except ProofError:
        return False
    return True


@pytest.mark.parametrize("path", _cases("inclusion"))
def test_inclusion_conformance(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]

    def check() -> None:
        merkle.verify_inclusion(
            leaf_hash=_b64(case["leafHash"]),
            leaf_index=case["leafIdx"],
            tree_size=case["treeSize"],
            proof=proof,
            root_hash=_b64(case["root"]),
        )

    assert _accepts(check) is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", _cases("consistency"))
def test_consistency_conformance(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]

    def check() -> None:
        merkle.verify_consistency(
            old_size=case["size1"],
            new_size=case["size2"],
            old_root=_b64(case["root1"]),
            new_root=_b64(case["root2"]),
            proof=proof,
        )

    assert _accepts(check) is (not case["wantErr"]), case["desc"]


# --- tlog-vectors.md §1, parsed from the file itself -----------------------------------

_VECTORS = TLOG_VECTORS.read_text()
_LEAVES = [
    bytes.fromhex(h)
    for h in re.findall(r"^\| \d \| `([0-9a-f]{0,32})`(?: \(empty\))? \|", _VECTORS, re.M)
]
_ROOTS = {
    int(n): bytes.fromhex(h)
    for n, h in re.findall(r"^\| (\d) \| `([0-9a-f]{64})` \|", _VECTORS, re.M)
}
_FULL = re.findall(r"[0-9a-f]{64}", _VECTORS)


def _expand(abbrev: str) -> bytes:
    head, tail = abbrev.split("…")
    (match,) = {h for h in _FULL if h.startswith(head) and h.endswith(tail)}
    return bytes.fromhex(match)


def _proof_rows(title: str) -> list[tuple[int, int, list[bytes]]]:
    section = _VECTORS.split(title, 1)[1].split("###", 1)[0]
    rows = []
    for a, b, cell in re.findall(r"^\| (\d) \| (\d) \| (.*?) \|$", section, re.M):
        proof = [] if cell == "(empty)" else [_expand(x.strip()) for x in cell.split(",")]
        rows.append((int(a), int(b), proof))
    return rows


_INCLUSION_ROWS = _proof_rows("### Inclusion proofs")
_CONSISTENCY_ROWS = _proof_rows("### Consistency proofs")
_TREE = LeafHashes([merkle.leaf_hash(d) for d in _LEAVES])


def test_vector_file_parsed() -> None:
    assert len(_LEAVES) == 8
    assert sorted(_ROOTS) == list(range(9))
    assert len(_INCLUSION_ROWS) == 5
    assert len(_CONSISTENCY_ROWS) == 5


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    assert merkle.tree_root(size, _TREE) == _ROOTS[size]
    assert ref_mth(_LEAVES[:size]) == _ROOTS[size]


def test_empty_root_is_hash_of_empty_string() -> None:
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(("index", "size", "proof"), _INCLUSION_ROWS)
def test_inclusion_proofs_match_vectors(index: int, size: int, proof: list[bytes]) -> None:
    assert merkle.inclusion_proof(index, size, _TREE) == proof
    merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(_LEAVES[index]),
        leaf_index=index,
        tree_size=size,
        proof=proof,
        root_hash=_ROOTS[size],
    )


@pytest.mark.parametrize(("old", "new", "proof"), _CONSISTENCY_ROWS)
def test_consistency_proofs_match_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert merkle.consistency_proof(old, new, _TREE) == proof
    merkle.verify_consistency(
        old_size=old, new_size=new, old_root=_ROOTS[old], new_root=_ROOTS[new], proof=proof
    )


# --- edge cases and bad requests -------------------------------------------------------


def test_consistency_edge_cases() -> None:
    assert merkle.consistency_proof(0, 5, _TREE) == []
    assert merkle.consistency_proof(5, 5, _TREE) == []
    merkle.verify_consistency(
        old_size=5, new_size=5, old_root=_ROOTS[5], new_root=_ROOTS[5], proof=[]
    )
    with pytest.raises(ProofError, match="empty tree proves nothing"):
        merkle.verify_consistency(
            old_size=0, new_size=5, old_root=merkle.EMPTY_ROOT, new_root=_ROOTS[5], proof=[]
        )
    with pytest.raises(ProofError, match="different roots"):
        merkle.verify_consistency(
            old_size=5, new_size=5, old_root=_ROOTS[5], new_root=_ROOTS[6], proof=[]
        )
    with pytest.raises(ProofError, match="must be empty"):
        merkle.verify_consistency(
            old_size=5, new_size=5, old_root=_ROOTS[5], new_root=_ROOTS[5], proof=[_ROOTS[1]]
        )
    with pytest.raises(ProofError, match="not within"):
        merkle.verify_consistency(
            old_size=6, new_size=5, old_root=_ROOTS[6], new_root=_ROOTS[5], proof=[]
        )


@pytest.mark.parametrize(("index", "size"), [(-1, 4), (4, 4), (0, 0)])
def test_inclusion_proof_out_of_range(index: int, size: int) -> None:
    with pytest.raises(TreeSizeError):
        merkle.inclusion_proof(index, size, _TREE)


@pytest.mark.parametrize(("old", "new"), [(-1, 4), (5, 4)])
def test_consistency_proof_out_of_range(old: int, new: int) -> None:
    with pytest.raises(TreeSizeError):
        merkle.consistency_proof(old, new, _TREE)


def test_negative_tree_size_and_reader_bounds() -> None:
    with pytest.raises(TreeSizeError):
        merkle.tree_root(-1, _TREE)
    with pytest.raises(TreeSizeError):
        _TREE.read_hashes([NodeId(level=4, index=0)])


def test_wrong_hash_lengths_are_rejected() -> None:
    with pytest.raises(ProofError, match="leaf hash is 31 bytes"):
        merkle.verify_inclusion(
            leaf_hash=bytes(31), leaf_index=0, tree_size=1, proof=[], root_hash=bytes(32)
        )
    with pytest.raises(ProofError, match="proof element"):
        merkle.verify_consistency(
            old_size=1, new_size=2, old_root=bytes(32), new_root=bytes(32), proof=[b"x"]
        )


def test_node_id_range() -> None:
    node = NodeId(level=3, index=2)
    assert (node.start, node.end) == (16, 24)
    assert merkle.range_nodes(0, 7) == [NodeId(2, 0), NodeId(1, 2), NodeId(0, 6)]


# --- properties ------------------------------------------------------------------------

_data = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


def _flip(value: bytes, bit: int) -> bytes:
    mutable = bytearray(value)
    mutable[bit // 8 % len(mutable)] ^= 1 << (bit % 8)
    return bytes(mutable)


@settings(max_examples=200)
@given(data=_data, pick=st.integers(min_value=0), bit=st.integers(0, 255))
def test_inclusion_property(data: list[bytes], pick: int, bit: int) -> None:
    size = len(data)
    index = pick % size
    tree = LeafHashes([merkle.leaf_hash(d) for d in data])
    root = merkle.tree_root(size, tree)
    proof = merkle.inclusion_proof(index, size, tree)
    assert root == ref_mth(data)
    assert proof == ref_path(index, data)
    leaf = merkle.leaf_hash(data[index])
    merkle.verify_inclusion(
        leaf_hash=leaf, leaf_index=index, tree_size=size, proof=proof, root_hash=root
    )
    mutations: list[dict[str, Any]] = [
        {"leaf_hash": _flip(leaf, bit)},
        {"root_hash": _flip(root, bit)},
    ]
    for i in range(len(proof)):
        mutated = list(proof)
        mutated[i] = _flip(mutated[i], bit)
        mutations.append({"proof": mutated})
    if proof:
        mutations.append({"proof": proof[:-1]})
    mutations.append({"proof": [*proof, root]})
    base: dict[str, Any] = {
        "leaf_hash": leaf,
        "leaf_index": index,
        "tree_size": size,
        "proof": proof,
        "root_hash": root,
    }
    for change in mutations:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(**{**base, **change})


@settings(max_examples=200)
@given(data=_data, pick=st.integers(min_value=0), bit=st.integers(0, 255))
def test_consistency_property(data: list[bytes], pick: int, bit: int) -> None:
    new = len(data)
    old = pick % (new + 1)
    tree = LeafHashes([merkle.leaf_hash(d) for d in data])
    old_root, new_root = merkle.tree_root(old, tree), merkle.tree_root(new, tree)
    proof = merkle.consistency_proof(old, new, tree)
    assert proof == ref_proof(old, data)
    base: dict[str, Any] = {
        "old_size": old,
        "new_size": new,
        "old_root": old_root,
        "new_root": new_root,
        "proof": proof,
    }
    if old == 0:
        assert proof == []
        with pytest.raises(ProofError, match="empty tree"):
            merkle.verify_consistency(**base)
        return
    merkle.verify_consistency(**base)
    mutations: list[dict[str, Any]] = [{"new_root": _flip(new_root, bit)}]
    if old != new:
        # RFC 9162 §2.1.4.2 does not read the old root when it is a perfect subtree
        # that also appears in the path; a flipped old root must still fail.
        mutations.append({"old_root": _flip(old_root, bit)})
    for i in range(len(proof)):
        mutated = list(proof)
        mutated[i] = _flip(mutated[i], bit)
        mutations.append({"proof": mutated})
    mutations.append({"proof": [*proof, new_root]})
    if proof:
        mutations.append({"proof": proof[:-1]})
    for change in mutations:
        with pytest.raises(ProofError):
            merkle.verify_consistency(**{**base, **change})
