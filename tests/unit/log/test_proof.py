"""The JSON contract of proofs: round trips and strict parsing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvid.errors import InputError, ProofError
from cvid.log import merkle
from cvid.log.merkle import LeafHashes
from cvid.log.proof import ConsistencyProof, InclusionProof

_TREE = LeafHashes([merkle.leaf_hash(bytes([i])) for i in range(11)])


def _inclusion(index: int, size: int) -> InclusionProof:
    return InclusionProof(
        tree_size=size,
        leaf_index=index,
        leaf_hash=merkle.leaf_hash(bytes([index])),
        root_hash=merkle.tree_root(size, _TREE),
        proof=tuple(merkle.inclusion_proof(index, size, _TREE)),
    )


def _consistency(old: int, new: int) -> ConsistencyProof:
    return ConsistencyProof(
        old_size=old,
        old_root=merkle.tree_root(old, _TREE),
        new_size=new,
        new_root=merkle.tree_root(new, _TREE),
        proof=tuple(merkle.consistency_proof(old, new, _TREE)),
    )


@given(size=st.integers(1, 11), pick=st.integers(0, 100))
def test_inclusion_round_trip(size: int, pick: int) -> None:
    proof = _inclusion(pick % size, size)
    assert InclusionProof.from_dict(proof.to_dict()) == proof
    InclusionProof.from_dict(proof.to_dict()).verify()


@given(new=st.integers(1, 11), pick=st.integers(0, 100))
def test_consistency_round_trip(new: int, pick: int) -> None:
    proof = _consistency(1 + pick % new, new)
    assert ConsistencyProof.from_dict(proof.to_dict()) == proof
    ConsistencyProof.from_dict(proof.to_dict()).verify()


def test_json_field_names_are_the_contract() -> None:
    assert list(_inclusion(2, 5).to_dict()) == [
        "tree_size",
        "leaf_index",
        "leaf_hash",
        "root_hash",
        "proof",
    ]
    assert list(_consistency(2, 5).to_dict()) == [
        "old_size",
        "old_root",
        "new_size",
        "new_root",
        "proof",
    ]


def test_wrong_proof_is_rejected() -> None:
    data = _inclusion(2, 5).to_dict()
    data["leaf_index"] = 3
    with pytest.raises(ProofError):
        InclusionProof.from_dict(data).verify()
    cdata = _consistency(2, 5).to_dict()
    cdata["old_root"] = cdata["new_root"]
    with pytest.raises(ProofError):
        ConsistencyProof.from_dict(cdata).verify()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tree_size": -1}, "tree_size"),
        ({"tree_size": True}, "tree_size"),
        ({"leaf_index": "2"}, "leaf_index"),
        ({"leaf_hash": "not base64!"}, "leaf_hash"),
        ({"leaf_hash": 5}, "leaf_hash"),
        ({"root_hash": "AA"}, "root_hash"),  # missing padding: not canonical
        ({"root_hash": "AB=="}, "root_hash"),  # non-zero pad bits: not canonical
        ({"proof": "AA=="}, "proof"),
        ({"proof": ["AA==", "???"]}, r"proof\[1\]"),
        ({"extra": 1}, "fields"),
    ],
)
def test_malformed_inclusion_json(change: dict[str, Any], message: str) -> None:
    data = {**_inclusion(2, 5).to_dict(), **change}
    with pytest.raises(InputError, match=message):
        InclusionProof.from_dict(data)


def test_malformed_consistency_json() -> None:
    data = _consistency(2, 5).to_dict()
    del data["proof"]
    with pytest.raises(InputError, match="fields"):
        ConsistencyProof.from_dict(data)
    with pytest.raises(InputError, match="object"):
        ConsistencyProof.from_dict([])  # type: ignore[arg-type]
