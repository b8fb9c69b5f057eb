"""The states a server answers with: kept by log size and moment, and "now" on time.

A state is a function of the log's first ``size`` entries and a moment ``at``: the
states computed recently are kept under that key (readers polling "now" share one per
second). Computing the state "now" is fast while events arrive in time order (the
incremental evaluator takes in only what is new) but not always: on an agreement of a
million events, an event that arrives a little out of order folds again from a copy of
the engine (a few hundred milliseconds), and while a thousand events a second arrive,
most readers would wait for one such fold.

So a read of "now" on a log of at least :data:`STALE_FROM` entries is answered, when
one of the last :data:`COSTS_KEPT` computations took more than :data:`FRESH_WITHIN`,
by the latest state computed for a moment at most :data:`STALE_AT_MOST` earlier,
while one background thread computes the next: one at a time, at most one a second
("now" is to the second), resting :data:`REST` times as long as the last one took, so
that it never takes more than a fifth of the interpreter from the writer and the
readers (and the readers' pages change at most once a second). That state says what
it reflects: its moment (``at``) and the log size (:attr:`Evaluated.size`, which the
API sends as the ``X-Cvid-Entries`` header). A reader that must see the very latest
asks for it (``fresh``; the API's ``Cache-Control: no-cache``) and waits. On a smaller
log, every read of "now" sees every event committed before it, however long
computing it takes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from cvid.engine.state import AgreementState

STALE_FROM = 10_000  # entries: below this, "now" is always computed for its reader
FRESH_WITHIN = 0.05  # seconds: a state computed this quickly is computed for its reader
STALE_AT_MOST = dt.timedelta(seconds=10)  # "now" answered by a state at most this old
PERIOD = 1.0  # seconds: the background thread starts at most one computation this often,
REST = 4.0  # rests at least this many times as long as it computed,
MAX_REST = 1.0  # but at most this many seconds
KEPT = 64  # states kept by (log size, moment)
COSTS_KEPT = 8  # the latest computations' times, the slowest of which decides

log = logging.getLogger("cvid.service")


@dataclass(frozen=True)
class Evaluated:
    """A state, the log size and moment it is of, and how long computing it took."""

    size: int
    at: dt.datetime
    state: AgreementState
    seconds: float


class States:
    """States by (log size, moment), and "now" answered without waiting (see the module).

    ``compute(size, at)`` is the state of the log's first ``size`` entries at ``at``;
    ``size()`` is the log's size and ``now()`` the server's clock (to the second).
    """

    def __init__(
        self,
        compute: Callable[[int, dt.datetime], AgreementState],
        *,
        size: Callable[[], int],
        now: Callable[[], dt.datetime],
    ) -> None:
        self._compute, self._size, self._now = compute, size, now
        self._kept: OrderedDict[tuple[int, dt.datetime], Evaluated] = OrderedDict()
        self._lock = threading.Lock()
        self._latest: Evaluated | None = None  # the latest computed at a moment not ahead
        self._costs: deque[float] = deque(maxlen=COSTS_KEPT)
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshed = 0  # states computed in the background (for tests and benchmarks)

    def get(self, size: int, at: dt.datetime, *, fresh: bool = False) -> Evaluated:
        """The state of the first ``size`` entries at ``at``; for the log's whole size at
        the server's "now", unless ``fresh``, possibly an earlier one (see the module)."""
        key = (size, at)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
        if not fresh and size == self._size() and at == self._now():
            latest = self._usable(size, at)
            if latest is not None:
                return latest
        return self._evaluate(size, at)

    def _usable(self, size: int, at: dt.datetime) -> Evaluated | None:
        latest = self._latest
        if latest is None or size < STALE_FROM or max(self._costs) < FRESH_WITHIN:
            return None  # a small log, or quick to compute: computed for this reader
        if not (latest.size <= size and latest.at <= at and at - latest.at <= STALE_AT_MOST):
            return None
        self._wake()
        return latest

    def _evaluate(self, size: int, at: dt.datetime) -> Evaluated:
        started = time.perf_counter()
        state = self._compute(size, at)
        evaluated = Evaluated(size, at, state, time.perf_counter() - started)
        with self._lock:
            self._costs.append(evaluated.seconds)
            self._kept[(size, at)] = evaluated
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
            latest = self._latest
            if at <= self._now() and (latest is None or (at, size) >= (latest.at, latest.size)):
                self._latest = evaluated
        return evaluated

    # --- the background thread ----------------------------------------------------------

    def _wake(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="cvid-states", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            try:
                took = self._evaluate(self._size(), self._now()).seconds
                self.refreshed += 1
            except Exception:  # reported; readers then compute for themselves
                log.exception("the state could not be computed")
                took = MAX_REST
            if self._stopping.wait(min(max(REST * took, PERIOD - took), MAX_REST)):
                return

    def close(self) -> None:
        """Stop the background thread (it finishes the state it is computing)."""
        self._stopping.set()
        self._wanted.set()
        thread = self._thread
        if thread is not None:
            thread.join()
