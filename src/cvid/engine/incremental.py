"""Incremental state: :func:`cvid.engine.evaluate` kept up to date as events arrive.

:func:`~cvid.engine.evaluate` is one fold over the events sorted by (time, index), with
the road map's timers between them. An :class:`Evaluator` keeps that fold's engine
after the events it has seen (the *base*: every event applied, its clock at the
latest event's time), so that one more event costs the timers due up to its time and
its own reducer, not the whole history again. To answer at ``at``:

* when every event timed at or before ``at`` is applied and no timer is due by then,
  only rules and guarantees can change (they are settled at ``at`` as evaluate would):
  what settling touches (guarantees, measures, fired rules, alerts) is set aside,
  the result is read, and the base is put back as it was;
* when timers are due by ``at``, a copy of the base is advanced to ``at`` (the copy is
  kept, and moved further for a later ``at`` while no event arrives);
* when ``at`` is before events already applied (time travel, or events timed ahead of
  the clock), or an event arrives timed before events already applied (parties'
  clocks differ within the admission skew), the fold restarts from the nearest
  earlier checkpoint (for time travel far back, possibly a fold that an older snapshot
  kept: ``older``): a copy of the base kept every ``checkpoint_every`` events. The
  latest :data:`RECENT_CHECKPOINTS` are kept, since an event out of order is most
  often only a little out of order; older ones are thinned out as the log grows, so
  that at most :data:`MAX_CHECKPOINTS` of them are kept.

Copies of the engine (checkpoints, views) share what cannot change with the base
(:mod:`cvid._copies`); the fold a snapshot keeps is a whole pickle (:meth:`export`).

The evaluator keeps no event: it keeps each event's log index and time (two arrays,
sorted by (time, index)) and reads an event from the caller's sequence when the fold
needs it, so that the caller may read old events from the log on demand
(:class:`cvid.logged.LoggedEvents`).

Every path gives the state :func:`~cvid.engine.evaluate` gives for the same events and
``at`` (``tests/unit/engine/test_incremental.py`` checks it on random histories). Pure:
no I/O and no clock; the caller says which events and which ``at``.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import io
import pickle
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cvid import _copies, _gc
from cvid.engine import state as s
from cvid.engine.evaluate import _advance, _Engine, evaluate
from cvid.errors import SnapshotError
from cvid.events.authz import AdmittedEvent
from cvid.roadmap import model as m

CHECKPOINT_EVERY = 4096  # applied events between checkpoints
FAR = 65_536  # events to fold beyond which an older snapshot's fold is looked for
RECENT_CHECKPOINTS = 4  # the latest ones, always kept
MAX_CHECKPOINTS = 8  # older ones: beyond this, every other one is dropped

_Copy = _copies.Frozen | bytes  # a copy of an engine: in memory, or a snapshot's pickle
# a fold as a snapshot keeps it: (events applied, the engine's pickle, the events'
# (time, index) order, the engine's clock in microseconds since 1970); see export()
Fold = tuple[int, bytes, bytes, int]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def source_of(events: Sequence[AdmittedEvent]) -> object:
    """The growing sequence ``events`` is, or is a view of (its ``growing`` attribute)."""
    return getattr(events, "growing", events)


def _micros(when: dt.datetime) -> int:
    """``when`` as whole microseconds since 1970 (exact, unlike ``timestamp()``)."""
    return (when - _EPOCH) // _US


def _from_micros(micros: int) -> dt.datetime:
    return _EPOCH + micros * _US


class Evaluator:
    """The state of one road map's agreement, kept incrementally (see the module).

    Call :meth:`state` with the agreement's events in log order (a list that only
    grows) and the moment to evaluate; it takes in the events it has not seen yet.
    Safe to call from several threads (one at a time does the work).
    """

    def __init__(
        self,
        roadmap: m.RoadMap,
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
        older: Callable[[], Iterator[Fold]] | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be positive")
        self.roadmap = roadmap
        # folds kept by older snapshots, newest first, read only when time travel would
        # otherwise fold far from the start (each as export() gives it)
        self.older = older
        self.every = checkpoint_every
        self.spacing = checkpoint_every  # between the older checkpoints kept (doubles)
        self.start = _Engine(roadmap).t  # the engine's clock before any event
        self.restarts = 0  # folds restarted from a checkpoint (for tests and benchmarks)
        self.copies = 0  # copies of the base made to answer beyond it (the same)
        self.from_older = 0  # folds started from an older snapshot's (the same)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        if hasattr(self, "_base"):
            _discard(self._base, self._view)
        self._seen = 0  # events taken in, by log index
        self._last: AdmittedEvent | None = None  # the last one taken in
        self._source: object = None  # the sequence they were taken from
        self._events: Sequence[AdmittedEvent] = ()  # the latest sequence given
        # every event's (time in microseconds, log index), sorted by (time, index)
        self._times = array("q")
        self._order = array("q")
        self._base: _Engine | None = None  # the first ``_applied`` in (time, index) order applied
        # the base's clock; while ``_base`` is None and ``_applied`` > 0, the base is
        # ``_frozen``, thawed only when an event must be applied to it (see _thawed)
        self._base_t: dt.datetime | None = None
        self._applied = 0
        self._frozen: _Copy | None = None  # the base frozen as it is now, when known
        # (events applied, the engine's clock, the frozen engine), ascending
        self._checkpoints: list[tuple[int, dt.datetime, _Copy]] = []
        # A copy of the base advanced to a later moment (timers run), holding the first
        # ``_view_applied`` sorted events; ``_view_ran``: the latest due time of a timer
        # it ran beyond the base it was copied from (or that base's clock). It answers
        # for any moment from ``_view_ran`` on while no event is added before it: the
        # base may meanwhile advance to the horizon, the view is not made again.
        self._view: _Engine | None = None
        self._view_applied = 0
        self._view_ran = _EPOCH

    @property
    def seen(self) -> int:
        """How many events (by log index) it has taken in."""
        return self._seen

    # --- taking events in ------------------------------------------------------------------

    def _take(self, events: Sequence[AdmittedEvent]) -> None:
        if len(events) < self._seen or (self._seen and not self._grown(events)):
            self._reset()  # not the list seen so far, grown: start again
        self._events = events
        for k in range(self._seen, len(events)):
            ev = events[k]
            t = _micros(ev.time)
            lo = bisect.bisect_left(self._times, t)
            hi = bisect.bisect_right(self._times, t, lo)
            pos = bisect.bisect_right(self._order, ev.index, lo, hi)
            self._times.insert(pos, t)
            self._order.insert(pos, ev.index)
            base_t = self._base_time()
            if pos < self._applied or (base_t is not None and ev.time < base_t):
                self._rewind(pos, ev.time)  # before what the base has folded in
            if pos < self._view_applied:
                _discard(self._view)  # sorted among the events the view holds
                self._view = None
        if len(events) > self._seen:
            self._seen = len(events)
            self._last = events[-1]
        self._source = source_of(events)

    def _grown(self, events: Sequence[AdmittedEvent]) -> bool:
        """Whether ``events`` is the sequence taken in so far, possibly grown."""
        if source_of(events) is self._source and not isinstance(events, list):
            return True  # a log read on demand (or a view of it): it only grows
        last = events[self._seen - 1]
        return last is self._last or last == self._last

    def _event(self, k: int) -> AdmittedEvent:
        """The ``k``-th event in (time, index) order."""
        return self._events[self._order[k]]

    def _events_sorted(self, start: int, stop: int) -> Iterator[AdmittedEvent]:
        for k in range(start, stop):
            yield self._events[self._order[k]]

    def _rewind(self, pos: int, when: dt.datetime) -> None:
        """Forget the fold beyond the first ``pos`` sorted events and beyond ``when``."""
        self.restarts += 1
        _discard(self._base, self._view)
        self._view = None
        self._checkpoints = [c for c in self._checkpoints if c[0] <= pos and c[1] <= when]
        if self._checkpoints:
            applied, when_frozen, frozen = self._checkpoints[-1]
            self._base, self._applied, self._frozen = None, applied, frozen  # thawed on use
            self._base_t = when_frozen
        else:
            self._base, self._applied, self._frozen, self._base_t = None, 0, None, None

    # --- the fold ----------------------------------------------------------------------------

    def _fresh(self, first: dt.datetime, at: dt.datetime) -> _Engine:
        engine = _Engine(self.roadmap)
        engine.t = min(engine.t, at, first)  # as evaluate() starts its clock
        return engine

    def _apply(self, engine: _Engine, upto: int, start: int) -> None:
        for ev in self._events_sorted(start, upto):
            _advance(engine, ev.time)
            engine.apply(ev)

    def _forget(self) -> None:
        """Drop the fold (base, checkpoints, copies): the next answer folds from the start."""
        self.restarts += 1
        _discard(self._base, self._view)
        self._base, self._base_t, self._applied, self._frozen = None, None, 0, None
        self._checkpoints, self._view = [], None

    def _base_time(self) -> dt.datetime | None:
        """The base's clock (None before any event is applied)."""
        return self._base.t if self._base is not None else self._base_t

    def _fold_base(self, upto: int) -> _Engine:
        """The base with the first ``upto`` sorted events applied (``upto`` ≥ applied)."""
        if self._base is None and self._frozen is not None and self._applied:
            try:
                self._base = self.thaw(self._frozen)  # a checkpoint or a snapshot's fold
            except Exception:  # a snapshot's engine of another build: fold from the start
                self._forget()
        if self._base is None:
            first = self._event(0).time
            self._base = self._fresh(first, first)
            self._applied = 0
        while self._applied < upto:
            next_checkpoint = (self._applied // self.every + 1) * self.every
            stop = min(upto, next_checkpoint)
            self._frozen = None
            self._apply(self._base, stop, self._applied)
            self._applied = stop
            if stop == next_checkpoint:
                self._checkpoint()
        return self._base

    def _checkpoint(self) -> None:
        assert self._base is not None
        self._frozen = self.freeze(self._base)
        self._checkpoints.append((self._applied, self._base.t, self._frozen))
        older, recent = (
            self._checkpoints[:-RECENT_CHECKPOINTS],
            self._checkpoints[-RECENT_CHECKPOINTS:],
        )
        if len(older) > MAX_CHECKPOINTS:
            self.spacing *= 2
            older = [c for c in older if c[0] % self.spacing == 0]
            self._checkpoints = older + recent

    # --- answering -----------------------------------------------------------------------------

    def state(
        self,
        events: Sequence[AdmittedEvent],
        *,
        at: dt.datetime,
        horizon: dt.datetime | None = None,
    ) -> s.AgreementState:
        """The state :func:`~cvid.engine.evaluate` gives for ``events`` at ``at``.

        ``horizon`` is a moment before which, the caller expects, no event will be
        added (the service: its clock less the admission skew): the base is advanced
        to it (never past ``at``), so that the timers due by then run once, in the
        base, rather than in a copy at every answer. An event added before it anyway
        restarts the fold from a checkpoint: the answer is the same, only slower.
        """
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        with self._lock:
            self._take(events)
            n = bisect.bisect_right(self._times, _micros(at))
            if n == 0 or at < self.start:  # before the road map's start: nothing to keep
                return evaluate(self.roadmap, list(self._events_sorted(0, n)), at=at)
            base_t = self._base_time()
            if n < self._applied or (base_t is not None and at < base_t):
                return self._from_checkpoint(n, at)
            still_frozen = self._base is None and n == self._applied and self._frozen is not None
            if still_frozen and (horizon is None or base_t is None or min(horizon, at) <= base_t):
                # the base is still frozen and has nothing to apply: answer from a thawed
                # copy (the view) rather than thawing the base and then a copy of it
                try:
                    return self._advanced(n, at)
                except _Unreadable:  # a snapshot's engine of another build
                    self._forget()
            base = self._fold_base(n)
            if horizon is not None and min(horizon, at) > base.t:
                _advance(base, min(horizon, at))
                self._frozen = None
            if base.timers and base.timers[0][0] <= at:
                return self._advanced(n, at)
            return _peek(base, at, n)

    def _advanced(self, n: int, at: dt.datetime) -> s.AgreementState:
        """At ``at``, timers due: a copy of the base advanced there (the view), kept for
        later moments while no event arrives; else copied again."""
        view = self._view
        if view is not None and self._view_applied == n and at >= self._view_ran:
            # no timer it ran is later than ``at``: as if it had stopped there
            view.t = min(view.t, at)
        else:
            self.copies += 1
            if self._frozen is not None:
                try:
                    view = self.thaw(self._frozen)
                except Exception as e:
                    raise _Unreadable from e
            else:
                assert self._base is not None
                view = self.thaw(self.freeze(self._base))
            self._view_ran = view.t
        self._advance_view(view, at)
        if self._view is not view:
            _discard(self._view)
        self._view, self._view_applied = view, n
        if view.timers and view.timers[0][0] <= at:  # pragma: no cover - _advance ran them
            raise AssertionError("timers left behind")
        return _peek(view, at, n)

    def _advance_view(self, view: _Engine, until: dt.datetime) -> None:
        """``_advance`` the view, noting the latest due time of a timer it runs (timers
        that timers push included)."""
        while view.timers and view.timers[0][0] <= until:
            when = view.timers[0][0]
            self._view_ran = max(self._view_ran, when)
            _advance(view, when)
        _advance(view, until)

    def _from_checkpoint(self, n: int, at: dt.datetime) -> s.AgreementState:
        """At ``at``, before events already applied: fold again from a checkpoint."""
        usable = [c for c in self._checkpoints if c[0] <= n and c[1] <= at]
        engine = None
        if usable:
            applied, _, frozen = usable[-1]
            try:
                engine = self.thaw(frozen)
            except Exception:  # a snapshot's engine of another build
                self._forget()
        if engine is None or n - applied > FAR:
            found = self._older_fold(n, at)
            if found is not None:
                _discard(engine)
                applied, engine = found
        if engine is None:
            applied, engine = 0, self._fresh(self._event(0).time, at)
        try:
            self._apply(engine, n, applied)
            _advance(engine, at)
            engine.settle()
            return engine.result(n)
        finally:
            _discard(engine)

    def _older_fold(self, n: int, at: dt.datetime) -> tuple[int, _Engine] | None:
        """The fold of an older snapshot that starts this one: its first events in (time,
        index) order are the first ones now too, at most ``n`` of them, its clock not
        after ``at``; thawed, with the events it applied."""
        if self.older is None:
            return None
        for applied, frozen, keys, when in self.older():
            _, order = _unkeyed(keys)
            if applied > n or _from_micros(when) > at or self._order[:applied] != order[:applied]:
                continue
            try:
                engine = self.thaw(frozen)
            except Exception:  # an engine of another build: look further
                continue
            self.from_older += 1
            return applied, engine
        return None

    # --- copies, and the engine kept in a snapshot ------------------------------------------

    def freeze(self, engine: _Engine) -> _copies.Frozen:
        """A copy of the engine kept in memory (see :mod:`cvid._copies`): copying an
        engine is freezing and thawing it."""
        return _copies.freeze(engine)

    def _pickled(self, engine: _Engine) -> bytes:
        """The engine as bytes of its own (the road map a reference), for a snapshot."""
        out = io.BytesIO()
        _Pickler(out, self.roadmap).dump(engine)
        return out.getvalue()

    def thaw(self, frozen: _Copy) -> _Engine:
        """A new engine from :meth:`freeze` or from a snapshot's bytes."""
        if isinstance(frozen, _copies.Frozen):
            engine = _copies.thaw(frozen)
        else:
            with _gc.paused():  # an engine of a long history is millions of objects
                engine = _Unpickler(io.BytesIO(frozen), self.roadmap).load()
        if not isinstance(engine, _Engine):
            raise TypeError("not a frozen engine")
        return engine

    def export(self) -> tuple[int, bytes, bytes, int] | None:
        """The fold so far, for a snapshot: (events applied, the frozen base, the events'
        order, the base's clock in microseconds since 1970), or None."""
        with self._lock:
            if self._base is None and not (self._frozen is not None and self._applied):
                return None
            keys = _keyed(self._times, self._order)
            if isinstance(self._frozen, bytes):
                frozen = self._frozen  # as a snapshot gave it
            else:
                base = self._base if self._base is not None else self._fold_base(self._applied)
                frozen = self._pickled(base)
            base_t = self._base_time()
            assert base_t is not None
            return self._applied, frozen, keys, _micros(base_t)

    def restore(
        self,
        events: Sequence[AdmittedEvent],
        applied: int,
        frozen: bytes,
        keys: bytes | None = None,
        when: int | None = None,
    ) -> None:
        """Start from a snapshot's fold: the first ``applied`` of ``events`` in (time,
        index) order are applied in the frozen base; ``keys``, the events' order as
        :meth:`export` gave it, spares reading every event (else they are sorted);
        ``when``, the base's clock as :meth:`export` gave it, spares thawing the base
        until an event must be applied to it (else it is thawed now)."""
        with self._lock:
            self._reset()
            if keys is None:
                ordered = sorted(events, key=lambda e: (e.time, e.index))
                self._times = array("q", (_micros(e.time) for e in ordered))
                self._order = array("q", (e.index for e in ordered))
            else:
                self._times, self._order = _unkeyed(keys)
                if len(self._order) != len(events):
                    raise ValueError(f"the order of {len(self._order)} events, of {len(events)}")
            self._events, self._source = events, source_of(events)
            self._seen = len(events)
            # a list is told apart by its last event; a log read on demand by itself
            self._last = events[-1] if events and isinstance(events, list) else None
            if not 0 < applied <= len(events):
                raise ValueError(f"{applied} events applied, of {len(events)}")
            if when is None:
                base: _Engine | None = self.thaw(frozen)
                assert base is not None
                base_t = base.t
            else:
                base, base_t = None, _from_micros(when)  # thawed when first needed
            self._base, self._base_t, self._applied, self._frozen = base, base_t, applied, frozen
            self._checkpoints = [(applied, base_t, frozen)]


class _Unreadable(SnapshotError):
    """A frozen engine that cannot be thawed (a snapshot written by another build)."""


class _Pickler(pickle.Pickler):
    def __init__(self, out: io.BytesIO, roadmap: m.RoadMap) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self.roadmap = roadmap

    def persistent_id(self, obj: Any) -> str | None:
        return "roadmap" if obj is self.roadmap else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: io.BytesIO, roadmap: m.RoadMap) -> None:
        super().__init__(data)
        self.roadmap = roadmap

    def persistent_load(self, pid: Any) -> Any:
        if pid != "roadmap":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return self.roadmap


def _keyed(times: array[int], order: array[int]) -> bytes:
    """The events' (time, index) order as a snapshot keeps it (see export)."""
    return times.tobytes() + order.tobytes()


def _unkeyed(keys: bytes) -> tuple[array[int], array[int]]:
    """The events' times and log indexes, sorted, from :func:`_keyed`'s bytes."""
    half = len(keys) // 2
    times, order = array("q"), array("q")
    times.frombytes(keys[:half])
    order.frombytes(keys[half:])
    return times, order


def _discard(*engines: _Engine | None) -> None:
    """Drop engines no longer used: their folds hold bound methods of the engine (a
    cycle), so their references are cleared, and reference counting frees them at once
    rather than a full collection (see :mod:`cvid._gc`)."""
    for engine in engines:
        if engine is not None:
            engine.__dict__.clear()


def _peek(engine: _Engine, at: dt.datetime, n: int) -> s.AgreementState:
    """The engine's result at ``at`` (no timer due by then), leaving the engine as it was.

    Only rules and guarantees can change: settling them touches the guarantees, the
    measures, the fired rules, the alerts and the clock, which are set aside first.
    """
    saved_t, saved_changed = engine.t, engine.changed
    guarantees, measures, fired = engine.guarantees, engine.measures, engine.fired
    alerts = len(engine.alerts)
    engine.guarantees = {k: copy.copy(v) for k, v in guarantees.items()}
    engine.measures = {k: copy.copy(v) for k, v in measures.items()}
    engine.fired = dict(fired)
    try:
        _advance(engine, at)
        engine.settle()
        return engine.result(n)
    finally:
        engine.t, engine.changed = saved_t, saved_changed
        engine.guarantees, engine.measures, engine.fired = guarantees, measures, fired
        del engine.alerts[alerts:]
