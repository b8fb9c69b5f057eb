"""Vectorised inspection trials against the exact hypergeometric probability."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.sim.inspection import occupied_cells, trials, trials_python
from cvid.verification.sampling import detection_probability

TABLE = [
    # (N, k, n, per_inspection)
    (10, 1, 1, 1.0),
    (10, 1, 5, 1.0),
    (50, 3, 10, 1.0),
    (100, 10, 20, 1.0),
    (141, 3, 30, 1.0),
    (141, 14, 21, 1.0),
    (500, 2, 100, 1.0),
    (1000, 5, 50, 1.0),
    (10_000, 20, 200, 1.0),
    (100, 5, 20, 0.5),
    (141, 3, 30, 0.9),
    (1000, 10, 100, 0.8),
]
TRIALS = 400_000


@pytest.mark.parametrize(("big_n", "k", "n", "p"), TABLE)
def test_simulated_detection_agrees_with_exact_within_three_standard_errors(
    big_n: int, k: int, n: int, p: float
) -> None:
    rng = np.random.default_rng([big_n, k, n, int(p * 100)])
    detected, _ = trials(rng, cells=big_n, hidden=k, inspections=n, per_inspection=p, size=TRIALS)
    exact = detection_probability(big_n, k, n, per_inspection=p)
    se = math.sqrt(exact * (1 - exact) / TRIALS)
    assert abs(detected.mean() - exact) <= 3 * se


def test_per_trial_hidden_counts_agree_with_exact() -> None:
    rng = np.random.default_rng(5)
    hidden = np.repeat(np.array([0, 1, 4], dtype=np.int64), 200_000)
    detected, _ = trials(rng, cells=60, hidden=hidden, inspections=12)
    for i, k in enumerate((0, 1, 4)):
        part = detected[i * 200_000 : (i + 1) * 200_000]
        exact = detection_probability(60, k, 12)
        se = math.sqrt(exact * (1 - exact) / part.size)
        assert abs(part.mean() - exact) <= 3 * se
    assert not detected[:200_000].any()


def test_false_alarms_follow_the_rate_on_clean_cells() -> None:
    rng = np.random.default_rng(11)
    _, alarms = trials(rng, cells=100, hidden=0, inspections=10, false_alarm=0.02, size=300_000)
    exact = 1 - 0.98**10
    se = math.sqrt(exact * (1 - exact) / alarms.size)
    assert abs(alarms.mean() - exact) <= 3 * se


def test_edge_cases() -> None:
    rng = np.random.default_rng(0)
    d, a = trials(rng, cells=20, hidden=3, inspections=0, size=100)
    assert not d.any()
    assert not a.any()
    d, _ = trials(rng, cells=20, hidden=3, inspections=20, size=100)
    assert d.all()
    d, _ = trials(rng, cells=20, hidden=0, inspections=20, size=100)
    assert not d.any()


def test_plain_python_baseline_measures_the_same_thing() -> None:
    rnd = random.Random(3)
    found = trials_python(rnd, cells=50, hidden=3, inspections=10, count=40_000)
    exact = detection_probability(50, 3, 10)
    se = math.sqrt(exact * (1 - exact) / len(found))
    assert abs(sum(found) / len(found) - exact) <= 3 * se


def test_same_seed_same_trials() -> None:
    a = trials(np.random.default_rng(9), cells=30, hidden=2, inspections=5, size=1000)
    b = trials(np.random.default_rng(9), cells=30, hidden=2, inspections=5, size=1000)
    assert (a[0] == b[0]).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(0, 12), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_occupied_cells_counts_distinct_cells(cells: int, items: int, runs: int, seed: int) -> None:
    got = occupied_cells(np.random.default_rng(seed), cells=cells, items=items, runs=runs)
    drawn = np.random.default_rng(seed).integers(0, cells, size=(runs, items)) if items else None
    expected = [len(set(row)) for row in drawn] if drawn is not None else [0] * runs
    assert got.tolist() == expected
    assert (got <= min(cells, items)).all()


@pytest.mark.parametrize(("big_n", "k", "n"), [(10, 3, 9), (141, 14, 21), (20, 15, 10), (5, 5, 5)])
def test_inverted_distribution_matches_numpys_sampler(big_n: int, k: int, n: int) -> None:
    """The one-k path (inversion) and the per-trial path (NumPy's sampler) draw the same
    distribution: compared with each other, and both with the exact probability."""
    size = 200_000
    one, _ = trials(np.random.default_rng(1), cells=big_n, hidden=k, inspections=n, size=size)
    many, _ = trials(np.random.default_rng(2), cells=big_n, hidden=np.full(size, k), inspections=n)
    exact = detection_probability(big_n, k, n)
    se = math.sqrt(exact * (1 - exact) / size)
    assert abs(one.mean() - exact) <= 3 * se
    assert abs(many.mean() - exact) <= 3 * se
