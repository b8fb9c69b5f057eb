"""Commit to a complete declaration: one salted commitment per item, under one Merkle root.

The construction is generic (a salted hash per unit, a Merkle tree over them); it is
*not* a transcription of any published scheme, whose details this project could not
check.

* The territory (or whatever is declared) is split into a :class:`Partition` of cells.
* Each item lies in one cell. Its leaf record is ``{"cell": c, "item": {...}}``; a cell
  with no item gets exactly one record ``{"cell": c, "empty": true}``, so that no cell
  can be left out without it showing.
* A record is committed as ``SHA-256("cvid-escrow-v1\\n" || salt || JCS(record))`` with
  a fresh 256-bit salt (:func:`commitment`). The leaf is the RFC 9162 leaf hash of
  :func:`leaf_data`, ``{"cell":"<cell>","commitment":"<hex>"}``: a leaf shows its cell
  to whoever holds it, and nothing of its item.
* Leaves are sorted by (position of the cell in the partition, item id), so that each
  cell's leaves are one contiguous run; the root is the RFC 9162 Merkle tree hash.

Pure: no I/O, no clock; randomness comes in as ``random_bytes``.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, overload

from cvid._ids import ID_PATTERN
from cvid._jcs import MAX_SAFE_INTEGER, canonical
from cvid.errors import DeclarationError, JSONFormatError
from cvid.log.merkle import HASH_SIZE, NodeId, fold_range, leaf_hash, range_nodes

SALT_SIZE = 32
"""Bytes of salt per leaf (256 bits)."""

DOMAIN = b"cvid-escrow-v1\n"
"""Prefixed to every commitment, so that no other hash in cvid can collide with one."""

MAX_CELLS = 1_000_000
"""The largest partition accepted (a grid of rows x cols included)."""

Scalar = str | int | float
Record = dict[str, Any]
Leaf = tuple[Record, bytes]
"""A leaf as the committer keeps it: its record and its salt."""

RandomBytes = Callable[[int], bytes]

_ID = re.compile(ID_PATTERN)
_UNSAFE = MAX_SAFE_INTEGER + 1
_sha256 = hashlib.sha256


def is_id(value: object) -> bool:
    """Whether ``value`` is an identifier (:data:`cvid._ids.ID_PATTERN`)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _need_id(what: str, value: object) -> str:
    if not is_id(value):
        raise DeclarationError(f"{what} {value!r} is not an identifier (a-z, 0-9, '._-')")
    assert isinstance(value, str)
    return value


def _need_keys(
    what: str, data: object, required: set[str], optional: frozenset[str] = frozenset()
) -> None:
    if not isinstance(data, Mapping):
        raise DeclarationError(f"{what} must be an object, not {type(data).__name__}")
    keys = set(data)
    if missing := sorted(required - keys):
        raise DeclarationError(f"{what} lacks {', '.join(missing)}")
    if unknown := sorted(str(k) for k in keys - required - optional):
        raise DeclarationError(f"{what} has unknown keys: {', '.join(unknown)}")


# --- the partition ------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """The agreed cells, in order. Every cell gets at least one leaf."""

    cells: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.cells, list | tuple):
            raise DeclarationError("a partition's cells must be a list or tuple")
        object.__setattr__(self, "cells", tuple(self.cells))
        if not self.cells:
            raise DeclarationError("a partition needs at least one cell")
        if len(self.cells) > MAX_CELLS:
            raise DeclarationError(f"a partition has at most {MAX_CELLS:,} cells")
        for cell in self.cells:
            _need_id("cell", cell)
        index = {cell: n for n, cell in enumerate(self.cells)}
        if len(index) != len(self.cells):
            twice = sorted(c for c, k in Counter(self.cells).items() if k > 1)
            raise DeclarationError(f"cells listed twice: {', '.join(twice)}")
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Partition:
        """Read ``{"cells": [...]}`` or ``{"grid": {"rows": R, "cols": C}}``.

        A grid's cells are ``r{row}-c{col}``, 1-based, row by row.

        Raises:
            DeclarationError: neither form, or a malformed one.
        """
        if isinstance(data, Mapping) and "grid" in data:
            _need_keys("a grid partition", data, {"grid"})
            grid = data["grid"]
            _need_keys("grid", grid, {"rows", "cols"})
            rows, cols = grid["rows"], grid["cols"]
            for name, value in (("rows", rows), ("cols", cols)):
                if type(value) is not int or value < 1:
                    raise DeclarationError(f"grid {name} must be a positive integer, not {value!r}")
            if rows * cols > MAX_CELLS:
                raise DeclarationError(f"a grid has at most {MAX_CELLS:,} cells")
            return cls(tuple(f"r{r}-c{c}" for r in range(1, rows + 1) for c in range(1, cols + 1)))
        _need_keys("a partition", data, {"cells"})
        cells = data["cells"]
        return cls(cells)

    def to_dict(self) -> dict[str, Any]:
        """``{"cells": [...]}`` (a grid is written out cell by cell)."""
        return {"cells": list(self.cells)}

    def index(self, cell: str) -> int:
        """The cell's position.

        Raises:
            DeclarationError: the cell is not in the partition.
        """
        try:
            return self._index[cell]
        except (KeyError, TypeError):
            raise DeclarationError(f"cell {cell!r} is not in the partition") from None

    def __contains__(self, cell: object) -> bool:
        return isinstance(cell, str) and cell in self._index

    def __len__(self) -> int:
        return len(self.cells)


# --- items and records --------------------------------------------------------------------


def _check_attributes(attributes: object) -> dict[str, Scalar]:
    if not isinstance(attributes, Mapping):
        raise DeclarationError(f"attributes must be an object, not {type(attributes).__name__}")
    out: dict[str, Scalar] = {}
    for key, value in attributes.items():
        _need_id("attribute", key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DeclarationError(
                f"attribute {key!r} must be a string or a number, not {type(value).__name__}"
            )
        if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
            raise DeclarationError(f"attribute {key!r} = {value} is beyond ±2^53-1")
        if isinstance(value, float) and not math.isfinite(value):
            raise DeclarationError(f"attribute {key!r} = {value} is not a finite number")
        if isinstance(value, float) and value.is_integer() and _UNSAFE <= abs(value) < 1e21:
            # JCS writes it as digits, which a strict reader takes for an unsafe integer.
            raise DeclarationError(f"attribute {key!r} = {value} is a whole number beyond ±2^53-1")
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise DeclarationError(f"attribute {key!r} is not valid Unicode") from None
        out[key] = value
    return out


@dataclass(frozen=True)
class Item:
    """One declared item: an id unique in the declaration, its category, cell and attributes.

    ``attributes`` maps identifiers to strings, integers within ±2^53-1 or finite floats.
    The item keeps its own copy; treat it as read-only.
    """

    id: str
    category: str
    cell: str
    attributes: dict[str, Scalar] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _need_id("item id", self.id)
        _need_id(f"item {self.id}: category", self.category)
        _need_id(f"item {self.id}: cell", self.cell)
        try:
            object.__setattr__(self, "attributes", _check_attributes(self.attributes))
        except DeclarationError as e:
            raise DeclarationError(f"item {self.id}: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "category", "cell", "attributes"}``."""
        return {
            "id": self.id,
            "category": self.category,
            "cell": self.cell,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        """Read :meth:`to_dict`'s form (``attributes`` may be left out).

        Raises:
            DeclarationError: a key missing or unknown, or a value malformed.
        """
        _need_keys("an item", data, {"id", "category", "cell"}, frozenset({"attributes"}))
        return cls(data["id"], data["category"], data["cell"], data.get("attributes", {}))


def item_record(item: Item) -> Record:
    """The leaf record of an item: ``{"cell": c, "item": {id, category, attributes}}``."""
    return {
        "cell": item.cell,
        "item": {"id": item.id, "category": item.category, "attributes": dict(item.attributes)},
    }


def empty_record(cell: str) -> Record:
    """The one leaf record of a cell with no item: ``{"cell": c, "empty": true}``."""
    return {"cell": cell, "empty": True}


@dataclass(frozen=True)
class ParsedRecord:
    """A well-formed record: its cell, the cell's position, and its item (None if empty)."""

    cell: str
    position: int
    item: dict[str, Any] | None

    @property
    def key(self) -> tuple[int, str]:
        """The sort key of its leaf: (cell position, item id); ``""`` for an empty cell."""
        return (self.position, "" if self.item is None else self.item["id"])


def parse_record(record: object, partition: Partition) -> ParsedRecord:
    """Check that ``record`` has exactly the form :func:`item_record` or :func:`empty_record`
    gives, with a cell of ``partition``.

    Raises:
        DeclarationError: it does not.
    """
    if isinstance(record, Mapping) and "empty" in record:
        _need_keys("an empty-cell record", record, {"cell", "empty"})
        if record["empty"] is not True:
            raise DeclarationError("an empty-cell record's 'empty' must be true")
        cell = _need_id("cell", record["cell"])
        return ParsedRecord(cell, partition.index(cell), None)
    _need_keys("a record", record, {"cell", "item"})
    assert isinstance(record, Mapping)
    cell = _need_id("cell", record["cell"])
    body = record["item"]
    _need_keys("a record's item", body, {"id", "category", "attributes"})
    item = Item(body["id"], body["category"], cell, body["attributes"])
    parsed = {"id": item.id, "category": item.category, "attributes": item.attributes}
    return ParsedRecord(cell, partition.index(cell), parsed)


def _check_salt(salt: object) -> bytes:
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        size = len(salt) if isinstance(salt, bytes) else type(salt).__name__
        raise DeclarationError(f"a salt is {SALT_SIZE} bytes, not {size}")
    return salt


def record_json(record: Record) -> bytes:
    """``JCS(record)`` for a record :func:`commit` built, with its identifiers formatted.

    The frame of a record is fixed and its cell, id and category are identifiers, which
    JSON writes without escaping, so only the attributes go through the canonicaliser:
    ``{"cell":C,"item":{"attributes":A,"category":K,"id":I}}`` (keys in JCS order), or
    ``{"cell":C,"empty":true}``. Equal to ``canonical(record)`` byte for byte (a property
    test checks it), for about half the time.

    Raises:
        JSONFormatError: an attribute canonical JSON cannot hold.
    """
    item = record.get("item")
    if item is None:
        return _empty_json(record["cell"])
    return _item_json(record["cell"], item["id"], item["category"], item["attributes"])


def _empty_json(cell: str) -> bytes:
    return f'{{"cell":"{cell}","empty":true}}'.encode()


def _item_json(cell: str, id_: str, category: str, attributes: Mapping[str, Scalar]) -> bytes:
    head = f'{{"cell":"{cell}","item":{{"attributes":'.encode()
    tail = f',"category":"{category}","id":"{id_}"}}}}'.encode()
    return head + canonical(attributes) + tail


def commitment(salt: bytes, record: Mapping[str, Any]) -> bytes:
    """``SHA-256(b"cvid-escrow-v1\\n" || salt || JCS(record))``; ``salt`` is 32 bytes.

    Raises:
        DeclarationError: the salt is not 32 bytes, or the record is not JSON.
    """
    _check_salt(salt)
    try:
        return _sha256(DOMAIN + salt + canonical(record)).digest()
    except JSONFormatError as e:
        raise DeclarationError(f"record: {e}") from None


def leaf_data(cell: str, commitment: bytes) -> bytes:
    """The canonical JSON ``{"cell":"<cell>","commitment":"<64 hex>"}`` of a leaf.

    Built by formatting: an identifier needs no escaping, and the keys are in JCS order.

    Raises:
        DeclarationError: ``cell`` is not an identifier or ``commitment`` not 32 bytes.
    """
    _need_id("cell", cell)
    if not isinstance(commitment, bytes) or len(commitment) != HASH_SIZE:
        raise DeclarationError(f"a commitment is {HASH_SIZE} bytes")
    return f'{{"cell":"{cell}","commitment":"{commitment.hex()}"}}'.encode()


_LEAF_DATA = re.compile(rb'\{"cell":"([a-z0-9._-]{1,64})","commitment":"([0-9a-f]{64})"\}')


def parse_leaf_data(data: object, partition: Partition) -> tuple[str, int]:
    """The cell and its position of a leaf's :func:`leaf_data` (exactly that canonical form).

    Raises:
        DeclarationError: not that form, or a cell outside the partition.
    """
    match = _LEAF_DATA.fullmatch(data) if isinstance(data, bytes) else None
    if match is None:
        raise DeclarationError('leaf data is not {"cell":"<id>","commitment":"<64 hex>"}')
    cell = _need_id("cell", match.group(1).decode())
    return cell, partition.index(cell)


# --- the tree -----------------------------------------------------------------------------

_TREE_BATCH = 1 << 14  # nodes hashed per batch when a level is built from a blob


class TreeLevels:
    """Every complete subtree hash of a tree in memory: a :class:`~cvid.log.merkle.HashReader`.

    ``levels[h]`` holds, concatenated, the hashes of the subtrees ``[i * 2**h, (i+1) * 2**h)``
    that fit in the tree; about 64 bytes per leaf in all. A range proof then reads
    O(log n) hashes and hashes nothing.
    """

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.size = len(leaf_hashes)
        levels: list[bytes] = []
        level = leaf_hashes
        node = b"\x01"
        while level:
            levels.append(b"".join(level))
            level = [
                _sha256(node + level[i] + level[i + 1]).digest()
                for i in range(0, len(level) - 1, 2)
            ]
        self.levels = levels

    @classmethod
    def from_blob(cls, leaf_hashes: bytes) -> TreeLevels:
        """The same from the leaf hashes concatenated, hashing a bounded batch at a time.

        Holds the levels (about 64 bytes per leaf) and one batch of hash objects, never
        a list of every leaf's hash.
        """
        if len(leaf_hashes) % HASH_SIZE:
            raise DeclarationError(f"leaf hashes are {HASH_SIZE} bytes each")
        tree = cls([])
        tree.size = len(leaf_hashes) // HASH_SIZE
        levels: list[bytes] = []
        level = bytes(leaf_hashes)
        node, sha256, pair = b"\x01", _sha256, 2 * HASH_SIZE
        while level:
            levels.append(level)
            upper = bytearray()
            end = len(level) - len(level) % pair
            for lo in range(0, end, _TREE_BATCH * pair):
                hi = min(end, lo + _TREE_BATCH * pair)
                upper += b"".join(
                    [sha256(node + level[i : i + pair]).digest() for i in range(lo, hi, pair)]
                )
            level = bytes(upper)
        tree.levels = levels
        return tree

    def hash(self, node: NodeId) -> bytes:
        """One complete subtree's hash."""
        if node.end > self.size:
            raise DeclarationError(f"node {node} lies beyond {self.size} leaves")
        offset = node.index * HASH_SIZE
        return self.levels[node.level][offset : offset + HASH_SIZE]

    def read_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Return the hash of each node, in the order asked."""
        return [self.hash(node) for node in nodes]

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``."""
        return self.hash(NodeId(0, index))

    def root(self) -> bytes:
        """MTH of the whole tree (RFC 9162 §2.1.1), folded from its complete subtrees."""
        return fold_range(self.read_hashes(range_nodes(0, self.size)))


# --- the escrow ---------------------------------------------------------------------------


class LeafView(Sequence[Leaf]):
    """The leaves of a :func:`commit`, in tree order, each made when asked for.

    Holds the items, the tree order as one array of codes (an item's position in
    ``items``, or ``len(items) + k`` for the k-th empty cell) and the salts as one
    block of 32 bytes a leaf. Slices are tuples of leaves.
    """

    __slots__ = ("_cells", "_empty", "_items", "_order", "_salts")

    def __init__(
        self,
        items: tuple[Item, ...],
        order: array[int],
        empty: array[int],
        salts: bytes,
        cells: tuple[str, ...],
    ) -> None:
        self._items, self._order, self._empty = items, order, empty
        self._salts, self._cells = salts, cells

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> Leaf: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Leaf, ...]: ...

    def __getitem__(self, index: int | slice) -> Leaf | tuple[Leaf, ...]:
        if isinstance(index, slice):
            return tuple(self._leaf(n) for n in range(*index.indices(len(self._order))))
        if index < 0:
            index += len(self._order)
        if not 0 <= index < len(self._order):
            raise IndexError(f"leaf {index} is not in a tree of {len(self._order)} leaves")
        return self._leaf(index)

    def __iter__(self) -> Iterator[Leaf]:
        return (self._leaf(n) for n in range(len(self._order)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to a tuple of leaves, so unhashable

    def _leaf(self, n: int) -> Leaf:
        code = self._order[n]
        salt = self._salts[n * SALT_SIZE : (n + 1) * SALT_SIZE]
        items = self._items
        if code >= len(items):
            return {"cell": self._cells[self._empty[code - len(items)]], "empty": True}, salt
        item = items[code]
        record = {
            "cell": item.cell,
            "item": {"id": item.id, "category": item.category, "attributes": item.attributes},
        }
        return record, salt


@dataclass(frozen=True)
class Escrow:
    """A committed declaration, as the committer keeps it (secret: it holds every salt).

    ``leaves`` are ``(record, salt)`` pairs in tree order; ``root`` and ``size`` are what
    is published. Build one with :func:`commit` or :meth:`from_leaves`; the constructor
    itself only checks sizes. :func:`commit` keeps no record: its ``leaves`` make each
    one on demand from the items, their order and one block of salts (:class:`LeafView`),
    so that a declaration of millions of items costs about 100 bytes a leaf beside the
    items. Treat the records as read-only: a record made from an :class:`Item` shares
    that item's (private) attribute dict. :func:`~cvid.escrow.reveal.reveal_cells` hands
    out copies.
    """

    partition: Partition
    leaves: Sequence[Leaf]
    root: bytes
    size: int

    def __post_init__(self) -> None:
        if self.size != len(self.leaves):
            raise DeclarationError(f"size {self.size} but {len(self.leaves)} leaves")
        if len(self.root) != HASH_SIZE:
            raise DeclarationError(f"a root is {HASH_SIZE} bytes")

    @classmethod
    def from_leaves(cls, partition: Partition, leaves: Sequence[Leaf]) -> Escrow:
        """Check ``leaves`` as :func:`commit` would have made them, and compute the root.

        Raises:
            DeclarationError: a malformed record or salt, leaves out of order, a cell
                with no leaf or with an empty leaf and another, an item id used twice.
        """
        parsed = []
        for n, (record, salt) in enumerate(leaves):
            try:
                _check_salt(salt)
                parsed.append(parse_record(record, partition))
            except DeclarationError as e:
                raise DeclarationError(f"leaf {n}: {e}") from None
        _check_declaration_order(parsed, partition)
        hashes = [
            leaf_hash(leaf_data(p.cell, commitment(salt, record)))
            for p, (record, salt) in zip(parsed, leaves, strict=True)
        ]
        tree = TreeLevels(hashes)
        escrow = cls(partition, tuple(leaves), tree.root(), len(hashes))
        object.__setattr__(escrow, "tree", tree)
        return escrow

    @cached_property
    def tree(self) -> TreeLevels:
        """The tree's subtree hashes (kept from :func:`commit`, else computed once).

        Raises:
            DeclarationError: the leaves do not give the escrow's root.
        """
        rebuilt = Escrow.from_leaves(self.partition, self.leaves)
        if rebuilt.root != self.root:
            raise DeclarationError("the escrow's leaves do not give its root")
        return rebuilt.tree

    def cell_range(self, cell: str) -> tuple[int, int]:
        """The leaves ``[start, end)`` of a cell.

        Raises:
            DeclarationError: the cell is not in the partition.
        """
        position = self.partition.index(cell)
        index = self.partition.index

        def key(leaf: Leaf) -> int:
            return index(leaf[0]["cell"])

        start = bisect_left(self.leaves, position, key=key)
        end = bisect_right(self.leaves, position, lo=start, key=key)
        return start, end

    def leaf_data(self, index: int) -> bytes:
        """The public leaf data (cell and commitment) of leaf ``index``."""
        record, salt = self.leaves[index]
        return leaf_data(record["cell"], commitment(salt, record))


def _check_declaration_order(parsed: Sequence[ParsedRecord], partition: Partition) -> None:
    """The invariants :func:`commit` guarantees: sorted, every cell present, ids unique."""
    seen: set[str] = set()
    previous: ParsedRecord | None = None
    for n, p in enumerate(parsed):
        expected = 0 if previous is None else previous.position + (p.position != previous.position)
        if p.position != expected:
            lost = partition.cells[expected] if expected < len(partition) else "?"
            if previous is not None and p.position < previous.position:
                raise DeclarationError(f"leaf {n}: cell {p.cell} comes after {previous.cell}")
            after = "the start" if previous is None else previous.cell
            raise DeclarationError(
                f"leaf {n}: cell {p.cell} follows {after}, so cell {lost} has no leaf in order"
            )
        if previous is not None and p.position == previous.position:
            if p.item is None or previous.item is None:
                raise DeclarationError(f"leaf {n}: empty cell {p.cell} has another leaf")
            if p.key <= previous.key:
                raise DeclarationError(f"leaf {n}: items of cell {p.cell} are not sorted by id")
        if p.item is not None:
            if p.item["id"] in seen:
                raise DeclarationError(f"leaf {n}: item {p.item['id']} is declared twice")
            seen.add(p.item["id"])
        previous = p
    last = -1 if previous is None else previous.position
    if last != len(partition) - 1:
        raise DeclarationError(f"cell {partition.cells[last + 1]} has no leaf")


def _tree_order(kept: tuple[Item, ...], partition: Partition) -> tuple[array[int], array[int]]:
    """Check the items; return the tree order as codes (see :class:`LeafView`), and the
    positions of the empty cells."""
    index = partition._index
    positions: list[int] = []
    ids: list[str] = []
    seen: set[str] = set()
    for item in kept:
        if not isinstance(item, Item):
            raise DeclarationError(f"an item must be an Item, not {type(item).__name__}")
        position = index.get(item.cell)
        if position is None:
            raise DeclarationError(f"item {item.id}: cell {item.cell!r} is not in the partition")
        if item.id in seen:
            raise DeclarationError(f"item {item.id} is declared twice")
        seen.add(item.id)
        positions.append(position)
        ids.append(item.id)
    del seen
    used = set(positions)
    empty = array("q", (n for n in range(len(partition)) if n not in used))
    del used
    positions.extend(empty)
    ids.extend([""] * len(empty))  # an empty cell has no other leaf: "" never ties
    # Sort by (position, id) without a key tuple per leaf: by id, then stably by position.
    ranked = sorted(range(len(ids)), key=ids.__getitem__)
    ranked.sort(key=positions.__getitem__)
    return array("q", ranked), empty


def _leaf_hashes(
    kept: tuple[Item, ...],
    order: array[int],
    empty: array[int],
    salts: bytes,
    cells: tuple[str, ...],
) -> bytes:
    """The leaf hash of every leaf in tree order, concatenated; no record is built."""
    count = len(kept)
    hashes = bytearray()
    sha256 = _sha256
    offset = 0
    try:
        for code in order:
            if code >= count:
                cell = cells[empty[code - count]]
                data = _empty_json(cell)
            else:
                entry = kept[code]
                cell = entry.cell
                data = _item_json(cell, entry.id, entry.category, entry.attributes)
            digest = sha256(DOMAIN + salts[offset : offset + SALT_SIZE] + data).hexdigest()
            offset += SALT_SIZE
            hashes += sha256(f'\x00{{"cell":"{cell}","commitment":"{digest}"}}'.encode()).digest()
    except JSONFormatError as e:
        raise DeclarationError(f"leaf {offset // SALT_SIZE}: {e}") from None
    return bytes(hashes)


def commit(items: Iterable[Item], partition: Partition, *, random_bytes: RandomBytes) -> Escrow:
    """Commit to a complete declaration: sort the leaves, salt each, build the tree.

    ``random_bytes(n)`` must return ``n`` unpredictable bytes (``os.urandom``); it is
    called once, for every salt.

    The escrow keeps the items (a tuple of them), not a record per leaf: leaves are
    hashed one at a time and only their hashes and the tree's levels are kept, about
    100 bytes a leaf in all (:class:`LeafView`, :meth:`TreeLevels.from_blob`).

    Raises:
        DeclarationError: an item twice, an item in a cell outside the partition, a
            value canonical JSON cannot hold, or ``random_bytes`` returning a wrong size.
    """
    kept = tuple(items)
    order, empty = _tree_order(kept, partition)
    size = len(order)
    salts = random_bytes(SALT_SIZE * size)
    if not isinstance(salts, bytes) or len(salts) != SALT_SIZE * size:
        raise DeclarationError(f"random_bytes({SALT_SIZE * size}) returned a wrong size")
    cells = partition.cells
    tree = TreeLevels.from_blob(_leaf_hashes(kept, order, empty, salts, cells))
    leaves = LeafView(kept, order, empty, salts, cells)
    escrow = Escrow(partition, leaves, tree.root(), size)
    object.__setattr__(escrow, "tree", tree)
    return escrow
