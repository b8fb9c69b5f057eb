"""Drawing durations from a scenario's distributions, vectorised over runs."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cvid.sim import scenario as sc


def draw(dist: sc.Duration, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
    """``size`` independent draws, in days, from ``dist``."""
    if isinstance(dist, sc.Fixed):
        return np.full(size, dist.days, dtype=np.float64)
    if isinstance(dist, sc.Uniform):
        return rng.uniform(dist.low, dist.high, size)
    if isinstance(dist, sc.Triangular):
        if dist.low == dist.high:
            return np.full(size, dist.low, dtype=np.float64)
        return rng.triangular(dist.low, dist.mode, dist.high, size)
    if isinstance(dist, sc.Exponential):
        return rng.exponential(dist.mean, size)
    return dist.median * np.exp(dist.sigma * rng.standard_normal(size))
