"""The road map's structure as the simulator needs it: steps in dependency order.

Everything here is read from the road-map model: which steps each step waits for
(``depends_on`` names a step, or a phase meaning every step of it), which phase a
step belongs to, and the anchors of deadlines. :func:`schedule` turns drawn
durations into the times steps are done, vectorised over runs, with the same
rule the engine applies to ``depends_on``: a step can start once the agreement is
adopted and everything it depends on is done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cvid.errors import ScenarioError
from cvid.roadmap.model import RoadMap

Times = NDArray[np.float64]


@dataclass(frozen=True)
class Structure:
    """Steps in an order where each comes after what it waits for."""

    order: tuple[str, ...]
    phase_of: dict[str, str]
    waits_for: dict[str, tuple[str, ...]]  # step -> steps (phases expanded)
    phases: tuple[str, ...]
    phase_steps: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, roadmap: RoadMap) -> Structure:
        """Read the structure of ``roadmap``.

        Raises:
            ScenarioError: the dependencies form a cycle (a checked road map has none).
        """
        phase_steps = {ph.id: tuple(st.id for st in ph.steps) for ph in roadmap.phases}
        phase_of = {st.id: ph.id for ph in roadmap.phases for st in ph.steps}
        waits_for: dict[str, tuple[str, ...]] = {}
        for ph in roadmap.phases:
            for st in ph.steps:
                deps: list[str] = []
                for ref in st.depends_on:
                    deps.extend(phase_steps.get(ref, (ref,)))
                waits_for[st.id] = tuple(dict.fromkeys(deps))
        order: list[str] = []
        placed: set[str] = set()
        pending = list(phase_of)
        while pending:
            ready = [s for s in pending if set(waits_for[s]) <= placed]
            if not ready:
                cycle = ", ".join(pending)
                raise ScenarioError(f"the road map's dependencies form a cycle: {cycle}")
            order.extend(ready)
            placed.update(ready)
            pending = [s for s in pending if s not in placed]
        return cls(tuple(order), phase_of, waits_for, tuple(phase_steps), phase_steps)


def schedule(
    structure: Structure,
    adoption: Times,
    durations: dict[str, Times],
    *,
    never: frozenset[str] = frozenset(),
) -> tuple[dict[str, Times], dict[str, Times]]:
    """When each step can start and when it is done, for every run.

    Args:
        structure: the road map's steps and dependencies.
        adoption: per run, the day the agreement is in force.
        durations: per step, per run, the days from start to done (slips included).
        never: steps that are never carried out (their time is ``inf``).

    Returns:
        ``(ready, done)``: per step, per run, in days from the agreement's start;
        ``inf`` when the step never starts or is never done.
    """
    ready: dict[str, Times] = {}
    done: dict[str, Times] = {}
    for sid in structure.order:
        start = adoption.copy()
        for dep in structure.waits_for[sid]:
            np.maximum(start, done[dep], out=start)
        ready[sid] = start
        done[sid] = np.full_like(start, np.inf) if sid in never else start + durations[sid]
    return ready, done


def phase_times(
    structure: Structure, ready: dict[str, Times], done: dict[str, Times]
) -> tuple[dict[str, Times], dict[str, Times]]:
    """Per phase, per run: when its first step can start and when its last is done."""
    starts = {
        ph: np.minimum.reduce([ready[s] for s in steps])
        for ph, steps in structure.phase_steps.items()
    }
    ends = {
        ph: np.maximum.reduce([done[s] for s in steps])
        for ph, steps in structure.phase_steps.items()
    }
    return starts, ends
