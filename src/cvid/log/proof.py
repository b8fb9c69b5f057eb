"""Inclusion and consistency proofs as values: JSON form, and checks against roots.

The JSON field names are a public contract (``cvid log prove-* --json``): RFC 9162
names, hashes in standard base64.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cvid.errors import InputError
from cvid.log import merkle


def b64encode(value: bytes) -> str:
    """Standard base64, as in checkpoints and the JSON contract."""
    return base64.b64encode(value).decode("ascii")


def b64decode(value: object, *, field: str) -> bytes:
    """Decode canonical standard base64 or raise InputError naming ``field``."""
    if not isinstance(value, str):
        raise InputError(f"{field}: expected a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(f"{field}: not valid base64") from e
    if b64encode(raw) != value:
        raise InputError(f"{field}: base64 is not canonical")
    return raw


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(f"{key}: expected a non-negative integer")
    return value


def _proof(data: Mapping[str, Any]) -> tuple[bytes, ...]:
    items = data.get("proof")
    if not isinstance(items, list):
        raise InputError("proof: expected a list of base64 hashes")
    return tuple(b64decode(item, field=f"proof[{i}]") for i, item in enumerate(items))


def _fields(data: Mapping[str, Any], expected: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise InputError("expected a JSON object")
    if set(data) != expected:
        raise InputError(f"expected exactly the fields {sorted(expected)}, got {sorted(data)}")


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """``leaf_hash`` is leaf ``leaf_index`` of the tree of ``tree_size`` and ``root_hash``."""

    tree_size: int
    leaf_index: int
    leaf_hash: bytes
    root_hash: bytes
    proof: tuple[bytes, ...]

    def verify(self) -> None:
        """Check the proof (RFC 9162 §2.1.3.2); raises ProofError."""
        merkle.verify_inclusion(
            leaf_hash=self.leaf_hash,
            leaf_index=self.leaf_index,
            tree_size=self.tree_size,
            proof=self.proof,
            root_hash=self.root_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract."""
        return {
            "tree_size": self.tree_size,
            "leaf_index": self.leaf_index,
            "leaf_hash": b64encode(self.leaf_hash),
            "root_hash": b64encode(self.root_hash),
            "proof": [b64encode(p) for p in self.proof],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        """Parse the JSON contract; raises InputError."""
        _fields(data, {"tree_size", "leaf_index", "leaf_hash", "root_hash", "proof"})
        return cls(
            tree_size=_int(data, "tree_size"),
            leaf_index=_int(data, "leaf_index"),
            leaf_hash=b64decode(data["leaf_hash"], field="leaf_hash"),
            root_hash=b64decode(data["root_hash"], field="root_hash"),
            proof=_proof(data),
        )


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``old_size`` with ``old_root`` is a prefix of the one of ``new_size``."""

    old_size: int
    old_root: bytes
    new_size: int
    new_root: bytes
    proof: tuple[bytes, ...]

    def verify(self) -> None:
        """Check the proof (RFC 9162 §2.1.4.2); raises ProofError."""
        merkle.verify_consistency(
            old_size=self.old_size,
            new_size=self.new_size,
            old_root=self.old_root,
            new_root=self.new_root,
            proof=self.proof,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract."""
        return {
            "old_size": self.old_size,
            "old_root": b64encode(self.old_root),
            "new_size": self.new_size,
            "new_root": b64encode(self.new_root),
            "proof": [b64encode(p) for p in self.proof],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsistencyProof:
        """Parse the JSON contract; raises InputError."""
        _fields(data, {"old_size", "old_root", "new_size", "new_root", "proof"})
        return cls(
            old_size=_int(data, "old_size"),
            old_root=b64decode(data["old_root"], field="old_root"),
            new_size=_int(data, "new_size"),
            new_root=b64decode(data["new_root"], field="new_root"),
            proof=_proof(data),
        )
