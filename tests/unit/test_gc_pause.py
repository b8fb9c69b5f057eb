"""cvid._gc: the collector is paused while large graphs load, and resumes after."""

from __future__ import annotations

import gc
import threading

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


def test_what_a_pause_built_goes_to_the_oldest_generation() -> None:
    with _gc.paused():
        built = [[i] for i in range(5000)]
    assert gc.get_count()[0] < 1000  # no young objects left to examine
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(built) in oldest
    assert all(id(item) in oldest for item in built[::500])
