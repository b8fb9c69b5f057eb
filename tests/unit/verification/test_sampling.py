"""Inspection sampling against the reference figures, brute force and exact sums.

The figures come from the shared reference facts file (facts.md) §1 and §2 (derived there, [D]):
N = 141 cells at 90 % needs 127, 52 and 21 inspections for 1, 5 and 14 falsified
cells; N = 100, M = 10, β = 0.1 needs 21 by the IAEA formula and 20 exactly.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import InputError, SamplingError
from cvid.verification import sampling
from cvid.verification.sampling import (
    Prior,
    completeness_confidence,
    detection_probability,
    posterior,
    sample_size_exact,
    sample_size_for,
    sample_size_iaea,
)

# --- references -------------------------------------------------------------------------


def exact_miss(N: int, k: int, n: int, p: Fraction = Fraction(1)) -> Fraction:
    """E[(1 - p)^X], X ~ Hypergeom(N, k, n), summed term by term in rationals."""
    total = Fraction(0)
    for x in range(min(k, n) + 1):
        total += Fraction(math.comb(k, x) * math.comb(N - k, n - x), math.comb(N, n)) * (1 - p) ** x
    return total


def brute_force_detect(N: int, falsified: frozenset[int], n: int, p: Fraction) -> Fraction:
    """Average over every n-subset of the N cells of P(some visited falsified cell is seen)."""
    subsets = list(itertools.combinations(range(N), n))
    seen = sum((1 - (1 - p) ** len(falsified.intersection(s)) for s in subsets), Fraction(0))
    return seen / len(subsets)


# --- the reference figures --------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(1, 127), (5, 52), (14, 21)])
def test_facts_141_sites_at_90_percent(k: int, n: int) -> None:
    assert sample_size_for(141, k, 0.9) == n
    assert detection_probability(141, k, n) >= 0.9
    assert detection_probability(141, k, n - 1) < 0.9


def test_facts_141_sites_probabilities() -> None:
    # 1 - C(141-k, n)/C(141, n), to the last bit.
    for k, n in [(1, 127), (5, 52), (14, 21)]:
        assert detection_probability(141, k, n) == float(1 - exact_miss(141, k, n))
    assert detection_probability(141, 1, 127) == pytest.approx(0.900709219858156, abs=1e-15)


def test_facts_iaea_example() -> None:
    formula = 100 * (1 - 0.1 ** (1 / 10))
    assert formula == pytest.approx(20.567, abs=1e-3)
    assert sample_size_iaea(100, 10, 0.1) == 21
    assert sample_size_exact(100, 10, 0.1) == 20
    assert exact_miss(100, 10, 20) <= Fraction(1, 10) < exact_miss(100, 10, 19)
    assert sample_size_for(100, 10, 0.9) == 20


@given(N=st.integers(1, 400), data=st.data())
def test_one_falsified_cell_is_n_over_N(N: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(0, N))
    assert detection_probability(N, 1, n) == n / N


def test_ties_are_exact() -> None:
    # 9 of 10 cells with one falsified: exactly 0.9, so 9 inspections reach a 90 % goal.
    assert detection_probability(10, 1, 9) == 0.9
    assert sample_size_for(10, 1, 0.9) == 9
    assert sample_size_exact(10, 1, 0.1) == 9


# --- against brute force and exact sums -------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    N=st.integers(1, 9),
    data=st.data(),
    p=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(1, 3), Fraction(9, 10)]),
)
def test_matches_enumeration_of_every_subset(N: int, data: st.DataObject, p: Fraction) -> None:
    falsified = frozenset(data.draw(st.sets(st.integers(0, N - 1), max_size=N)))
    n = data.draw(st.integers(0, N))
    expected = brute_force_detect(N, falsified, n, p)
    got = detection_probability(N, len(falsified), n, per_inspection=float(p))
    if p == 1:
        assert got == float(expected)  # exact integer arithmetic, rounded once
    else:
        assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-15)


@settings(max_examples=120, deadline=None)
@given(N=st.integers(1, 150), data=st.data(), p=st.floats(0.0, 1.0))
def test_imperfect_detection_matches_a_direct_sum(N: int, data: st.DataObject, p: float) -> None:
    k = data.draw(st.integers(0, N))
    n = data.draw(st.integers(0, N))
    expected = 1 - exact_miss(N, k, n, Fraction(p))
    got = detection_probability(N, k, n, per_inspection=p)
    assert got == pytest.approx(float(expected), rel=1e-9, abs=1e-14)
    assert 0.0 <= got <= 1.0


@given(N=st.integers(1, 200), data=st.data())
def test_detection_is_monotone(N: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, N))
    p = data.draw(st.sampled_from([1.0, 0.7, 0.2]))
    values = [detection_probability(N, k, n, per_inspection=p) for n in range(N + 1)]
    # Exactly monotone with p = 1; with p < 1 up to rounding near 1 (a few 1e-16).
    slack = 0.0 if p == 1.0 else 1e-15
    assert all(b >= a - slack for a, b in itertools.pairwise(values))


def test_large_populations_take_the_logarithmic_path() -> None:
    # min(k, n) > EXACT_TERMS: a compensated sum of logarithms, against exact rationals.
    N, k, n = 40_000, 3, sampling.EXACT_TERMS + 5
    assert min(k, n) <= sampling.EXACT_TERMS  # still exact: k is small
    assert detection_probability(N, k, n) == float(1 - exact_miss(N, k, n))
    N, k, n = 200_000_000, 12_000, 11_000  # about 0.48: neither tail is negligible
    assert min(k, n) > sampling.EXACT_TERMS
    expected = 1 - Fraction(math.perm(N - k, n), math.perm(N, n))
    assert 0.4 < float(expected) < 0.6
    assert detection_probability(N, k, n) == pytest.approx(float(expected), rel=1e-12)


def test_edge_cases() -> None:
    assert detection_probability(0, 0, 0) == 0.0
    assert detection_probability(10, 0, 10) == 0.0
    assert detection_probability(10, 3, 0) == 0.0
    assert detection_probability(10, 3, 5, per_inspection=0.0) == 0.0
    assert detection_probability(10, 3, 8) == 1.0  # 8 inspections, 7 clean cells
    assert detection_probability(10, 10, 1) == 1.0
    assert detection_probability(5, 5, 5, per_inspection=0.3) == pytest.approx(1 - 0.7**5)


# --- sample sizes -----------------------------------------------------------------------


def _grid() -> list[tuple[int, int, float]]:
    cases = []
    for N in (1, 2, 5, 10, 16, 25, 40, 50, 100, 141, 200, 500, 1000):
        for M in sorted({1, 2, 3, 5, 8, 10, 20, N // 10, N // 4, N // 2, N}):
            for beta in (0.01, 0.05, 0.1, 0.2, 0.5):
                if 1 <= M <= N:
                    cases.append((N, M, beta))
    return cases


GRID = _grid()


def test_iaea_formula_never_asks_for_fewer_than_exact() -> None:
    # (1 - n/N)^M bounds C(N-M, n)/C(N, n) from above, so the formula can only over-ask.
    for N, M, beta in GRID:
        exact = sample_size_exact(N, M, beta)
        iaea = sample_size_iaea(N, M, beta)
        assert iaea >= exact, (N, M, beta)
        assert exact_miss(N, M, iaea) <= Fraction(beta)


def test_iaea_formula_excess_is_at_most_three_for_beta_at_least_five_percent() -> None:
    # facts §2 says the exact calculation needs "the same number ... or up to 3 fewer".
    # For β >= 0.05 that holds over the grid and over every M for N <= 60; it does not
    # hold for every β (next test).
    dense = [
        (N, M, beta) for N in range(1, 61) for M in range(1, N + 1) for beta in (0.05, 0.1, 0.5)
    ]
    excess = {
        (N, M, beta): sample_size_iaea(N, M, beta) - sample_size_exact(N, M, beta)
        for N, M, beta in [*GRID, *dense]
        if beta >= 0.05
    }
    assert min(excess.values()) == 0
    assert max(excess.values()) == 3
    assert excess[40, 38, 0.05] == 3  # the bound is reached
    assert sample_size_iaea(40, 38, 0.05) == 4
    assert sample_size_exact(40, 38, 0.05) == 1


@pytest.mark.parametrize(
    ("N", "M", "beta", "iaea", "exact"),
    [
        (16, 16, 0.01, 5, 1),  # every item falsified: one inspection finds one
        (24, 24, 0.001, 7, 1),
        (96, 24, 0.001, 25, 21),
    ],
)
def test_iaea_formula_excess_can_exceed_three(
    N: int, M: int, beta: float, iaea: int, exact: int
) -> None:
    # With small β and M a large share of N the formula over-asks by more than 3; as
    # M = N grows it asks for about -ln β inspections where one suffices.
    assert sample_size_iaea(N, M, beta) == iaea
    assert sample_size_exact(N, M, beta) == exact


def test_iaea_formula_ignores_float_noise() -> None:
    # 1000·(1 - 0.3) is 700.0000000000001 in floating point; the formula's value is 700.
    assert sample_size_iaea(1000, 1, 0.3) == 700
    assert sample_size_iaea(100, 1, 0.9) == 10
    assert sample_size_iaea(100, 3, 0.0) == 100
    assert sample_size_iaea(100, 3, 1.0) == 0


@given(N=st.integers(1, 300), data=st.data())
def test_sample_size_for_is_the_smallest(N: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, N))
    goal = data.draw(st.floats(0.0, 1.0))
    n = sample_size_for(N, k, goal)
    assert detection_probability(N, k, n) >= goal
    assert n == 0 or detection_probability(N, k, n - 1) < goal


@given(N=st.integers(1, 300), data=st.data())
def test_sample_size_exact_is_the_smallest(N: int, data: st.DataObject) -> None:
    M = data.draw(st.integers(1, N))
    beta = data.draw(st.floats(0.0, 1.0))
    n = sample_size_exact(N, M, beta)
    assert exact_miss(N, M, n) <= Fraction(beta)
    assert n == 0 or exact_miss(N, M, n - 1) > Fraction(beta)


def test_imperfect_inspections_need_more_or_cannot_reach() -> None:
    assert sample_size_exact(100, 10, 0.1, per_inspection=0.8) > 20
    # Even all 10 items, each seen with probability 0.5, miss one falsified with 0.5.
    with pytest.raises(SamplingError, match=r"no sample size reaches non-detection 0\.1"):
        sample_size_exact(10, 1, 0.1, per_inspection=0.5)
    with pytest.raises(SamplingError, match="no sample size reaches detection probability"):
        sample_size_for(10, 1, 0.9, per_inspection=0.5)
    with pytest.raises(SamplingError, match="0 falsified"):
        sample_size_for(10, 0, 0.5)
    assert sample_size_for(10, 0, 0.0) == 0


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: detection_probability(10, 11, 3), "k .* must be at most 10"),
        (lambda: detection_probability(10, 3, 11), "n .* must be at most 10"),
        (lambda: detection_probability(-1, 0, 0), "N = -1 must be at least 0"),
        (lambda: detection_probability(10, 3, 2.0), "whole number"),  # type: ignore[arg-type]
        (lambda: detection_probability(10, True, 2), "whole number"),
        (lambda: detection_probability(10, 3, 2, per_inspection=1.5), "probability"),
        (lambda: detection_probability(10, 3, 2, per_inspection=math.nan), "probability"),
        (lambda: sample_size_iaea(0, 1, 0.1), "N = 0 must be at least 1"),
        (lambda: sample_size_iaea(10, 0, 0.1), "M .* must be at least 1"),
        (lambda: sample_size_iaea(10, 11, 0.1), "M .* must be at most 10"),
        (lambda: sample_size_exact(10, 2, -0.1), "beta"),
        (lambda: sample_size_for(10, 2, 2.0), "goal"),
        (lambda: posterior(10, 11, Prior.uniform(3)), "n .* must be at most 10"),
        (lambda: posterior(10, 2, Prior.uniform(11)), "max_hidden = 11 must be at most 10"),
        (lambda: Prior.uniform(-1), "max_hidden = -1"),
        (lambda: Prior.binomial(1.2), "q = 1.2"),
        (lambda: Prior("uniform", max_hidden=3, q=0.1), "not q"),
        (lambda: Prior("binomial", max_hidden=3, q=0.1), "not max_hidden"),
        (lambda: Prior("beta", q=0.1), "unknown prior kind"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(SamplingError, match=message) as caught:
        call()
    assert isinstance(caught.value, InputError)


# --- completeness confidence ------------------------------------------------------------


def exact_uniform_confidence(
    N: int, n: int, max_hidden: int, p: Fraction = Fraction(1)
) -> Fraction:
    """P(K = 0 | n clean) under K uniform on 0..max_hidden, in rationals."""
    return 1 / sum((exact_miss(N, k, n, p) for k in range(max_hidden + 1)), Fraction(0))


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(0, 120),
    data=st.data(),
    p=st.sampled_from([1.0, 0.9, 0.5]),
    kind=st.sampled_from(["uniform", "binomial"]),
)
def test_posterior_is_a_distribution(N: int, data: st.DataObject, p: float, kind: str) -> None:
    n = data.draw(st.integers(0, N))
    if kind == "uniform":
        prior = Prior.uniform(data.draw(st.integers(0, N)))
    else:
        prior = Prior.binomial(data.draw(st.floats(0.0, 0.99)))
    post = posterior(N, n, prior, per_inspection=p)
    assert len(post) == N + 1
    assert math.fsum(post) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= w <= 1.0 for w in post)
    if prior.kind == "uniform":
        assert prior.max_hidden is not None
        assert all(w == 0.0 for w in post[prior.max_hidden + 1 :])
    # Computed apart, in plain Python (the engine's path, without NumPy): equal up to rounding.
    confidence = completeness_confidence(N, n, prior=prior, per_inspection=p)
    assert confidence == pytest.approx(post[0], rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("N", "max_hidden"), [(20, 5), (141, 14), (141, 141), (500, 10)])
@pytest.mark.parametrize("p", [Fraction(1), Fraction(4, 5)])
def test_uniform_prior_against_exact_bayes(N: int, max_hidden: int, p: Fraction) -> None:
    for n in range(0, N + 1, max(1, N // 12)):
        expected = exact_uniform_confidence(N, n, max_hidden, p)
        got = completeness_confidence(
            N, n, prior=Prior.uniform(max_hidden), per_inspection=float(p)
        )
        assert got == pytest.approx(float(expected), rel=1e-10)


@given(
    N=st.integers(1, 200),
    data=st.data(),
    q=st.floats(0.001, 0.5),
    p=st.sampled_from([1.0, 0.95, 0.6]),
)
def test_binomial_prior_has_a_closed_form(N: int, data: st.DataObject, q: float, p: float) -> None:
    # Independent cells: the uninspected ones keep their prior, an inspected clean one is
    # falsified with probability q(1 - p)/(1 - qp).
    n = data.draw(st.integers(0, N))
    expected = (1 - q) ** (N - n) * ((1 - q) / (1 - q * p)) ** n
    got = completeness_confidence(N, n, prior=Prior.binomial(q), per_inspection=p)
    assert got == pytest.approx(expected, rel=1e-9)


def test_binomial_closed_form_at_scale() -> None:
    N, n, q, p = 10_000, 500, 0.001, 0.9
    expected = (1 - q) ** (N - n) * ((1 - q) / (1 - q * p)) ** n
    got = completeness_confidence(N, n, prior=Prior.binomial(q), per_inspection=p)
    assert got == pytest.approx(expected, rel=1e-9)
    assert completeness_confidence(N, n, prior=Prior.binomial(q)) == pytest.approx(
        (1 - q) ** (N - n), rel=1e-9
    )


@pytest.mark.parametrize(
    "prior", [Prior.uniform(1), Prior.uniform(14), Prior.uniform(141), Prior.binomial(0.02)]
)
@pytest.mark.parametrize("p", [1.0, 0.8])
def test_confidence_rises_with_clean_inspections(prior: Prior, p: float) -> None:
    values = [completeness_confidence(141, n, prior=prior, per_inspection=p) for n in range(142)]
    assert all(a < b for a, b in itertools.pairwise(values))
    if p == 1.0:
        assert values[-1] == pytest.approx(1.0)  # every cell inspected and clean
    else:
        assert values[-1] < 1.0  # fallible inspections never give certainty


def test_confidence_figures() -> None:
    # Uniform on 0..14 among 141: before inspection 1/15; after the 21 inspections
    # that give 90 % detection at k = 14, P(K = 0) has risen but is far from 90 %.
    assert completeness_confidence(141, 0, prior=Prior.uniform(14)) == pytest.approx(1 / 15)
    after = completeness_confidence(141, 21, prior=Prior.uniform(14))
    assert after == pytest.approx(float(exact_uniform_confidence(141, 21, 14)), rel=1e-12)
    assert 1 / 15 < after < 0.5


def test_degenerate_priors() -> None:
    assert posterior(5, 2, Prior.binomial(0.0)) == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert posterior(5, 5, Prior.binomial(1.0), per_inspection=0.5)[5] == 1.0
    assert posterior(0, 0, Prior.uniform(0)) == [1.0]
    # Blind inspectors learn nothing: the posterior is the prior.
    assert posterior(10, 5, Prior.uniform(3), per_inspection=0.0) == [0.25] * 4 + [0.0] * 7
    with pytest.raises(SamplingError, match="impossible under this prior"):
        posterior(5, 1, Prior.binomial(1.0))
