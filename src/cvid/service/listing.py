"""Pages of logged events: filters, opaque cursors and bounded page sizes.

Every list the API and the dashboard show is read through :func:`page`: a filter
(party, event types, step, a time range, a text search), a cursor saying where the
page starts or ends, and a limit with a maximum. Cursors are positions in the log,
which only grows, so paging through a growing log returns every matching event
exactly once, in log order. A cursor is opaque to clients (base64url of a short
JSON document); one that does not decode is a :class:`CursorError` (400), never a
crash.

:class:`EventIndex` keeps, per party, type and step, the positions of the events
that carry it, and grows with the log, so a filtered page reads the candidate
positions rather than the whole log. Its positions are arrays of 64-bit integers
(8 bytes a position, where a list of ints takes 36), and it is kept in a section of the
agreement's snapshot (:mod:`cvid.snapshot`, ADR 0014): a service or a mirror that
starts again restores it and indexes only the entries after it, rather than reading
every event on its first filtered list. Each page also examines at most
``SCAN_BUDGET`` candidates: when a filter the index cannot narrow matches little,
a page may come back short (even empty) with a cursor to go on from, so no request
reads the whole history.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import heapq
import json
import logging
import re
import sys
import threading
import weakref
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, overload

from cvid import snapshot as snap
from cvid.errors import Error, InputError, SnapshotError
from cvid.events.authz import AdmittedEvent
from cvid.roadmap.model import RoadMap

MAX_LIMIT = 1000  # events on one page, at most
SCAN_BUDGET = 50_000  # candidates examined for one page, at most
MAX_CURSOR_CHARS = 200
MAX_TEXT_CHARS = 200
MAX_TYPES = 64

Describe = Callable[[AdmittedEvent], str]
SECTION = "index"  # the snapshot section that keeps it (snapshots/<size>.index)
FORMAT = 1
log = logging.getLogger("cvid.snapshot")


class CursorError(InputError):
    """A cursor that is not one this service issued (malformed or out of range)."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a list shows; None (or empty) means no condition."""

    party: str | None = None
    types: frozenset[str] = frozenset()
    step: str | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # inclusive
    text: str | None = None  # case-insensitive, over the described event

    def matches(self, event: AdmittedEvent, describe: Describe | None = None) -> bool:
        if self.party is not None and event.party != self.party:
            return False
        if self.types and event.type not in self.types:
            return False
        if self.step is not None and step_of(event) != self.step:
            return False
        if self.since is not None and event.time < self.since:
            return False
        if self.until is not None and event.time > self.until:
            return False
        if self.text:
            haystack = describe(event) if describe else f"{event.type} {event.party}"
            if self.text.casefold() not in haystack.casefold():
                return False
        return True

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links); types joined by commas."""
        out: dict[str, str] = {}
        if self.party:
            out["party"] = self.party
        if self.types:
            out["type"] = ",".join(sorted(self.types))
        if self.step:
            out["step"] = self.step
        if self.since:
            out["since"] = self.since.isoformat().replace("+00:00", "Z")
        if self.until:
            out["until"] = self.until.isoformat().replace("+00:00", "Z")
        if self.text:
            out["q"] = self.text
        return out


def step_of(event: AdmittedEvent) -> str | None:
    """The step an event names in its body, if any."""
    step = getattr(event.body, "step", None)
    return step if isinstance(step, str) else None


_WORD = re.compile(r"[A-Za-z0-9_.-]+")


def cited_steps(event: AdmittedEvent, step_ids: frozenset[str]) -> set[str]:
    """The steps of ``step_ids`` whose id appears as a word in the event's text fields
    (a snapback notice citing the step it is about, a note, a reason)."""
    if not step_ids:
        return set()
    found: set[str] = set()
    for value in vars(event.body).values():
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for text in texts:
            if isinstance(text, str):
                found.update(w.rstrip(".") for w in _WORD.findall(text))
    return found & step_ids


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts (``forward``: at ``position``) or ends (before ``position``)."""

    position: int
    forward: bool = True

    def encode(self) -> str:
        doc = {"v": 1, "at" if self.forward else "before": self.position}
        raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor this module encoded.

        Raises:
            CursorError: anything else.
        """
        bad = CursorError("not a cursor this service issued: page from the first page again")
        if not text or len(text) > MAX_CURSOR_CHARS:
            raise bad
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            doc = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise bad from e
        if not isinstance(doc, dict) or doc.get("v") != 1 or len(doc) != 2:
            raise bad
        for key, forward in (("at", True), ("before", False)):
            value = doc.get(key)
            if key in doc and type(value) is int and 0 <= value < 2**62:
                return cls(value, forward)
        raise bad


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its events in log order, and cursors to the pages around it."""

    events: list[AdmittedEvent]
    next: Cursor | None
    previous: Cursor | None
    examined: int = 0  # candidates read for it


def step_ids(roadmap: RoadMap) -> frozenset[str]:
    """The road map's steps: those whose citations an index keeps."""
    return frozenset(s.id for phase in roadmap.phases for s in phase.steps)


Positions: TypeAlias = "array[int]"  # of "q" (64-bit): ascending log positions


def _positions() -> Positions:
    return array("q")


_KINDS = ("party", "type", "step", "cites")


@dataclass
class EventIndex:
    """Positions of events by party, type and step, grown as the log grows."""

    size: int = 0
    by_party: dict[str, Positions] = field(default_factory=dict)
    by_type: dict[str, Positions] = field(default_factory=dict)
    by_step: dict[str, Positions] = field(default_factory=dict)
    step_ids: frozenset[str] = frozenset()  # the road map's steps, for ``cites``
    cites: dict[str, Positions] = field(default_factory=dict)  # steps named in its text
    restored: int = 0  # the entries it was restored with from a snapshot section
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _maps(self) -> tuple[dict[str, Positions], ...]:
        return (self.by_party, self.by_type, self.by_step, self.cites)

    def same(self, other: EventIndex) -> bool:
        """Whether ``other`` holds the same positions for the same entries and steps."""
        return (self.size, self.step_ids, self._maps()) == (
            other.size,
            other.step_ids,
            other._maps(),
        )

    def encode(self) -> bytes:
        """The index as bytes (a JSON header naming each list, then the lists as
        little-endian 64-bit integers), for a snapshot section; no pickle."""
        return self._encoded()[1]

    def _encoded(self) -> tuple[int, bytes]:
        """The size encoded, and the bytes (the index may grow meanwhile)."""
        with self._lock:
            lists = [
                (kind, key, m[key])
                for kind, m in zip(_KINDS, self._maps(), strict=True)
                for key in sorted(m)
            ]
            header = {
                "format": FORMAT,
                "size": self.size,
                "step_ids": sorted(self.step_ids),
                "lists": [[kind, key, len(items)] for kind, key, items in lists],
            }
            chunks = [json.dumps(header, separators=(",", ":")).encode() + b"\n"]
            for _, _, items in lists:
                chunks.append(_little(items).tobytes())
            return self.size, b"".join(chunks)

    @classmethod
    def decode(cls, data: bytes) -> EventIndex:
        """Read :meth:`encode`'s bytes.

        Raises:
            SnapshotError: bytes of another format, or that do not add up.
        """
        end = data.find(b"\n")
        try:
            header: Any = json.loads(data[:end]) if end > 0 else None
            lists, size = header["lists"], header["size"]
            if header["format"] != FORMAT or type(size) is not int:
                raise ValueError(f"format {header['format']!r}")
            index = cls(size=size, step_ids=frozenset(header["step_ids"]), restored=size)
            maps = dict(zip(_KINDS, index._maps(), strict=True))
            at = end + 1
            for kind, key, count in lists:
                items = _positions()
                items.frombytes(data[at : at + 8 * count])
                items = _little(items)
                at += 8 * count
                if len(items) != count or (count and not 0 <= items[-1] < size):
                    raise ValueError(f"the {kind} list of {key!r} does not fit")
                maps[kind][key] = items
            if at != len(data):
                raise ValueError("bytes after the last list")
        except (ValueError, KeyError, TypeError) as e:
            raise SnapshotError(f"not a listing index of this version: {e}") from e
        return index

    def update(self, events: Sequence[AdmittedEvent]) -> None:
        """Index the events appended since the last update (``events`` only grows)."""
        with self._lock:
            n = len(events)
            read = getattr(events, "range", None)  # a log read on demand: one pass, by tile
            items = (
                read(self.size, n)
                if read is not None
                else map(events.__getitem__, range(self.size, n))
            )
            for i, event in enumerate(items, self.size):
                _add(self.by_party, event.party, i)
                _add(self.by_type, event.type, i)
                step = step_of(event)
                if step is not None:
                    _add(self.by_step, step, i)
                for cited in cited_steps(event, self.step_ids) - {step}:
                    _add(self.cites, cited, i)
            self.size = max(self.size, n)

    def candidates(self, f: EventFilter, size: int) -> Sequence[int]:
        """Ascending positions below ``size`` that may match ``f`` (a superset).

        The shortest of the lists the filter names is returned as a read-only view
        (the index's lists only grow), so no request copies a long list.
        """
        with self._lock:
            none = _positions()
            lists: list[Sequence[int]] = []
            if f.party is not None:
                lists.append(_Prefix(self.by_party.get(f.party, none), size))
            if f.step is not None:
                lists.append(_Prefix(self.by_step.get(f.step, none), size))
            if len(f.types) == 1:
                (kind,) = f.types
                lists.append(_Prefix(self.by_type.get(kind, none), size))
            if not lists and not f.types:
                return range(size)
            several = [self.by_type.get(t, none) for t in f.types] if len(f.types) > 1 else []
        if several and (not lists or sum(map(len, several)) < min(map(len, lists))):
            merged = list(heapq.merge(*(_Prefix(x, size) for x in several)))
            lists.append(merged)
        return min(lists, key=len)


def _little(items: Positions) -> Positions:
    """``items`` in little-endian order (a copy on a big-endian machine)."""
    if sys.byteorder == "little":
        return items
    swapped = array("q", items)  # pragma: no cover - not the machines we run on
    swapped.byteswap()  # pragma: no cover
    return swapped  # pragma: no cover


def _add(lists: dict[str, Positions], key: str, position: int) -> None:
    items = lists.get(key)
    if items is None:
        items = lists[key] = _positions()
    items.append(position)


class _Prefix(Sequence[int]):
    """The items of an ascending list that are below ``bound``, without copying it."""

    def __init__(self, items: Sequence[int], bound: int) -> None:
        self._items = items
        self._n = bisect.bisect_left(items, bound)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...

    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice):
            return self._items[: self._n][i]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self._items[i]


_INDEXES: weakref.WeakKeyDictionary[object, EventIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def index_of(
    source: object, events: Sequence[AdmittedEvent], step_ids: frozenset[str] = frozenset()
) -> EventIndex:
    """The index kept for ``source`` (one per open agreement), brought up to ``events``;
    ``step_ids``: the road map's steps, whose citations it keeps.

    The first time, a source that has a ``restore_index(step_ids)`` method (the
    service, the mirror) is asked for the index kept in its snapshot, so that only the
    entries after it are read; None from it (no section, or one that does not verify)
    means building it from the first entry.
    """
    with _INDEXES_LOCK:
        index = _INDEXES.get(source)
        if index is None:
            restore = getattr(source, "restore_index", None)
            found = restore(step_ids) if restore is not None else None
            index = found if isinstance(found, EventIndex) else EventIndex(step_ids=step_ids)
            _INDEXES[source] = index
    index.update(events)
    return index


def kept_index(source: object) -> EventIndex | None:
    """The index kept for ``source``, if a list has needed one since it was opened."""
    with _INDEXES_LOCK:
        return _INDEXES.get(source)


def restore(
    directory: Path,
    keys_dir: Path,
    size: int,
    *,
    digest: str,
    root: Callable[[int], bytes],
    step_ids: frozenset[str],
) -> EventIndex | None:
    """The index kept in the latest snapshot section of ``directory`` that covers at most
    ``size`` entries and verifies (:func:`cvid.snapshot.verified_section`), if it was
    built for ``step_ids``; otherwise None, the reason reported on the ``cvid.snapshot``
    logger."""
    found = snap.verified_section(directory, keys_dir, SECTION, size, digest=digest, root=root)
    if found is None:
        return None
    at, data = found
    try:
        index = EventIndex.decode(data)
        if index.size != at:
            raise SnapshotError(f"the section of size {at} holds an index of {index.size}")
    except SnapshotError as e:
        log.warning("snapshot section ignored, it is built again: %s", e)
        return None
    if index.step_ids != step_ids:
        log.warning("snapshot section ignored, it is built again: made for other steps")
        return None
    return index


def save(
    index: EventIndex,
    events: Sequence[AdmittedEvent],
    directory: Path,
    keys_dir: Path,
    *,
    digest: str,
    root: Callable[[int], bytes],
    since: int,
) -> int | None:
    """Bring ``index`` up to ``events`` and keep it in a snapshot section when it covers at
    least :data:`cvid.snapshot.MIN_NEW` entries more than ``since`` (the size of the
    section read or last written); return the size written, or None when nothing was
    (a failure is reported: a section is a cache)."""
    try:
        index.update(events)
        if index.size - since < snap.MIN_NEW:
            return None
        size, data = index._encoded()
        snap.write_section(
            directory, keys_dir, SECTION, size=size, root=root(size), digest=digest, data=data
        )
    except Error as e:
        log.warning("no snapshot section written: %s", e)
        return None
    return size


@dataclass
class IndexSection:
    """Where one source (a service, a mirror) keeps its listing index between runs: the
    snapshot section of ``directory`` (authenticated with the key in ``keys``), read once
    (:meth:`restore`), written when the index grew by :data:`cvid.snapshot.MIN_NEW`
    entries (:meth:`save`). ``off``: neither (``--reverify``)."""

    directory: Path
    keys: Path
    digest: str
    root: Callable[[int], bytes]
    off: bool = False
    saved: int = 0  # the entries of the section read or last written

    def restore(self, size: int, step_ids: frozenset[str]) -> EventIndex | None:
        """The index of the latest section of at most ``size`` entries that verifies,
        built for ``step_ids``; None: it is built from the first entry."""
        if self.off:
            return None
        index = restore(
            self.directory,
            self.keys,
            size,
            digest=self.digest,
            root=self.root,
            step_ids=step_ids,
        )
        if index is not None:
            self.saved = index.size
        return index

    def save(self, source: object, events: Sequence[AdmittedEvent]) -> int | None:
        """Keep ``source``'s index (if a list built it), brought up to ``events``; return
        the entries written, or None when nothing was."""
        index = kept_index(source)
        if index is None or self.off:
            return None
        saved = save(
            index,
            events,
            self.directory,
            self.keys,
            digest=self.digest,
            root=self.root,
            since=self.saved,
        )
        if saved is not None:
            self.saved = saved
        return saved


def page(
    events: Sequence[AdmittedEvent],
    f: EventFilter,
    cursor: Cursor | None,
    limit: int,
    *,
    candidates: Sequence[int] | None = None,
    describe: Describe | None = None,
    budget: int = SCAN_BUDGET,
) -> Page:
    """The page of events matching ``f`` at ``cursor`` (default: the first page).

    Args:
        events: the log's events (position i is entry i).
        candidates: ascending positions to consider (a superset of the matches);
            default: every position.
        limit: at most this many events (1 to MAX_LIMIT).

    Raises:
        CursorError: the cursor points beyond the log.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
    size = len(events)
    pool: Sequence[int] = range(size) if candidates is None else candidates
    if cursor is not None and cursor.position > size:
        raise CursorError(f"the cursor points beyond the log's {size} entries")
    found: list[int] = []
    examined = 0
    if cursor is None or cursor.forward:
        start = 0 if cursor is None else cursor.position
        k = bisect.bisect_left(pool, start)
        while k < len(pool) and len(found) < limit and examined < budget:
            i = pool[k]
            examined += 1
            k += 1
            if f.matches(events[i], describe):
                found.append(i)
        after = pool[k - 1] + 1 if examined else start
        more = k < len(pool)
        before = k - examined > 0  # candidates before this page's start
        return Page(
            [events[i] for i in found],
            Cursor(after) if more else None,
            Cursor(start, forward=False) if before else None,
            examined,
        )
    end = cursor.position
    k = bisect.bisect_left(pool, end)  # pool[:k] lie before the end
    top = k
    while k > 0 and len(found) < limit and examined < budget:
        k -= 1
        examined += 1
        i = pool[k]
        if f.matches(events[i], describe):
            found.append(i)
    found.reverse()
    first = pool[k] if examined else end
    return Page(
        [events[i] for i in found],
        Cursor(end) if top < len(pool) else None,
        Cursor(first, forward=False) if k > 0 else None,
        examined,
    )


def window(
    keys: Sequence[int], cursor: Cursor | None, limit: int
) -> tuple[int, int, Cursor | None, Cursor | None]:
    """A page of a list ordered by distinct ascending log positions ``keys`` (one per item).

    Returns:
        ``(lo, hi, next, previous)``: the page is ``items[lo:hi]``.

    Raises:
        InputError: ``limit`` is out of range.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
    if cursor is None or cursor.forward:
        lo = bisect.bisect_left(keys, cursor.position if cursor else 0)
        hi = min(lo + limit, len(keys))
    else:
        hi = bisect.bisect_left(keys, cursor.position)
        lo = max(hi - limit, 0)
    after = Cursor(keys[hi]) if hi < len(keys) else None
    # a page past the last item (a cursor beyond it) ends its previous page after that item
    end = keys[lo] if lo < len(keys) else keys[-1] + 1 if keys else 0
    before = Cursor(end, forward=False) if lo > 0 else None
    return lo, hi, after, before


def parse_types(values: Sequence[str]) -> frozenset[str]:
    """Event types from repeated or comma-separated parameters.

    Raises:
        InputError: too many types.
    """
    types = frozenset(t.strip() for v in values for t in v.split(",") if t.strip())
    if len(types) > MAX_TYPES:
        raise InputError(f"at most {MAX_TYPES} event types in one filter")
    return types


def parse_text(text: str | None) -> str | None:
    """A text search, trimmed; None when empty.

    Raises:
        InputError: longer than MAX_TEXT_CHARS.
    """
    if text is None or not text.strip():
        return None
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"a text search is at most {MAX_TEXT_CHARS} characters")
    return text.strip()


__all__ = [
    "MAX_LIMIT",
    "Cursor",
    "CursorError",
    "EventFilter",
    "EventIndex",
    "Page",
    "index_of",
    "kept_index",
    "page",
    "parse_text",
    "parse_types",
    "restore",
    "save",
    "step_ids",
    "window",
]
