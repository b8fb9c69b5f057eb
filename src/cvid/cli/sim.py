"""``cvid sim run|sweep`` and ``cvid game solve|plan``: simulation and the inspection game.

Thin over :mod:`cvid.sim`: parse, call one library function, render. NumPy, Dask,
pandas and Plotly are imported inside the commands, so ``cvid`` starts fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from cvid.cli._app import handle_errors, out, progress_bar
from cvid.errors import RoadmapError, ScenarioError, require_extra
from cvid.roadmap.model import RoadMap

sim_app = typer.Typer(
    help="Simulate a road map: completion, detection, sanctions; sweeps on Dask.",
    no_args_is_help=True,
)
game_app = typer.Typer(
    help="The inspection game: equilibria, leadership, and whether a plan deters.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RoadmapArg = Annotated[
    str, typer.Argument(help="A road-map file, or the name of a shipped template.")
]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", help="A scenario file, or the name of a shipped scenario.")
]
Runs = Annotated[int, typer.Option("--runs", help="Runs to simulate (per grid point).")]
Seed = Annotated[int, typer.Option("--seed", help="The seed: the same seed, the same numbers.")]


def load_roadmap(ref: str) -> RoadMap:
    """A road map from a file path, or a shipped template by name."""
    from cvid.agreement import template_names, template_path
    from cvid.roadmap.loader import load

    path = Path(ref)
    if path.exists():
        return load(path)
    if ref in template_names():
        return load(template_path(ref))
    raise RoadmapError(
        [f"no road-map file {ref!r}, nor a template of that name ({', '.join(template_names())})"]
    )


def _dump(data: Any) -> None:
    out(json.dumps(data, indent=2, allow_nan=False) + "\n")


def _days(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.0f}"


@sim_app.command("run")
@handle_errors
def run(
    roadmap: RoadmapArg,
    scenario: ScenarioOpt,
    runs: Runs = 10_000,
    seed: Seed = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write summary, runs, trajectories and figures here."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Simulate RUNS runs: completion time, detection by phase, sanctions trajectories."""
    require_extra("sim", "cvid sim run")
    import numpy as np

    from cvid.sim import scenario as sc
    from cvid.sim.montecarlo import simulate

    rm = load_roadmap(roadmap)
    spec = sc.load_named(scenario)
    result = simulate(rm, spec, runs=runs, rng=np.random.default_rng(seed))
    summary = {"roadmap": rm.agreement.id, "seed": seed, **result.summary.to_dict()}
    if out_dir is not None:
        _write_run(result, summary, out_dir)
    if as_json:
        _dump(summary)
        return
    s = result.summary
    lines = [
        f"{rm.agreement.id}: {s.runs} runs, seed {seed}, {s.trials:,} inspection trials",
        f"complete within {spec.horizon_days:g} days: {s.completed:.1%}",
        "completion (days after start, completed runs): "
        + ", ".join(f"{k} {_days(v)}" for k, v in s.completion_days.items()),
        f"hidden items detected: {s.detected:.1%}; a false alarm: {s.false_alarm:.1%}",
        "phase                      detected before start   detected by end",
    ]
    for phase in result.phases:
        lines.append(
            f"{phase:<26} {s.detection_before_phase[phase]:>21.1%}"
            f"   {s.detection_by_phase_end[phase]:>15.1%}"
        )
    if out_dir is not None:
        lines.append(f"written to {out_dir}")
    out("\n".join(lines) + "\n")


def _write_run(result: Any, summary: dict[str, Any], out_dir: Path) -> None:
    import pandas as pd

    from cvid.sim import figures

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ScenarioError(f"cannot create {out_dir}: {e}") from e
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    pd.DataFrame(result.run_records()).to_csv(out_dir / "runs.csv", index=False)
    trajectories = [t.to_dict() for t in result.trajectories]
    (out_dir / "trajectories.json").write_text(
        json.dumps(trajectories, indent=2) + "\n", encoding="utf-8"
    )
    figures.write_all(figures.simulation_figures(result), out_dir)


@sim_app.command("sweep")
@handle_errors
def sweep(
    roadmap: RoadmapArg,
    scenario: ScenarioOpt,
    axis: Annotated[
        list[str],
        typer.Option(
            "--axis",
            help="NAME=V1,V2,... (repeat for a grid); names: inspections, items, "
            "delay_probability, per_inspection, false_alarm, cells.",
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Results file: .parquet or .csv.")],
    runs: Runs = 2_000,
    seed: Seed = 0,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="An existing Dask scheduler, tcp://HOST:PORT."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Workers of the local cluster.", min=1)
    ] = 2,
    serial: Annotated[
        bool, typer.Option("--serial", help="Run here, without Dask (same numbers).")
    ] = False,
    heatmap: Annotated[
        Path | None,
        typer.Option("--heatmap", help="Also write a heatmap of the first two axes (HTML)."),
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="The heatmap's column.")] = "detected",
) -> None:
    """Simulate a grid of scenario variants as Dask tasks; write one row per point."""
    require_extra("sim", "cvid sim sweep")
    from cvid.sim import scenario as sc
    from cvid.sim import sweep as sw

    if out_file.suffix not in (".parquet", ".csv"):
        raise ScenarioError(f"--out must end in .parquet or .csv, not {out_file.name!r}")
    rm = load_roadmap(roadmap)
    spec = sc.check(sc.load_named(scenario), rm)
    axes = dict(sw.parse_axis(a) for a in axis)
    points = sw.grid_points(axes, seed=seed)
    for name, values in axes.items():  # a bad value fails here, not on a worker
        for value in values:
            spec.with_values(**{name: value})
    with progress_bar("sweep", len(points)) as advance:
        if serial:
            frame = sw.run_serial(rm, spec, points, runs=runs, progress=advance)
        else:
            frame = _on_dask(rm, spec, points, runs, scheduler, workers, advance)
    if out_file.suffix == ".parquet":
        frame.to_parquet(out_file, index=False)
    else:
        frame.to_csv(out_file, index=False)
    if heatmap is not None:
        from cvid.sim import figures

        names = list(axes)
        x, y = (names + names)[:2] if len(names) == 1 else names[:2]
        figures.write_html(figures.sweep_heatmap(frame, x=x, y=y, metric=metric), heatmap)
    out(f"{len(points)} points x {runs} runs written to {out_file}\n")


def _on_dask(
    rm: RoadMap,
    spec: Any,
    points: list[Any],
    runs: int,
    scheduler: str | None,
    workers: int,
    advance: Any,
) -> Any:
    from distributed import Client

    from cvid.sim import sweep as sw

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as e:
            raise ScenarioError(f"cannot reach the Dask scheduler {scheduler}: {e}") from e
        with client:
            return sw.run_dask(client, rm, spec, points, runs=runs, progress=advance)
    with sw.local_cluster(workers) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        return sw.run_dask(client, rm, spec, points, runs=runs, progress=advance)


# --- the inspection game ----------------------------------------------------------------


def _opt(name: str, text: str) -> Any:
    return typer.Option(name, help=text)


@game_app.command("solve")
@handle_errors
def solve(
    d: Annotated[float, _opt("--d", "Inspectee's gain from an undetected violation.")],
    b: Annotated[float, _opt("--b", "Inspectee's loss if caught.")],
    h: Annotated[float, _opt("--h", "Inspectee's loss from a false alarm.")] = 0.0,
    c: Annotated[float, _opt("--c", "Inspector's loss from an undetected violation.")] = 1.0,
    a: Annotated[float, _opt("--a", "Inspector's loss from a detected violation.")] = 0.0,
    e: Annotated[float, _opt("--e", "Inspector's effort inspecting a legal inspectee.")] = 0.0,
    f: Annotated[float, _opt("--f", "Inspector's loss from a false alarm.")] = 0.0,
    alpha: Annotated[float, _opt("--alpha", "False-alarm probability.")] = 0.0,
    beta: Annotated[float, _opt("--beta", "Non-detection probability (1 - detection).")] = 0.0,
    as_json: Json = False,
) -> None:
    """The simultaneous equilibrium and the inspector-leadership solution."""
    from cvid.sim.game import Payoffs, leadership, simultaneous

    g = Payoffs(d=d, b=b, h=h, c=c, a=a, e=e, f=f, alpha=alpha, beta=beta)
    eq, lead = simultaneous(g), leadership(g)
    threshold = g.inspection_threshold
    if as_json:
        _dump(
            {
                "payoffs": {k: getattr(g, k) for k in "dbhcaef"} | {"alpha": alpha, "beta": beta},
                "deterring_inspection_probability": threshold if threshold <= 1 else None,
                "simultaneous": eq.to_dict(),
                "leadership": lead.to_dict(),
            }
        )
        return
    need = f"{threshold:.6g}" if threshold <= 1 else "none (no inspection rate deters)"
    out(
        f"smallest deterring inspection probability p* = {need}\n"
        f"simultaneous: inspect {eq.inspect:.6g}, violate {eq.violate:.6g}; "
        f"payoffs inspector {eq.inspector_payoff:.6g}, inspectee {eq.inspectee_payoff:.6g}\n"
        f"leadership:   announce {lead.inspect:.6g}, inspectee {lead.inspectee}; "
        f"payoffs inspector {lead.inspector_payoff:.6g}, inspectee {lead.inspectee_payoff:.6g}\n"
    )


@game_app.command("plan")
@handle_errors
def plan(
    cells: Annotated[int, _opt("--cells", "Cells in the declaration (N).")],
    hidden: Annotated[int, _opt("--hidden", "Cells holding a hidden item (k).")],
    inspections: Annotated[int, _opt("--inspections", "Cells inspected at random (n).")],
    d: Annotated[float, _opt("--d", "Inspectee's gain from an undetected violation.")],
    b: Annotated[float, _opt("--b", "Inspectee's loss if caught.")],
    h: Annotated[float, _opt("--h", "Inspectee's loss from a false alarm.")] = 0.0,
    alpha: Annotated[float, _opt("--alpha", "The plan's false-alarm probability.")] = 0.0,
    per_inspection: Annotated[
        float, _opt("--per-inspection", "Chance an inspection of a hidden item sees it.")
    ] = 1.0,
    as_json: Json = False,
) -> None:
    """Does this sampling plan deter hiding, for these payoffs?

    Plain arithmetic (no extra needed), except with --per-inspection below 1, whose
    detection probability is summed with SciPy (cvid[sim]).
    """
    from cvid.sim.game import plan_deters

    verdict = plan_deters(
        cells=cells,
        hidden=hidden,
        inspections=inspections,
        d=d,
        b=b,
        h=h,
        alpha=alpha,
        per_inspection=per_inspection,
    )
    if as_json:
        _dump(verdict.to_dict())
        return
    smallest = verdict.smallest_deterring_n
    out(
        f"detection probability {verdict.detection:.6g}; deterrence needs "
        f"{verdict.required:.6g}: {'deters' if verdict.deters else 'does not deter'}\n"
        + (
            f"smallest deterring number of inspections: {smallest}\n"
            if smallest is not None
            else "no number of inspections deters\n"
        )
    )
