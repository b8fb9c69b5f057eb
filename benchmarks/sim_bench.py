"""Inspection trials per second: the simulator's NumPy path against plain Python.

Usage::

    python benchmarks/sim_bench.py            # 2 x 10^7 trials per case (about 30 s on 2 cores)
    python benchmarks/sim_bench.py --quick    # 10^6 trials per case: a smoke run
    python benchmarks/sim_bench.py --json bench-out/sim.json

What is measured, in one process and one run:

* The NumPy path: ``cvid.sim.inspection.trials`` draws T inspection rounds of n random
  inspections among N cells, k of them holding a hidden item (hypergeometric count of
  inspected hidden cells, then per-inspection detection). A trial is one round; the rate
  is trials per second, best of ``--repeat`` runs, on one core (NumPy draws are
  single-threaded). With one k for all trials the count is drawn by inverting its
  distribution; the "k per trial" column gives the path the simulator takes when k varies
  from run to run (NumPy's hypergeometric sampler), for comparison.
* The baseline: ``cvid.sim.inspection.trials_python``, the same experiment one trial at
  a time in plain Python (``random.sample`` of the inspected cells), on fewer trials
  (its rate does not depend on how many). The ratio is NumPy / baseline. Goal: the NumPy
  path at >= 10^7 trials per second.
* Agreement: for a table of (N, k, n, p), the simulated detection probability against the
  exact hypergeometric ``cvid.verification.sampling.detection_probability``, in standard
  errors (``tests/unit/sim/test_inspection.py`` demands <= 3).
* For context, whole simulations of the dprk-phased road map with its shipped scenario:
  runs per second without engine replays.

Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from cvid.agreement import template_path
from cvid.roadmap.loader import load
from cvid.sim import scenario as sc
from cvid.sim.inspection import trials, trials_python
from cvid.sim.montecarlo import simulate
from cvid.verification.sampling import detection_probability

CASES = [  # (N, k, n, per_inspection)
    (100, 5, 20, 1.0),
    (141, 3, 30, 0.9),
    (1000, 10, 100, 1.0),
    (10_000, 20, 200, 1.0),
]
AGREEMENT = [
    (10, 1, 5, 1.0),
    (50, 3, 10, 1.0),
    (100, 10, 20, 1.0),
    (141, 3, 30, 1.0),
    (141, 14, 21, 1.0),
    (500, 2, 100, 1.0),
    (1000, 5, 50, 1.0),
    (10_000, 20, 200, 1.0),
    (100, 5, 20, 0.5),
    (1000, 10, 100, 0.8),
]
GOAL = 1e7


def best_rate(work: Any, count: int, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return count / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10^6 trials per case")
    parser.add_argument("--trials", type=int, default=None, help="NumPy trials per case")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    big_t = args.trials or (1_000_000 if args.quick else 20_000_000)
    base_t = 20_000 if args.quick else 100_000
    console = Console(highlight=False, width=140)
    rows: list[dict[str, Any]] = []
    speed = Table(title=f"Inspection trials per second ({big_t:,} NumPy trials per case)")
    columns = ("N", "k", "n", "p", "NumPy trials/s", "plain Python trials/s", "ratio", "goal")
    for col in (*columns[:5], "k per trial", *columns[5:]):
        speed.add_column(col, justify="right")
    for big_n, k, n, p in CASES:
        numpy_path = partial(trials, cells=big_n, inspections=n, per_inspection=p)
        fast = best_rate(
            partial(numpy_path, np.random.default_rng(1), hidden=k, size=big_t), big_t, args.repeat
        )
        ks = np.full(big_t, k, dtype=np.int64)
        sampler = best_rate(partial(numpy_path, np.random.default_rng(1), hidden=ks), big_t, 1)
        python_path = partial(trials_python, cells=big_n, hidden=k, inspections=n, per_inspection=p)
        slow = best_rate(partial(python_path, random.Random(1), count=base_t), base_t, 1)
        met = "met" if fast >= GOAL else "missed"
        speed.add_row(
            str(big_n),
            str(k),
            str(n),
            f"{p:g}",
            f"{fast:,.0f}",
            f"{sampler:,.0f}",
            f"{slow:,.0f}",
            f"{fast / slow:,.0f}x",
            f">= 1e7: {met}",
        )
        rows.append(
            {
                "N": big_n,
                "k": k,
                "n": n,
                "p": p,
                "numpy_per_s": fast,
                "numpy_sampler_per_s": sampler,
                "python_per_s": slow,
                "ratio": fast / slow,
            }
        )
    console.print(speed)

    agree = Table(title=f"Simulated vs exact detection probability ({big_t:,} trials each)")
    for col in ("N", "k", "n", "p", "exact", "simulated", "SE", "|diff| / SE"):
        agree.add_column(col, justify="right")
    agreement = []
    for big_n, k, n, p in AGREEMENT:
        rng = np.random.default_rng([big_n, k, n])
        detected, _ = trials(
            rng, cells=big_n, hidden=k, inspections=n, per_inspection=p, size=big_t
        )
        exact = detection_probability(big_n, k, n, per_inspection=p)
        sim = float(detected.mean())
        se = math.sqrt(exact * (1 - exact) / big_t)
        z = abs(sim - exact) / se if se else 0.0
        agree.add_row(
            str(big_n),
            str(k),
            str(n),
            f"{p:g}",
            f"{exact:.6f}",
            f"{sim:.6f}",
            f"{se:.2e}",
            f"{z:.2f}",
        )
        agreement.append(
            {"N": big_n, "k": k, "n": n, "p": p, "exact": exact, "simulated": sim, "z": z}
        )
    console.print(agree)

    roadmap = load(template_path("dprk-phased"))
    spec = sc.load_named("dprk-phased-hide").model_copy(update={"engine_runs": 0})
    runs = 20_000 if args.quick else 100_000
    rate = best_rate(
        lambda: simulate(roadmap, spec, runs=runs, rng=np.random.default_rng(0)), runs, 2
    )
    console.print(f"dprk-phased, shipped scenario, no engine replays: {rate:,.0f} runs/s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"trials": big_t, "speed": rows, "agreement": agreement, "runs_per_s": rate},
                indent=2,
            )
        )
    worst = max(a["z"] for a in agreement)
    return 0 if worst <= 4 else 1


if __name__ == "__main__":
    sys.exit(main())
