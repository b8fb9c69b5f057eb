"""Sweep grids: axes, per-point seeds, serial runs."""

from __future__ import annotations

import pytest

from cvid.agreement import template_path
from cvid.errors import ScenarioError
from cvid.roadmap.loader import load as load_roadmap
from cvid.sim import scenario as sc
from cvid.sim.sweep import grid_points, parse_axis, run_serial

DPRK = load_roadmap(template_path("dprk-phased"))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("inspections=5,10", ("inspections", [5, 10])),
        ("delay_probability=0,0.25", ("delay_probability", [0, 0.25])),
        (" items = 1 , 3 ", ("items", [1, 3])),
    ],
)
def test_parse_axis(text: str, parsed: tuple[str, list[float]]) -> None:
    assert parse_axis(text) == parsed


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("inspections", "NAME=V1"),
        ("inspections=", "NAME=V1"),
        ("colour=1,2", "unknown sweep axis"),
        ("items=1,x", "not a number"),
    ],
)
def test_bad_axes(text: str, needle: str) -> None:
    with pytest.raises(ScenarioError, match=needle):
        parse_axis(text)


def test_grid_points_have_distinct_reproducible_seeds() -> None:
    axes = {"inspections": [5, 10], "items": [1, 2, 3]}
    a, b = grid_points(axes, seed=3), grid_points(axes, seed=3)
    assert [p.values for p in a] == [
        {"inspections": i, "items": k} for i in (5, 10) for k in (1, 2, 3)
    ]
    states = [tuple(p.seed.generate_state(4)) for p in a]
    assert states == [tuple(p.seed.generate_state(4)) for p in b]
    assert len(set(states)) == len(states)
    other = grid_points(axes, seed=4)
    assert tuple(other[0].seed.generate_state(4)) != states[0]
    with pytest.raises(ScenarioError):
        grid_points({}, seed=1)
    with pytest.raises(ScenarioError):
        grid_points({"items": []}, seed=1)


def test_serial_sweep_is_reproducible_and_moves_with_its_axes() -> None:
    spec = sc.load_named("dprk-phased-hide")
    points = grid_points({"inspections": [1, 40], "items": [1, 6]}, seed=9)
    frame = run_serial(DPRK, spec, points, runs=400)
    again = run_serial(DPRK, spec, points, runs=400)
    assert frame.equals(again)
    assert list(frame["point"]) == [0, 1, 2, 3]
    assert {"inspections", "items", "detected", "completion_p50"} <= set(frame.columns)
    detected = dict(
        zip(zip(frame["inspections"], frame["items"], strict=True), frame["detected"], strict=True)
    )
    # More inspections and more hidden items both raise detection.
    assert detected[(40, 1)] > detected[(1, 1)]
    assert detected[(1, 6)] > detected[(1, 1)]
    assert detected[(40, 6)] > 0.9
