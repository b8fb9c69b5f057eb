"""Simulation and analysis of a road map: Monte Carlo, sweeps, the inspection game.

The core (:func:`simulate`, the game) is pure: randomness comes in as ``rng``.
Sweeps (:mod:`cvid.sim.sweep`) and figures (:mod:`cvid.sim.figures`) import Dask,
pandas and Plotly only when used.
"""

from cvid.sim.game import Payoffs, leadership, plan_deters, simultaneous
from cvid.sim.montecarlo import SimulationResult, simulate
from cvid.sim.scenario import Scenario, load, loads

__all__ = [
    "Payoffs",
    "Scenario",
    "SimulationResult",
    "leadership",
    "load",
    "loads",
    "plan_deters",
    "simulate",
    "simultaneous",
]
