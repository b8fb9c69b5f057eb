"""Tests for cvid.witness.state: the witness's durable, compare-and-swap state."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from cvid.errors import StoreError
from cvid.log.merkle import EMPTY_ROOT
from cvid.witness.state import Advance, LogState, WitnessState

ORIGIN = "example.org/log"


def root(n: int) -> bytes:
    return hashlib.sha256(b"root %d" % n).digest()


@pytest.fixture
def state(tmp_path: Path) -> WitnessState:
    return WitnessState(tmp_path / "witness.db")


def test_an_unknown_origin_is_at_size_zero_with_the_empty_root(state: WitnessState) -> None:
    assert state.get(ORIGIN) == LogState(ORIGIN, 0, EMPTY_ROOT, None)
    assert state.origins() == []


def test_advance_records_and_persists(state: WitnessState, tmp_path: Path) -> None:
    start = state.get(ORIGIN)
    result = state.advance(expected=start, tree_size=5, root_hash=root(5), checkpoint=b"cp5", at=1)
    assert result == Advance(True, LogState(ORIGIN, 5, root(5), b"cp5"))
    reopened = WitnessState(tmp_path / "witness.db")
    assert reopened.get(ORIGIN) == LogState(ORIGIN, 5, root(5), b"cp5")
    assert reopened.origins() == [ORIGIN]
    assert reopened.get("other.example/log").tree_size == 0


def test_sizes_beyond_signed_64_bits_are_kept(state: WitnessState) -> None:
    big = 2**64 - 1
    state.advance(
        expected=state.get(ORIGIN), tree_size=big, root_hash=root(1), checkpoint=b"c", at=1
    )
    assert state.get(ORIGIN).tree_size == big


def test_advance_from_a_stale_state_changes_nothing(state: WitnessState) -> None:
    start = state.get(ORIGIN)
    state.advance(expected=start, tree_size=8, root_hash=root(8), checkpoint=b"cp8", at=1)
    result = state.advance(expected=start, tree_size=6, root_hash=root(6), checkpoint=b"cp6", at=2)
    assert not result.advanced
    assert result.current == LogState(ORIGIN, 8, root(8), b"cp8")
    assert state.get(ORIGIN) == result.current


def test_a_stale_root_at_the_same_size_changes_nothing(state: WitnessState) -> None:
    start = state.get(ORIGIN)
    state.advance(expected=start, tree_size=4, root_hash=root(4), checkpoint=b"a", at=1)
    forged = LogState(ORIGIN, 4, root(99))
    result = state.advance(expected=forged, tree_size=9, root_hash=root(9), checkpoint=b"b", at=2)
    assert not result.advanced
    assert state.get(ORIGIN).root_hash == root(4)


def test_a_rollback_is_never_written(state: WitnessState) -> None:
    state.advance(expected=state.get(ORIGIN), tree_size=7, root_hash=root(7), checkpoint=b"", at=1)
    with pytest.raises(StoreError, match="roll"):
        state.advance(
            expected=state.get(ORIGIN), tree_size=3, root_hash=root(3), checkpoint=b"", at=2
        )
    assert state.get(ORIGIN).tree_size == 7


def test_concurrent_advances_from_one_size_let_exactly_one_through(state: WitnessState) -> None:
    start = state.get(ORIGIN)
    results: list[Advance] = []
    barrier = threading.Barrier(8)

    def go(n: int) -> None:
        barrier.wait()
        results.append(
            state.advance(
                expected=start, tree_size=10 + n, root_hash=root(n), checkpoint=b"%d" % n, at=n
            )
        )

    threads = [threading.Thread(target=go, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.advanced]
    assert len(winners) == 1
    assert state.get(ORIGIN) == winners[0].current
    assert all(r.current == winners[0].current for r in results)


def test_evidence_is_kept_apart_from_the_state(state: WitnessState) -> None:
    state.record_evidence(origin=ORIGIN, status=422, reason="bad proof", request=b"req", at=5)
    state.record_evidence(origin="b.example/log", status=409, reason="fork", request=b"r2", at=6)
    assert state.get(ORIGIN).tree_size == 0
    (only,) = state.evidence(ORIGIN)
    assert (only.status, only.reason, only.request, only.received_at) == (
        422,
        "bad proof",
        b"req",
        5,
    )
    assert [e.origin for e in state.evidence()] == [ORIGIN, "b.example/log"]


def test_an_unopenable_file_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        WitnessState(tmp_path / "missing-dir" / "witness.db")


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "witness.db"
    path.write_bytes(b"not sqlite" * 100)
    with pytest.raises(StoreError):
        WitnessState(path)


@pytest.mark.parametrize(
    ("size", "root_hash"), [("-3", root(1)), ("abc", root(1)), ("5", b"short")]
)
def test_corrupt_rows_are_store_errors(state: WitnessState, size: str, root_hash: bytes) -> None:
    with sqlite3.connect(state.path) as db:
        db.execute("INSERT INTO cosigned VALUES (?, ?, ?, ?, ?)", (ORIGIN, size, root_hash, b"", 0))
    db.close()
    with pytest.raises(StoreError):
        state.get(ORIGIN)
