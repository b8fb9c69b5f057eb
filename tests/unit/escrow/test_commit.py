"""Committing to a declaration: partitions, items, records, leaves and the root."""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid._ids import ID_PATTERN
from cvid._jcs import canonical, parse_json
from cvid.errors import DeclarationError
from cvid.escrow.commit import (
    DOMAIN,
    SALT_SIZE,
    Escrow,
    Item,
    Leaf,
    Partition,
    TreeLevels,
    commit,
    commitment,
    empty_record,
    item_record,
    leaf_data,
    parse_leaf_data,
    parse_record,
    record_json,
)
from cvid.log import merkle
from cvid.log.merkle import LeafHashes
from tests.support import ref_mth
from tests.unit.escrow.strategies import declarations, escrow_of, scalars, seeded

GRID = Partition.from_dict({"grid": {"rows": 2, "cols": 3}})


def _items() -> list[Item]:
    return [
        Item("w-2", "warhead", "r2-c1", {"mass": 4.5}),
        Item("w-1", "warhead", "r2-c1", {"count": 2}),
        Item("reactor-a", "reactor", "r1-c2", {"site": "north"}),
        Item("m-1", "missile", "r2-c3"),
    ]


# --- partitions -------------------------------------------------------------------------


def test_grid_partition_is_row_major_and_one_based() -> None:
    assert GRID.cells == ("r1-c1", "r1-c2", "r1-c3", "r2-c1", "r2-c2", "r2-c3")
    assert GRID.to_dict() == {"cells": list(GRID.cells)}
    assert Partition.from_dict(GRID.to_dict()) == GRID
    assert GRID.index("r2-c1") == 3
    assert "r2-c1" in GRID
    assert "r3-c1" not in GRID
    assert len(GRID) == 6


def test_cells_partition_keeps_its_order() -> None:
    partition = Partition.from_dict({"cells": ["zeta", "alpha", "m.1"]})
    assert partition.cells == ("zeta", "alpha", "m.1")
    assert partition.index("alpha") == 1
    assert hash(partition) == hash(Partition(("zeta", "alpha", "m.1")))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cells": []}, "at least one cell"),
        ({"cells": ["a", "b", "a"]}, "listed twice: a"),
        ({"cells": ["a", "B"]}, "'B' is not an identifier"),
        ({"cells": ["a", "-a"]}, "not an identifier"),
        ({"cells": ["a\n"]}, "not an identifier"),
        ({"cells": "abc"}, "list or tuple"),
        ({"cells": ["a"], "extra": 1}, "unknown keys: extra"),
        ({}, "lacks cells"),
        ({"grid": {"rows": 0, "cols": 3}}, "rows must be a positive integer"),
        ({"grid": {"rows": 2, "cols": True}}, "cols must be a positive integer"),
        ({"grid": {"rows": 2}}, "lacks cols"),
        ({"grid": {"rows": 1, "cols": 1}, "cells": ["a"]}, "unknown keys: cells"),
        ({"grid": {"rows": 10_000, "cols": 10_000}}, "at most"),
    ],
)
def test_malformed_partitions_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        Partition.from_dict(data)


def test_index_of_an_unknown_cell() -> None:
    with pytest.raises(DeclarationError, match="'r9-c9' is not in the partition"):
        GRID.index("r9-c9")


# --- items ------------------------------------------------------------------------------


def test_item_round_trip_and_copy() -> None:
    attributes: dict[str, str | int | float] = {"mass": 1.5, "count": 3, "site": "é ✓"}
    item = Item("w-1", "warhead", "r1-c1", attributes)
    attributes["count"] = 4
    assert item.attributes["count"] == 3
    assert Item.from_dict(item.to_dict()) == item
    assert Item.from_dict({"id": "w-1", "category": "warhead", "cell": "r1-c1"}).attributes == {}
    assert hash(item) == hash(Item("w-1", "warhead", "r1-c1"))
    big = Item("w-2", "warhead", "r1-c1", {"a": 1e21, "b": 2.0**53 - 1, "c": 2.5e-7, "d": -1.5e300})
    record = item_record(big)
    assert parse_json(canonical(record)) == record  # every accepted value reads back


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "W", "category": "c", "cell": "x"}, "item id 'W'"),
        ({"id": "w", "category": "", "cell": "x"}, "category"),
        ({"id": "w", "category": "c", "cell": 3}, "cell 3"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"Mass": 1}}, "attribute 'Mass'"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": True}}, "not bool"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": None}}, "not NoneType"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": [1]}}, "not list"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": 2**53}}, "2\\^53"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": 2.0**53}}, "whole number"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": -1e20}}, "whole number"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": float("nan")}}, "finite"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": float("inf")}}, "finite"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": {"a": "\ud800"}}, "Unicode"),
        ({"id": "w", "category": "c", "cell": "x", "attributes": [1]}, "must be an object"),
        ({"id": "w", "category": "c"}, "lacks cell"),
        ({"id": "w", "category": "c", "cell": "x", "colour": "red"}, "unknown keys: colour"),
    ],
)
def test_malformed_items_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        Item.from_dict(data)


# --- records, commitments and leaf data -------------------------------------------------


def test_records_have_one_form_each() -> None:
    item = Item("w-1", "warhead", "r1-c1", {"mass": 2})
    record = item_record(item)
    assert record == {
        "cell": "r1-c1",
        "item": {"id": "w-1", "category": "warhead", "attributes": {"mass": 2}},
    }
    parsed = parse_record(record, GRID)
    assert (parsed.cell, parsed.position, parsed.item, parsed.key) == (
        "r1-c1",
        0,
        record["item"],
        (0, "w-1"),
    )
    empty = parse_record(empty_record("r2-c2"), GRID)
    assert (empty.item, empty.key) == (None, (4, ""))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"cell": "r1-c1", "empty": 1}, "must be true"),
        ({"cell": "r1-c1", "empty": True, "item": {}}, "unknown keys: item"),
        ({"cell": "r9-c9", "empty": True}, "not in the partition"),
        ({"cell": "r1-c1"}, "lacks item"),
        ({"cell": "r1-c1", "item": {"id": "a", "category": "b"}}, "lacks attributes"),
        (
            {"cell": "r1-c1", "item": {"id": "a", "category": "b", "attributes": {}, "x": 1}},
            "unknown keys: x",
        ),
        ({"cell": "r1-c1", "item": {"id": "a", "category": "b", "attributes": {"k": []}}}, "k"),
        (["r1-c1"], "must be an object"),
    ],
)
def test_malformed_records_are_refused(record: Any, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        parse_record(record, GRID)


def test_commitment_is_the_documented_hash() -> None:
    record = item_record(Item("w-1", "warhead", "r1-c1", {"mass": 1.0, "b": "x"}))
    salt = bytes(range(32))
    expected = hashlib.sha256(b"cvid-escrow-v1\n" + salt + rfc8785.dumps(record)).digest()
    assert DOMAIN == b"cvid-escrow-v1\n"
    assert commitment(salt, record) == expected
    for bad in (bytes(31), bytes(33), b""):
        with pytest.raises(DeclarationError, match="32 bytes"):
            commitment(bad, record)
    with pytest.raises(DeclarationError, match="record"):
        commitment(salt, {"cell": float("nan")})


@settings(max_examples=300)
@given(
    item_id=st.from_regex(ID_PATTERN, fullmatch=True),
    category=st.from_regex(ID_PATTERN, fullmatch=True),
    cell=st.from_regex(ID_PATTERN, fullmatch=True),
    values=st.dictionaries(st.from_regex(ID_PATTERN, fullmatch=True), scalars),
)
def test_record_json_is_canonical_json(
    item_id: str, category: str, cell: str, values: dict[str, str | int | float]
) -> None:
    record = item_record(Item(item_id, category, cell, values))
    assert record_json(record) == rfc8785.dumps(record)
    assert record_json(empty_record(cell)) == rfc8785.dumps(empty_record(cell))


@settings(max_examples=300)
@given(cell=st.from_regex(ID_PATTERN, fullmatch=True), digest=st.binary(min_size=32, max_size=32))
def test_leaf_data_is_canonical_json(cell: str, digest: bytes) -> None:
    data = leaf_data(cell, digest)
    assert data == rfc8785.dumps({"cell": cell, "commitment": digest.hex()})
    assert parse_leaf_data(data, Partition((cell,))) == (cell, 0)


def test_leaf_data_refuses_what_it_cannot_write() -> None:
    with pytest.raises(DeclarationError, match="not an identifier"):
        leaf_data('a"b', bytes(32))
    with pytest.raises(DeclarationError, match="32 bytes"):
        leaf_data("a", bytes(20))
    good = leaf_data("r1-c1", bytes(32))
    for bad in (
        good + b" ",
        good.replace(b"00", b"0A", 1),
        good.replace(b'"cell":"r1-c1"', b'"cell": "r1-c1"'),
        b'{"commitment":"' + bytes(32).hex().encode() + b'","cell":"r1-c1"}',
        good.decode(),
    ):
        with pytest.raises(DeclarationError, match="leaf data"):
            parse_leaf_data(bad, GRID)
    with pytest.raises(DeclarationError, match="not in the partition"):
        parse_leaf_data(leaf_data("r7-c1", bytes(32)), GRID)


# --- commit -----------------------------------------------------------------------------


def test_commit_sorts_and_fills_empty_cells() -> None:
    escrow = commit(_items(), GRID, random_bytes=seeded())
    records = [record for record, _ in escrow.leaves]
    assert [(r["cell"], r.get("item", {}).get("id")) for r in records] == [
        ("r1-c1", None),
        ("r1-c2", "reactor-a"),
        ("r1-c3", None),
        ("r2-c1", "w-1"),
        ("r2-c1", "w-2"),
        ("r2-c2", None),
        ("r2-c3", "m-1"),
    ]
    assert records[0] == {"cell": "r1-c1", "empty": True}
    assert records[6] == {
        "cell": "r2-c3",
        "item": {"id": "m-1", "category": "missile", "attributes": {}},
    }
    assert escrow.size == 7
    assert escrow.cell_range("r2-c1") == (3, 5)
    assert escrow.cell_range("r1-c1") == (0, 1)
    assert escrow.cell_range("r2-c3") == (6, 7)


def test_root_is_rfc9162_over_the_leaf_data() -> None:
    escrow = commit(_items(), GRID, random_bytes=seeded())
    data = [leaf_data(r["cell"], commitment(s, r)) for r, s in escrow.leaves]
    assert [escrow.leaf_data(i) for i in range(escrow.size)] == data
    assert escrow.root == ref_mth(data)
    hashes = [merkle.leaf_hash(d) for d in data]
    assert escrow.root == merkle.tree_root(len(hashes), LeafHashes(hashes))
    assert [escrow.tree.leaf(i) for i in range(escrow.size)] == hashes


def test_salts_are_32_fresh_bytes_each() -> None:
    calls: list[int] = []
    source = seeded(3)

    def random_bytes(n: int) -> bytes:
        calls.append(n)
        return source(n)

    escrow = commit(_items(), GRID, random_bytes=random_bytes)
    salts = [salt for _, salt in escrow.leaves]
    assert calls == [SALT_SIZE * escrow.size]
    assert all(len(s) == SALT_SIZE for s in salts)
    assert len(set(salts)) == len(salts)
    again = commit(_items(), GRID, random_bytes=seeded(4))
    assert again.root != escrow.root
    assert commit(_items(), GRID, random_bytes=seeded(3)) == escrow


def test_commit_refuses_bad_declarations() -> None:
    with pytest.raises(DeclarationError, match="item w-1 is declared twice"):
        commit([*_items(), Item("w-1", "warhead", "r1-c1")], GRID, random_bytes=seeded())
    with pytest.raises(DeclarationError, match="cell 'r3-c1' is not in the partition"):
        commit([Item("w-9", "warhead", "r3-c1")], GRID, random_bytes=seeded())
    with pytest.raises(DeclarationError, match="must be an Item"):
        commit([{"id": "x"}], GRID, random_bytes=seeded())  # type: ignore[list-item]
    with pytest.raises(DeclarationError, match="wrong size"):
        commit(_items(), GRID, random_bytes=lambda n: bytes(n - 1))


def test_an_empty_declaration_has_one_empty_leaf_per_cell() -> None:
    escrow = commit([], GRID, random_bytes=seeded())
    assert [r for r, _ in escrow.leaves] == [empty_record(c) for c in GRID.cells]


# --- rebuilding an escrow from its leaves ------------------------------------------------


def test_from_leaves_gives_the_same_escrow() -> None:
    escrow = commit(_items(), GRID, random_bytes=seeded())
    rebuilt = Escrow.from_leaves(GRID, escrow.leaves)
    assert rebuilt == escrow
    plain = Escrow(GRID, escrow.leaves, escrow.root, escrow.size)
    assert plain.tree.root() == escrow.root  # computed on demand
    wrong = Escrow(GRID, escrow.leaves, bytes(32), escrow.size)
    with pytest.raises(DeclarationError, match="do not give its root"):
        _ = wrong.tree
    with pytest.raises(DeclarationError, match="size 3 but 7 leaves"):
        Escrow(GRID, escrow.leaves, escrow.root, 3)


def _swap(leaves: list[Leaf], i: int, j: int) -> list[Leaf]:
    out = list(leaves)
    out[i], out[j] = out[j], out[i]
    return out


def test_from_leaves_checks_every_invariant() -> None:
    leaves = list(commit(_items(), GRID, random_bytes=seeded()).leaves)
    salt = leaves[0][1]
    cases: list[tuple[list[Leaf], str]] = [
        (_swap(leaves, 3, 4), "not sorted by id"),
        (_swap(leaves, 1, 2), "cell r1-c3 follows r1-c1, so cell r1-c2 has no leaf"),
        (
            [*leaves[:3], (item_record(Item("z-1", "x", "r1-c2")), salt), *leaves[3:]],
            "leaf 3: cell r1-c2 comes after r1-c3",
        ),
        (leaves[1:], "cell r1-c2 follows the start, so cell r1-c1 has no leaf"),
        (leaves[:2] + leaves[3:], "cell r1-c3 has no leaf"),
        (leaves[:-1], "cell r2-c3 has no leaf"),
        ([*leaves[:3], (empty_record("r2-c1"), salt), *leaves[3:]], "empty cell r2-c1"),
        (
            [*leaves[:6], (item_record(Item("w-1", "x", "r2-c3")), salt), leaves[6]],
            "declared twice",
        ),
        ([(leaves[0][0], salt[:31]), *leaves[1:]], "leaf 0: a salt is 32 bytes"),
        ([({"cell": "r1-c1"}, salt), *leaves[1:]], "leaf 0: a record lacks item"),
        ([], "cell r1-c1 has no leaf"),
    ]
    for bad, message in cases:
        with pytest.raises(DeclarationError, match=message):
            Escrow.from_leaves(GRID, bad)


@settings(max_examples=150, deadline=None)
@given(declaration=declarations())
def test_commit_property(declaration: tuple[Partition, list[Item]]) -> None:
    partition, items = declaration
    escrow = escrow_of(partition, items)
    records = [r for r, _ in escrow.leaves]
    assert escrow.size == len(items) + len(partition) - len({i.cell for i in items})
    keys = [parse_record(r, partition).key for r in records]
    assert keys == sorted(keys)
    assert sorted(r["item"]["id"] for r in records if "item" in r) == sorted(i.id for i in items)
    for cell in partition.cells:
        start, end = escrow.cell_range(cell)
        assert {r["cell"] for r in records[start:end]} == {cell}
    data = [leaf_data(r["cell"], commitment(s, r)) for r, s in escrow.leaves]
    assert escrow.root == ref_mth(data)
    assert Escrow.from_leaves(partition, escrow.leaves).root == escrow.root


# --- the streamed commit: leaves made on demand, levels from one blob --------------------


def _reference_leaves(partition: Partition, items: list[Item], salts: bytes) -> list[Leaf]:
    """The leaves as records: sorted by (cell position, id), empty cells filled, salted."""
    records = [item_record(i) for i in items]
    used = {i.cell for i in items}
    records += [empty_record(c) for c in partition.cells if c not in used]
    records.sort(key=lambda r: parse_record(r, partition).key)
    return [(r, salts[n * SALT_SIZE : (n + 1) * SALT_SIZE]) for n, r in enumerate(records)]


@settings(max_examples=100, deadline=None)
@given(declaration=declarations(max_cells=8, max_items=40), seed=st.integers(0, 2**32))
def test_streamed_leaves_equal_the_reference_records(
    declaration: tuple[Partition, list[Item]], seed: int
) -> None:
    """The leaves commit keeps are the reference records with their salts, in any access."""
    partition, items = declaration
    escrow = escrow_of(partition, items, seed)
    salts = seeded(seed)(SALT_SIZE * escrow.size)
    reference = _reference_leaves(partition, items, salts)
    leaves = escrow.leaves
    assert list(leaves) == reference
    assert leaves == tuple(reference)
    assert tuple(reference) == leaves
    assert [leaves[n] for n in range(-len(reference), 0)] == reference
    assert leaves[1:-1:2] == tuple(reference[1:-1:2])
    with pytest.raises(IndexError):
        leaves[len(reference)]
    with pytest.raises(IndexError):
        leaves[-len(reference) - 1]
    hashes = [merkle.leaf_hash(leaf_data(r["cell"], commitment(s, r))) for r, s in reference]
    assert escrow.root == merkle.mth_of_leaf_hashes(hashes)
    assert escrow.tree.levels == TreeLevels(hashes).levels
    rebuilt = Escrow.from_leaves(partition, reference)
    assert rebuilt == escrow
    assert rebuilt.root == escrow.root


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 600), seed=st.integers(0, 2**32))
def test_levels_from_a_blob_equal_levels_from_a_list(size: int, seed: int) -> None:
    rng = random.Random(seed)
    hashes = [rng.randbytes(32) for _ in range(size)]
    tree = TreeLevels.from_blob(b"".join(hashes))
    assert tree.levels == TreeLevels(hashes).levels
    assert tree.size == size
    assert tree.root() == merkle.mth_of_leaf_hashes(hashes)


def test_levels_from_a_blob_refuse_a_torn_hash() -> None:
    with pytest.raises(DeclarationError, match="32 bytes each"):
        TreeLevels.from_blob(bytes(33))


def test_commit_keeps_no_record_per_leaf() -> None:
    """What commit holds and allocates grows by about 100 bytes a leaf, not a record each."""
    partition = Partition.from_dict({"grid": {"rows": 10, "cols": 10}})
    items = [
        Item(f"it-{n:05d}", "warhead", partition.cells[n % 97], {"mass": n, "site": "s"})
        for n in range(20_000)
    ]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        escrow = commit(items, partition, random_bytes=seeded())
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # levels 64 + salts 32 + order 8 + the tuple of items 8 = 112 bytes a leaf
    assert (held - before) / escrow.size < 130
    assert (peak - before) / escrow.size < 250
