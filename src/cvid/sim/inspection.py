"""Inspection trials: one round of ``n`` random inspections among ``N`` cells, ``k`` of
them holding a hidden item, drawn for many trials at once with NumPy.

The number of inspected cells that hold a hidden item is hypergeometric (sampling
without replacement); each of them is seen with the per-inspection probability,
and each clean inspected cell raises a false alarm with the false-alarm rate. No
Python loop runs per trial. With one ``k`` for every trial the count is drawn by
inverting its distribution (:func:`hypergeometric_cdf`), which is faster than NumPy's
hypergeometric sampler; with one ``k`` per trial NumPy's sampler is used. The tests
hold both to the exact probability of :mod:`cvid.verification.sampling`, which is
computed another way. :func:`trials_python` is the same experiment written
plainly, one trial at a time, for the benchmark's baseline and the tests.
"""

from __future__ import annotations

import math
import random

import numpy as np
from numpy.typing import NDArray

Counts = NDArray[np.int64] | int


def trials(
    rng: np.random.Generator,
    *,
    cells: int,
    hidden: Counts,
    inspections: int,
    per_inspection: float = 1.0,
    false_alarm: float = 0.0,
    size: int | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Draw inspection rounds; return ``(detected, false_alarm)`` per trial.

    Args:
        rng: the random generator (the only source of randomness).
        cells: ``N``, the number of cells.
        hidden: ``k``, the number of cells holding a hidden item: one number, or one
            per trial.
        inspections: ``n``, distinct cells inspected, drawn uniformly.
        per_inspection: probability that inspecting a cell with a hidden item finds it.
        false_alarm: probability that inspecting a clean cell raises a false alarm.
        size: the number of trials (needed when ``hidden`` is one number).
    """
    k = np.asarray(hidden, dtype=np.int64)
    count = k.shape[0] if k.ndim else int(size or 1)
    if inspections == 0:
        none = np.zeros(count, dtype=np.bool_)
        return none, none.copy()
    # Hypergeometric(ngood = k, nbad = N - k, nsample = n): hidden cells inspected.
    # One k for every trial is the faster call.
    if k.ndim == 0:
        return _one_k(
            rng,
            cells=cells,
            k=int(k),
            n=inspections,
            p=per_inspection,
            alpha=false_alarm,
            count=count,
        )
    hit: NDArray[np.int64] = rng.hypergeometric(k, cells - k, inspections)
    detected = hit > 0 if per_inspection >= 1.0 else rng.binomial(hit, per_inspection) > 0
    if false_alarm > 0.0:
        alarms = rng.binomial(inspections - hit, false_alarm) > 0
    else:
        alarms = np.zeros(count, dtype=np.bool_)
    return detected, alarms


def hypergeometric_cdf(
    cells: int, hidden: int, inspections: int
) -> tuple[int, NDArray[np.float64]]:
    """The support's lowest value and the cumulative distribution of the number of
    hidden cells among ``inspections`` drawn from ``cells`` (log-gamma, no SciPy)."""

    def log_choose(a: int, b: int) -> float:
        return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)

    low, high = max(0, inspections - (cells - hidden)), min(hidden, inspections)
    total = log_choose(cells, inspections)
    log_pmf = np.array(
        [
            log_choose(hidden, x) + log_choose(cells - hidden, inspections - x) - total
            for x in range(low, high + 1)
        ]
    )
    cdf = np.cumsum(np.exp(log_pmf))
    return low, cdf / cdf[-1]


def _one_k(
    rng: np.random.Generator,
    *,
    cells: int,
    k: int,
    n: int,
    p: float,
    alpha: float,
    count: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """One ``k`` for every trial: the count of inspected hidden cells by inversion of its
    distribution (one uniform and a search in a table of at most ``min(k, n) + 1``
    entries per trial), then each inspected hidden cell seen with probability ``p``:
    given ``x`` of them, the round detects with probability ``1 - (1 - p)^x``."""
    low, cdf = hypergeometric_cdf(cells, k, n)
    index = np.searchsorted(cdf[:-1], rng.random(count), side="right")
    xs = np.arange(low, low + cdf.size)
    if p >= 1.0:
        detected = (xs > 0)[index]
    else:
        detected = rng.random(count) < (-np.expm1(xs * math.log1p(-p)))[index]
    if alpha > 0.0:
        alarms = rng.random(count) < (-np.expm1((n - xs) * math.log1p(-alpha)))[index]
    else:
        alarms = np.zeros(count, dtype=np.bool_)
    return detected, alarms


def trials_python(
    rnd: random.Random,
    *,
    cells: int,
    hidden: int,
    inspections: int,
    per_inspection: float = 1.0,
    count: int,
) -> list[bool]:
    """The same experiment one trial at a time in plain Python (cells ``0..k-1`` hide
    items; the inspected cells are a uniform sample)."""
    out = []
    for _ in range(count):
        found = False
        for cell in rnd.sample(range(cells), inspections):
            if cell < hidden and (per_inspection >= 1.0 or rnd.random() < per_inspection):
                found = True
                break
        out.append(found)
    return out


def occupied_cells(
    rng: np.random.Generator, *, cells: int, items: int, runs: int
) -> NDArray[np.int64]:
    """Per run, how many distinct cells ``items`` items land in, each cell drawn uniformly.

    Sorting the drawn cells of each run and counting the changes counts the distinct
    ones, for all runs at once.
    """
    if items == 0:
        return np.zeros(runs, dtype=np.int64)
    drawn = np.sort(rng.integers(0, cells, size=(runs, items)), axis=1)
    distinct: NDArray[np.int64] = 1 + np.count_nonzero(np.diff(drawn, axis=1), axis=1)
    return distinct.astype(np.int64)
