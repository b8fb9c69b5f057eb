"""The admitted events of an open agreement, read from the log on demand.

:class:`LoggedEvents` is the sequence of an agreement's admitted events, entry ``i``
at position ``i``. The entries below its *base* (those a verified snapshot covers,
:mod:`cvid.snapshot`) are not held in memory: each is read from the log's entry tiles
and parsed when asked for (without admission: the snapshot's Merkle root fixes their
bytes, and their signatures were verified when it was written), and the last ones
asked for are kept in a small cache. The entries admitted since are held as they were
admitted, up to a bound: a process that stays up (a service, a mirror) moves the base
up as events accumulate (:meth:`LoggedEvents.compact`), so that the events it holds do
not grow with the log. Opening an agreement of a million entries thus neither parses
nor keeps the entries below its snapshot; the pages and reports that show old events
read the few they show.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

from cvid.events.authz import AdmittedEvent
from cvid.events.bodies import BODIES
from cvid.events.envelope import SignedEvent
from cvid.log.tiles import TILE_WIDTH

CACHED_EVENTS = 4096  # parsed events kept, the last ones asked for
CACHED_TILES = 8  # entry tiles (raw bytes) kept, the last ones read
HELD = 50_000  # events held as admitted at least, once compacted (see LoggedEvents.compact)

Reader = Callable[[int, int], Iterable[bytes]]  # entries [start, end) of the log


def parse_logged(index: int, data: bytes, checked: Any = None) -> AdmittedEvent:
    """Entry ``index`` of a log whose root a verified snapshot fixes, as admitted."""
    signed = SignedEvent.from_logged(data)
    body = BODIES[signed.event.type].model_validate(signed.event.body)
    return AdmittedEvent(index, signed, body, checked, len(data))


class LoggedEvents(Sequence[AdmittedEvent]):
    """Admitted events, entry ``i`` at position ``i``; the first ``base`` read on demand.

    ``read`` reads entries of the log (it may be replaced, e.g. by a reader on its own
    connection); ``checked`` is what admission verified beyond the body of entries
    below ``base`` (a reveal's leaves), by index. Appending is for the writer (one
    thread); reading is safe from any thread.
    """

    def __init__(
        self,
        read: Reader | None = None,
        base: int = 0,
        checked: dict[int, Any] | None = None,
        *,
        cached: int = CACHED_EVENTS,
    ) -> None:
        if base and read is None:
            raise ValueError("entries below the base need a reader")
        self.read = read
        # (base, the events from the base on): replaced as one, so that a reader on
        # another thread never pairs a new base with an old tail
        self._part: tuple[int, list[AdmittedEvent]] = (base, [])
        self._checked = dict(checked or {})
        self._cached = cached
        self._cache: OrderedDict[int, AdmittedEvent] = OrderedDict()
        self._tiles: OrderedDict[int, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()

    # --- growing -----------------------------------------------------------------------

    @property
    def base(self) -> int:
        """The first event held as admitted (those below are read on demand)."""
        return self._part[0]

    def append(self, event: AdmittedEvent) -> None:
        if event.index != len(self):
            raise ValueError(f"event {event.index} appended at position {len(self)}")
        self._part[1].append(event)

    def compact(self, held: int | None = None) -> int:
        """Read on demand all but the last ``held`` (default :data:`HELD`) events, once
        twice that many are held (for the writer, between appends); return how many
        were let go. Only with a reader: those are read from the log when asked for."""
        held = HELD if held is None else held
        base, tail = self._part
        if self.read is None or len(tail) < 2 * held:
            return 0
        moved = len(tail) - held
        with self._lock:
            self._checked.update(
                (e.index, e.checked) for e in tail[:moved] if e.checked is not None
            )
            self._part = (base + moved, tail[moved:])
            # a tile read when the base was lower holds only the entries below it then
            self._tiles.pop(base // TILE_WIDTH, None)
        return moved

    def extend(self, events: Iterable[AdmittedEvent]) -> None:
        for event in events:
            self.append(event)

    def checked(self) -> dict[int, Any]:
        """What admission verified beyond the body, by index, for every entry that has it."""
        tail = self._part[1]
        out = dict(self._checked)
        out.update((e.index, e.checked) for e in tail if e.checked is not None)
        return out

    @property
    def growing(self) -> LoggedEvents:
        """The sequence this is (views of it name it too): it only grows."""
        return self

    def view(self, size: int) -> Sequence[AdmittedEvent]:
        """The first ``size`` events, as a sequence that does not grow."""
        return _Prefix(self, min(size, len(self)))

    # --- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        base, tail = self._part
        return base + len(tail)

    @overload
    def __getitem__(self, i: int) -> AdmittedEvent: ...

    @overload
    def __getitem__(self, i: slice) -> list[AdmittedEvent]: ...

    def __getitem__(self, i: int | slice) -> AdmittedEvent | list[AdmittedEvent]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self[k] for k in range(start, stop, step)]
            return list(self.range(start, stop))
        base, tail = self._part
        n = base + len(tail)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"no event {i} of {n}")
        if i >= base:
            return tail[i - base]
        return self._old(i)

    def __iter__(self) -> Iterator[AdmittedEvent]:
        return self.range(0, len(self))

    def range(self, start: int, stop: int) -> Iterator[AdmittedEvent]:
        """Events ``[start, stop)`` in order; those below the base are parsed as they are
        read and not kept (a whole pass holds one tile of them at a time)."""
        base, tail = self._part
        if start < min(stop, base):
            assert self.read is not None
            end = min(stop, base)
            for index, data in enumerate(self.read(start, end), start):
                cached = self._cache.get(index)
                yield cached or parse_logged(index, data, self._checked.get(index))
        for k in range(max(start, base), stop):
            yield tail[k - base]

    def _old(self, index: int) -> AdmittedEvent:
        with self._lock:
            event = self._cache.get(index)
            if event is not None:
                self._cache.move_to_end(index)
                return event
            tile = index // TILE_WIDTH
            entries = self._tiles.get(tile)
            if entries is None:
                assert self.read is not None
                first = tile * TILE_WIDTH
                entries = list(self.read(first, min(first + TILE_WIDTH, self.base)))
                self._tiles[tile] = entries
                while len(self._tiles) > CACHED_TILES:
                    self._tiles.popitem(last=False)
            else:
                self._tiles.move_to_end(tile)
            data = entries[index % TILE_WIDTH]
            event = parse_logged(index, data, self._checked.get(index))
            self._cache[index] = event
            while len(self._cache) > self._cached:
                self._cache.popitem(last=False)
            return event


class _Prefix(Sequence[AdmittedEvent]):
    """The first ``size`` of a :class:`LoggedEvents` (which only grows)."""

    def __init__(self, events: LoggedEvents, size: int) -> None:
        self.events = events
        self.growing = events
        self.size = size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> AdmittedEvent: ...

    @overload
    def __getitem__(self, i: slice) -> list[AdmittedEvent]: ...

    def __getitem__(self, i: int | slice) -> AdmittedEvent | list[AdmittedEvent]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self.size)
            if step != 1:
                return [self.events[k] for k in range(start, stop, step)]
            return list(self.events.range(start, stop))
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(f"no event {i} of {self.size}")
        return self.events[i]

    def __iter__(self) -> Iterator[AdmittedEvent]:
        return self.events.range(0, self.size)

    def range(self, start: int, stop: int) -> Iterator[AdmittedEvent]:
        return self.events.range(start, min(stop, self.size))
