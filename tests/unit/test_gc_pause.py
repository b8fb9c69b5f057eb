"""cvid._gc: the collector is paused while large graphs load, and resumes after."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from cvid import _gc


def test_a_pause_nests_and_resumes_only_after_the_outermost() -> None:
    assert gc.isenabled()
    with _gc.paused():
        assert not gc.isenabled()
        with _gc.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with _gc.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_after_an_exception() -> None:
    try:
        with _gc.paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()


def test_pauses_from_several_threads_resume_once_all_end() -> None:
    inside = threading.Barrier(4)
    leave = threading.Event()

    def pause() -> None:
        with _gc.paused():
            inside.wait()
            leave.wait(5)

    threads = [threading.Thread(target=pause) for _ in range(3)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join(5)
    assert gc.isenabled()


def test_what_a_pause_built_is_never_examined_and_still_freed_when_dropped() -> None:
    with _gc.paused():
        built = [[i] for i in range(5000)]
    assert gc.get_count()[0] < 1000  # no young objects left to examine
    examined = {id(o) for o in gc.get_objects()}
    assert id(built) not in examined  # in the permanent generation
    assert all(id(item) not in examined for item in built[::500])
    frozen = gc.get_freeze_count()
    del built  # reference counting still frees it
    assert gc.get_freeze_count() <= frozen - 5000


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


def test_cycles_in_the_permanent_generation_are_reclaimed_once_it_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _gc.paused():
        cycles = [_Node() for _ in range(1000)]
    witness = weakref.ref(cycles[0])
    del cycles  # garbage now, but in the permanent generation
    assert witness() is not None
    with _gc.paused():  # not doubled: nothing collected
        pass
    assert witness() is not None
    # as if the generation had held a few objects after the last reclaim: it has doubled
    monkeypatch.setattr(_gc._pauses, "kept", gc.get_freeze_count() // 2 - 1)
    with _gc.paused():
        pass
    assert witness() is None  # everything collected once
    assert abs(_gc._pauses.kept - gc.get_freeze_count()) < 100  # counted again
    assert gc.isenabled()
