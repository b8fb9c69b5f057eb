"""The declaration escrow's cost: ``cvid.escrow.commit`` of 10^6 items against a hashing floor.

Usage::

    python benchmarks/escrow_bench.py            # 10^6 items (about 3 minutes on 2 cores)
    python benchmarks/escrow_bench.py --quick    # 10^5 items
    python benchmarks/escrow_bench.py --items 250000 --repeat 3

The declaration is synthetic and the same every run: a 40 x 50 grid (2,000 cells), one
cell holding exactly 1,000 items, every tenth other cell empty, and the rest of the items
spread at random over the remaining cells; each item has four attributes (a mass, a
count, a site and a status). The items are built before any timer starts.

What is measured:

* ``commit(items, partition, random_bytes=...)``: sorting, salting, one commitment and
  one leaf hash per leaf, and the Merkle tree (all complete-subtree hashes, which it
  keeps so that a range proof needs no hashing). It writes each record's canonical
  JSON the way ``record_json`` does, formatting the fixed frame and the identifiers and
  passing only the attributes to the canonicaliser (a property test checks it equals
  ``rfc8785.dumps`` of the record); this is why it can beat the floor. It builds no
  record: the escrow makes each leaf on demand from the items. Best of ``--repeat``
  runs, each followed by a run of the floor.
* The floor, timed in the same run on the same records: for each item, the RFC 8785
  canonical serialisation (``rfc8785.dumps``) of its leaf record plus two SHA-256 calls
  (the commitment and the leaf hash). The records are built before its timer starts.
  The goal is commit <= 2x the floor.
* The peak resident set size (``ru_maxrss``) during the first commit, and how much of it
  is above what the process held once the items existed (goal: at most 256 MiB at 10^6
  items).
* ``reveal_cells`` of the 1,000-item cell (in runs of 200 leaves) and
  ``verify_reveal`` of every run, plus the tracker finding the cell complete. Best of 5.
* For reference, the root of the same leaf hashes computed three ways: the tree levels
  ``commit`` keeps, ``merkle.tree_root`` over ``LeafHashes``, and
  ``merkle.mth_of_leaf_hashes``.

Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import rfc8785
from rich.console import Console
from rich.table import Table

from cvid._jcs import canonical
from cvid.escrow import (
    Escrow,
    Item,
    Partition,
    RevealTracker,
    commit,
    reveal_cells,
    verify_reveal,
)
from cvid.escrow.commit import DOMAIN, TreeLevels
from cvid.log import merkle

SEED = 20270101
ITEMS = 1_000_000
QUICK_ITEMS = 100_000
ROWS, COLS = 40, 50
TARGET = "r20-c25"
TARGET_ITEMS = 1_000
GOAL = 2.0
MEMORY_GOAL_MIB = 256.0  # peak RSS of a commit of 10^6 items above the items themselves
CATEGORIES = ("warhead", "reactor", "missile", "centrifuge", "fissile")
STATUSES = ("deployed", "stored", "disabled", "under-construction")
err = Console(stderr=True, highlight=False)


def declaration(count: int) -> tuple[Partition, list[Item]]:
    """The synthetic declaration of ``count`` items (see the module docstring)."""
    rng = random.Random(SEED)
    partition = Partition.from_dict({"grid": {"rows": ROWS, "cols": COLS}})
    others = [c for n, c in enumerate(partition.cells) if c != TARGET and n % 10 != 9]
    cells = [TARGET] * TARGET_ITEMS + [rng.choice(others) for _ in range(count - TARGET_ITEMS)]
    items = [
        Item(
            f"item-{n:07d}",
            rng.choice(CATEGORIES),
            cell,
            {
                "mass_kg": round(rng.uniform(1, 50_000), 2),
                "count": rng.randrange(1, 500),
                "site": f"site-{rng.randrange(10_000):04d}",
                "status": rng.choice(STATUSES),
            },
        )
        for n, cell in enumerate(cells)
    ]
    return partition, items


def floor(records: Sequence[dict[str, Any]], salt: bytes) -> bytes:
    """Per record: its canonical JSON and two SHA-256 calls, nothing else."""
    sha256 = hashlib.sha256
    last = b""
    for record in records:
        digest = sha256(DOMAIN + salt + rfc8785.dumps(record)).digest()
        last = sha256(b"\x00" + digest).digest()
    return last


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def max_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reveal_and_verify(escrow: Escrow) -> int:
    """Reveal the 1,000-item cell, verify every run, check the cell is complete."""
    tracker = RevealTracker(escrow.partition, escrow.size)
    reveals = reveal_cells(escrow, [TARGET])
    for reveal in reveals:
        tracker.add(
            verify_reveal(reveal, root=escrow.root, size=escrow.size, partition=escrow.partition)
        )
    if TARGET not in tracker.complete_cells() or len(tracker.items()) != TARGET_ITEMS:
        raise SystemExit("the revealed cell is not complete")
    return len(reveals)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ITEMS:,} items")
    parser.add_argument("--items", type=int, help=f"number of items (default {ITEMS:,})")
    parser.add_argument(
        "--repeat", type=int, default=1, help="commit and floor runs, interleaved; best counts"
    )
    args = parser.parse_args(argv)
    count = args.items or (QUICK_ITEMS if args.quick else ITEMS)
    if count < TARGET_ITEMS + 1 or args.repeat < 1:
        parser.error(f"--items must exceed {TARGET_ITEMS} and --repeat be at least 1")

    err.print(f"[bold]{count:,} items[/]: building the declaration")
    start = time.perf_counter()
    partition, items = declaration(count)
    err.print(f"built in {time.perf_counter() - start:.1f} s")
    rss_before = max_rss_mib()

    rng = random.Random(SEED)
    escrow: Escrow | None = None

    def run_commit() -> None:
        nonlocal escrow
        escrow = None
        escrow = commit(items, partition, random_bytes=rng.randbytes)

    commit_times: list[float] = []
    floor_times: list[float] = []
    salt = bytes(32)
    for n in range(args.repeat):  # interleaved, so that a busy spell hits both alike
        err.print(f"commit, run {n + 1} of {args.repeat}")
        commit_times.append(timed(run_commit))
        if n == 0:
            rss_peak = max_rss_mib()
        assert escrow is not None
        err.print(f"floor, run {n + 1} of {args.repeat}")
        floor_times.append(timed(partial(floor, [record for record, _ in escrow.leaves], salt)))
    assert escrow is not None
    committed, floored = min(commit_times), min(floor_times)

    err.print("reveal and verify one cell; roots three ways")
    chunks = reveal_and_verify(escrow)
    reveal_time = min(timed(lambda: reveal_and_verify(escrow)) for _ in range(5))
    largest = max(len(canonical(r.to_dict())) for r in reveal_cells(escrow, [TARGET]))
    blob = escrow.tree.levels[0]
    hashes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
    roots = {
        "TreeLevels (kept by commit)": timed(lambda: TreeLevels(hashes).root()),
        "merkle.tree_root(LeafHashes)": timed(
            lambda: merkle.tree_root(len(hashes), merkle.LeafHashes(hashes))
        ),
        "merkle.mth_of_leaf_hashes": timed(lambda: merkle.mth_of_leaf_hashes(hashes)),
    }
    if {TreeLevels(hashes).root(), merkle.mth_of_leaf_hashes(hashes)} != {escrow.root}:
        raise SystemExit("the three roots differ")

    ratio = committed / floored
    table = Table(title=f"cvid.escrow: commit of {count:,} items ({escrow.size:,} leaves)")
    for name in ("measure", "value", "per item", "goal", "status"):
        table.add_column(name, justify="right" if name != "measure" else "left")
    table.add_row("commit", f"{committed:.2f} s", f"{committed / count * 1e6:.1f} µs", "", "")
    table.add_row(
        "floor: rfc8785 record + 2 x SHA-256",
        f"{floored:.2f} s",
        f"{floored / count * 1e6:.1f} µs",
        "",
        "",
    )
    table.add_row(
        "commit / floor",
        f"{ratio:.2f}x",
        "",
        f"≤ {GOAL:.0f}x",
        "[green]met[/]" if ratio <= GOAL else "[red]missed[/]",
    )
    above = rss_peak - rss_before
    allowed = MEMORY_GOAL_MIB * count / ITEMS  # the goal scaled to this many items
    table.add_row(
        "peak RSS during commit",
        f"{rss_peak:,.0f} MiB",
        f"{above * 2**20 / count:,.0f} B",
        "",
        f"{above:,.0f} MiB above the items",
    )
    table.add_row(
        "peak RSS above the items",
        f"{above:,.0f} MiB",
        "",
        f"≤ {allowed:,.0f} MiB",
        "[green]met[/]" if above <= allowed else "[red]missed[/]",
    )
    table.add_row(
        f"reveal + verify {TARGET_ITEMS:,}-item cell",
        f"{reveal_time * 1e3:.1f} ms",
        f"{reveal_time / TARGET_ITEMS * 1e6:.1f} µs",
        "",
        f"{chunks} runs, largest {largest / 1024:.1f} KiB",
    )
    for name, seconds in roots.items():
        table.add_row(f"root from leaf hashes: {name}", f"{seconds:.3f} s", "", "", "")
    console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    console.print(table)
    console.print(
        f"best of {args.repeat} run(s) each for commit and floor; {len(partition):,} cells "
        f"({escrow.size - count:,} empty); 1-minute load {os.getloadavg()[0]:.2f} "
        "(other work on the machine skews every figure)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
