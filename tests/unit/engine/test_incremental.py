"""The incremental evaluator gives exactly the state of a full evaluation.

Random histories (the plans of ``test_evaluate``: events hours to days apart, many at
one instant, some timed up to three hours before events logged earlier, as parties'
clocks differ) are fed to one :class:`~cvid.engine.incremental.Evaluator` in growing
prefixes (cut points), each asked at random moments: later than every event, between
them (events timed ahead of the clock), long before (time travel) and before the road
map's start. Its state, as status JSON, must equal ``evaluate`` over the same prefix.
Small checkpoint spacings make restarts from checkpoints frequent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.engine import evaluate
from cvid.engine.incremental import Evaluator
from cvid.errors import EventRejectedError
from cvid.events.authz import AdmittedEvent
from cvid.report import state_to_dict
from tests.kit import Kit
from tests.recurring_kit import recurring_data
from tests.unit.engine.test_evaluate import MOMENTS, PLANS, T0, Plan, adopted, build

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (fraction of the events logged so far, moment, horizon) in the order they are asked:
# the horizon (before which no event is expected) is sometimes wrong, as a clock can be.
QUERIES = st.lists(
    st.tuples(
        st.floats(0, 1),
        MOMENTS | st.sampled_from([T0 + dt.timedelta(days=3000)]),
        st.none() | MOMENTS,
    ),
    min_size=1,
    max_size=8,
)


def _check(kit_events: list[AdmittedEvent], kit: Kit, evaluator: Evaluator, queries: Any) -> None:
    seen = 0
    for fraction, when, horizon in queries:
        seen = max(seen, round(fraction * len(kit_events)))  # the log only grows
        events = kit_events[:seen]
        got = evaluator.state(events, at=when, horizon=horizon)
        expected = evaluate(kit.roadmap, events, at=when)
        assert state_to_dict(got) == state_to_dict(expected)
        assert got == expected


@PROPERTY
@given(plan=PLANS, queries=QUERIES, every=st.integers(1, 6))
def test_incremental_state_is_the_full_evaluation(
    plan: Plan, queries: list[tuple[float, dt.datetime, dt.datetime | None]], every: int
) -> None:
    kit = build(plan)
    _check(kit.events, kit, Evaluator(kit.roadmap, checkpoint_every=every), queries)


@PROPERTY
@given(plan=PLANS, moments=st.lists(MOMENTS, min_size=1, max_size=5))
def test_asking_again_changes_nothing(plan: Plan, moments: list[dt.datetime]) -> None:
    """An answer leaves the evaluator as it was: asking again, or in another order,
    gives the same states."""
    kit = build(plan)
    evaluator = Evaluator(kit.roadmap, checkpoint_every=3)
    first = [evaluator.state(kit.events, at=when) for when in moments]
    again = [evaluator.state(kit.events, at=when) for when in reversed(moments)]
    assert first == list(reversed(again))


def _recurring_kit(offsets: list[tuple[int, int]]) -> Kit:
    """The recurring road map in force, with data exchanges performed and confirmed at
    the given (day, hour back) offsets: timers due between events at every step."""
    kit = Kit(recurring_data())
    start = T0
    for party in kit.roadmap.agreement.adopted_by:
        kit.act(party, "agreement.adopted", {}, time=start)
    for day, back in offsets:
        when = start + dt.timedelta(days=day, hours=-back)
        for party in ("north", "south"):
            body = {"obligation": f"exchange.{party}", "occurrence": "2027-07-31"}
            with contextlib.suppress(EventRejectedError):  # already performed, too early
                kit.act(party, "obligation.performed", body, time=when)
                kit.act("iaea", "obligation.confirmed", {**body, "outcome": "confirmed"}, time=when)
    return kit


@PROPERTY
@given(
    offsets=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3)), min_size=1, max_size=6),
    queries=QUERIES,
    every=st.integers(1, 4),
)
def test_incremental_with_recurring_obligations(
    offsets: list[tuple[int, int]],
    queries: list[tuple[float, dt.datetime, dt.datetime | None]],
    every: int,
) -> None:
    kit = _recurring_kit(sorted(offsets))
    _check(kit.events, kit, Evaluator(kit.roadmap, checkpoint_every=every), queries)


LATE = T0 + dt.timedelta(days=60)


def _snapbacks_folded() -> tuple[Kit, tuple[int, bytes, bytes, int]]:
    """Three snapback notices, and the fold of an evaluator asked at LATE, exported."""
    kit = build([(("usa", "snapback.notified", {"reason": "non-performance"}), 24, 0)] * 3)
    evaluator = Evaluator(kit.roadmap)
    evaluator.state(kit.events, at=LATE, horizon=LATE)
    exported = evaluator.export()
    assert exported is not None
    return kit, exported


def test_a_snapshot_of_the_fold_restores_it() -> None:
    kit, exported = _snapbacks_folded()
    restored = Evaluator(kit.roadmap)
    restored.restore(kit.events, *exported)
    for when in (LATE, LATE + dt.timedelta(days=40), T0 + dt.timedelta(days=1)):
        assert restored.state(kit.events, at=when) == evaluate(kit.roadmap, kit.events, at=when)


def test_an_event_timed_before_those_applied_restarts_from_a_checkpoint() -> None:
    kit = adopted()
    evaluator = Evaluator(kit.roadmap, checkpoint_every=1)
    late = T0 + dt.timedelta(days=30)
    evaluator.state(kit.events, at=late)
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T0 + dt.timedelta(days=2))
    kit.act("usa", "guarantee.withdrawn", {"guarantee": "g-nsa", "reason": "r"}, time=late)
    evaluator.state(kit.events, at=late)
    restarts = evaluator.restarts
    kit.act("chn", "guarantee.signed", {"guarantee": "g-nsa"}, time=T0 + dt.timedelta(days=1))
    got = evaluator.state(kit.events, at=late)
    assert evaluator.restarts == restarts + 1
    assert got == evaluate(kit.roadmap, kit.events, at=late)


@PROPERTY
@given(
    plan=PLANS,
    cut=st.floats(0, 1),
    queries=QUERIES,
    lazy=st.booleans(),
    every=st.integers(1, 6),
)
def test_a_restored_fold_goes_on_as_a_full_evaluation(
    plan: Plan,
    cut: float,
    queries: list[tuple[float, dt.datetime, dt.datetime | None]],
    lazy: bool,
    every: int,
) -> None:
    """A fold exported at a cut point and restored in another evaluator (its base thawed
    at once, or only when an event must be applied to it) answers every later question
    as a full evaluation does, events added afterwards included."""
    kit = build(plan)
    seen = max(1, round(cut * len(kit.events)))
    first = Evaluator(kit.roadmap, checkpoint_every=every)
    last = max(e.time for e in kit.events[:seen])
    first.state(kit.events[:seen], at=last, horizon=last)
    exported = first.export()
    assert exported is not None
    applied, frozen, keys, when = exported
    restored = Evaluator(kit.roadmap, checkpoint_every=every)
    restored.restore(kit.events[:seen], applied, frozen, keys, when if lazy else None)
    later = [(max(f, seen / len(kit.events)), m, h) for f, m, h in queries]
    _check(kit.events, kit, restored, later)


def test_a_fold_that_cannot_be_thawed_is_folded_again() -> None:
    """A snapshot's engine written by another build (here: bytes that are no pickle) is
    dropped when first needed, and the state is folded from the first event."""
    kit, exported = _snapbacks_folded()
    applied, _, keys, when = exported
    for at in (LATE, LATE + dt.timedelta(days=40)):
        restored = Evaluator(kit.roadmap)
        restored.restore(kit.events, applied, b"not a frozen engine", keys, when)
        assert restored.state(kit.events, at=at) == evaluate(kit.roadmap, kit.events, at=at)
        assert restored.restarts == 1


def test_time_travel_before_an_unreadable_fold_folds_from_the_start() -> None:
    kit, exported = _snapbacks_folded()
    applied, _, keys, when = exported
    restored = Evaluator(kit.roadmap)
    restored.restore(kit.events, applied, b"not a frozen engine", keys, when)
    earlier = T0 + dt.timedelta(days=1, hours=12)
    assert restored.state(kit.events, at=earlier) == evaluate(kit.roadmap, kit.events, at=earlier)
    assert restored.state(kit.events, at=LATE) == evaluate(kit.roadmap, kit.events, at=LATE)


def test_a_service_clock_that_ticks_copies_the_base_once() -> None:
    """As the service asks when no event arrives: the state at each second of its
    clock, the horizon five minutes behind. Timers fall due between the horizon and
    the clock, so the answers come from a copy of the base advanced to the clock: the
    copy is made once and then moved on with the clock (while the base advances to the
    horizon), every answer equal to a full evaluation. An event timed after those
    timers has the base run them itself, and the base answers again."""
    kit = _recurring_kit([])
    evaluator = Evaluator(kit.roadmap)
    clock = dt.datetime(2027, 1, 31, 0, 0, 30, tzinfo=dt.UTC)  # timers due at midnight
    skew = dt.timedelta(minutes=5)
    for _ in range(4):
        got = evaluator.state(kit.events, at=clock, horizon=clock - skew)
        assert got == evaluate(kit.roadmap, kit.events, at=clock)
        clock += dt.timedelta(seconds=1)
    assert evaluator.copies == 1
    body = {"obligation": "exchange.north", "occurrence": "2027-07-31"}
    kit.act("north", "obligation.performed", body, time=clock - dt.timedelta(seconds=2))
    got = evaluator.state(kit.events, at=clock, horizon=clock - skew)
    assert got == evaluate(kit.roadmap, kit.events, at=clock)
    assert evaluator.copies == 1
