"""Events read from the log on demand (``cvid.logged``) against the events in memory.

For random cut points (the entries a snapshot covers, read from the log when asked
for), the sequence holds the same events, the incremental evaluator (folded from it,
or restored from a fold exported at the cut and then grown) gives the state a full
evaluation of the events in memory gives at random moments (before, at and after the
cut: time travel reads old events again), and the listing index and its pages are the
same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.agreement import Agreement, create_from_template
from cvid.engine import evaluate
from cvid.engine.incremental import Evaluator
from cvid.events.authz import AdmittedEvent
from cvid.logged import LoggedEvents
from cvid.service import listing
from cvid.service.listing import EventFilter

AT = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def agreement(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agreement]:
    directory = tmp_path_factory.mktemp("logged") / "jcpoa"
    with create_from_template(directory, "jcpoa-2231", adopt_at=None) as a:
        yield a


def on_demand(agreement: Agreement, base: int, *, cached: int = 8) -> LoggedEvents:
    """The agreement's events, the first ``base`` read from its log when asked for."""
    memory = list(agreement.events)
    checked = {e.index: e.checked for e in memory[:base] if e.checked is not None}
    events = LoggedEvents(agreement._read, base, checked, cached=cached)
    events.extend(memory[base:])
    return events


def moments(events: list[AdmittedEvent]) -> st.SearchStrategy[dt.datetime]:
    first, last = events[0].time, events[-1].time
    span = int((last - first).total_seconds()) + 86400 * 400
    return st.integers(-86400 * 30, span).map(lambda s: first + dt.timedelta(seconds=s))


def test_the_events_are_the_same(agreement: Agreement) -> None:
    memory = list(agreement.events)
    for base in (0, 1, len(memory) // 2, len(memory)):
        events = on_demand(agreement, base)
        assert len(events) == len(memory)
        assert list(events) == memory
        assert [events[i] for i in range(len(memory))] == memory
        assert events[-1] == memory[-1]
        assert events[3:40:7] == memory[3:40:7]
        assert list(events.view(base)) == memory[:base]
        assert events.checked() == {e.index: e.checked for e in memory if e.checked is not None}
    with pytest.raises(IndexError):
        on_demand(agreement, 5)[len(memory)]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_state_is_the_same(agreement: Agreement, data: st.DataObject) -> None:
    memory = list(agreement.events)
    base = data.draw(st.integers(1, len(memory)), label="base")
    whens = data.draw(st.lists(moments(memory), min_size=1, max_size=4), label="at")
    events = on_demand(agreement, base)
    # folded from the events read on demand
    folded = Evaluator(agreement.roadmap, checkpoint_every=16)
    for when in whens:
        assert folded.state(events, at=when) == evaluate(agreement.roadmap, memory, at=when)
    # restored from a fold exported at the cut, then grown as the log grows
    first = Evaluator(agreement.roadmap, checkpoint_every=16)
    first.state(memory[:base], at=memory[base - 1].time)
    exported = first.export()
    assert exported is not None
    growing = LoggedEvents(agreement._read, base, {}, cached=8)
    restored = Evaluator(agreement.roadmap)
    restored.restore(growing, *exported)
    growing.extend(memory[base:])
    for when in whens:
        assert restored.state(growing, at=when) == evaluate(agreement.roadmap, memory, at=when)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_listing_is_the_same(agreement: Agreement, data: st.DataObject) -> None:
    memory = list(agreement.events)
    base = data.draw(st.integers(0, len(memory)), label="base")
    events = on_demand(agreement, base)
    parties = sorted({e.party for e in memory})
    types = sorted({e.type for e in memory})
    f = EventFilter(
        party=data.draw(st.none() | st.sampled_from(parties)),
        types=frozenset(data.draw(st.lists(st.sampled_from(types), max_size=2))),
        since=data.draw(st.none() | moments(memory)),
    )
    limit = data.draw(st.integers(1, 30))
    lazy_index, memory_index = listing.EventIndex(), listing.EventIndex()
    lazy_index.update(events)
    memory_index.update(memory)
    assert (lazy_index.by_party, lazy_index.by_type, lazy_index.by_step) == (
        memory_index.by_party,
        memory_index.by_type,
        memory_index.by_step,
    )
    cursor = None
    while True:
        pool = lazy_index.candidates(f, len(events))
        got = listing.page(events, f, cursor, limit, candidates=pool)
        want = listing.page(memory, f, cursor, limit, candidates=pool)
        assert got == want
        if got.next is None:
            break
        cursor = got.next


def test_old_events_are_not_held(tmp_path: Path) -> None:
    """Read on demand, at most the cache's worth of parsed events is kept."""
    with create_from_template(tmp_path / "a", "jcpoa-2231", adopt_at=None) as a:
        events = on_demand(a, len(a.events), cached=4)
        for _ in events:
            pass
        assert [events[i] for i in range(len(events))] == list(a.events)
        assert len(events._cache) == 4
        assert events._part[1] == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_compacting_lets_old_events_go_and_changes_nothing(
    agreement: Agreement, data: st.DataObject
) -> None:
    """A process that stays up compacts as events arrive: the events below the moved
    base are read from the log again, the same events, the same checks, the same state
    from an evaluator that was folding all along."""
    memory = list(agreement.events)
    held = data.draw(st.integers(1, len(memory) // 2), label="held")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(memory)), max_size=6), label="cuts"))
    events = LoggedEvents(agreement._read, 0, {}, cached=8)
    folding = Evaluator(agreement.roadmap, checkpoint_every=16)
    moved = 0
    for stop in [*cuts, len(memory)]:
        events.extend(memory[len(events) : stop])
        moved += events.compact(held)
        assert len(events) - events.base <= 2 * held  # never more than twice ``held``
        if len(events):
            when = memory[len(events) - 1].time
            expected = evaluate(agreement.roadmap, memory[: len(events)], at=when)
            assert folding.state(events, at=when) == expected
    assert events.base == moved
    assert list(events) == memory
    assert [events[i] for i in range(len(memory))] == memory
    assert events.checked() == {e.index: e.checked for e in memory if e.checked is not None}


def test_compacting_needs_a_reader_and_enough_events() -> None:
    events = LoggedEvents()
    assert events.compact(1) == 0  # no reader: every event stays held
