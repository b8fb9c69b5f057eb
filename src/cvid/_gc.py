"""Pausing Python's cyclic garbage collector while large object graphs are built.

Unpickling a snapshot creates millions of objects at once; each allocation threshold
crossed starts a collection that walks every object already alive, so loading a 60 MB
snapshot took three times longer with the collector running than without it (a
million-event agreement: 4.3 s against 1.3 s to open). Nothing loaded holds a cycle
that needs collecting during the load, so the collector is paused for its duration
and runs normally afterwards. The pause nests and is shared by threads: the collector
resumes when the outermost pause ends (and only if it was enabled before).

What is alive when the outermost pause ends (what it built among it) is long-lived:
it goes to the permanent generation, which no collection examines. A full collection
walked an engine of a million events in 0.4 s, and under load one started every few
seconds, whichever thread it interrupted; now it walks what was made since the last
pause. Objects in the permanent generation are still freed by reference counting
when they are dropped (the incremental evaluator breaks its engines' cycles when it
drops one); a cycle of garbage that reaches it anyway is reclaimed when the
generation has grown to twice what it held after the last reclaim: then everything
is collected once (see :func:`paused`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many pauses are running, and whether the collector ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False
        self.kept = 0  # objects in the permanent generation after the last reclaim


_pauses = _Pauses()


@contextmanager
def paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector disabled (see the module)."""
    with _pauses.lock:
        if _pauses.depth == 0:
            _pauses.was_enabled = gc.isenabled()
            gc.disable()
        _pauses.depth += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.depth -= 1
            if _pauses.depth == 0:
                gc.freeze()  # see the module
                if not _pauses.kept:
                    _pauses.kept = gc.get_freeze_count()
                elif gc.get_freeze_count() > 2 * _pauses.kept:
                    _reclaim()
                if _pauses.was_enabled:
                    gc.enable()


def _reclaim() -> None:
    """Collect everything once, cycles in the permanent generation included, and keep
    what survives there (a pause is running: the caller holds the lock)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _pauses.kept = gc.get_freeze_count()
