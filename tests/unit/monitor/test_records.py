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


# Lines as devices might write them: canonical or not (spacing, key order, number
# literals RFC 8785 writes otherwise: exponents, trailing zeros, -0, long digit runs).
_literals = st.one_of(
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?\Z"),
    st.sampled_from(["true", "false", "null", '"a,b"', '"x:y"', '"{}"', '"\\u00e9"', '"\\n"']),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=6).map(
        lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'
    ),
)


@st.composite
def _line_batches(draw: st.DrawFn) -> list[bytes]:
    n = draw(st.integers(1, 6))
    lines = []
    for k in range(n):
        keys = draw(st.lists(st.text("abtz_", min_size=1, max_size=3), max_size=4, unique=True))
        pairs = [f'"time":"{time_text(START + k * dt.timedelta(minutes=5))}"'] + [
            f'"{key}":{draw(_literals)}' for key in keys if key != "time"
        ]
        if draw(st.booleans()):
            pairs.sort()
        sep = draw(st.sampled_from([",", ", "]))
        lines.append(("{" + sep.join(pairs) + "}").encode())
    return lines


@settings(max_examples=400, deadline=None)
@given(_line_batches())
def test_lines_commit_to_the_root_of_their_parsed_records(lines: list[bytes]) -> None:
    """Fast path or not, committing lines gives the root of the parsed records with the
    same salts, and a reveal of them checks against it."""
    import json

    from cvid.monitor.records import commit_lines

    rows = [json.loads(line) for line in lines]
    try:  # the leaves are hashed when the root is first asked for
        root = commit_period("d", START, START + HOUR, rows, random_bytes=randomness("l")).root
    except MonitoringError:
        with pytest.raises(MonitoringError):
            commit_lines("d", START, START + HOUR, lines, random_bytes=randomness("l")).root  # noqa: B018
        return
    period = commit_lines("d", START, START + HOUR, lines, random_bytes=randomness("l"))
    assert period.root == root
    assert list(period.records) == rows
    assert check(period, period.reveal()).records == tuple(rows)


def test_canonical_lines_are_taken_as_they_are() -> None:
    from cvid._jcs import canonical
    from cvid.monitor.records import _CHUNK, _canonical_lines, commit_lines

    n = _CHUNK + 5  # across a chunk's end
    lines = [canonical(r) for r in records(n)]
    assert _canonical_lines(lines) is not None
    fast = commit_lines("d", START, START + HOUR, lines, random_bytes=randomness("c"))
    slow = commit_period("d", START, START + HOUR, records(n), random_bytes=randomness("c"))
    assert fast.root == slow.root
    assert fast.commitment() == slow.commitment()
    assert _canonical_lines([b'{"time":"2027-01-10T00:00:00Z","a":1}']) is None  # key order
    assert _canonical_lines([b'{"a":1.50,"time":"2027-01-10T00:00:00Z"}']) is None
    assert _canonical_lines([b'{"a":-0,"time":"2027-01-10T00:00:00Z"}']) is None
    assert _canonical_lines([b'{"a":0.0000001,"time":"2027-01-10T00:00:00Z"}']) is None
    assert _canonical_lines([b'{"a":1234567890123456,"time":"2027-01-10T00:00:00Z"}']) is None


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (["2027-01-10T00:10:00Z", "2027-01-10T00:05:00Z"], "earlier than record 0"),
        (["2027-01-10T00:10:00Z", "2027-01-10T00:61:00Z"], "not a real time"),
        (["2027-01-10T01:00:00Z"], "outside the period"),
        (["2027-01-09T23:59:59Z"], "outside the period"),
    ],
)
def test_lines_that_cannot_be_committed(times: list[str], message: str) -> None:
    from cvid.monitor.records import commit_lines

    lines = [f'{{"time":"{t}","v":1}}'.encode() for t in times]
    with pytest.raises(MonitoringError, match=message):
        commit_lines("d", START, START + HOUR, lines, random_bytes=os.urandom)
