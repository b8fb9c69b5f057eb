"""Plotly figures of a simulation and a sweep, for files and for the dashboard.

:func:`write_html` writes a self-contained page (plotly.js embedded, nothing
fetched from a CDN); :func:`fragment` gives a figure's ``<div>`` without plotly.js,
and :func:`plotly_js` the bundle once, so a dashboard page can hold many figures.
Plotly is imported when a figure is made, not when cvid starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cvid.errors import ScenarioError
from cvid.sim.montecarlo import SimulationResult

if TYPE_CHECKING:
    import pandas as pd


def _go() -> Any:
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    return go


def completion_cdf(result: SimulationResult) -> Any:
    """The share of runs complete by each day (runs never complete stay below 1)."""
    go = _go()
    days = np.sort(result.runs.completion_day[np.isfinite(result.runs.completion_day)])
    share = np.arange(1, days.size + 1) / len(result.runs)
    fig = go.Figure(go.Scatter(x=days, y=share, mode="lines", line_shape="hv", name="complete"))
    fig.update_layout(
        title=f"{result.roadmap}: completion time ({len(result.runs)} runs)",
        xaxis_title="days after the agreement's start",
        yaxis_title="share of runs complete",
        yaxis_range=[0, 1],
    )
    return fig


def detection_by_phase(result: SimulationResult) -> Any:
    """Probability of detection before each phase starts and by the time it ends."""
    go = _go()
    s = result.summary
    phases = list(result.phases)
    fig = go.Figure(
        [
            go.Bar(
                x=phases,
                y=[s.detection_before_phase[p] for p in phases],
                name="before the phase starts",
            ),
            go.Bar(x=phases, y=[s.detection_by_phase_end[p] for p in phases], name="by its end"),
        ]
    )
    fig.update_layout(
        title=f"{result.roadmap}: probability hidden items are detected",
        yaxis_title="probability",
        yaxis_range=[0, 1],
        barmode="group",
    )
    return fig


def undetected(result: SimulationResult) -> Any:
    """Expected number of hidden items not yet detected, over time."""
    go = _go()
    s = result.summary
    fig = go.Figure(go.Scatter(x=s.grid_days, y=s.expected_undetected, mode="lines"))
    fig.update_layout(
        title=f"{result.roadmap}: expected undetected items",
        xaxis_title="days after the agreement's start",
        yaxis_title="items",
    )
    return fig


def trajectories(result: SimulationResult, *, points: int = 200) -> Any:
    """For each measure and guarantee, the share of engine-replayed runs in which it
    is in force, over time."""
    go = _go()
    replays = result.trajectories
    grid = np.linspace(0.0, result.scenario.horizon_days, points)
    fig = go.Figure()
    if not replays:
        fig.update_layout(title="no runs were replayed through the engine (engine_runs: 0)")
        return fig
    measures = sorted({m for t in replays for row in t.measures_in_force for m in row})
    guarantees = sorted({g for t in replays for row in t.guarantees_in_force for g in row})
    series: list[tuple[str, str, str]] = [("measure", m, "measures") for m in measures]
    series += [("guarantee", g, "guarantees") for g in guarantees]
    for kind, ident, field in series:
        share = np.zeros(points)
        for t in replays:
            rows = getattr(t, f"{field}_in_force")
            idx = np.searchsorted(np.asarray(t.days), grid, side="right") - 1
            on = np.array([i >= 0 and ident in rows[i] for i in idx])
            share += on
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=share / len(replays),
                mode="lines",
                line_shape="hv",
                name=f"{kind} {ident}",
                line={"dash": "dot"} if kind == "guarantee" else {},
            )
        )
    fig.update_layout(
        title=f"{result.roadmap}: sanctions and guarantees in force ({len(replays)} runs)",
        xaxis_title="days after the agreement's start",
        yaxis_title="share of runs in force",
        yaxis_range=[0, 1.02],
    )
    return fig


def sweep_heatmap(frame: pd.DataFrame, *, x: str, y: str, metric: str = "detected") -> Any:
    """A metric over two sweep axes (averaged over any other axis)."""
    go = _go()
    for column in (x, y, metric):
        if column not in frame.columns:
            raise ScenarioError(f"the sweep has no column {column!r}")
    table = frame.pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=[str(v) for v in table.columns],
            y=[str(v) for v in table.index],
            colorbar={"title": metric},
        )
    )
    fig.update_layout(title=f"{metric} by {x} and {y}", xaxis_title=x, yaxis_title=y)
    return fig


def simulation_figures(result: SimulationResult) -> dict[str, Any]:
    """Every figure of a simulation, by file stem."""
    return {
        "completion": completion_cdf(result),
        "detection": detection_by_phase(result),
        "undetected": undetected(result),
        "trajectories": trajectories(result),
    }


def fragment(fig: Any, *, div_id: str | None = None) -> str:
    """The figure as an HTML ``<div>`` that needs plotly.js on the page (see
    :func:`plotly_js`); ``div_id`` names the element (default: a random id)."""
    html: str = fig.to_html(include_plotlyjs=False, full_html=False, div_id=div_id)
    return html


def plotly_js() -> str:
    """The plotly.js bundle, to inline once in a page of fragments."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    js: str = get_plotlyjs()
    return js


def write_html(fig: Any, path: str | Path) -> Path:
    """Write a self-contained page (plotly.js embedded; works offline). The figure's
    element is named after the file, so the same figure gives the same bytes."""
    path = Path(path)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True, div_id=path.stem)
    return path


def write_all(figures: dict[str, Any], directory: str | Path) -> Sequence[Path]:
    """Write each figure as ``<directory>/<name>.html``."""
    out = Path(directory)
    return [write_html(fig, out / f"{name}.html") for name, fig in figures.items()]
