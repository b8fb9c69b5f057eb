"""One measurement of the log benchmark, run in a fresh process by ``benchmarks/run.py``.

Usage: ``python benchmarks/log_bench.py MODE ARGS...`` (see ``--help``). Each mode prints
exactly one JSON object on stdout; the parent aggregates, compares and prints the table.

Every mode imports what it needs *before* it starts a timer or reads a memory figure, so
import cost never counts, for cvid or for pymerkle. A process measures one thing and exits:
nothing it computed (tiles, pymerkle's subroot cache) survives into another measurement.

How pymerkle 7 is driven (read from its installed source, ``pymerkle/backends/sqlite.py``
and ``pymerkle/core.py``): ``SqliteTree(path)`` with its defaults (SHA-256, RFC 9162
leaf/node prefixes, subroot cache of 1 GiB above width 128, the stdlib ``sqlite3`` defaults:
rollback journal, ``synchronous=FULL``, 5 s busy timeout). Bulk append is its own bulk
path, ``append_entries(entries)`` with its default ``chunksize=100_000``: one transaction,
one ``executemany`` per chunk. A single durable append is ``append_entry(entry)``, which
commits per call. Proofs are ``prove_inclusion(index + 1, size)`` (its indices count from
one) and ``prove_consistency(old_size, new_size)``. We set no option and tune no pragma.

Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENTRY_SIZE = 64
SEED = 20261128  # the data is the same in every process and every run
ORIGIN = "bench.example/log"
CVID_FILE = "cvid.db"
PYMERKLE_FILE = "pymerkle.db"

Result = dict[str, Any]


def make_entries(count: int, seed: int = SEED) -> list[bytes]:
    """``count`` entries of ``ENTRY_SIZE`` random bytes from a seeded RNG.

    One small ``bytes`` per entry and no large temporary, so the peak RSS after this
    equals the resident size of the data (the memory row relies on that).
    """
    rng = random.Random(seed)
    return [rng.randbytes(ENTRY_SIZE) for _ in range(count)]


def max_rss_kib() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# --- 1. the raw-hash floor ----------------------------------------------------------------


def floor(count: int, passes: int) -> Result:
    """The fastest pass of a bare loop: one leaf hash and one node hash per entry."""
    import hashlib

    data = make_entries(count)
    sha256 = hashlib.sha256
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for entry in data:
            leaf = sha256(b"\x00" + entry).digest()
            sha256(b"\x01" + leaf + leaf).digest()
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "passes": times}


# --- 1, 2 and 4. bulk append (time and peak memory) -----------------------------------------


def append_cvid(count: int, directory: Path) -> Result:
    """One ``Log.append`` of all entries into a fresh SQLite file."""
    import cvid.log.store.sqlite  # noqa: F401  (open_store imports it lazily)
    from cvid.log.store import open_store
    from cvid.log.tlog import Log

    rss_start = max_rss_kib()
    data = make_entries(count)
    rss_data = max_rss_kib()
    log = Log.create(open_store(directory / CVID_FILE, create=True), ORIGIN)
    start = time.perf_counter()
    indices = log.append(data)
    appended = time.perf_counter()
    log.close()
    closed = time.perf_counter()
    if indices != range(count):
        raise SystemExit(f"cvid appended {indices}, expected range({count})")
    return _append_result(appended - start, closed - appended, rss_start, rss_data)


def append_pymerkle(count: int, directory: Path) -> Result:
    """pymerkle's bulk path, ``SqliteTree.append_entries`` with its default chunk size."""
    import pymerkle

    rss_start = max_rss_kib()
    data = make_entries(count)
    rss_data = max_rss_kib()
    tree = pymerkle.SqliteTree(str(directory / PYMERKLE_FILE))
    start = time.perf_counter()
    size = int(tree.append_entries(data))
    appended = time.perf_counter()
    tree.close()
    closed = time.perf_counter()
    if size != count:
        raise SystemExit(f"pymerkle holds {size} entries, expected {count}")
    return _append_result(appended - start, closed - appended, rss_start, rss_data)


def _append_result(seconds: float, close: float, rss_start: int, rss_data: int) -> Result:
    return {
        "seconds": seconds,
        "close_seconds": close,
        "rss_start_kib": rss_start,
        "rss_data_kib": rss_data,
        "rss_end_kib": max_rss_kib(),
    }


# --- 3. cold proofs --------------------------------------------------------------------------


def prove_cvid(directory: Path, kind: str, first: int, second: int) -> Result:
    """Open the store and make one proof: ``inclusion INDEX SIZE`` or ``consistency OLD NEW``."""
    import cvid.log.store.sqlite  # noqa: F401  (open_store imports it lazily)
    from cvid.log.store import open_store
    from cvid.log.tlog import Log

    start = time.perf_counter()
    log = Log(open_store(directory / CVID_FILE))
    opened = time.perf_counter()
    if kind == "inclusion":
        inclusion = log.inclusion_proof(first, second)
        done = time.perf_counter()
        inclusion.verify()
        check = {"leaf_hash": inclusion.leaf_hash.hex(), "root_hash": inclusion.root_hash.hex()}
    else:
        consistency = log.consistency_proof(first, second)
        done = time.perf_counter()
        consistency.verify()
        check = {"old_root": consistency.old_root.hex(), "new_root": consistency.new_root.hex()}
    log.close()
    return {"open_seconds": opened - start, "proof_seconds": done - opened, **check}


def open_floor(directory: Path) -> Result:
    """The least any SQLite-backed open can cost: connect to cvid's file, one SELECT.

    The same file, WAL journal and no other connection open, as :func:`prove_cvid` meets
    it; with no cvid code in the timer. A reference for the "with open" rows.
    """
    import sqlite3

    start = time.perf_counter()
    conn = sqlite3.connect(directory / CVID_FILE, isolation_level=None)
    rows = conn.execute("SELECT tree_size FROM cvid_log WHERE id = 1").fetchall()
    opened = time.perf_counter()
    conn.close()
    return {"open_seconds": opened - start, "tree_size": rows[0][0]}


def prove_pymerkle(
    directory: Path, kind: str, first: int, second: int, expected: list[str]
) -> Result:
    """As :func:`prove_cvid` with pymerkle, then verify against the roots cvid computed."""
    import pymerkle

    start = time.perf_counter()
    tree = pymerkle.SqliteTree(str(directory / PYMERKLE_FILE))
    opened = time.perf_counter()
    if kind == "inclusion":
        proof = tree.prove_inclusion(first + 1, second)  # pymerkle counts leaves from one
        done = time.perf_counter()
        if expected:  # leaf hash and root from cvid's own (verified) proof
            base, root = (bytes.fromhex(h) for h in expected)
            proof.verify(base, root, index=first + 1, size=second)
    else:
        proof = tree.prove_consistency(first, second)
        done = time.perf_counter()
        if expected:
            old_root, new_root = (bytes.fromhex(h) for h in expected)
            proof.verify(old_root, new_root, prior_size=first, later_size=second)
    tree.close()
    return {
        "open_seconds": opened - start,
        "proof_seconds": done - opened,
        "verified": bool(expected),
    }


# --- 5. durable single-entry appends from concurrent writers -------------------------------


def writer(impl: str, location: str, seconds: float, name: str) -> Result:
    """Append one entry per call until ``seconds`` have passed; count acknowledged appends.

    Prints ``ready`` once the store is open, then waits for a line on stdin, so that the
    parent starts every writer at once. An append counts only once it has returned
    (committed); an append that raised counts as an error, not as an entry.
    """
    append: Callable[[bytes], object]
    errors: tuple[type[BaseException], ...]
    if impl == "cvid":
        import cvid.log.store.postgres
        import cvid.log.store.sqlite  # noqa: F401
        from cvid.errors import StoreError
        from cvid.log.store import open_store
        from cvid.log.tlog import Log

        log = Log(open_store(location))
        append, errors = (lambda entry: log.append([entry])), (StoreError,)
    else:
        import sqlite3

        import pymerkle

        tree = pymerkle.SqliteTree(location)
        append, errors = tree.append_entry, (sqlite3.Error,)
    rng = random.Random(f"{SEED}:{name}")
    print("ready", flush=True)
    sys.stdin.readline()
    latencies: list[float] = []
    failures: list[str] = []
    began = time.time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        prefix = f"{name}:{len(latencies):08d}:".encode()
        entry = prefix + rng.randbytes(ENTRY_SIZE - len(prefix))
        start = time.perf_counter()
        try:
            append(entry)
        except errors as e:
            failures.append(f"{type(e).__name__}: {e}")
            continue
        latencies.append(time.perf_counter() - start)
    ended = time.time()
    latencies.sort()
    return {
        "count": len(latencies),
        "errors": len(failures),
        "first_error": failures[0] if failures else "",
        "began": began,
        "ended": ended,
        "p50_seconds": latencies[len(latencies) // 2] if latencies else None,
        "p99_seconds": latencies[len(latencies) * 99 // 100] if latencies else None,
    }


def main(argv: list[str]) -> None:
    """Parse the mode and its arguments, run it, print its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("floor")
    p.add_argument("count", type=int)
    p.add_argument("--passes", type=int, default=3)
    for impl in ("cvid", "pymerkle"):
        p = modes.add_parser(f"append-{impl}")
        p.add_argument("count", type=int)
        p.add_argument("directory", type=Path)
        p = modes.add_parser(f"prove-{impl}")
        p.add_argument("directory", type=Path)
        p.add_argument("kind", choices=["inclusion", "consistency"])
        p.add_argument("first", type=int, help="leaf index (inclusion) or old size")
        p.add_argument("second", type=int, help="tree size (inclusion) or new size")
        if impl == "pymerkle":
            p.add_argument("expected", nargs="*", help="hex hashes from cvid's proof, to verify")
        p = modes.add_parser(f"writer-{impl}")
        p.add_argument("location")
        p.add_argument("seconds", type=float)
        p.add_argument("name")
    p = modes.add_parser("open-floor")
    p.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    result: Result
    match args.mode:
        case "floor":
            result = floor(args.count, args.passes)
        case "append-cvid":
            result = append_cvid(args.count, args.directory)
        case "append-pymerkle":
            result = append_pymerkle(args.count, args.directory)
        case "prove-cvid":
            result = prove_cvid(args.directory, args.kind, args.first, args.second)
        case "open-floor":
            result = open_floor(args.directory)
        case "prove-pymerkle":
            result = prove_pymerkle(
                args.directory, args.kind, args.first, args.second, args.expected
            )
        case _:
            impl = args.mode.removeprefix("writer-")
            result = writer(impl, args.location, args.seconds, args.name)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
