"""States by size and moment, and "now" answered without waiting (cvid.service.states)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any, cast

import pytest

from cvid.engine.state import AgreementState
from cvid.service import states as st

T0 = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
S = st.STALE_FROM  # a log large enough for 'now' to be answered by the latest state


class _World:
    """A log that grows, a clock, and a computation that records what it was asked."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.size = S
        self.now = T0
        self.seconds = seconds  # each computation takes this long
        self.asked: list[tuple[int, dt.datetime]] = []
        self.fail = False
        self.computing = threading.Event()

    def compute(self, size: int, at: dt.datetime) -> AgreementState:
        self.computing.set()
        self.asked.append((size, at))
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("broken")
        return cast(AgreementState, (size, at))  # stands for the state of (size, at)

    def states(self) -> st.States:
        return st.States(self.compute, size=lambda: self.size, now=lambda: self.now)


def _of(evaluated: st.Evaluated) -> object:
    """What stands for the state in these tests: the (size, moment) it was computed for."""
    return cast(object, evaluated.state)


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.005)


def test_quick_states_are_computed_for_their_reader() -> None:
    world = _World()
    states = world.states()
    try:
        assert _of(states.get(S, T0)) == (S, T0)
        assert _of(states.get(S, T0)) == (S, T0)  # kept
        assert world.asked == [(S, T0)]
        world.size = S + 1
        assert _of(states.get(S + 1, T0)) == (S + 1, T0)  # every event committed before it
        assert states.refreshed == 0
    finally:
        states.close()


def test_slow_states_answer_now_with_the_latest_while_the_next_is_computed() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        first = states.get(S, T0)
        assert _of(first) == (S, T0)
        assert first.seconds >= st.FRESH_WITHIN
        world.size, world.now = S + 2, T0 + dt.timedelta(seconds=1)
        answered = states.get(S + 2, world.now)
        assert answered is first  # what it is of: size S, moment T0
        assert (answered.size, answered.at) == (S, T0)
        _wait_for(lambda: states.refreshed == 1)
        again = states.get(S + 2, world.now)
        assert (again.size, again.at) == (S + 2, world.now)  # computed in the background
        assert world.asked == [(S, T0), (S + 2, world.now)]
    finally:
        states.close()


def test_fresh_past_and_too_stale_reads_wait_for_their_own_state() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        states.get(S, T0)
        world.size = S + 1
        assert _of(states.get(S + 1, T0, fresh=True)) == (S + 1, T0)
        past = T0 - dt.timedelta(days=3)
        assert _of(states.get(S + 1, past)) == (S + 1, past)  # not "now": computed exactly
        world.now = T0 + st.STALE_AT_MOST + dt.timedelta(seconds=1)
        world.size = S + 3
        assert _of(states.get(S + 3, world.now)) == (S + 3, world.now)  # the latest is too old
        assert states.refreshed == 0
    finally:
        states.close()


def test_a_failing_background_computation_is_reported_and_readers_compute_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        states.get(S, T0)
        world.fail, world.size = True, S + 1
        world.computing.clear()
        assert states.get(S + 1, T0).size == S  # the latest, while the next fails
        _wait_for(lambda: "could not be computed" in caplog.text)
        with pytest.raises(RuntimeError, match="broken"):
            states.get(S + 1, T0, fresh=True)
        world.fail = False
        assert _of(states.get(S + 1, T0, fresh=True)) == (S + 1, T0)
    finally:
        states.close()


def test_closing_stops_the_background_thread() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    states.get(S, T0)
    world.size = S + 1
    states.get(S + 1, T0)  # wakes it
    states.close()
    assert not any(t.name == "cvid-states" and t.is_alive() for t in threading.enumerate())
    world.size = S + 2
    assert states.get(S + 2, T0).size == S  # still answered; no thread started again
    assert not any(t.name == "cvid-states" and t.is_alive() for t in threading.enumerate())


def test_on_a_small_log_now_is_always_computed_for_its_reader() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    world.size = st.STALE_FROM - 2
    states = world.states()
    try:
        states.get(world.size, T0)
        world.size += 1  # slow, but below STALE_FROM: computed for this reader
        assert _of(states.get(world.size, T0)) == (st.STALE_FROM - 1, T0)
        assert states.refreshed == 0
    finally:
        states.close()
