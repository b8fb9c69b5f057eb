"""Revealing cells: honest reveals verify and complete exactly their cells; any change is
refused; a committer who leaves a leaf out never gets its cell counted complete."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid._jcs import canonical, parse_json
from cvid.errors import DeclarationError, EscrowError
from cvid.escrow.commit import (
    Escrow,
    Item,
    Leaf,
    Partition,
    Record,
    TreeLevels,
    commit,
    commitment,
    empty_record,
    item_record,
    leaf_data,
)
from cvid.escrow.reveal import (
    Reveal,
    RevealedLeaf,
    RevealTracker,
    VerifiedReveal,
    reveal_cells,
    verify_reveal,
)
from cvid.log import merkle
from tests.unit.escrow.strategies import declarations, escrow_of, seeded

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GRID = Partition.from_dict({"grid": {"rows": 2, "cols": 3}})


def _items() -> list[Item]:
    return [
        Item("w-1", "warhead", "r2-c1", {"mass": 4.5}),
        Item("w-2", "warhead", "r2-c1", {"count": 2}),
        Item("w-3", "warhead", "r2-c1"),
        Item("w-4", "warhead", "r2-c1", {"site": "tunnel 3"}),
        Item("reactor-a", "reactor", "r1-c2", {"site": "north"}),
        Item("m-1", "missile", "r2-c3"),
    ]


ESCROW = commit(_items(), GRID, random_bytes=seeded())
# leaves: 0 r1-c1 empty | 1 r1-c2 reactor-a | 2 r1-c3 empty | 3-6 r2-c1 w-1..w-4
#         | 7 r2-c2 empty | 8 r2-c3 m-1


def _verify(reveal: Reveal, escrow: Escrow = ESCROW) -> VerifiedReveal:
    return verify_reveal(reveal, root=escrow.root, size=escrow.size, partition=escrow.partition)


def _tracker(escrow: Escrow, reveals: list[Reveal]) -> RevealTracker:
    tracker = RevealTracker(escrow.partition, escrow.size)
    for reveal in reveals:
        tracker.add(_verify(reveal, escrow))
    return tracker


def _run(
    leaves: list[Leaf], tree: TreeLevels, lo: int, hi: int, *, before: bool, after: bool
) -> Reveal:
    """A reveal of the leaves [lo, hi) of any tree, with a correct proof: what a committer
    holding the tree can always make, whether or not it reveals a whole cell."""

    def data(i: int) -> bytes:
        record, salt = leaves[i]
        return leaf_data(record["cell"], commitment(salt, record))

    first, last = lo - before, hi + after
    proof = merkle.range_proof(first, last, tree.size, tree)
    return Reveal(
        lo,
        tuple(leaves[lo:hi]),
        data(lo - 1) if before else None,
        data(hi) if after else None,
        tuple(proof),
    )


def _forged(partition: Partition, records: list[Record]) -> tuple[list[Leaf], TreeLevels]:
    """A tree of any records, in the order given (as a cheating committer could build)."""
    source = seeded(11)
    leaves = [(r, source(32)) for r in records]
    hashes = [merkle.leaf_hash(leaf_data(r["cell"], commitment(s, r))) for r, s in leaves]
    return leaves, TreeLevels(hashes)


# --- the reveal's form ------------------------------------------------------------------


def test_reveal_round_trips_through_canonical_json() -> None:
    for reveal in reveal_cells(ESCROW, GRID.cells, max_leaves=3):
        data = parse_json(canonical(reveal.to_dict()))
        assert Reveal.from_dict(data) == reveal
        assert Reveal.from_dict(data).to_dict() == reveal.to_dict()


def test_reveal_dict_is_plain_json() -> None:
    (reveal,) = reveal_cells(ESCROW, ["r1-c2"])
    data = reveal.to_dict()
    assert set(data) == {"start", "leaves", "before", "after", "proof"}
    assert data["start"] == 1
    assert data["leaves"][0]["record"]["item"]["id"] == "reactor-a"
    assert isinstance(data["leaves"][0]["salt"], str)
    assert isinstance(data["before"], str)
    assert all(isinstance(h, str) for h in data["proof"])
    data["leaves"][0]["record"]["item"]["id"] = "changed"
    assert reveal.leaves[0][0]["item"]["id"] == "reactor-a"
    assert ESCROW.leaves[1][0]["item"]["id"] == "reactor-a"


def _good() -> dict[str, Any]:
    return reveal_cells(ESCROW, ["r2-c1"])[0].to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("proof"), "lacks proof"),
        (lambda d: d.update(extra=1), "unknown keys: extra"),
        (lambda d: d.update(start=-1), "non-negative integer"),
        (lambda d: d.update(start=True), "non-negative integer"),
        (lambda d: d.update(start="3"), "non-negative integer"),
        (lambda d: d.update(leaves=[]), "non-empty list"),
        (lambda d: d.update(proof="x"), "proof must be a list"),
        (lambda d: d["leaves"][0].update(note="x"), "unknown keys: note"),
        (lambda d: d["leaves"][0].pop("salt"), "lacks salt"),
        (lambda d: d["leaves"][0].update(record=[1]), "record must be an object"),
        (lambda d: d["leaves"][0].update(salt="!!"), "not base64"),
        (lambda d: d["leaves"][0].update(salt=d["leaves"][0]["salt"].rstrip("=")), "base64"),
        (lambda d: d["leaves"][0].update(salt=7), "base64 string"),
        (lambda d: d.update(before="a b"), "before is not base64"),
        (lambda d: d["proof"].append("AAA"), "proof hash"),
    ],
)
def test_reveal_from_dict_is_strict(change: Callable[[dict[str, Any]], Any], message: str) -> None:
    data = _good()
    change(data)
    with pytest.raises(EscrowError, match=message):
        Reveal.from_dict(data)


# --- reveal_cells -----------------------------------------------------------------------


def test_reveal_cells_chunks_and_boundaries() -> None:
    reveals = reveal_cells(ESCROW, ["r2-c1", "r1-c1", "r2-c3", "r2-c1"], max_leaves=3)
    assert [(r.start, len(r.leaves)) for r in reveals] == [(3, 3), (6, 1), (0, 1), (8, 1)]
    first, last, corner, end = reveals
    assert first.before == ESCROW.leaf_data(2)
    assert first.after is None
    assert last.before is None
    assert last.after == ESCROW.leaf_data(7)
    assert corner.before is None  # the tree starts with this cell
    assert corner.after == ESCROW.leaf_data(1)
    assert end.before == ESCROW.leaf_data(7)
    assert end.after is None  # and ends with this one
    for reveal in reveals:
        _verify(reveal)


def test_reveal_cells_refuses_bad_requests() -> None:
    with pytest.raises(DeclarationError, match="not in the partition"):
        reveal_cells(ESCROW, ["r5-c5"])
    with pytest.raises(DeclarationError, match="not one string"):
        reveal_cells(ESCROW, "r1-c1")
    with pytest.raises(DeclarationError, match="at least 1"):
        reveal_cells(ESCROW, ["r1-c1"], max_leaves=0)


def test_default_chunks_fit_a_log_entry() -> None:
    attributes: dict[str, str | int | float] = {
        "mass": 1234.5678,
        "count": 42,
        "site": "Yongbyon nuclear research centre, building 7",
        "serial": "SN-2027-000123-ABCDEF",
    }
    items = [Item(f"w-{n:05d}", "warhead", "r1-c2", attributes) for n in range(450)]
    escrow = commit(items, GRID, random_bytes=seeded())
    reveals = reveal_cells(escrow, ["r1-c2"])
    assert [len(r.leaves) for r in reveals] == [200, 200, 50]
    assert max(len(canonical(r.to_dict())) for r in reveals) < 64 * 1024
    tracker = _tracker(escrow, reveals)
    assert tracker.complete_cells() == {"r1-c2"}
    assert len(tracker.items()) == 450


# --- verification and tracking ------------------------------------------------------------


def test_honest_reveals_complete_their_cells() -> None:
    tracker = _tracker(ESCROW, reveal_cells(ESCROW, ["r2-c1", "r1-c3"], max_leaves=2))
    assert tracker.complete_cells() == {"r2-c1", "r1-c3"}
    assert tracker.escrowed_cells() == ["r1-c1", "r1-c2", "r2-c2", "r2-c3"]
    assert tracker.items() == {
        "w-1": ("r2-c1", {"id": "w-1", "category": "warhead", "attributes": {"mass": 4.5}}),
        "w-2": ("r2-c1", {"id": "w-2", "category": "warhead", "attributes": {"count": 2}}),
        "w-3": ("r2-c1", {"id": "w-3", "category": "warhead", "attributes": {}}),
        "w-4": ("r2-c1", {"id": "w-4", "category": "warhead", "attributes": {"site": "tunnel 3"}}),
    }
    assert [leaf.index for leaf in tracker.leaves()] == [2, 3, 4, 5, 6]
    tracker.add(_verify(reveal_cells(ESCROW, ["r1-c3"])[0]))  # again: nothing changes
    assert tracker.complete_cells() == {"r2-c1", "r1-c3"}


def test_verified_reveal_lists_leaves_and_boundaries() -> None:
    (reveal,) = reveal_cells(ESCROW, ["r2-c2"])
    verified = _verify(reveal)
    assert verified.leaves == (RevealedLeaf(7, "r2-c2", None),)
    assert verified.boundaries == ((6, "r2-c1"), (8, "r2-c3"))
    assert (verified.root, verified.size) == (ESCROW.root, ESCROW.size)


def test_a_middle_chunk_alone_completes_nothing() -> None:
    reveals = reveal_cells(ESCROW, ["r2-c1"], max_leaves=1)
    assert len(reveals) == 4
    tracker = _tracker(ESCROW, reveals[1:3])
    assert tracker.complete_cells() == set()
    tracker.add(_verify(reveals[0]))
    assert tracker.complete_cells() == set()
    tracker.add(_verify(reveals[3]))
    assert tracker.complete_cells() == {"r2-c1"}


def test_verify_reports_what_is_wrong() -> None:
    reveal = reveal_cells(ESCROW, ["r2-c1"])[0]
    other_root = commit(_items(), GRID, random_bytes=seeded(99)).root

    def check(message: str, bad: Reveal | None = None, **kwargs: Any) -> None:
        args = {"root": ESCROW.root, "size": ESCROW.size, "partition": GRID, **kwargs}
        with pytest.raises(EscrowError, match=message):
            verify_reveal(bad or reveal, **args)

    check("does not lead to the root", root=other_root)
    check("cannot hold 6 cells", size=5)
    check("not within a tree of 6", size=6)
    check("not in the partition", partition=Partition(("r1-c1", "r1-c2", "r1-c3", "r2-c2")))
    salt = bytearray(reveal.leaves[0][1])
    salt[0] ^= 1
    check(
        "does not lead",
        Reveal(
            3,
            ((reveal.leaves[0][0], bytes(salt)), *reveal.leaves[1:]),
            reveal.before,
            reveal.after,
            reveal.proof,
        ),
    )
    check(
        "leaf 3: a salt is 32 bytes",
        Reveal(
            3, ((reveal.leaves[0][0], b"x"), *reveal.leaves[1:]), reveal.before, None, reveal.proof
        ),
    )
    check("opens at least one leaf", Reveal(3, (), reveal.before, None, reveal.proof))
    check(
        "leaf 0 has no leaf before it",
        Reveal(0, tuple(ESCROW.leaves[:1]), ESCROW.leaf_data(1), None, ()),
    )
    check("no leaf after it", Reveal(8, tuple(ESCROW.leaves[8:]), None, ESCROW.leaf_data(7), ()))
    check("leaf 2 \\(before\\): leaf data", Reveal(3, reveal.leaves, b"{}", None, reveal.proof))
    check(
        "items w-2 and w-1 of cell r2-c1 are not in order",
        Reveal(3, (reveal.leaves[1], reveal.leaves[0]), None, None, ()),
    )
    check(
        "item w-1 is in leaves 3 and 4",
        Reveal(3, (reveal.leaves[0], reveal.leaves[0]), None, None, ()),
    )
    check("expected a Reveal", reveal.to_dict())  # type: ignore[arg-type]


def test_order_is_checked_within_a_reveal() -> None:
    salt = bytes(32)
    w = item_record(Item("w-9", "warhead", "r2-c1"))
    check = {
        "empty cell r2-c1 has another leaf": [(empty_record("r2-c1"), salt), (w, salt)],
        "comes after leaf 3 of a later cell": [(empty_record("r2-c2"), salt), (w, salt)],
        "no room for the 1 cells between": [
            (empty_record("r1-c3"), salt),
            (empty_record("r2-c2"), salt),
        ],
    }
    for message, leaves in check.items():
        with pytest.raises(EscrowError, match=message):
            _verify(Reveal(3, tuple(leaves), None, None, ()))
    with pytest.raises(EscrowError, match="the 3 cells before it need at least 3 leaves"):
        _verify(Reveal(1, ((w, salt),), None, None, ()))
    with pytest.raises(EscrowError, match="the 2 cells after it need at least 2 leaves"):
        _verify(Reveal(8, ((w, salt),), None, None, ()))


def test_a_cell_left_out_of_the_tree_shows() -> None:
    records = [r for r, _ in ESCROW.leaves if r["cell"] != "r2-c2"]  # no leaf for r2-c2
    leaves, tree = _forged(GRID, records)
    run = _run(leaves, tree, 3, 7, before=True, after=True)  # r2-c1, then r2-c3 after
    with pytest.raises(EscrowError):
        verify_reveal(run, root=tree.root(), size=tree.size, partition=GRID)


def test_an_empty_claim_with_items_behind_it_shows() -> None:
    records = [r for r, _ in ESCROW.leaves]
    records.insert(3, empty_record("r2-c1"))  # 'r2-c1 is empty', before its items
    leaves, tree = _forged(GRID, records)
    run = _run(leaves, tree, 3, 4, before=True, after=True)
    with pytest.raises(EscrowError, match="empty cell r2-c1 has another leaf"):
        verify_reveal(run, root=tree.root(), size=tree.size, partition=GRID)
    alone = _run(leaves, tree, 3, 4, before=True, after=False)  # no 'after': not complete
    tracker = RevealTracker(GRID, tree.size)
    tracker.add(verify_reveal(alone, root=tree.root(), size=tree.size, partition=GRID))
    assert tracker.complete_cells() == set()


def test_a_leaf_hidden_out_of_order_shows_when_its_neighbours_are_revealed() -> None:
    records = [r for r, _ in ESCROW.leaves]
    hidden = records.pop(4)  # w-2 of r2-c1, moved to the end of the tree
    records.append(hidden)
    leaves, tree = _forged(GRID, records)
    root, size = tree.root(), tree.size
    tracker = RevealTracker(GRID, size)
    cell = _run(leaves, tree, 3, 6, before=True, after=True)
    tracker.add(verify_reveal(cell, root=root, size=size, partition=GRID))
    assert tracker.complete_cells() == {"r2-c1"}  # the order is all that shows, and not yet
    with pytest.raises(EscrowError, match="comes after leaf 7 of a later cell"):
        verify_reveal(
            _run(leaves, tree, 7, 9, before=True, after=False), root=root, size=size, partition=GRID
        )
    last = _run(leaves, tree, 8, 9, before=False, after=False)  # w-2 alone, no boundary
    with pytest.raises(EscrowError, match="leaf 8 is in cell r2-c1, but the 2 cells after"):
        verify_reveal(last, root=root, size=size, partition=GRID)


def test_tracker_refuses_contradictions() -> None:
    tracker = _tracker(ESCROW, reveal_cells(ESCROW, ["r2-c1"]))
    with pytest.raises(EscrowError, match="tree of 10, not 9"):
        tracker.add(VerifiedReveal(ESCROW.root, 10, (), ()))
    with pytest.raises(EscrowError, match="another root"):
        tracker.add(VerifiedReveal(bytes(32), ESCROW.size, (), ()))
    item = {"id": "w-1", "category": "warhead", "attributes": {}}
    cases = {
        "item w-1 is in leaves 3 and 8": (RevealedLeaf(8, "r2-c3", item),),
        "revealed before with another record": (RevealedLeaf(3, "r2-c1", {**item, "id": "w-0"}),),
        "leaf 3 was revealed before": (RevealedLeaf(3, "r2-c2", None),),
        "not in the partition": (RevealedLeaf(1, "zz", None),),
    }
    for message, leaves in cases.items():
        with pytest.raises(EscrowError, match=message):
            tracker.add(VerifiedReveal(ESCROW.root, ESCROW.size, leaves, ()))
    with pytest.raises(EscrowError, match="leaf 3 was shown in cell r2-c1, now in r2-c2"):
        tracker.add(VerifiedReveal(ESCROW.root, ESCROW.size, (), ((3, "r2-c2"),)))
    with pytest.raises(EscrowError, match="comes after"):
        tracker.add(VerifiedReveal(ESCROW.root, ESCROW.size, (), ((8, "r1-c1"),)))
    assert tracker.complete_cells() == {"r2-c1"}  # nothing refused was taken in
    with pytest.raises(DeclarationError, match="cannot hold"):
        RevealTracker(GRID, 5)


# --- properties -------------------------------------------------------------------------


@PROPERTY
@given(declaration=declarations(), data=st.data())
def test_honest_reveals_complete_exactly_the_chosen_cells(
    declaration: tuple[Partition, list[Item]], data: st.DataObject
) -> None:
    partition, items = declaration
    escrow = escrow_of(partition, items)
    chosen = data.draw(st.lists(st.sampled_from(partition.cells), unique=True))
    reveals = reveal_cells(escrow, chosen, max_leaves=data.draw(st.integers(1, 4)))
    order = data.draw(st.permutations(range(len(reveals))))
    tracker = RevealTracker(partition, escrow.size)
    for n in order:
        wire = Reveal.from_dict(parse_json(canonical(reveals[n].to_dict())))
        tracker.add(_verify(wire, escrow))
    assert tracker.complete_cells() == set(chosen)
    assert tracker.escrowed_cells() == [c for c in partition.cells if c not in chosen]
    assert tracker.items() == {
        i.id: (i.cell, {"id": i.id, "category": i.category, "attributes": i.attributes})
        for i in items
        if i.cell in chosen
    }


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _replace(reveal: Reveal, **changes: Any) -> Reveal:
    fields = {
        "start": reveal.start,
        "leaves": reveal.leaves,
        "before": reveal.before,
        "after": reveal.after,
        "proof": reveal.proof,
        **changes,
    }
    return Reveal(**fields)


def _record_changes(record: Record, partition: Partition) -> list[Record]:
    """Every way of changing a record that a tamperer might try."""
    out: list[Record] = []
    other_cells = [c for c in partition.cells if c != record["cell"]]
    for cell in other_cells[:2]:
        out.append({**record, "cell": cell})
    if "item" not in record:
        out.append(
            {"cell": record["cell"], "item": {"id": "x-0", "category": "c", "attributes": {}}}
        )
        return out
    item = record["item"]
    out.append(empty_record(record["cell"]))
    out.append({**record, "item": {**item, "id": item["id"] + "x"}})
    out.append({**record, "item": {**item, "category": item["category"] + "x"}})
    out.append({**record, "item": {**item, "attributes": {**item["attributes"], "extra": 1}}})
    for key, value in item["attributes"].items():
        changed = value + "x" if isinstance(value, str) else value + 1 if abs(value) < 2**50 else 0
        out.append({**record, "item": {**item, "attributes": {**item["attributes"], key: changed}}})
        rest = {k: v for k, v in item["attributes"].items() if k != key}
        out.append({**record, "item": {**item, "attributes": rest}})
    return out


def _tampered(reveal: Reveal, escrow: Escrow, bit: int) -> list[tuple[str, Reveal]]:
    leaves = list(reveal.leaves)
    out: list[tuple[str, Reveal]] = []
    for k, (record, salt) in enumerate(leaves):
        for changed in _record_changes(record, escrow.partition):
            out.append(
                (
                    f"record {k}",
                    _replace(reveal, leaves=(*leaves[:k], (changed, salt), *leaves[k + 1 :])),
                )
            )
        out.append(
            (
                f"salt {k}",
                _replace(
                    reveal, leaves=(*leaves[:k], (record, _flip(salt, bit)), *leaves[k + 1 :])
                ),
            )
        )
        out.append((f"drop {k}", _replace(reveal, leaves=(*leaves[:k], *leaves[k + 1 :]))))
        out.append((f"duplicate {k}", _replace(reveal, leaves=(*leaves[: k + 1], *leaves[k:]))))
        for other_record, other_salt in escrow.leaves[:3]:
            if other_record != record:
                out.append(
                    (
                        f"other record {k}",
                        _replace(
                            reveal,
                            leaves=(*leaves[:k], (other_record, other_salt), *leaves[k + 1 :]),
                        ),
                    )
                )
        if k + 1 < len(leaves):
            swapped = (*leaves[:k], leaves[k + 1], leaves[k], *leaves[k + 2 :])
            out.append((f"swap {k}", _replace(reveal, leaves=swapped)))
    proof = reveal.proof
    for k in range(len(proof)):
        out.append(
            (
                f"proof {k}",
                _replace(reveal, proof=(*proof[:k], _flip(proof[k], bit), *proof[k + 1 :])),
            )
        )
    if proof:
        out += [
            ("truncated", _replace(reveal, proof=proof[:-1])),
            ("headless", _replace(reveal, proof=proof[1:])),
        ]
    out.append(("extended", _replace(reveal, proof=(*proof, escrow.root))))
    out += [
        ("start+1", _replace(reveal, start=reveal.start + 1)),
        ("start-1", _replace(reveal, start=reveal.start - 1)),
    ]
    first, last = reveal.start, reveal.start + len(leaves)
    for name, index, edge in (("before", first - 1, reveal.before), ("after", last, reveal.after)):
        if edge is None:
            continue
        cell = parse_json(edge)["cell"]
        same = [i for i in range(*escrow.cell_range(cell)) if i != index]
        for i in same[:2]:
            out.append((f"{name} from its cell", _replace(reveal, **{name: escrow.leaf_data(i)})))
        out.append((f"{name} dropped", _replace(reveal, **{name: None})))
        out.append(
            (
                f"{name} altered",
                _replace(
                    reveal,
                    **{name: edge.replace(b'"commitment":"', b'"commitment":"0', 1)[:-2] + b'"}'},
                ),
            )
        )
    if reveal.before is None and first > 0:
        out.append(("before added", _replace(reveal, before=escrow.leaf_data(first - 1))))
    if reveal.after is None and last < escrow.size:
        out.append(("after added", _replace(reveal, after=escrow.leaf_data(last))))
    return out


@PROPERTY
@given(declaration=declarations(max_items=16), data=st.data(), bit=st.integers(0, 255))
def test_tampered_reveals_are_refused(
    declaration: tuple[Partition, list[Item]], data: st.DataObject, bit: int
) -> None:
    partition, items = declaration
    escrow = escrow_of(partition, items)
    cell = data.draw(st.sampled_from(partition.cells))
    reveals = reveal_cells(escrow, [cell], max_leaves=data.draw(st.integers(1, 3)))
    reveal = data.draw(st.sampled_from(reveals))
    _verify(reveal, escrow)
    for name, bad in _tampered(reveal, escrow, bit):
        try:
            _verify(bad, escrow)
        except EscrowError:
            continue
        pytest.fail(f"{name} was accepted")


@PROPERTY
@given(declaration=declarations(max_items=16), data=st.data())
def test_a_committer_leaving_a_leaf_out_never_completes_the_cell(
    declaration: tuple[Partition, list[Item]], data: st.DataObject
) -> None:
    partition, items = declaration
    escrow = escrow_of(partition, items)
    cell = data.draw(st.sampled_from(partition.cells))
    a, b = escrow.cell_range(cell)
    gap = data.draw(st.integers(a, b - 1))
    chunk = data.draw(st.integers(1, 3))
    show_gap = data.draw(st.booleans())  # the left-out leaf's data shown as a boundary
    leaves, tree = list(escrow.leaves), escrow.tree
    reveals: list[Reveal] = []
    for lo, hi in ((a, gap), (gap + 1, b)):
        for s in range(lo, hi, chunk):
            e = min(s + chunk, hi)
            before = (s == a and a > 0) or (s == gap + 1 and show_gap)
            after = (e == b and b < escrow.size) or (e == gap and show_gap)
            reveals.append(_run(leaves, tree, s, e, before=before, after=after))
    tracker = RevealTracker(partition, escrow.size)
    for reveal in reveals:
        tracker.add(_verify(reveal, escrow))  # every run is genuine: each one verifies
    assert cell not in tracker.complete_cells()
    assert tracker.complete_cells() == set()
    honest = reveal_cells(escrow, [cell], max_leaves=chunk)
    for reveal in honest:
        tracker.add(_verify(reveal, escrow))
    assert tracker.complete_cells() == {cell}


def test_deep_copies_keep_the_escrow_intact() -> None:
    before = copy.deepcopy(ESCROW.leaves)
    for reveal in reveal_cells(ESCROW, GRID.cells):
        reveal.leaves[0][0]["cell"] = "tampered"
    assert before == ESCROW.leaves
