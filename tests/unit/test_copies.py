"""Copies that share what cannot change (cvid._copies)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvid import _copies
from cvid.engine import state as s
from cvid.events import bodies as b


@dataclasses.dataclass(frozen=True)
class _Record:  # frozen, every field immutable: shared
    at: dt.datetime
    names: tuple[str, ...]
    weight: float | None


@dataclasses.dataclass(frozen=True)
class _WithDict:  # frozen, but its dict could change in place: copied
    table: dict[str, int]


@dataclasses.dataclass
class _Mutable:
    items: list[Any]


_AT = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def _value() -> s.LimitValue:
    return s.LimitValue(
        at=_AT,
        value=4.5,
        unit="kg",
        by="usa",
        basis="declared",
        event=7,
        submitted="4500 g",
        uncertainty=None,
        counted=True,
    )


def test_the_kinds_shared_are_immutable_values_only() -> None:
    kinds = _copies.shared_kinds()
    assert {dt.datetime, dt.date, dt.timedelta, s.LimitValue, b.DraftTabled} <= kinds
    assert s.AgreementState not in kinds  # frozen, but it holds dicts
    # how a class is judged (the classes of this module are not the project's: never shared)
    assert _copies._frozen_dataclass(_Record, set())
    assert not _copies._frozen_dataclass(_WithDict, set())
    assert not _copies._frozen_dataclass(_Mutable, set())
    assert _Record not in kinds


def test_a_copy_shares_the_immutable_values_and_copies_the_containers() -> None:
    record = _value()
    value = _value()
    original: dict[str, Any] = {
        "mutable": _Mutable([record, record]),
        "limits": [value, value],
        "with_dict": _WithDict({"x": 1}),
        "times": {_AT},
    }
    frozen = _copies.freeze(original)
    copied = _copies.thaw(frozen)
    again = _copies.thaw(frozen)
    assert copied == original == again
    assert copied["mutable"] is not original["mutable"]
    assert copied["mutable"].items is not original["mutable"].items
    assert copied["mutable"].items[0] is record  # shared, and shared once
    assert copied["limits"][0] is value
    assert copied["limits"][1] is value
    assert copied["with_dict"] is not original["with_dict"]
    assert copied["with_dict"].table is not original["with_dict"].table
    copied["mutable"].items.append(record)
    copied["with_dict"].table["y"] = 2
    assert len(original["mutable"].items) == 2
    assert original["with_dict"].table == {"x": 1}
    assert again["mutable"].items is not copied["mutable"].items  # each thaw a new copy
    assert gc.isenabled()


def test_a_frozen_copy_is_not_bytes_to_keep() -> None:
    frozen = _copies.freeze([_AT])
    with pytest.raises(pickle.UnpicklingError, match="outside its copy"):
        pickle.loads(frozen.data)


_leaves = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.none(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.builds(_Record, st.datetimes(timezones=st.just(dt.UTC)), st.tuples(st.text(max_size=3))),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.builds(_Mutable, st.lists(inner, max_size=3)),
    ),
    max_leaves=20,
)


@given(_values)
def test_a_clone_equals_its_original(value: object) -> None:
    assert _copies.clone(value) == value


def test_a_tail_behaves_as_a_list_that_only_grows() -> None:
    tail: _copies.Tail[int] = _copies.Tail([1, 2])
    tail.append(3)
    tail.extend([4, 5])
    assert list(tail) == [1, 2, 3, 4, 5]
    assert len(tail) == 5
    assert tail[0] == 1
    assert tail[-1] == 5
    assert tail[1:3] == [2, 3]
    assert tail == [1, 2, 3, 4, 5]
    assert tail == (1, 2, 3, 4, 5)
    assert tail != [1, 2]
    assert repr(tail) == "Tail([1, 2, 3, 4, 5])"
    with pytest.raises(IndexError):
        tail[5]
    with pytest.raises(IndexError):
        tail[-6]
    with pytest.raises(TypeError):
        hash(tail)
    alone = pickle.loads(pickle.dumps(tail))  # a pickle of its own, as a snapshot keeps it
    assert isinstance(alone, _copies.Tail)
    assert alone == tail


def test_copies_of_a_tail_share_its_items_and_never_each_others_growth() -> None:
    original: dict[str, _copies.Tail[int]] = {"t": _copies.Tail([1, 2, 3])}
    frozen = _copies.freeze(original)
    assert frozen.shared == (original["t"]._items,)  # the items, not copied
    original["t"].append(4)  # the original grows in place
    first, second = _copies.thaw(frozen)["t"], _copies.thaw(frozen)["t"]
    assert first == [1, 2, 3]  # a copy sees only the items it was made with
    first.append(10)
    second.append(20)
    original["t"].append(5)
    assert original["t"] == [1, 2, 3, 4, 5]
    assert first == [1, 2, 3, 10]
    assert second == [1, 2, 3, 20]


_operations = st.lists(
    st.tuples(st.sampled_from(["append", "copy"]), st.integers(0, 3), st.integers()),
    max_size=40,
)


@given(_operations)
def test_tails_and_their_copies_hold_what_lists_would(
    operations: list[tuple[str, int, int]],
) -> None:
    tails: list[_copies.Tail[int]] = [_copies.Tail()]
    lists: list[list[int]] = [[]]
    for operation, which, value in operations:
        k = which % len(tails)
        if operation == "append":
            tails[k].append(value)
            lists[k].append(value)
        else:
            tails.append(_copies.clone(tails[k]))
            lists.append(list(lists[k]))
    for tail, model in zip(tails, lists, strict=True):
        assert list(tail) == model
        assert len(tail) == len(model)
