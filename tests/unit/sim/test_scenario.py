"""The scenario file: strict parsing, clear errors, checks against the road map."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.agreement import template_path
from cvid.errors import ScenarioError
from cvid.roadmap.loader import load as load_roadmap
from cvid.roadmap.model import RoadMap
from cvid.sim import scenario as sc

DPRK = load_roadmap(template_path("dprk-phased"))


@pytest.fixture(scope="module")
def dprk() -> RoadMap:
    return DPRK


def base() -> dict[str, Any]:
    return {
        "cvid_scenario": 1,
        "behaviour": {"kind": "hide", "items": 2},
        "inspections": {
            "cells": 50,
            "plan": [{"phase": "freeze", "inspections": 5}],
        },
    }


def test_every_shipped_scenario_loads_and_fits_its_road_map() -> None:
    assert sc.shipped_names()
    for name in sc.shipped_names():
        scenario = sc.load_named(name)
        assert scenario.roadmap is not None
        sc.check(scenario, load_roadmap(template_path(scenario.roadmap)))


def test_round_trip_of_the_shipped_scenario() -> None:
    scenario = sc.load_named("dprk-phased-hide")
    assert sc.loads(sc.to_text(scenario)) == scenario


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["behaviour"].update(itemz=3), "itemz"),
        (lambda d: d.update(delays={"probability": -0.1}), "delays.probability"),
        (lambda d: d.update(delays={"probability": 1.5}), "delays.probability"),
        (lambda d: d["inspections"].update(per_inspection=-0.5), "per_inspection"),
        (lambda d: d["inspections"].update(false_alarm=2), "false_alarm"),
        (lambda d: d["inspections"]["plan"][0].update(inspections=51), "51 inspections"),
        (lambda d: d["inspections"]["plan"][0].update(inspections=-1), "inspections"),
        (lambda d: d.update(cvid_scenario=2), "cvid_scenario"),
        (lambda d: d.pop("cvid_scenario"), "cvid_scenario"),
        (lambda d: d.update(adoption={"dist": "gamma", "k": 1}), "dist"),
        (lambda d: d.update(adoption={"dist": "uniform", "low": 5, "high": 1}), "high"),
        (
            lambda d: d.update(adoption={"dist": "triangular", "low": 1, "mode": 9, "high": 5}),
            "mode",
        ),
        (lambda d: d.update(adoption={"dist": "fixed", "days": -3}), "adoption"),
        (lambda d: d.update(adoption={"dist": "fixed", "days": "ten"}), "adoption"),
        (lambda d: d.update(horizon_days=0), "horizon_days"),
        (lambda d: d["behaviour"].update(items=0), "items"),
        (lambda d: d.update(behaviour={"kind": "divert", "items": 1}), "phase"),
        (lambda d: d.update(behaviour={"kind": "comply", "step": "x"}), "step"),
        (lambda d: d.update(behaviour={"kind": "sabotage"}), "kind"),
        (lambda d: d.update(engine_runs=-1), "engine_runs"),
    ],
)
def test_malformed_scenarios_are_refused_with_the_field_named(change: Any, needle: str) -> None:
    data = base()
    change(data)
    with pytest.raises(ScenarioError) as caught:
        sc.from_data(data, name="bad.yaml")
    assert "bad.yaml" in str(caught.value)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda d: d.update(durations={"steps": {"no-such-step": {"dist": "fixed", "days": 1}}}),
            "step 'no-such-step' is not in road map 'dprk-phased'",
        ),
        (lambda d: d.update(delays={"steps": {"ghost": 0.5}}), "delays.steps: step 'ghost'"),
        (lambda d: d["inspections"]["plan"][0].update(phase="nowhere"), "phase 'nowhere'"),
        (
            lambda d: d.update(behaviour={"kind": "divert", "items": 1, "phase": "later"}),
            "phase 'later'",
        ),
        (
            lambda d: d.update(behaviour={"kind": "refuse_reveal", "step": "disable-5mwe"}),
            "reveals nothing",
        ),
        (lambda d: d.update(detection={"step": "nope"}), "detection.step"),
        (lambda d: d.update(roadmap="jcpoa-2231"), "not 'dprk-phased'"),
        (lambda d: d.pop("inspections"), "needs an 'inspections' section"),
    ],
)
def test_names_the_road_map_does_not_have_are_refused(
    dprk: RoadMap, change: Any, needle: str
) -> None:
    data = base()
    change(data)
    with pytest.raises(ScenarioError) as caught:
        sc.check(sc.from_data(data), dprk)
    assert needle in str(caught.value)


def test_refusing_a_reveal_step_is_accepted(dprk: RoadMap) -> None:
    data = {
        "cvid_scenario": 1,
        "behaviour": {"kind": "refuse_reveal", "step": "reveal-yongbyon-sohae"},
    }
    assert sc.check(sc.from_data(data), dprk).behaviour.step == "reveal-yongbyon-sohae"


@pytest.mark.parametrize(
    "text",
    ["cvid_scenario: [1", "- 1\n- 2\n", "", "just text", "cvid_scenario: 1\n\tbad: tab"],
)
def test_text_that_is_not_a_scenario(text: str) -> None:
    with pytest.raises(ScenarioError):
        sc.loads(text, name="x.yaml")


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        sc.load(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="no scenario file"):
        sc.load_named("no-such-scenario")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError):
        sc.load(tmp_path / "bin.yaml")


def test_sweep_axes_set_the_scenario_and_are_validated() -> None:
    scenario = sc.from_data(base())
    swept = scenario.with_values(inspections=7, items=3, delay_probability=0.25)
    assert [r.inspections for r in swept.inspections.plan] == [7]  # type: ignore[union-attr]
    assert swept.behaviour.items == 3
    assert swept.delays.probability == 0.25
    with pytest.raises(ScenarioError, match="unknown sweep axis"):
        scenario.with_values(colour=1)
    with pytest.raises(ScenarioError, match=r"delays\.probability"):
        scenario.with_values(delay_probability=1.5)
    with pytest.raises(ScenarioError, match="51 inspections"):
        scenario.with_values(inspections=51)
    comply = sc.from_data({"cvid_scenario": 1})
    with pytest.raises(ScenarioError, match="'items' needs behaviour"):
        comply.with_values(items=2)
    with pytest.raises(ScenarioError, match="needs a scenario with an inspection plan"):
        comply.with_values(inspections=2)


durations = st.one_of(
    st.builds(lambda d: {"dist": "fixed", "days": d}, st.floats(0, 1000)),
    st.tuples(st.floats(0, 500), st.floats(0, 500)).map(
        lambda t: {"dist": "uniform", "low": min(t), "high": max(t)}
    ),
    st.lists(st.floats(0, 500), min_size=3, max_size=3).map(
        lambda v: (
            dict(zip(["low", "mode", "high"], sorted(v), strict=True)) | {"dist": "triangular"}
        )
    ),
    st.builds(lambda m: {"dist": "exponential", "mean": m}, st.floats(0.1, 1000)),
    st.builds(
        lambda m, s: {"dist": "lognormal", "median": m, "sigma": s},
        st.floats(0.1, 1000),
        st.floats(0, 2),
    ),
)
scenarios = st.fixed_dictionaries(
    {"cvid_scenario": st.just(1)},
    optional={
        "title": st.text(max_size=50),
        "horizon_days": st.floats(1, 20_000),
        "adoption": durations,
        "durations": st.fixed_dictionaries(
            {"default": durations},
            optional={"steps": st.dictionaries(st.sampled_from(["a", "b-1", "c.2"]), durations)},
        ),
        "delays": st.fixed_dictionaries(
            {"probability": st.floats(0, 1), "days": durations},
        ),
        "engine_runs": st.integers(0, 100),
    },
)


@settings(max_examples=150, deadline=None)
@given(scenarios)
def test_valid_scenarios_round_trip(data: dict[str, Any]) -> None:
    scenario = sc.from_data(data)
    assert sc.loads(sc.to_text(scenario)) == scenario
    assert sc.loads(yaml.safe_dump(data)) == scenario


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=3)
            | st.dictionaries(st.sampled_from(["cvid_scenario", "delays", "x", "behaviour"]), kids)
        ),
        max_leaves=10,
    )
)
def test_arbitrary_data_is_a_scenario_or_a_scenario_error(data: Any) -> None:
    """Whatever the data, the parser answers with a scenario or a ScenarioError."""
    with contextlib.suppress(ScenarioError):
        assert isinstance(sc.from_data(data), sc.Scenario)


def test_error_lists_every_problem() -> None:
    text = textwrap.dedent(
        """
        cvid_scenario: 1
        delays: {probability: -1}
        inspections: {cells: 0}
        """
    )
    with pytest.raises(ScenarioError) as caught:
        sc.loads(text, name="s.yaml")
    message = str(caught.value)
    assert "delays.probability" in message
    assert "inspections.cells" in message
