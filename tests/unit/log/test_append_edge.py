"""A log that keeps its tree edge between appends writes the same tiles as one that reads
the edge from its store before every append."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import EntryError
from cvid.log.store.memory import MemoryStore
from cvid.log.tiles import MAX_ENTRY_SIZE
from cvid.log.tlog import Log


def _entries(start: int, n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + n)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=12))
def test_kept_edge_writes_what_a_fresh_read_writes(batches: list[int]) -> None:
    kept, fresh = MemoryStore(), MemoryStore()
    keeping = Log.create(kept, "example.org/log")
    Log.create(fresh, "example.org/log")
    size = 0
    for n in batches:
        assert keeping.append(_entries(size, n)) == range(size, size + n)
        Log(fresh).append(_entries(size, n))  # a new Log object: no edge kept
        size += n
        assert keeping.root() == Log(fresh).root()
    assert kept.tiles == fresh.tiles
    assert kept.nodes == fresh.nodes


def test_another_writer_between_appends_is_read_not_overwritten() -> None:
    store = MemoryStore()
    mine = Log.create(store, "example.org/log")
    mine.append(_entries(0, 5))
    Log(store).append(_entries(5, 7))  # the edge mine kept is stale now
    mine.append(_entries(12, 3))
    reference = MemoryStore()
    Log.create(reference, "example.org/log").append(_entries(0, 15))
    assert store.tiles == reference.tiles
    assert mine.root() == Log(reference).root()


def test_a_failed_append_drops_the_kept_edge() -> None:
    store = MemoryStore()
    log = Log.create(store, "example.org/log")
    log.append(_entries(0, 3))
    with pytest.raises(EntryError):
        log.append([b"fine", b"x" * (MAX_ENTRY_SIZE + 1)])
    assert log.size() == 3
    log.append(_entries(3, 2))
    reference = MemoryStore()
    Log.create(reference, "example.org/log").append(_entries(0, 5))
    assert store.tiles == reference.tiles
