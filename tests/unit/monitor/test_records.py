"""Device records under one root: commitments, reveals with range proofs, the
encrypted store. Property tests: any contiguous run verifies, any change fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import EscrowFileError, MonitoringError
from cvid.log.merkle import leaf_hash, mth_of_leaf_hashes
from cvid.monitor.records import (
    commit_period,
    leaf_bytes,
    parse_time,
    time_text,
    verify_reveal,
)
from cvid.monitor.store import load_period, save_period

START = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def randomness(tag: str) -> Any:
    counter = iter(range(10**9))

    def random_bytes(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(f"{tag}:{next(counter)}".encode()).digest()
        return out[:size]

    return random_bytes


def records(n: int) -> list[dict[str, Any]]:
    step = HOUR / max(n, 1)
    return [{"time": time_text(START + k * step), "flow": k * 0.5} for k in range(n)]


def check(period: Any, body: dict[str, Any]) -> Any:
    return verify_reveal(
        body["records"],
        index=body["index"],
        count=period.count,
        proof=body["proof"],
        root=period.root,
        first=parse_time(period.commitment()["first"]),
        last=parse_time(period.commitment()["last"]),
    )


def test_the_root_is_the_rfc_9162_tree_over_salted_records() -> None:
    period = commit_period("cam-1", START, START + HOUR, records(5), random_bytes=randomness("a"))
    leaves = [
        leaf_hash(leaf_bytes(r, s)) for r, s in zip(period.records, period.salts, strict=True)
    ]
    assert period.root == mth_of_leaf_hashes(leaves)
    assert period.commitment() == {
        "device": "cam-1",
        "start": "2027-01-10T00:00:00Z",
        "end": "2027-01-10T01:00:00Z",
        "root": period.root.hex(),
        "count": 5,
        "first": "2027-01-10T00:00:00Z",
        "last": "2027-01-10T00:48:00Z",
    }


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least one record"),
        ([{"flow": 1}], "record 0's time must be a time"),
        (
            [{"time": "2027-01-10T00:30:00Z"}, {"time": "2027-01-10T00:10:00Z"}],
            "record 1 (2027-01-10T00:10:00Z) is earlier than record 0",
        ),
        ([{"time": "2027-01-10T01:00:00Z"}], "outside the period"),
        ([{"time": "2027-02-30T00:00:00Z"}], "is not a real time"),
    ],
)
def test_records_that_cannot_be_committed(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(MonitoringError, match=message.replace("(", r"\(").replace(")", r"\)")):
        commit_period("cam-1", START, START + HOUR, rows, random_bytes=randomness("b"))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_contiguous_run_verifies_and_any_change_fails(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 40), label="records")
    period = commit_period("m", START, START + HOUR, records(n), random_bytes=randomness(str(n)))
    lo = data.draw(st.integers(0, n - 1), label="lo")
    hi = data.draw(st.integers(lo + 1, n), label="hi")
    body = period.reveal(lo, hi)
    assert check(period, body).index == lo
    k = data.draw(st.integers(0, hi - lo - 1), label="changed")
    what = data.draw(st.sampled_from(["value", "salt", "proof"]), label="what")
    if what == "value":
        body["records"][k]["record"]["flow"] = -1.0
    elif what == "salt":
        body["records"][k]["salt"] = "00" * 32
    elif body["proof"]:
        body["proof"][0] = "ff" * 32
    else:
        body["records"][k]["record"]["extra"] = True
    with pytest.raises(MonitoringError):
        check(period, body)


def test_a_reveal_with_records_outside_the_committed_times_fails() -> None:
    period = commit_period("m", START, START + HOUR, records(4), random_bytes=randomness("c"))
    body = period.reveal(0, 2)
    body["records"][0]["record"]["time"] = "2027-01-09T23:00:00Z"
    with pytest.raises(MonitoringError, match="outside the committed times"):
        check(period, body)


def test_records_are_kept_encrypted_and_read_back(tmp_path: Path) -> None:
    period = commit_period("m", START, START + HOUR, records(6), random_bytes=randomness("d"))
    path = tmp_path / "m.records"
    save_period(path, period, "correct horse", random_bytes=os.urandom)
    assert b"flow" not in path.read_bytes()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    loaded = load_period(path, "correct horse")
    assert (loaded.root, loaded.records) == (period.root, period.records)
    with pytest.raises(EscrowFileError, match="wrong passphrase"):
        load_period(path, "wrong")
    with pytest.raises(EscrowFileError, match="never overwritten"):
        save_period(path, period, "x", random_bytes=os.urandom)


_scalars = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _scalars, max_size=6))
def test_a_records_json_is_rfc_8785(record: dict[str, Any]) -> None:
    from cvid._jcs import canonical
    from cvid.monitor.records import record_json

    assert record_json(record) == canonical(record)


def test_records_beyond_plain_json_are_refused() -> None:
    from cvid.monitor.records import record_json

    with pytest.raises(MonitoringError, match="not plain JSON"):
        record_json({"time": "2027-01-10T00:00:00Z", "big": 2**60})
