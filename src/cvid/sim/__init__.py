"""Simulation and analysis of a road map: Monte Carlo, sweeps, the inspection game.

The core (:func:`simulate`, the game) is pure: randomness comes in as ``rng``.
The inspection game (:mod:`cvid.sim.game`) is plain arithmetic and part of the core
install; everything else here needs NumPy (``cvid[sim]``), so the names from
:mod:`cvid.sim.montecarlo` are imported on first use, and importing ``cvid.sim`` (or the
game) loads no NumPy. Sweeps (:mod:`cvid.sim.sweep`) and figures
(:mod:`cvid.sim.figures`) import Dask, pandas and Plotly only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cvid.sim.game import Payoffs, leadership, plan_deters, simultaneous
from cvid.sim.scenario import Scenario, load, loads

if TYPE_CHECKING:
    from cvid.sim.montecarlo import SimulationResult, simulate

_LAZY = {"SimulationResult": "cvid.sim.montecarlo", "simulate": "cvid.sim.montecarlo"}


def __getattr__(name: str) -> Any:
    """The NumPy-backed names, imported when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
