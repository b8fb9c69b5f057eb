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


class _World:
    """A log that grows, a clock, and a computation that records what it was asked."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.size = 10
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
        assert _of(states.get(10, T0)) == (10, T0)
        assert _of(states.get(10, T0)) == (10, T0)  # kept
        assert world.asked == [(10, T0)]
        world.size = 11
        assert _of(states.get(11, T0)) == (11, T0)  # every event committed before it
        assert states.refreshed == 0
    finally:
        states.close()


def test_slow_states_answer_now_with_the_latest_while_the_next_is_computed() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        first = states.get(10, T0)
        assert _of(first) == (10, T0)
        assert first.seconds >= st.FRESH_WITHIN
        world.size, world.now = 12, T0 + dt.timedelta(seconds=1)
        answered = states.get(12, world.now)
        assert answered is first  # what it is of: size 10, moment T0
        assert (answered.size, answered.at) == (10, T0)
        _wait_for(lambda: states.refreshed == 1)
        again = states.get(12, world.now)
        assert (again.size, again.at) == (12, world.now)  # computed in the background
        assert world.asked == [(10, T0), (12, world.now)]
    finally:
        states.close()


def test_fresh_past_and_too_stale_reads_wait_for_their_own_state() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        states.get(10, T0)
        world.size = 11
        assert _of(states.get(11, T0, fresh=True)) == (11, T0)
        past = T0 - dt.timedelta(days=3)
        assert _of(states.get(11, past)) == (11, past)  # not "now": computed exactly
        world.now = T0 + st.STALE_AT_MOST + dt.timedelta(seconds=1)
        world.size = 13
        assert _of(states.get(13, world.now)) == (13, world.now)  # the latest is too old
        assert states.refreshed == 0
    finally:
        states.close()


def test_a_failing_background_computation_is_reported_and_readers_compute_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    try:
        states.get(10, T0)
        world.fail, world.size = True, 11
        world.computing.clear()
        assert states.get(11, T0).size == 10  # the latest, while the next fails
        _wait_for(lambda: "could not be computed" in caplog.text)
        with pytest.raises(RuntimeError, match="broken"):
            states.get(11, T0, fresh=True)
        world.fail = False
        assert _of(states.get(11, T0, fresh=True)) == (11, T0)
    finally:
        states.close()


def test_closing_stops_the_background_thread() -> None:
    world = _World(seconds=st.FRESH_WITHIN + 0.02)
    states = world.states()
    states.get(10, T0)
    world.size = 11
    states.get(11, T0)  # wakes it
    states.close()
    assert not any(t.name == "cvid-states" and t.is_alive() for t in threading.enumerate())
    world.size = 12
    assert states.get(12, T0).size == 10  # still answered; no thread started again
    assert not any(t.name == "cvid-states" and t.is_alive() for t in threading.enumerate())
