"""A period's device records under one RFC 9162 root, and reveals against it.

A record is a JSON object with a ``time`` (RFC 3339, UTC, ``...Z``) and whatever the
device measured. Records of a period are kept in time order; each is a leaf
``SHA-256(0x00 || "cvid-record-v1\\n" || salt || JCS(record))`` (one hash per record,
a fresh 256-bit salt so that a proof's neighbouring hashes say nothing of records
not revealed). The tree, its proofs and their checks are those of
:mod:`cvid.log.merkle` and :class:`cvid.escrow.commit.TreeLevels`: a reveal is a
contiguous run of records with a range proof. Pure: randomness comes in as
``random_bytes``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cvid._jcs import MAX_SAFE_INTEGER, canonical
from cvid.errors import JSONFormatError, MonitoringError, ProofError, TreeSizeError
from cvid.escrow.commit import SALT_SIZE, RandomBytes, TreeLevels
from cvid.log.merkle import leaf_hash, range_proof, verify_range

RECORD_DOMAIN = b"cvid-record-v1\n"
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
_SALT = re.compile(r"^[0-9a-f]{64}$")

Record = Mapping[str, Any]


def parse_time(text: object, what: str = "time") -> dt.datetime:
    """An RFC 3339 UTC time ``YYYY-MM-DDTHH:MM:SSZ``.

    Raises:
        MonitoringError: it is not one.
    """
    if not isinstance(text, str) or not _TIME.match(text):
        raise MonitoringError(f"{what} must be a time like 2027-01-01T00:00:00Z, not {text!r}")
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MonitoringError(f"{what} {text!r} is not a real time") from None


def time_text(when: dt.datetime) -> str:
    """A moment as records and commitments write it."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_time(record: object, n: int) -> dt.datetime:
    """The time of record ``n``, checking that it is an object with one."""
    if not isinstance(record, Mapping):
        raise MonitoringError(f"record {n} is not a JSON object")
    return parse_time(record.get("time"), f"record {n}'s time")


def leaf_bytes(record: Record, salt: bytes) -> bytes:
    """The leaf data of one salted record."""
    return RECORD_DOMAIN + salt + record_json(record)


def record_json(record: Record) -> bytes:
    """A record's canonical JSON (RFC 8785).

    A flat record of ASCII keys and strings, booleans, null, safe integers and floats
    between 1e-4 and 1e16 in magnitude (the range where Python's shortest repr and
    ECMAScript's number formatting agree) is written directly; any other goes through
    :func:`cvid._jcs.canonical`. Both give the same bytes (a property test checks it).

    Raises:
        MonitoringError: the record is not plain JSON.
    """
    fast = _flat_json(record)
    if fast is not None:
        return fast
    try:
        return canonical(record)
    except JSONFormatError as e:
        raise MonitoringError(f"a record is not plain JSON: {e}") from None


def _flat_json(record: Record) -> bytes | None:
    if type(record) is not dict:
        return None
    plain: dict[str, Any] | None = None
    for key, value in record.items():
        if type(key) is not str or not key.isascii():
            return None  # code-point order is UTF-16 order for ASCII keys only
        kind = type(value)
        if kind is float:
            if value == 0 or (value.is_integer() and abs(value) < 1e16):
                plain = plain or dict(record)
                plain[key] = int(value)  # ECMAScript writes 100.0 as 100, and -0 as 0
            elif not 1e-4 <= abs(value) < 1e16:
                return None
        elif kind is str:
            if not value.isascii():
                return None
        elif kind is int:
            if abs(value) > MAX_SAFE_INTEGER:
                return None
        elif value is not None and kind is not bool:
            return None
    return _dumps(plain or record).encode("ascii")


_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
).encode  # RFC 8785 escapes only '"', '\\' and the controls below U+0020 (not U+007F)


def check_order(times: Sequence[dt.datetime]) -> None:
    """Records go in time order (equal times allowed).

    Raises:
        MonitoringError: a record is earlier than the one before it.
    """
    for n in range(1, len(times)):
        if times[n] < times[n - 1]:
            raise MonitoringError(
                f"record {n} ({time_text(times[n])}) is earlier than record {n - 1} "
                f"({time_text(times[n - 1])}): times must not go backwards"
            )


@dataclass(frozen=True)
class Period:
    """One committed period as its holder keeps it (secret: it holds the salts)."""

    device: str
    start: dt.datetime
    end: dt.datetime
    records: Sequence[Record]
    salts: tuple[bytes, ...]

    @cached_property
    def tree(self) -> TreeLevels:
        return TreeLevels(
            [leaf_hash(leaf_bytes(r, s)) for r, s in zip(self.records, self.salts, strict=True)]
        )

    @property
    def root(self) -> bytes:
        return self.tree.root()

    @property
    def count(self) -> int:
        return len(self.records)

    def commitment(self) -> dict[str, Any]:
        """The body of its ``records.committed`` event, without the device's signature."""
        return {
            "device": self.device,
            "start": time_text(self.start),
            "end": time_text(self.end),
            "root": self.root.hex(),
            "count": self.count,
            "first": str(self.records[0]["time"]),
            "last": str(self.records[-1]["time"]),
        }

    def reveal(self, index: int = 0, end: int | None = None) -> dict[str, Any]:
        """The body of a ``records.revealed`` event for records ``[index, end)``."""
        stop = self.count if end is None else end
        try:
            proof = range_proof(index, stop, self.count, self.tree)
        except TreeSizeError as e:
            raise MonitoringError(str(e)) from None
        return {
            "device": self.device,
            "start": time_text(self.start),
            "count": self.count,
            "index": index,
            "records": [
                {"record": dict(self.records[k]), "salt": self.salts[k].hex()}
                for k in range(index, stop)
            ],
            "proof": [h.hex() for h in proof],
        }


def commit_period(
    device: str,
    start: dt.datetime,
    end: dt.datetime,
    records: Sequence[Record],
    *,
    random_bytes: RandomBytes,
) -> Period:
    """Commit to a period's records (in time order, all within ``[start, end)``).

    Raises:
        MonitoringError: no record, a malformed one, times out of order or outside
            the period, or a period that ends before it starts.
    """
    if end <= start:
        raise MonitoringError(f"the period ends ({time_text(end)}) before it starts")
    if not records:
        raise MonitoringError("a period to commit needs at least one record")
    times = [record_time(r, n) for n, r in enumerate(records)]
    check_order(times)
    if times[0] < start or times[-1] >= end:
        raise MonitoringError(
            f"records run from {time_text(times[0])} to {time_text(times[-1])}, outside "
            f"the period [{time_text(start)}, {time_text(end)})"
        )
    salt = random_bytes(SALT_SIZE * len(records))
    if len(salt) != SALT_SIZE * len(records):
        raise MonitoringError("random_bytes returned a wrong size")
    salts = tuple(salt[k * SALT_SIZE : (k + 1) * SALT_SIZE] for k in range(len(records)))
    return Period(device, start, end, tuple(dict(r) for r in records), salts)


@dataclass(frozen=True)
class Revealed:
    """What a reveal showed: its records and their times, once checked against the root."""

    index: int
    records: tuple[Record, ...]
    times: tuple[dt.datetime, ...]


def verify_reveal(
    entries: Sequence[object],
    *,
    index: int,
    count: int,
    proof: Sequence[str],
    root: bytes,
    first: dt.datetime,
    last: dt.datetime,
) -> Revealed:
    """Check revealed records against a commitment (its root, count, first, last).

    Raises:
        MonitoringError: a malformed entry, records out of time order or outside the
            committed first and last times, or a proof that does not lead to the root.
    """
    records: list[Record] = []
    hashes: list[bytes] = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or set(entry) != {"record", "salt"}:
            raise MonitoringError(f'revealed entry {n} is not {{"record": ..., "salt": ...}}')
        salt = entry["salt"]
        if not isinstance(salt, str) or not _SALT.match(salt):
            raise MonitoringError(f"revealed entry {n}'s salt is not 64 hex digits")
        record_time(entry["record"], index + n)
        records.append(entry["record"])
        hashes.append(leaf_hash(leaf_bytes(entry["record"], bytes.fromhex(salt))))
    times = [record_time(r, index + n) for n, r in enumerate(records)]
    check_order(times)
    if times and (times[0] < first or times[-1] > last):
        raise MonitoringError(
            "revealed records fall outside the committed times "
            f"{time_text(first)} to {time_text(last)}"
        )
    if index == 0 and times and times[0] != first:
        raise MonitoringError("the first record's time is not the committed first time")
    if index + len(times) == count and times and times[-1] != last:
        raise MonitoringError("the last record's time is not the committed last time")
    try:
        verify_range(hashes, index, count, [bytes.fromhex(h) for h in proof], root)
    except ProofError as e:
        raise MonitoringError(f"the records do not match the commitment: {e}") from None
    return Revealed(index, tuple(records), tuple(times))


# NDJSON lines that are already RFC 8785 canonical JSON are committed as they are: the
# line's bytes are the leaf's JCS(record), so a reveal of the parsed record checks as
# any other. The fast path recognises, without parsing, a flat object of ASCII keys in
# strictly increasing order and values that RFC 8785 writes exactly as given: strings
# with no escape, true, false, null, and numbers with at most 15 significant digits, no
# exponent, no trailing zero in the fraction, no "-0" (each such decimal is the shortest
# that round-trips, so ECMAScript writes it the same), and a "time" of the records'
# format. A line it does not recognise is parsed and re-encoded (record_json).
_CHAR = rb"[\x20\x21\x23-\x2b\x2d-\x5b\x5d-\x7a\x7c\x7e]"  # no '"' '\\' ',' '{' '}'
_STR = rb'"' + _CHAR + rb'*"'
_NUM = (  # at most 15 digits in all, no -0, nothing below 1e-6 in magnitude
    rb"(?=-?[0-9.]{1,16}[,}])"
    rb"(?:-?[1-9][0-9]{0,14}(?:\.[0-9]*[1-9])?|-?0\.(?!0{6})[0-9]*[1-9]|0)"
)
_VALUE = rb"(?:" + _STR + rb"|" + _NUM + rb"|true|false|null)"
_PAIR = _STR + rb":" + _VALUE
_FIRST_LINE = re.compile(rb"\{" + _PAIR + rb"(?:," + _PAIR + rb")*\}")
# With no ',' '{' '}' inside strings, '{"' and ',"' start a key and nothing else.
_KEYS = re.compile(rb'[{,]"(' + _CHAR + rb'*)":')
_SHAPES: dict[tuple[bytes, ...], re.Pattern[bytes]] = {}
_CHUNK = 4096  # lines matched at a time
_TIMES = re.compile(rb'[{,]"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)"')


class _Lines(Sequence[Record]):
    """A period's records held as their canonical lines, parsed only when read."""

    def __init__(self, lines: Sequence[bytes]) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, n: int) -> Record:  # type: ignore[override]
        value: Record = json.loads(self.lines[n])
        return value

    def __iter__(self) -> Iterator[Record]:
        return (json.loads(line) for line in self.lines)


def _canonical_lines(lines: Sequence[bytes]) -> tuple[list[bytes], list[bytes]] | None:
    """The lines and their times when every line passes the fast path, else None.

    A device writes one shape of record: the first line's keys (strictly increasing,
    so unique) make one pattern with the keys written out, which the whole batch must
    match in one pass.
    """
    first = _FIRST_LINE.fullmatch(lines[0])
    if first is None:
        return None
    keys = _KEYS.findall(lines[0])
    if keys != sorted(set(keys)) or b"time" not in keys:
        return None
    shape = _SHAPES.get(tuple(keys))
    if shape is None:
        pairs = b",".join(b'"' + re.escape(k) + b'":' + _VALUE for k in keys)
        shape = re.compile(rb"(?:\{" + pairs + rb"\}\n)*")
        if len(_SHAPES) < 64:
            _SHAPES[tuple(keys)] = shape
    times: list[bytes] = []
    for lo in range(0, len(lines), _CHUNK):  # bounded: the pattern's state grows with it
        blob = b"\n".join(lines[lo : lo + _CHUNK]) + b"\n"
        if shape.fullmatch(blob) is None:
            return None
        times += _TIMES.findall(blob)
    if len(times) != len(lines):
        return None
    return list(lines), times


def commit_lines(
    device: str,
    start: dt.datetime,
    end: dt.datetime,
    lines: Sequence[bytes],
    *,
    random_bytes: RandomBytes,
) -> Period:
    """Commit to a period's records given as NDJSON lines (without their newlines).

    Lines already in canonical JSON (the fast path above) are hashed as they are: one
    salted leaf hash per line and the tree, with no parsing; any other batch is parsed
    and committed by :func:`commit_period`. Either way the root is the same as
    :func:`commit_period` gives for the parsed records with the same salts, so reveals
    check the same way.

    Raises:
        MonitoringError: as :func:`commit_period`, or a line that is not a JSON object.
    """
    if end <= start:
        raise MonitoringError(f"the period ends ({time_text(end)}) before it starts")
    if not lines:
        raise MonitoringError("a period to commit needs at least one record")
    fast = _canonical_lines(lines)
    if fast is None:
        records: list[Record] = []
        for n, line in enumerate(lines):
            try:
                value = json.loads(line)
            except ValueError:
                raise MonitoringError(f"record {n} is not JSON") from None
            records.append(value)
        return commit_period(device, start, end, records, random_bytes=random_bytes)
    kept, stamps = fast
    _real_times(stamps)  # then their order as bytes is their order in time
    if any(b < a for a, b in itertools.pairwise(stamps)):
        check_order([parse_time(t.decode(), f"record {n}'s time") for n, t in enumerate(stamps)])
    first, last = stamps[0].decode(), stamps[-1].decode()
    if parse_time(first) < start or parse_time(last) >= end:
        raise MonitoringError(
            f"records run from {first} to {last}, outside "
            f"the period [{time_text(start)}, {time_text(end)})"
        )
    count = len(kept)
    salt = random_bytes(SALT_SIZE * count)
    if len(salt) != SALT_SIZE * count:
        raise MonitoringError("random_bytes returned a wrong size")
    view = memoryview(salt)
    base = hashlib.sha256(b"\x00" + RECORD_DOMAIN)
    leaves = bytearray()
    for k, line in enumerate(kept):
        h = base.copy()
        h.update(view[k * SALT_SIZE : (k + 1) * SALT_SIZE])
        h.update(line)
        leaves += h.digest()
    salts = tuple(salt[k * SALT_SIZE : (k + 1) * SALT_SIZE] for k in range(count))
    period = Period(device, start, end, _Lines(kept), salts)
    period.__dict__["tree"] = TreeLevels.from_blob(bytes(leaves))  # the cached tree
    return period


def _real_times(stamps: Sequence[bytes]) -> None:
    """Every distinct date and clock time is a real one (fields in range)."""
    for day in set(map(bytes.__getitem__, stamps, itertools.repeat(slice(0, 10)))):
        parse_time(day.decode() + "T00:00:00Z", "a record's date")
    for clock in set(map(bytes.__getitem__, stamps, itertools.repeat(slice(11, 19)))):
        h, m, sec = clock.split(b":")
        if int(h) > 23 or int(m) > 59 or int(sec) > 59:
            raise MonitoringError(f"a record's time {clock.decode()!r} is not a real time")
