"""The bounded state document: every list longer than ``keep`` holds its newest items,
with its full length beside it and its JSON pointer in ``cut``, whatever the state."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.engine.state import AgreementState, DraftState, Violation
from cvid.errors import InputError
from cvid.report import GROWING, state_item, state_list, state_to_dict

# --- random states, small enough that lists get cut at small keeps ---------------------------

_IDS = st.text(alphabet="ab/~_", min_size=1, max_size=3)  # "/" and "~" test pointer escaping
_TIMES = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=st.just(dt.UTC)
)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    """A small value of the state's type ``tp`` (dataclasses, tuples, dicts, scalars)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return st.none()
    if tp is str:
        return st.text(max_size=4)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-1, 10**6)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is dt.datetime:
        return _TIMES
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_strategy(a) for a in args])
    if origin is tuple:
        return st.lists(_strategy(args[0]), max_size=5).map(tuple)
    if origin is dict:
        return st.dictionaries(_IDS, _strategy(args[1]), max_size=2)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {f.name: _strategy(hints[f.name]) for f in dataclasses.fields(tp)}
        return st.builds(typing.cast(Any, tp), **fields)
    raise AssertionError(f"no strategy for {tp!r}")


STATES = _strategy(AgreementState)
KEEPS = st.integers(0, 4)


# --- an independent oracle: the full document, cut after conversion ---------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _cut_plain(value: Any, keep: int, pointer: str, cut: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            here = f"{pointer}/{_escape(key)}"
            if isinstance(item, list) and len(item) > keep:
                cut.append(here)
                out[key] = _cut_plain(item[len(item) - keep :], keep, here, cut)
                out[key + "_total"] = len(item)
            else:
                out[key] = _cut_plain(item, keep, here, cut)
        return out
    if isinstance(value, list):
        return [_cut_plain(item, keep, f"{pointer}/{i}", cut) for i, item in enumerate(value)]
    return value


def _expected(full: dict[str, Any], keep: int) -> dict[str, Any]:
    cut: list[str] = []
    out: dict[str, Any] = {}
    for key, value in full.items():
        if key in GROWING:
            newest = dict(list(value.items())[max(len(value) - keep, 0) :])
            if len(value) > keep:
                cut.append("/" + key)
            out[key] = _cut_plain(newest, keep, "/" + key, cut)
            out[key + "_total"] = len(value)
        else:
            out.update(_cut_plain({key: value}, keep, "", cut))
    out["cut"] = cut
    return out


def _resolve(document: Any, pointer: str) -> Any:
    for escaped in pointer[1:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def _text(data: Any) -> str:
    return json.dumps(data, sort_keys=False, ensure_ascii=False)


_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(state=STATES, keep=KEEPS)
def test_the_bounded_document_is_the_full_one_with_each_cut_list_s_tail(
    state: AgreementState, keep: int
) -> None:
    full = state_to_dict(state)
    bounded = state_to_dict(state, keep)
    assert _text(bounded) == _text(_expected(full, keep))
    for pointer in bounded["cut"]:
        parent, _, key = pointer.rpartition("/")
        kept = _resolve(bounded, pointer)
        assert len(kept) == keep
        holder = _resolve(bounded, parent) if parent else bounded
        if isinstance(holder, dict):  # a list in a list has no total beside it
            assert holder[key.replace("~1", "/").replace("~0", "~") + "_total"] > keep
    assert state_to_dict(state, None) == full


@_SETTINGS
@given(state=STATES, keep=KEEPS)
def test_every_cut_list_is_served_whole_and_ends_with_what_the_document_holds(
    state: AgreementState, keep: int
) -> None:
    bounded = state_to_dict(state, keep)
    for pointer in bounded["cut"]:
        whole = [state_item(x) for x in state_list(state, pointer, keep)]
        kept = _resolve(bounded, pointer)
        if isinstance(kept, dict):  # a growing collection: its values, in order
            assert len(whole) == bounded[pointer[1:] + "_total"]
            kept = list(kept.values())
            whole = [_without_lists(x) for x in whole]
            kept = [_without_lists(x) for x in kept]
        else:
            assert len(whole) > keep
            whole = [_without_lists(x) for x in whole]
            kept = [_without_lists(x) for x in kept]
        assert whole[len(whole) - keep :] == kept


def _without_lists(value: Any) -> Any:
    """``value`` with its lists (cut, or not, in the bounded document) left out."""
    if isinstance(value, dict):
        return {
            k: _without_lists(v)
            for k, v in value.items()
            if not isinstance(v, list) and not k.endswith("_total")
        }
    return value


def _state(**fields: Any) -> AgreementState:
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    base: dict[str, Any] = {
        "at": at,
        "agreement": "a",
        "in_force": True,
        "adopted_at": None,
        "adopted_by": (),
        "events_seen": 0,
        "steps": {},
        "phases": {},
        "guarantees": {},
        "measures": {},
        "drafts": {},
        "rules": {},
        "snapbacks": (),
        "items": {},
        "violations": (),
        "alerts": (),
    }
    return AgreementState(**(base | fields))


def _violation(i: int) -> Violation:
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i)
    return Violation("step", f"s{i}", at, f"detail {i}", i)


def _draft(i: int) -> DraftState:
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    return DraftState(f"d{i}", "t", "p", "usa", at, {}, None, None, (i,))


def test_a_long_list_is_cut_to_its_newest_items_with_its_total_and_pointer() -> None:
    state = _state(
        violations=tuple(_violation(i) for i in range(250)),
        alerts=("one", "two"),
        drafts={f"d{i}": _draft(i) for i in range(7)},
    )
    doc = state_to_dict(state, 100)
    assert [v["event"] for v in doc["violations"]] == list(range(150, 250))
    assert doc["violations_total"] == 250
    assert doc["alerts"] == ["one", "two"]
    assert "alerts_total" not in doc
    assert doc["drafts_total"] == 7
    assert len(doc["drafts"]) == 7
    assert doc["cut"] == ["/violations"]
    small = state_to_dict(state, 3, keep_of={"drafts": 2})
    assert list(small["drafts"]) == ["d5", "d6"]
    assert small["drafts_total"] == 7
    assert small["cut"] == ["/drafts", "/violations"]
    # only some keys, still bounded
    part = state_to_dict(state, 1, keys=("violations",))
    assert list(part) == ["at", "violations", "violations_total", "cut"]
    assert "cut" not in state_to_dict(state)
    assert len(state_to_dict(state)["violations"]) == 250


def test_a_list_is_cut_before_it_is_converted() -> None:
    class Exploding:  # a value that must never be converted
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("converted a dropped item")

    state = _state(alerts=(Exploding(),) * 10_000 + ("last",))
    assert state_to_dict(state, 1)["alerts"] == ["last"]


@pytest.mark.parametrize(
    "pointer",
    [
        "",
        "violations",
        "/",
        "/nope",
        "/violations/x",
        "/violations/01",
        "/violations/5",  # beyond the 3 the bounded document holds
        "/violations/0/detail",  # a string, not a list
        "/at",
        "/steps",  # a collection bounded by the road map: not paged
        "/" + "a/" * 300,
        "/violations/٣",  # a decimal digit, not an ASCII one
    ],
)
def test_a_path_that_names_no_list_is_an_input_error(pointer: str) -> None:
    state = _state(violations=tuple(_violation(i) for i in range(6)))
    with pytest.raises(InputError):
        state_list(state, pointer, 3)


def test_an_index_in_a_path_counts_in_the_document_bounded_with_keep() -> None:
    state = _state(breaches={}, violations=tuple(_violation(i) for i in range(6)))
    doc = state_to_dict(state, 3)
    assert _resolve(doc, "/violations/0")["event"] == 3
    assert state_list(state, "/violations", 3)[0].event == 0  # the whole list
    with pytest.raises(InputError):
        state_list(state, "/violations/0/at", 3)  # not a list: a time
    assert state_list(state, "/drafts", 3) == []


ROAD_MAP_BOUNDED = {
    "steps",
    "phases",
    "guarantees",
    "measures",
    "rules",
    "items",
    "declarations",
    "custody",
    "parties",
    "breaches",
    "limits",
    "obligations",
    "quotas",
    "continuity",
    "devices",
    "balances",
}


def test_every_keyed_collection_of_the_state_grows_with_the_log_or_the_road_map() -> None:
    """A new keyed collection must be placed: in GROWING (newest entries kept) or among
    those the road map bounds (whose lists are still cut)."""
    hints = typing.get_type_hints(AgreementState)
    keyed = {name for name, tp in hints.items() if typing.get_origin(tp) is dict}
    assert keyed == set(GROWING) | ROAD_MAP_BOUNDED
    assert not set(GROWING) & ROAD_MAP_BOUNDED
