"""Reveal cells of an escrowed declaration, verify a reveal, and track what is complete.

A :class:`Reveal` opens a contiguous run of leaves (records and salts) and proves it
against the published root with a range proof (:func:`cvid.log.merkle.range_proof`).
The first run of a cell also carries the *leaf data* of the leaf just before it, and
the last run that of the leaf just after it: those show only a cell and a commitment,
and prove where the cell's leaves begin and end. Because leaves are sorted by cell,
a cell whose revealed leaves are contiguous and flanked by leaves of other cells (or
by the ends of the tree) has had every leaf revealed: :class:`RevealTracker`.

What "complete" rests on: the committer sorted the leaves. The sort is checked
wherever leaves are known (within a reveal and across all reveals a tracker has
seen), so a leaf of a cell hidden out of order elsewhere in the tree shows up as soon
as it or a neighbour is revealed, and at the latest when every cell is.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cvid.errors import DeclarationError, EscrowError, ProofError
from cvid.escrow.commit import (
    SALT_SIZE,
    Escrow,
    Leaf,
    ParsedRecord,
    Partition,
    Record,
    commitment,
    leaf_data,
    parse_leaf_data,
    parse_record,
)
from cvid.log.merkle import leaf_hash, range_proof, verify_range

DEFAULT_MAX_LEAVES = 200
"""Leaves per reveal: a log entry holds at most 64 KiB."""


def _copy(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts and lists), leaving scalars shared."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise EscrowError(f"{what} must be a base64 string, not {type(value).__name__}")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EscrowError(f"{what} is not base64") from None
    if _b64(data) != value:
        raise EscrowError(f"{what} is not in canonical base64")
    return data


def _exact_keys(what: str, data: object, keys: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise EscrowError(f"{what} must be an object, not {type(data).__name__}")
    if missing := sorted(keys - set(data)):
        raise EscrowError(f"{what} lacks {', '.join(missing)}")
    if unknown := sorted(str(k) for k in set(data) - keys):
        raise EscrowError(f"{what} has unknown keys: {', '.join(unknown)}")
    return data


# --- the reveal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reveal:
    """A contiguous run of opened leaves, from leaf ``start``, with its range proof.

    ``before`` and ``after`` are the :func:`~cvid.escrow.commit.leaf_data` of the leaves
    just outside the run, when given; ``proof`` proves the run with them.
    """

    start: int
    leaves: tuple[Leaf, ...]
    before: bytes | None
    after: bytes | None
    proof: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "leaves", tuple((r, s) for r, s in self.leaves))
        object.__setattr__(self, "proof", tuple(self.proof))

    @property
    def first(self) -> int:
        """Index of the first leaf the proof covers (``before``'s if given)."""
        return self.start - (self.before is not None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: records as objects, salts, leaf data and hashes in base64."""
        return {
            "start": self.start,
            "leaves": [{"record": _copy(r), "salt": _b64(s)} for r, s in self.leaves],
            "before": None if self.before is None else _b64(self.before),
            "after": None if self.after is None else _b64(self.after),
            "proof": [_b64(h) for h in self.proof],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reveal:
        """Read :meth:`to_dict`'s form; every key must be there, and no other.

        Only the form is checked here; :func:`verify_reveal` checks the content.

        Raises:
            EscrowError: a key missing or unknown, or a value of the wrong type.
        """
        _exact_keys("a reveal", data, {"start", "leaves", "before", "after", "proof"})
        start = data["start"]
        if type(start) is not int or start < 0:
            raise EscrowError(f"a reveal's start must be a non-negative integer, not {start!r}")
        raw_leaves, proof = data["leaves"], data["proof"]
        if not isinstance(raw_leaves, list) or not raw_leaves:
            raise EscrowError("a reveal's leaves must be a non-empty list")
        if not isinstance(proof, list):
            raise EscrowError("a reveal's proof must be a list")
        leaves: list[Leaf] = []
        for n, raw in enumerate(raw_leaves):
            leaf = _exact_keys(f"leaf {n} of the reveal", raw, {"record", "salt"})
            if not isinstance(leaf["record"], Mapping):
                raise EscrowError(f"leaf {n} of the reveal: the record must be an object")
            leaves.append((_copy(leaf["record"]), _unb64(leaf["salt"], f"leaf {n}'s salt")))
        edges = {
            name: None if data[name] is None else _unb64(data[name], f"the reveal's {name}")
            for name in ("before", "after")
        }
        hashes = tuple(_unb64(h, f"proof hash {n}") for n, h in enumerate(proof))
        return cls(start, tuple(leaves), edges["before"], edges["after"], hashes)


def reveal_cells(
    escrow: Escrow, cells: Iterable[str], *, max_leaves: int = DEFAULT_MAX_LEAVES
) -> list[Reveal]:
    """The reveals that open every leaf of each cell, in runs of at most ``max_leaves``.

    A cell's first run carries the leaf data of the leaf before it (unless the cell
    starts the tree), its last run that of the leaf after it (unless it ends the tree).
    A cell asked twice is revealed once.

    Raises:
        DeclarationError: a cell outside the partition, or ``max_leaves < 1``.
    """
    if isinstance(cells, str):
        raise DeclarationError("cells must be a list of cell ids, not one string")
    if max_leaves < 1:
        raise DeclarationError(f"max_leaves must be at least 1, not {max_leaves}")
    out: list[Reveal] = []
    done: set[str] = set()
    for cell in cells:
        if cell in done:
            continue
        done.add(cell)
        start, end = escrow.cell_range(cell)
        if start == end:
            raise DeclarationError(f"cell {cell} has no leaf in the escrow")
        for lo in range(start, end, max_leaves):
            hi = min(lo + max_leaves, end)
            before = escrow.leaf_data(lo - 1) if lo == start and lo > 0 else None
            after = escrow.leaf_data(hi) if hi == end and hi < escrow.size else None
            first, last = lo - (before is not None), hi + (after is not None)
            proof = range_proof(first, last, escrow.size, escrow.tree)
            leaves = tuple((_copy(record), salt) for record, salt in escrow.leaves[lo:hi])
            out.append(Reveal(lo, leaves, before, after, tuple(proof)))
    return out


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class RevealedLeaf:
    """An opened leaf: its index, cell, and item (``{id, category, attributes}``; None if
    the cell is empty)."""

    index: int
    cell: str
    item: dict[str, Any] | None


@dataclass(frozen=True)
class VerifiedReveal:
    """What a reveal proved against ``root`` (a tree of ``size`` leaves).

    ``boundaries`` are the (index, cell) of the leaves shown only by their leaf data.
    """

    root: bytes
    size: int
    leaves: tuple[RevealedLeaf, ...]
    boundaries: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class _Known:
    """What is known of one leaf: its cell and position, and its sort key if opened
    (``""`` for an empty cell's leaf, ``None`` if only its leaf data was shown)."""

    cell: str
    position: int
    key: str | None


def _pair_problem(p: int, a: _Known, q: int, b: _Known) -> str | None:
    """What is wrong, if anything, with leaf ``p`` (``a``) coming before leaf ``q`` (``b``)."""
    if a.position > b.position:
        return f"leaf {q} (cell {b.cell}) comes after leaf {p} of a later cell ({a.cell})"
    if q - p < b.position - a.position:
        return (
            f"leaves {p} (cell {a.cell}) and {q} (cell {b.cell}) leave no room for the "
            f"{b.position - a.position - 1} cells between them, each of which has a leaf"
        )
    if a.position == b.position:
        if a.key == "" or b.key == "":
            return f"empty cell {a.cell} has another leaf"
        if a.key is not None and b.key is not None and a.key >= b.key:
            return f"items {a.key} and {b.key} of cell {a.cell} are not in order"
    return None


def _check_chain(chain: list[tuple[int, _Known]], partition: Partition, size: int) -> None:
    """Known leaves, in index order, must be sorted and leave room for every cell's leaf.

    Each cell has at least one leaf, so the first known leaf needs as many leaves before
    it as cells come before its cell, and likewise after the last.

    Raises:
        EscrowError: they do not.
    """
    for (p, a), (q, b) in itertools.pairwise(chain):
        if problem := _pair_problem(p, a, q, b):
            raise EscrowError(problem)
    (first, a), (last, b) = chain[0], chain[-1]
    if first < a.position:
        raise EscrowError(
            f"leaf {first} is in cell {a.cell}, but the {a.position} cells before it need "
            f"at least {a.position} leaves"
        )
    after = len(partition) - 1 - b.position
    if size - 1 - last < after:
        raise EscrowError(
            f"leaf {last} is in cell {b.cell}, but the {after} cells after it need at least "
            f"{after} leaves"
        )


def _check_span(reveal: Reveal, size: int, partition: Partition) -> None:
    if size < len(partition):
        raise EscrowError(f"a tree of {size} leaves cannot hold {len(partition)} cells")
    start, count = reveal.start, len(reveal.leaves)
    if count == 0:
        raise EscrowError("a reveal opens at least one leaf")
    end = start + count
    if type(start) is not int or start < 0 or end > size:
        raise EscrowError(f"leaves [{start}, {end}) are not within a tree of {size} leaves")
    if reveal.before is not None and start == 0:
        raise EscrowError("leaf 0 has no leaf before it")
    if reveal.after is not None and end == size:
        raise EscrowError(f"leaf {end - 1} is the last; there is no leaf after it")


def _boundary(index: int, name: str, data: bytes, partition: Partition) -> _Known:
    try:
        cell, position = parse_leaf_data(data, partition)
    except DeclarationError as e:
        raise EscrowError(f"leaf {index} ({name}): {e}") from None
    return _Known(cell, position, None)


def _open(
    index: int, record: Record, salt: bytes, partition: Partition
) -> tuple[ParsedRecord, bytes]:
    """Check one opened leaf; return its parsed record and its leaf data."""
    try:
        if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
            raise DeclarationError(f"a salt is {SALT_SIZE} bytes")
        parsed = parse_record(record, partition)
        return parsed, leaf_data(parsed.cell, commitment(salt, record))
    except DeclarationError as e:
        raise EscrowError(f"leaf {index}: {e}") from None


def verify_reveal(
    reveal: Reveal, *, root: bytes, size: int, partition: Partition
) -> VerifiedReveal:
    """Check a reveal against the published ``root`` and ``size`` and the partition.

    Each opened leaf is recomputed from its record and salt; records must have exactly
    the committed form with cells of the partition; leaves must be strictly sorted by
    (cell position, item id), with item ids unique and an empty cell's leaf alone in its
    cell; the boundary leaves' cells must fit that order; and the range proof must lead
    to ``root``.

    Raises:
        EscrowError: anything is wrong; the message says what.
    """
    if not isinstance(reveal, Reveal):
        raise EscrowError(f"expected a Reveal, not {type(reveal).__name__}")
    _check_span(reveal, size, partition)
    start, end = reveal.start, reveal.start + len(reveal.leaves)
    chain: list[tuple[int, _Known]] = []
    data: list[bytes] = []
    if reveal.before is not None:
        chain.append((start - 1, _boundary(start - 1, "before", reveal.before, partition)))
        data.append(reveal.before)
    opened: list[RevealedLeaf] = []
    ids: dict[str, int] = {}
    for index, (record, salt) in enumerate(reveal.leaves, start):
        parsed, leaf = _open(index, record, salt, partition)
        key = parsed.key[1]
        if parsed.item is not None and ids.setdefault(key, index) != index:
            raise EscrowError(f"item {key} is in leaves {ids[key]} and {index}")
        chain.append((index, _Known(parsed.cell, parsed.position, key)))
        data.append(leaf)
        opened.append(RevealedLeaf(index, parsed.cell, parsed.item))
    if reveal.after is not None:
        chain.append((end, _boundary(end, "after", reveal.after, partition)))
        data.append(reveal.after)
    _check_chain(chain, partition, size)
    try:
        verify_range([leaf_hash(d) for d in data], reveal.first, size, reveal.proof, root)
    except ProofError as e:
        raise EscrowError(f"leaves [{reveal.first}, {reveal.first + len(data)}): {e}") from None
    boundaries = tuple((i, k.cell) for i, k in chain if k.key is None)
    return VerifiedReveal(root, size, tuple(opened), boundaries)


# --- tracking ---------------------------------------------------------------------------


class RevealTracker:
    """What the verified reveals of one declaration have shown, and which cells are complete.

    A cell is *complete* when its opened leaves form one contiguous run ``[a, b]`` and
    the leaves ``a - 1`` and ``b + 1`` are known to lie in other cells (or ``a`` is the
    first leaf, ``b`` the last). Leaves are known from reveals and from their boundary
    leaf data. Every reveal added is checked against all that is already known: the same
    leaf seen two ways, an item id at two leaves, or leaves out of order is refused.
    """

    def __init__(self, partition: Partition, size: int) -> None:
        if size < len(partition):
            raise DeclarationError(f"a tree of {size} leaves cannot hold {len(partition)} cells")
        self.partition = partition
        self.size = size
        self._root: bytes | None = None
        self._known: dict[int, _Known] = {}
        self._order: list[int] = []  # the indices of _known, sorted
        self._opened: dict[int, RevealedLeaf] = {}
        self._items: dict[str, int] = {}
        self._complete: set[str] | None = None

    def add(self, verified: VerifiedReveal) -> None:
        """Take in a verified reveal; nothing changes if it is refused.

        Raises:
            EscrowError: it is for another tree, or contradicts what is already known.
        """
        if verified.size != self.size:
            raise EscrowError(f"the reveal is for a tree of {verified.size}, not {self.size}")
        if self._root is not None and verified.root != self._root:
            raise EscrowError("the reveal is for another root than the earlier ones")
        new = self._learned(verified)
        if not new:
            return
        lo, hi = min(new), max(new)
        i0, i1 = bisect_left(self._order, lo), bisect_right(self._order, hi)
        block = sorted({*self._order[i0:i1], *new})
        merged = {i: new.get(i) or self._known[i] for i in block}
        chain = [(i, merged[i]) for i in block]
        if i0 > 0:
            chain.insert(0, (self._order[i0 - 1], self._known[self._order[i0 - 1]]))
        if i1 < len(self._order):
            chain.append((self._order[i1], self._known[self._order[i1]]))
        _check_chain(chain, self.partition, self.size)

        self._root = verified.root
        self._known.update(merged)
        self._order[i0:i1] = block
        for leaf in verified.leaves:
            self._opened[leaf.index] = leaf
            if leaf.item is not None:
                self._items[str(leaf.item["id"])] = leaf.index
        self._complete = None

    def _learned(self, verified: VerifiedReveal) -> dict[int, _Known]:
        """What a reveal shows of each leaf, merged with what is known (checked against it)."""
        new: dict[int, _Known] = {}
        for index, cell in verified.boundaries:
            new[index] = _Known(cell, self._position(cell), None)
        for leaf in verified.leaves:
            key = "" if leaf.item is None else str(leaf.item["id"])
            new[leaf.index] = _Known(leaf.cell, self._position(leaf.cell), key)
            earlier = self._opened.get(leaf.index)
            if earlier is not None and earlier != leaf:
                raise EscrowError(f"leaf {leaf.index} was revealed before with another record")
            if leaf.item is not None and self._items.get(key, leaf.index) != leaf.index:
                raise EscrowError(f"item {key} is in leaves {self._items[key]} and {leaf.index}")
        for index, k in list(new.items()):
            old = self._known.get(index)
            if old is None:
                continue
            if old.cell != k.cell:
                raise EscrowError(f"leaf {index} was shown in cell {old.cell}, now in {k.cell}")
            if k.key is None:
                new[index] = old
        return new

    def _position(self, cell: str) -> int:
        try:
            return self.partition.index(cell)
        except DeclarationError as e:
            raise EscrowError(str(e)) from None

    def complete_cells(self) -> set[str]:
        """The cells every leaf of which has been revealed (see the class docstring)."""
        if self._complete is None:
            runs: dict[str, list[int]] = {}
            for index in sorted(self._opened):
                runs.setdefault(self._opened[index].cell, []).append(index)
            complete = set()
            for cell, indices in runs.items():
                a, b = indices[0], indices[-1]
                if len(indices) != b - a + 1:
                    continue
                if a > 0 and self._cell_of(a - 1) in (None, cell):
                    continue
                if b < self.size - 1 and self._cell_of(b + 1) in (None, cell):
                    continue
                complete.add(cell)
            self._complete = complete
        return set(self._complete)

    def _cell_of(self, index: int) -> str | None:
        known = self._known.get(index)
        return None if known is None else known.cell

    def escrowed_cells(self) -> list[str]:
        """The partition's cells not (yet) complete, in partition order."""
        complete = self.complete_cells()
        return [c for c in self.partition.cells if c not in complete]

    def items(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every revealed item: id -> (cell, ``{id, category, attributes}``)."""
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        for item_id, index in self._items.items():
            leaf = self._opened[index]
            assert leaf.item is not None
            out[item_id] = (leaf.cell, _copy(leaf.item))
        return out

    def leaves(self) -> list[RevealedLeaf]:
        """Every opened leaf, in tree order."""
        return [self._opened[i] for i in sorted(self._opened)]
