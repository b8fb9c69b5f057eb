"""The Monte Carlo: the schedule follows the road map, the engine agrees with it,
detection matches the exact probability, and the same seed gives the same numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from cvid.agreement import template_path
from cvid.errors import ScenarioError
from cvid.roadmap.loader import from_data as roadmap_from_data
from cvid.roadmap.loader import load as load_roadmap
from cvid.roadmap.model import RoadMap
from cvid.sim import scenario as sc
from cvid.sim._schedule import Structure
from cvid.sim.montecarlo import SimulationResult, simulate
from cvid.verification.sampling import detection_probability
from tests.kit import mini_data

DPRK = load_roadmap(template_path("dprk-phased"))
MINI = roadmap_from_data(mini_data())
FIXED10 = {"dist": "fixed", "days": 10}


def scenario(**data: Any) -> sc.Scenario:
    return sc.from_data({"cvid_scenario": 1, **data})


def run(roadmap: RoadMap, spec: sc.Scenario, runs: int = 200, seed: int = 1) -> SimulationResult:
    return simulate(roadmap, spec, runs=runs, rng=np.random.default_rng(seed))


def test_same_seed_same_numbers_and_another_seed_others() -> None:
    spec = sc.load_named("dprk-phased-hide").model_copy(update={"engine_runs": 3})
    a, b, c = run(DPRK, spec, seed=4), run(DPRK, spec, seed=4), run(DPRK, spec, seed=5)
    assert a.run_records() == b.run_records()
    assert a.summary.to_dict() == b.summary.to_dict()
    assert [t.to_dict() for t in a.trajectories] == [t.to_dict() for t in b.trajectories]
    assert a.run_records() != c.run_records()


def test_fixed_durations_give_the_hand_computed_schedule() -> None:
    # mini: freeze (two steps, no dependencies) -> disable-reactor -> dismantle-stock
    result = run(MINI, scenario(durations={"default": FIXED10}), runs=3)
    assert result.runs.phase_end["freeze"].tolist() == [10.0] * 3
    assert result.runs.step_done["disable-reactor"].tolist() == [20.0] * 3
    assert result.runs.completion_day.tolist() == [30.0] * 3
    assert result.summary.completed == 1.0
    assert result.summary.detected == 0.0


def test_slips_and_adoption_shift_the_schedule() -> None:
    spec = scenario(
        adoption={"dist": "fixed", "days": 5},
        durations={"default": FIXED10},
        delays={"steps": {"disable-reactor": 1.0}, "days": {"dist": "fixed", "days": 7}},
    )
    assert run(MINI, spec, runs=2).runs.completion_day.tolist() == [42.0, 42.0]


def test_every_step_waits_for_what_it_depends_on() -> None:
    spec = sc.load_named("dprk-phased-hide").model_copy(
        update={"engine_runs": 0, "detection": sc.Detection(halts=False)}
    )
    result = run(DPRK, spec, runs=500)
    structure = Structure.of(DPRK)
    done = result.runs.step_done
    for step, deps in structure.waits_for.items():
        for dep in deps:
            both = np.isfinite(done[step])
            assert (done[step][both] >= done[dep][both]).all(), (step, dep)
            assert not (np.isfinite(done[step]) & ~np.isfinite(done[dep])).any()


def test_the_engine_completes_phases_when_the_schedule_does() -> None:
    spec = sc.load_named("dprk-phased-hide").model_copy(update={"engine_runs": 30})
    result = run(DPRK, spec, runs=30, seed=12)
    checked = 0
    for t in result.trajectories:
        for phase, day in t.phases_complete.items():
            simulated = float(result.runs.phase_end[phase][t.run])
            if day is None:
                assert not math.isfinite(simulated)
            else:
                assert day == pytest.approx(simulated, abs=1 / 86_400)
                checked += 1
    assert checked > 0


def one_round(items: int, inspections: int, per_inspection: float = 1.0) -> sc.Scenario:
    return scenario(
        durations={"default": FIXED10},
        behaviour={"kind": "hide", "items": items},
        inspections={
            "cells": 40,
            "per_inspection": per_inspection,
            "plan": [{"phase": "disable", "inspections": inspections, "after_days": 1}],
        },
        engine_runs=0,
    )


@pytest.mark.parametrize(("n", "p"), [(5, 1.0), (12, 1.0), (12, 0.7)])
def test_detection_in_one_round_matches_the_exact_probability(n: int, p: float) -> None:
    runs = 100_000
    result = run(MINI, one_round(1, n, p), runs=runs, seed=n)
    exact = detection_probability(40, 1, n, per_inspection=p)
    se = math.sqrt(exact * (1 - exact) / runs)
    assert abs(result.summary.detected - exact) <= 3 * se
    assert result.summary.detection_before_phase["disable"] == 0.0
    assert result.summary.detection_by_phase_end["freeze"] == 0.0
    detected = np.isfinite(result.runs.detection_day)
    assert (result.runs.detection_day[detected] == 11.0).all()  # disable starts on day 10
    assert (result.runs.detection_phase[detected] == 1).all()


def test_a_detection_halts_the_road_map() -> None:
    result = run(MINI, one_round(2, 40), runs=50)  # every cell inspected: always found
    assert (result.runs.detection_day == 11.0).all()
    assert (result.runs.step_done["disable-reactor"] == np.inf).all()
    assert (result.runs.step_done["declare"] == 10.0).all()
    assert (result.runs.phase_reached == 1).all()
    assert result.summary.completed == 0.0
    grid, live = result.summary.grid_days, result.summary.expected_undetected
    assert live[grid < 11].tolist() == [2.0] * int((grid < 11).sum())
    assert (live[grid >= 11] == 0).all()


def test_hidden_items_stay_undetected_without_inspections() -> None:
    spec = scenario(
        adoption={"dist": "fixed", "days": 100},
        behaviour={"kind": "hide", "items": 3},
        inspections={"cells": 10, "plan": []},
    )
    result = run(MINI, spec, runs=20)
    s = result.summary
    assert s.detected == 0.0
    # kept back from the outset: the series starts at the items kept back, not at 0
    assert (result.runs.hidden_from_day == 0.0).all()
    assert s.expected_undetected.tolist() == [3.0] * len(s.grid_days)


def test_divert_hides_from_the_phase_start() -> None:
    spec = scenario(
        durations={"default": FIXED10},
        behaviour={"kind": "divert", "items": 1, "phase": "disable"},
        inspections={
            "cells": 5,
            "plan": [
                {"phase": "freeze", "inspections": 5},
                {"phase": "disable", "inspections": 5, "after_days": 3},
            ],
        },
        engine_runs=0,
    )
    result = run(MINI, spec, runs=10)
    assert (result.runs.hidden_from_day == 10.0).all()
    assert (result.runs.detection_day == 13.0).all()  # the freeze round found nothing yet


def test_refusing_a_reveal_stalls_its_phase_and_what_waits_for_it() -> None:
    spec = scenario(
        behaviour={"kind": "refuse_reveal", "step": "reveal-yongbyon-sohae"}, engine_runs=2
    )
    result = run(DPRK, spec, runs=100)
    assert np.isfinite(result.runs.phase_end["freeze"]).all()
    assert (result.runs.phase_end["disablement"] == np.inf).all()
    assert (result.runs.phase_end["dismantlement"] == np.inf).all()
    assert (result.runs.phase_reached == 1).all()
    assert np.isfinite(result.runs.step_done["disable-5mwe"]).all()
    for t in result.trajectories:
        assert t.phases_complete["disablement"] is None
        assert "tranche-2" in t.rules_fired  # disablement steps verified: the reward fires
        assert "tranche-3" not in t.rules_fired


def test_trajectories_follow_the_road_maps_rules() -> None:
    comply = scenario(durations={"default": FIXED10}, engine_runs=1)
    t = run(DPRK, comply, runs=1).trajectories[0]
    measures = [m.id for m in DPRK.measures]
    assert t.measures_in_force[0] == tuple(measures)
    assert t.measures_in_force[-1] == ()
    assert set(t.guarantees_in_force[-1]) == {g.id for g in DPRK.guarantees}
    assert list(t.days) == sorted(t.days)
    # Caught when dismantlement starts: the breach rule re-imposes everything.
    caught = scenario(
        durations={"default": FIXED10},
        behaviour={"kind": "hide", "items": 1},
        inspections={"cells": 5, "plan": [{"phase": "dismantlement", "inspections": 5}]},
        detection={"step": "complete-declaration"},
        engine_runs=1,
    )
    result = run(DPRK, caught, runs=1)
    t = result.trajectories[0]
    day = float(result.runs.detection_day[0])
    assert t.rules_fired["breach"] == pytest.approx(day, abs=1e-5)
    assert "tranche-1" in t.rules_fired
    assert t.measures_in_force[-1] == tuple(measures)
    assert t.guarantees_in_force[-1] == ()


def test_runs_out_of_range() -> None:
    with pytest.raises(ScenarioError, match="runs"):
        run(MINI, scenario(), runs=0)
