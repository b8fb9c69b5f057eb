"""Parameter sweeps: a grid of scenario variants, each simulated as one task.

:func:`grid_points` expands axes (``inspections``, ``items``, ``delay_probability``,
...; see :data:`cvid.sim.scenario.AXES`) into points; every point gets its own seed,
spawned from the sweep's seed by its index (``numpy.random.SeedSequence(seed)
.spawn``), never from worker state, so where a task runs does not change its
numbers. :func:`run_serial` runs the points in this process; :func:`run_dask`
submits them to a Dask ``distributed`` client (a ``LocalCluster`` or a remote
scheduler: the caller's choice). Both return the same rows.

:func:`local_cluster` starts a cluster that listens on loopback only. This module
writes no files: :mod:`cvid.cli.sim` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cvid.errors import ScenarioError
from cvid.roadmap.model import RoadMap
from cvid.sim import scenario as sc
from cvid.sim.montecarlo import simulate

if TYPE_CHECKING:
    import pandas as pd

Value = int | float


@dataclass(frozen=True)
class Point:
    """One grid point: its index, the axis values, and its seed."""

    index: int
    values: dict[str, Value]
    seed: np.random.SeedSequence


def parse_axis(text: str) -> tuple[str, list[Value]]:
    """Read ``name=v1,v2,...`` (whole numbers stay whole).

    Raises:
        ScenarioError: not in that form, an unknown axis, or a value that is not a number.
    """
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not values.strip():
        raise ScenarioError(f"a sweep axis is NAME=V1,V2,..., not {text!r}")
    if name not in sc.AXES:
        raise ScenarioError(f"unknown sweep axis {name!r}; there are: {', '.join(sc.AXES)}")
    out: list[Value] = []
    for item in values.split(","):
        raw = item.strip()
        try:
            out.append(int(raw) if raw.lstrip("-").isdigit() else float(raw))
        except ValueError as e:
            raise ScenarioError(f"axis {name}: {raw!r} is not a number") from e
    return name, out


def grid_points(axes: Mapping[str, Sequence[Value]], *, seed: int) -> list[Point]:
    """Every combination of the axes' values, in order, each with its own seed.

    Raises:
        ScenarioError: no axes, an empty axis, or too many points.
    """
    if not axes or any(len(v) == 0 for v in axes.values()):
        raise ScenarioError("a sweep needs at least one axis with at least one value")
    names = list(axes)
    combos = list(itertools.product(*(axes[n] for n in names)))
    if len(combos) > 100_000:
        raise ScenarioError(f"the grid has {len(combos)} points; at most 100000")
    seeds = np.random.SeedSequence(seed).spawn(len(combos))
    return [
        Point(i, dict(zip(names, combo, strict=True)), seeds[i]) for i, combo in enumerate(combos)
    ]


def run_point(roadmap: RoadMap, scenario: sc.Scenario, point: Point, runs: int) -> dict[str, Any]:
    """Simulate one grid point (no engine replays) and return its row."""
    variant = scenario.with_values(**point.values).model_copy(update={"engine_runs": 0})
    result = simulate(roadmap, variant, runs=runs, rng=np.random.default_rng(point.seed))
    s = result.summary
    row: dict[str, Any] = {"point": point.index, **point.values}
    row.update(
        runs=runs,
        completed=s.completed,
        completion_mean=s.completion_days["mean"],
        completion_p50=s.completion_days["p50"],
        completion_p90=s.completion_days["p90"],
        detected=s.detected,
        false_alarm=s.false_alarm,
    )
    for phase, value in s.detection_by_phase_end.items():
        row[f"detected_by_{phase}"] = value
    return row


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    ordered: list[dict[str, Any]] = sorted(rows, key=lambda r: int(r["point"]))
    return pd.DataFrame(ordered).reset_index(drop=True)


def run_serial(
    roadmap: RoadMap,
    scenario: sc.Scenario,
    points: Sequence[Point],
    *,
    runs: int,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run every point here, one after the other; one row per point, in point order."""
    sc.check(scenario, roadmap)
    rows = []
    for point in points:
        rows.append(run_point(roadmap, scenario, point, runs))
        if progress is not None:
            progress(1)
    return _frame(rows)


def run_dask(
    client: Any,
    roadmap: RoadMap,
    scenario: sc.Scenario,
    points: Sequence[Point],
    *,
    runs: int,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Run every point as a task on a ``distributed.Client``; rows as :func:`run_serial`.

    Args:
        client: a connected ``distributed.Client``.
    """
    from distributed import as_completed

    sc.check(scenario, roadmap)
    # The road map and scenario go to the workers once, not once per task.
    rm_future = client.scatter(roadmap, broadcast=True)
    sc_future = client.scatter(scenario, broadcast=True)
    futures = [client.submit(run_point, rm_future, sc_future, p, runs) for p in points]
    rows = []
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        rows.append(future.result())
        if progress is not None:
            progress(1)
    return _frame(rows)


LOOPBACK_CLUSTER: dict[str, Any] = {
    "threads_per_worker": 1,
    "processes": True,
    "host": "127.0.0.1",
    "dashboard_address": None,  # no dashboard
    # The scheduler's small HTTP server (health, metrics) still starts: on loopback, on
    # a free port, so a busy port 8787 on a shared machine changes nothing.
    "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
}
"""Options of a ``distributed.LocalCluster`` reachable from this machine only."""


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes,
    listening on 127.0.0.1 only, without a dashboard. Use it as a context manager."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, **LOOPBACK_CLUSTER)  # type: ignore[no-untyped-call]
