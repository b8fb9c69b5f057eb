"""Pages of events: for any filter, limit and scan budget, paging forward (or back)
through the log returns exactly the filtered events, each once, in log order; a
cursor that is not one the service issued is refused, never a crash."""

from __future__ import annotations

import datetime as dt
from array import array
from dataclasses import dataclass
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import InputError, SnapshotError
from cvid.events.authz import AdmittedEvent
from cvid.service.listing import (
    MAX_LIMIT,
    Cursor,
    CursorError,
    EventFilter,
    EventIndex,
    page,
    parse_text,
    parse_types,
    window,
)

T0 = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
PARTIES = ("usa", "dprk", "iaea")
TYPES = ("step.reported", "step.verified", "council.draft.tabled")
STEPS = (None, "freeze", "moratorium")


@dataclass(frozen=True)
class _Body:
    step: str | None


@dataclass(frozen=True)
class _Event:
    """The fields of an admitted event a list reads."""

    index: int
    party: str
    type: str
    time: dt.datetime
    body: _Body


def _events(draws: list[tuple[int, int, int, int]]) -> list[AdmittedEvent]:
    return [
        cast(
            AdmittedEvent,
            _Event(i, PARTIES[p], TYPES[t], T0 + dt.timedelta(hours=h), _Body(STEPS[s])),
        )
        for i, (p, t, s, h) in enumerate(draws)
    ]


_draw = st.tuples(
    st.integers(0, len(PARTIES) - 1),
    st.integers(0, len(TYPES) - 1),
    st.integers(0, len(STEPS) - 1),
    st.integers(0, 48),  # not in log order: times may go back within the skew
)
_filters = st.builds(
    EventFilter,
    party=st.none() | st.sampled_from(PARTIES),
    types=st.frozensets(st.sampled_from(TYPES), max_size=2),
    step=st.none() | st.sampled_from(STEPS[1:]),
    since=st.none() | st.integers(0, 48).map(lambda h: T0 + dt.timedelta(hours=h)),
    until=st.none() | st.integers(0, 48).map(lambda h: T0 + dt.timedelta(hours=h)),
    text=st.none() | st.sampled_from(("usa", "STEP.", "verified", "nothing")),
)


def _describe(event: AdmittedEvent) -> str:
    return f"{event.type} {event.party}"


def _forward(
    events: list[AdmittedEvent], f: EventFilter, limit: int, budget: int, pool: Any
) -> list[int]:
    seen: list[int] = []
    cursor: Cursor | None = None
    for _ in range(len(events) + 2):  # a page examines at least one candidate
        p = page(events, f, cursor, limit, candidates=pool, describe=_describe, budget=budget)
        assert len(p.events) <= limit
        seen += [e.index for e in p.events]
        if p.next is None:
            return seen
        cursor = Cursor.decode(p.next.encode())  # through its text, as clients see it
    raise AssertionError("paging did not end")


def _backward(
    events: list[AdmittedEvent], f: EventFilter, limit: int, budget: int, pool: Any
) -> list[int]:
    pages: list[list[int]] = []
    cursor: Cursor | None = Cursor(len(events), forward=False)
    for _ in range(len(events) + 2):
        p = page(events, f, cursor, limit, candidates=pool, describe=_describe, budget=budget)
        pages.append([e.index for e in p.events])
        if p.previous is None:
            return [i for chunk in reversed(pages) for i in chunk]
        cursor = Cursor.decode(p.previous.encode())
    raise AssertionError("paging did not end")


@settings(max_examples=300, deadline=None)
@given(
    draws=st.lists(_draw, max_size=60),
    f=_filters,
    limit=st.integers(1, 8),
    budget=st.integers(1, 12),
    indexed=st.booleans(),
)
def test_paging_returns_exactly_the_filtered_sequence(
    draws: list[tuple[int, int, int, int]], f: EventFilter, limit: int, budget: int, indexed: bool
) -> None:
    events = _events(draws)
    expected = [e.index for e in events if f.matches(e, _describe)]
    pool = None
    if indexed:
        index = EventIndex()
        index.update(events[: len(events) // 2])  # grown in two steps, as the log grows
        index.update(events)
        pool = index.candidates(f, len(events))
        assert set(expected) <= set(pool)
    assert _forward(events, f, limit, budget, pool) == expected
    assert _backward(events, f, limit, budget, pool) == expected


@settings(max_examples=100, deadline=None)
@given(draws=st.lists(_draw, min_size=1, max_size=40), limit=st.integers(1, 5), data=st.data())
def test_previous_and_next_pages_meet(
    draws: list[tuple[int, int, int, int]], limit: int, data: st.DataObject
) -> None:
    """From any page, the page before it and the page after it join up with it."""
    events = _events(draws)
    start = data.draw(st.integers(0, len(events)))
    here = page(events, EventFilter(), Cursor(start), limit)
    assert [e.index for e in here.events] == list(range(start, min(start + limit, len(events))))
    if here.previous is not None:
        before = page(events, EventFilter(), here.previous, limit)
        assert before.events[-1].index == start - 1
    if here.next is not None:
        after = page(events, EventFilter(), here.next, limit)
        assert after.events[0].index == here.events[-1].index + 1


def test_a_log_that_grows_between_pages_loses_and_repeats_nothing() -> None:
    events = _events([(0, 0, 0, h) for h in range(10)])
    first = page(events[:5], EventFilter(), None, 3)
    assert first.next is not None
    second = page(events[:5], EventFilter(), first.next, 3)
    assert second.next is None  # the end of the log as it was
    grown = page(events, EventFilter(), Cursor(5), 10)  # resume where it ended
    ids = [e.index for e in (*first.events, *second.events, *grown.events)]
    assert ids == list(range(10))


@given(st.text(max_size=300))
def test_any_text_is_a_cursor_or_a_clear_refusal(text: str) -> None:
    try:
        cursor = Cursor.decode(text)
    except CursorError:
        return
    assert cursor.position >= 0
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "eyJ2IjoxfQ",  # {"v":1}
        "eyJ2IjoxLCJhdCI6LTF9",  # {"v":1,"at":-1}
        "eyJ2IjoyLCJhdCI6MX0",  # {"v":2,"at":1}
        "eyJ2IjoxLCJhdCI6IjEifQ",  # {"v":1,"at":"1"}
        "eyJ2IjoxLCJhdCI6dHJ1ZX0",  # {"v":1,"at":true}
        "W10",  # []
        "A" * 500,
    ],
)
def test_bad_cursors_are_refused(text: str) -> None:
    with pytest.raises(CursorError):
        Cursor.decode(text)


def test_a_cursor_beyond_the_log_and_bad_limits_are_refused() -> None:
    events = _events([(0, 0, 0, 0)] * 3)
    with pytest.raises(CursorError):
        page(events, EventFilter(), Cursor(4), 10)
    for limit in (0, MAX_LIMIT + 1):
        with pytest.raises(InputError):
            page(events, EventFilter(), None, limit)
    with pytest.raises(InputError):
        parse_types([",".join(f"t{i}" for i in range(100))])
    with pytest.raises(InputError):
        parse_text("x" * 201)
    assert parse_types(["a,b", " c "]) == {"a", "b", "c"}
    assert parse_text("  ") is None


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.integers(0, 500), max_size=40, unique=True).map(sorted),
    limit=st.integers(1, 6),
)
def test_a_window_pages_through_every_item_once_both_ways(keys: list[int], limit: int) -> None:
    forward: list[int] = []
    cursor: Cursor | None = None
    for _ in range(len(keys) + 1):
        lo, hi, after, _ = window(keys, cursor, limit)
        assert hi - lo <= limit
        forward += keys[lo:hi]
        if after is None:
            break
        cursor = Cursor.decode(after.encode())
    assert forward == keys

    backward: list[int] = []
    cursor = Cursor(max(keys, default=0) + 1, forward=False)
    for _ in range(len(keys) + 1):
        lo, hi, _, before = window(keys, cursor, limit)
        backward = keys[lo:hi] + backward
        if before is None:
            break
        cursor = before
    assert backward == keys


# --- the index kept in a snapshot section ---------------------------------------------


@dataclass(frozen=True)
class _Noted:
    """A body naming a step and citing others in its note."""

    step: str | None
    note: str


_noted = st.tuples(_draw, st.lists(st.sampled_from((*STEPS[1:], "other", "freeze.")), max_size=2))


def _noted_events(draws: list[tuple[tuple[int, int, int, int], list[str]]]) -> list[AdmittedEvent]:
    return [
        cast(
            AdmittedEvent,
            _Event(
                i,
                PARTIES[p],
                TYPES[t],
                T0 + dt.timedelta(hours=h),
                cast(_Body, _Noted(STEPS[s], "see " + " and ".join(cited))),
            ),
        )
        for i, ((p, t, s, h), cited) in enumerate(draws)
    ]


@settings(max_examples=300, deadline=None)
@given(draws=st.lists(_noted, max_size=60), data=st.data())
def test_an_index_restored_at_any_cuts_and_grown_is_the_index_built_at_once(
    draws: list[tuple[tuple[int, int, int, int], list[str]]], data: st.DataObject
) -> None:
    """Kept (encoded) and restored at each cut point, as a service stopped and started
    again there would, then grown to the log: the index built in one pass, and the same
    candidates for any filter."""
    events = _noted_events(draws)
    steps = frozenset(STEPS[1:])
    whole = EventIndex(step_ids=steps)
    whole.update(events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=4), label="cuts"))
    index = EventIndex(step_ids=steps)
    for cut in cuts:
        index.update(events[:cut])
        kept = index.encode()
        index = EventIndex.decode(kept)
        assert (index.size, index.restored) == (cut, cut)
        assert index.encode() == kept
    index.update(events)
    assert index.same(whole)
    assert sum(map(len, whole.cites.values())) == sum(
        len({c.rstrip(".") for c in d[1]} & steps - {STEPS[d[0][2]]}) for d in draws
    )
    f = data.draw(_filters, label="filter")
    assert list(index.candidates(f, len(events))) == list(whole.candidates(f, len(events)))


def test_the_index_tells_other_entries_or_steps_apart() -> None:
    events = _noted_events([((0, 0, 1, 0), ["moratorium"]), ((1, 1, 2, 1), [])])
    steps = frozenset(STEPS[1:])
    one, two, other = EventIndex(step_ids=steps), EventIndex(step_ids=steps), EventIndex()
    one.update(events[:1])
    two.update(events)
    other.update(events)
    assert not one.same(two)
    assert not two.same(other)  # no citation kept without the road map's steps
    assert two.cites == {"moratorium": array("q", [0])}
    assert EventIndex.decode(two.encode()).same(two)


@settings(max_examples=300, deadline=None)
@given(
    draws=st.lists(_noted, max_size=12),
    cut=st.integers(0, 4000),
    junk=st.binary(max_size=40),
)
def test_any_bytes_are_an_index_or_a_clear_refusal(
    draws: list[tuple[tuple[int, int, int, int], list[str]]], cut: int, junk: bytes
) -> None:
    """A section's bytes are authenticated before they are read; still, bytes that are not
    an index this version wrote (cut short, extended, or none) are refused clearly."""
    index = EventIndex(step_ids=frozenset(STEPS[1:]))
    index.update(_noted_events(draws))
    kept = index.encode()
    for data in (kept[:cut], kept + junk, junk, kept.replace(b'"format":1', b'"format":2')):
        if data == kept:
            continue
        with pytest.raises(SnapshotError):
            EventIndex.decode(data)
