"""Monte Carlo of a road map under a scenario: completion, detection, sanctions.

:func:`simulate` draws every run at once with NumPy: adoption, step durations and
slips, the step schedule from the road map's dependencies, where hidden items sit,
and each inspection round of the plan (:mod:`cvid.sim.inspection`). The first
``scenario.engine_runs`` runs are then replayed through the compliance engine
(:mod:`cvid.sim.replay`) for their sanctions and guarantee trajectories.

Pure: all randomness comes from the ``rng`` argument, drawn in a fixed order, so the
same seed gives the same numbers. No clock, no I/O. Times are days after the
agreement's start; ``inf`` means "not within the horizon".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cvid.errors import ScenarioError
from cvid.roadmap.model import RoadMap
from cvid.sim import inspection
from cvid.sim import scenario as sc
from cvid.sim._draws import draw
from cvid.sim._schedule import Structure, phase_times, schedule
from cvid.sim.replay import RunPlan, Trajectory, trajectory

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
GRID_POINTS = 121


@dataclass(frozen=True)
class Runs:
    """Per-run results, one array entry per run."""

    completion_day: Floats  # every phase complete; inf: not within the horizon
    phases_complete: Ints  # how many phases are complete at the horizon
    phase_reached: Ints  # index of the first phase not complete (= number of phases: all)
    detection_day: Floats  # first detecting inspection; inf: none
    detection_phase: Ints  # index of the phase whose round detected; -1: none
    false_alarm_day: Floats  # first false alarm; inf: none
    hidden_items: Ints  # items kept back or diverted in this run
    hidden_from_day: Floats  # when they were hidden (hide: day 0); inf: never
    phase_start: dict[str, Floats]
    phase_end: dict[str, Floats]
    step_done: dict[str, Floats]

    def __len__(self) -> int:
        return int(self.completion_day.shape[0])


@dataclass(frozen=True)
class Summary:
    """The runs aggregated."""

    runs: int
    trials: int
    completed: float
    completion_days: dict[str, float]  # mean, p10, p50, p90 over completed runs
    detected: float
    detection_before_phase: dict[str, float]
    detection_by_phase_end: dict[str, float]
    false_alarm: float
    grid_days: Floats
    expected_undetected: Floats

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``inf`` and ``nan`` as ``None``)."""
        return {
            "runs": self.runs,
            "inspection_trials": self.trials,
            "completed": self.completed,
            "completion_days": {k: _num(v) for k, v in self.completion_days.items()},
            "detected": self.detected,
            "detection_before_phase": self.detection_before_phase,
            "detection_by_phase_end": self.detection_by_phase_end,
            "false_alarm": self.false_alarm,
            "expected_undetected": {
                "days": [float(x) for x in self.grid_days],
                "items": [float(x) for x in self.expected_undetected],
            },
        }


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns: per-run arrays, engine trajectories, the summary."""

    roadmap: str
    phases: tuple[str, ...]
    scenario: sc.Scenario
    runs: Runs
    summary: Summary
    trajectories: tuple[Trajectory, ...] = field(default=())

    def run_records(self) -> list[dict[str, Any]]:
        """One JSON-ready record per run."""
        r = self.runs
        phases = self.phases
        return [
            {
                "run": i,
                "completion_day": _num(r.completion_day[i]),
                "phases_complete": int(r.phases_complete[i]),
                "phase_reached": (
                    phases[r.phase_reached[i]] if r.phase_reached[i] < len(phases) else "complete"
                ),
                "detection_day": _num(r.detection_day[i]),
                "detection_phase": (
                    phases[r.detection_phase[i]] if r.detection_phase[i] >= 0 else None
                ),
                "false_alarm_day": _num(r.false_alarm_day[i]),
                "hidden_items": int(r.hidden_items[i]),
            }
            for i in range(len(r))
        ]


def _num(x: float | np.floating[Any]) -> float | None:
    value = float(x)
    return value if math.isfinite(value) else None


def simulate(
    roadmap: RoadMap, scenario: sc.Scenario, *, runs: int, rng: np.random.Generator
) -> SimulationResult:
    """Simulate ``runs`` runs of ``roadmap`` under ``scenario``.

    Args:
        roadmap: the road map (its phases, steps, dependencies, rules).
        scenario: durations, slips, behaviour and the inspection plan.
        runs: the number of runs (at least 1).
        rng: the only source of randomness.

    Returns:
        Per-run arrays, aggregates, and engine trajectories for the first
        ``scenario.engine_runs`` runs.

    Raises:
        ScenarioError: ``runs`` is out of range or the scenario does not fit the road map.
    """
    if not 1 <= runs <= 10_000_000:
        raise ScenarioError(f"runs must be between 1 and 10000000, not {runs}")
    sc.check(scenario, roadmap)
    structure = Structure.of(roadmap)
    horizon = scenario.horizon_days
    # The order of the draws below is part of the contract: same seed, same numbers.
    adoption = draw(scenario.adoption, rng, runs)
    endorse = scenario.council.endorse_after
    endorsement = adoption + draw(endorse, rng, runs) if endorse is not None else None
    durations = _durations(scenario, structure, rng, runs)
    behaviour = scenario.behaviour
    never = frozenset({behaviour.step}) if behaviour.step is not None else frozenset()
    ready, done = schedule(structure, adoption, durations, never=never)
    starts, _ = phase_times(structure, ready, done)
    if behaviour.kind == "hide":  # kept back from the outset: day 0, before adoption
        hidden_from = np.zeros(runs)
    elif behaviour.kind == "divert":
        assert behaviour.phase is not None
        hidden_from = starts[behaviour.phase].copy()
    else:
        hidden_from = np.full(runs, np.inf)
    hidden_from[hidden_from > horizon] = np.inf
    hidden_items = np.where(np.isfinite(hidden_from), behaviour.items, 0).astype(np.int64)
    found = _inspect(
        scenario, structure, starts=starts, hidden_from=hidden_from, rng=rng, runs=runs
    )
    detection_day, detection_phase, false_alarm_day, trials = found
    for sid in structure.order:
        if scenario.detection.halts:  # nothing is done, or starts, after a detection
            done[sid] = np.where(done[sid] > detection_day, np.inf, done[sid])
            ready[sid] = np.where(ready[sid] > detection_day, np.inf, ready[sid])
        done[sid][done[sid] > horizon] = np.inf
    if scenario.detection.halts:
        false_alarm_day = np.where(false_alarm_day > detection_day, np.inf, false_alarm_day)
    starts, ends = phase_times(structure, ready, done)
    complete = np.stack([np.isfinite(ends[ph]) for ph in structure.phases])
    result_runs = Runs(
        completion_day=np.maximum.reduce([ends[ph] for ph in structure.phases]),
        phases_complete=complete.sum(axis=0).astype(np.int64),
        phase_reached=np.where(
            complete.all(axis=0), len(structure.phases), np.argmin(complete, axis=0)
        ).astype(np.int64),
        detection_day=detection_day,
        detection_phase=detection_phase,
        false_alarm_day=false_alarm_day,
        hidden_items=hidden_items,
        hidden_from_day=hidden_from,
        phase_start=starts,
        phase_end=ends,
        step_done=done,
    )
    replays = tuple(
        _replay(roadmap, scenario, result_runs, i, adoption=adoption, endorsement=endorsement)
        for i in range(min(scenario.engine_runs, runs))
    )
    return SimulationResult(
        roadmap=roadmap.agreement.id,
        phases=structure.phases,
        scenario=scenario,
        runs=result_runs,
        summary=summarise(result_runs, structure.phases, horizon=horizon, trials=trials),
        trajectories=replays,
    )


def _durations(
    scenario: sc.Scenario, structure: Structure, rng: np.random.Generator, runs: int
) -> dict[str, Floats]:
    """Per step, per run: the days from start to done, slips included."""
    durations: dict[str, Floats] = {}
    for sid in structure.order:
        dist = scenario.durations.steps.get(sid, scenario.durations.default)
        durations[sid] = draw(dist, rng, runs)
    for sid in structure.order:
        q = scenario.delays.steps.get(sid, scenario.delays.probability)
        slips = rng.random(runs) < q
        durations[sid] = durations[sid] + np.where(slips, draw(scenario.delays.days, rng, runs), 0)
    return durations


def _inspect(
    scenario: sc.Scenario,
    structure: Structure,
    *,
    starts: dict[str, Floats],
    hidden_from: Floats,
    rng: np.random.Generator,
    runs: int,
) -> tuple[Floats, Ints, Floats, int]:
    """Draw every round of the plan for every run at once.

    Returns:
        Per run: the first detection day, the index of the detecting round's phase, the
        first false-alarm day; and the number of inspection trials drawn.
    """
    detection_day = np.full(runs, np.inf)
    detection_phase = np.full(runs, -1, dtype=np.int64)
    alarm_day = np.full(runs, np.inf)
    plan = scenario.inspections
    if plan is None:
        return detection_day, detection_phase, alarm_day, 0
    trials = 0
    cells = inspection.occupied_cells(
        rng, cells=plan.cells, items=scenario.behaviour.items, runs=runs
    )
    for r in plan.plan:
        when = starts[r.phase] + r.after_days
        when[when > scenario.horizon_days] = np.inf
        seen, alarm = inspection.trials(
            rng,
            cells=plan.cells,
            hidden=np.where(hidden_from <= when, cells, 0),
            inspections=r.inspections,
            per_inspection=plan.per_inspection,
            false_alarm=plan.false_alarm,
        )
        trials += runs * r.inspections
        earlier = seen & np.isfinite(when) & (when < detection_day)
        detection_day = np.where(earlier, when, detection_day)
        detection_phase = np.where(earlier, structure.phases.index(r.phase), detection_phase)
        alarm_day = np.minimum(alarm_day, np.where(alarm & np.isfinite(when), when, np.inf))
    return detection_day, detection_phase, alarm_day, trials


def _replay(
    roadmap: RoadMap,
    scenario: sc.Scenario,
    runs: Runs,
    i: int,
    *,
    adoption: Floats,
    endorsement: Floats | None,
) -> Trajectory:
    """Run ``i`` through the engine."""
    horizon = scenario.horizon_days
    endorsed = endorsement is not None and endorsement[i] <= horizon
    detected = runs.detection_day[i]
    plan = RunPlan(
        adoption=float(adoption[i]),
        endorsement=float(endorsement[i]) if endorsement is not None and endorsed else None,
        step_done={s: float(t[i]) for s, t in runs.step_done.items() if np.isfinite(t[i])},
        detection=float(detected) if np.isfinite(detected) else None,
        detection_step=scenario.detection.step or _first_verified_step(roadmap),
        guarantees_signed=scenario.council.guarantees_signed,
    )
    return trajectory(roadmap, plan, run=i, horizon_days=horizon)


def _first_verified_step(roadmap: RoadMap) -> str | None:
    for ph in roadmap.phases:
        for st in ph.steps:
            if st.verification is not None:
                return st.id
    return None


def summarise(runs: Runs, phases: tuple[str, ...], *, horizon: float, trials: int = 0) -> Summary:
    """Aggregate per-run results: completion quantiles, detection by phase, and the
    expected number of hidden items not yet detected over time."""
    n = len(runs)
    finished = runs.completion_day[np.isfinite(runs.completion_day)]
    if finished.size:
        p10, p50, p90 = np.quantile(finished, [0.1, 0.5, 0.9])
        days = {"mean": float(finished.mean()), "p10": p10, "p50": p50, "p90": p90}
    else:
        days = {"mean": math.nan, "p10": math.nan, "p50": math.nan, "p90": math.nan}
    detected = runs.detection_day
    before = {ph: float(np.mean(detected < runs.phase_start[ph])) for ph in phases}
    by_end = {ph: float(np.mean(detected <= runs.phase_end[ph])) for ph in phases}
    grid = np.linspace(0.0, horizon, GRID_POINTS)
    # Items are hidden from hidden_from_day until the first detection.
    live = (runs.hidden_from_day[:, None] <= grid[None, :]) & (grid[None, :] < detected[:, None])
    expected = (live * runs.hidden_items[:, None]).mean(axis=0)
    return Summary(
        runs=n,
        trials=trials,
        completed=float(finished.size / n),
        completion_days={k: float(v) for k, v in days.items()},
        detected=float(np.mean(np.isfinite(detected))),
        detection_before_phase=before,
        detection_by_phase_end=by_end,
        false_alarm=float(np.mean(np.isfinite(runs.false_alarm_day))),
        grid_days=grid,
        expected_undetected=expected.astype(np.float64),
    )
