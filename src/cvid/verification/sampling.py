"""How many inspections find a falsified declaration, and how much a clean record is worth.

The declaration is split into ``N`` cells (sites, grid squares, items of a stratum).
``k`` of them are falsified; inspectors visit ``n`` cells drawn at random without
replacement, and find the falsification in a visited falsified cell with probability
``per_inspection`` (``p``). The number ``X`` of falsified cells visited is
hypergeometric, ``X ~ Hypergeom(N, k, n)``, and the inspection misses every one of
them with probability ``E[(1 - p)^X]``, so::

    P(detect) = 1 - E[(1 - p)^X]                     (any p)
              = 1 - C(N - k, n) / C(N, n)            (p = 1)

With one falsified cell and ``p = 1`` this is ``n / N``. In the safeguards notation
the non-detection probability is ``β``, and ``1 - β`` the detection probability.

Numerics. With ``p = 1`` the ratio ``C(N - k, n) / C(N, n)`` is computed in exact
integer arithmetic and rounded once, so that ties come out right (``N = 10``, ``k =
1``, ``n = 9`` gives exactly ``0.9``), as long as ``min(k, n)`` is at most
:data:`EXACT_TERMS`; beyond that it is a compensated sum of logarithms, accurate to
about 1e-13 relative. With ``p < 1`` the expectation is summed over
``scipy.stats.hypergeom``'s probability mass function. The posterior needs the
likelihood for every ``k`` at once: a cumulative product of ``1 - n/(N - i)`` when
``p = 1``, and otherwise a recurrence that adds one falsified cell at a time (work
proportional to ``max K · n``). Pure functions, no I/O.

NumPy and SciPy (``cvid[sim]``) are imported only by the functions that need them:
:func:`completeness_confidence`, which the engine calls, and
:func:`detection_probability` and the sample sizes with ``p = 1`` need neither, so a
core install (an auditor's) can fold escrow states.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cvid.errors import SamplingError, require_extra

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

EXACT_TERMS = 10_000
"""Up to this many factors, ``C(N - k, n) / C(N, n)`` is computed exactly."""

_CEIL_SLACK = 1e-12
"""Relative slack when rounding the IAEA formula up, so float noise adds no inspection."""


# --- validation -------------------------------------------------------------------------


def _count(value: object, name: str, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SamplingError(f"{name} must be a whole number, not {value!r}")
    if value < low:
        raise SamplingError(f"{name} = {value} must be at least {low}")
    if high is not None and value > high:
        raise SamplingError(f"{name} = {value} must be at most {high}")
    return value


def _probability(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SamplingError(f"{name} must be a number, not {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also rejects NaN
        raise SamplingError(f"{name} = {value!r} must be a probability, between 0 and 1")
    return number


# --- detection --------------------------------------------------------------------------


def _perfect(N: int, k: int, n: int) -> tuple[float, float]:
    """(miss, detect) for p = 1: C(N - k, n) / C(N, n) and its complement."""
    m, a = min(k, n), max(k, n)
    if m == 0:
        return 1.0, 0.0
    if N - a < m:  # more inspections than clean cells: a falsified cell is always visited
        return 0.0, 1.0
    if m <= EXACT_TERMS:
        # C(N-k, n)/C(N, n) = perm(N-a, m)/perm(N, m), symmetric in k and n.
        num, den = math.perm(N - a, m), math.perm(N, m)
        return num / den, (den - num) / den  # int / int rounds correctly
    log_miss = math.fsum(math.log1p(-a / (N - i)) for i in range(m))
    return math.exp(log_miss), -math.expm1(log_miss)


def _imperfect(N: int, k: int, n: int, p: float) -> tuple[float, float]:
    """(miss, detect) for 0 < p < 1: E[(1 - p)^X] and 1 - that, X ~ Hypergeom(N, k, n)."""
    _need_numpy("detection with per_inspection < 1")
    import numpy as np

    x = np.arange(max(0, n - (N - k)), min(k, n) + 1, dtype=np.float64)
    from scipy.stats import hypergeom  # imported on use: it takes a second to load

    pmf: NDArray[np.float64] = np.asarray(hypergeom.pmf(x, N, k, n), dtype=np.float64)
    log_keep = x * math.log1p(-p)
    miss = float(np.dot(pmf, np.exp(log_keep)))
    detect = float(np.dot(pmf, -np.expm1(log_keep)))
    return min(1.0, max(0.0, miss)), min(1.0, max(0.0, detect))


def _need_numpy(what: str) -> None:
    """Check that NumPy and SciPy (the ``sim`` extra) are installed, before importing them."""
    require_extra("sim", what, ("numpy", "scipy"))


def _miss_and_detect(N: int, k: int, n: int, p: float) -> tuple[float, float]:
    if k == 0 or n == 0 or p == 0.0:
        return 1.0, 0.0
    if p == 1.0:
        return _perfect(N, k, n)
    return _imperfect(N, k, n, p)


def _check(N: object, k: object, n: object, per_inspection: object) -> tuple[int, int, int, float]:
    big_n = _count(N, "N")
    return (
        big_n,
        _count(k, "k (falsified cells)", high=big_n),
        _count(n, "n (inspections)", high=big_n),
        _probability(per_inspection, "per_inspection"),
    )


def detection_probability(N: int, k: int, n: int, *, per_inspection: float = 1.0) -> float:
    """The probability that ``n`` random inspections of ``N`` cells find a falsified one.

    Exactly ``1 - E[(1 - p)^X]`` with ``X ~ Hypergeom(N, k, n)``; with ``p = 1`` this is
    ``1 - C(N - k, n) / C(N, n)`` (and ``n / N`` when ``k = 1``).

    Args:
        N: the number of cells in the declaration (``N ≥ 0``).
        k: how many of them are falsified (``0 ≤ k ≤ N``).
        n: how many distinct cells are inspected, drawn uniformly (``0 ≤ n ≤ N``).
        per_inspection: the probability ``p`` that inspecting a falsified cell reveals
            the falsification (1: inspections never miss).

    Returns:
        The detection probability, in [0, 1].

    Raises:
        SamplingError: an argument is not a whole number, out of range, or ``p`` is not
            a probability.
    """
    big_n, k, n, p = _check(N, k, n, per_inspection)
    return _miss_and_detect(big_n, k, n, p)[1]


# --- sample sizes -----------------------------------------------------------------------


def _ceil(x: float) -> int:
    """Round up, ignoring float noise just above a whole number (100·(1 - 0.3) = 70.00…01)."""
    return math.ceil(x - _CEIL_SLACK * max(1.0, abs(x)))


def sample_size_iaea(N: int, M: int, beta: float) -> int:
    """The IAEA attribute-sampling formula: ``ceil(N · (1 - β^(1/M)))``.

    The standard safeguards approximation for the number of items to verify so that a
    diversion needing ``M`` falsified items out of ``N`` is detected with probability at
    least ``1 - β``. The reference notes give this form as derived and unconfirmed
    ([D/U]: it was not quoted from an IAEA text); it replaces the exact hypergeometric
    non-detection ``C(N - M, n) / C(N, n)`` by the larger ``(1 - n/N)^M``, so it never
    asks for fewer inspections than :func:`sample_size_exact` with ``p = 1``.

    Args:
        N: the number of items in the stratum (``N ≥ 1``).
        M: the number of items that must be falsified to divert a significant quantity
            (``1 ≤ M ≤ N``).
        beta: the acceptable non-detection probability β, in [0, 1].

    Returns:
        The sample size, between 0 and ``N``.

    Raises:
        SamplingError: an argument is out of range.
    """
    big_n = _count(N, "N", low=1)
    m = _count(M, "M (falsified items)", low=1, high=big_n)
    b = _probability(beta, "beta")
    if b == 0.0:
        return big_n
    fraction = -math.expm1(math.log(b) / m)  # 1 - β^(1/M) without cancellation
    return min(big_n, max(0, _ceil(big_n * fraction)))


def _smallest(N: int, meets: Callable[[int], bool]) -> int | None:
    """The smallest n in 0..N with ``meets(n)``, for ``meets`` monotone in n; None if none."""
    if not meets(N):
        return None
    low, high = 0, N
    while low < high:
        mid = (low + high) // 2
        if meets(mid):
            high = mid
        else:
            low = mid + 1
    return low


def sample_size_exact(N: int, M: int, beta: float, *, per_inspection: float = 1.0) -> int:
    """The smallest number of inspections whose exact non-detection probability is ≤ β.

    With ``p = 1`` this is the smallest ``n`` with ``C(N - M, n) / C(N, n) ≤ β``: the
    exact counterpart of :func:`sample_size_iaea` (for ``N = 100``, ``M = 10``, ``β =
    0.1``: 20, where the formula gives 21).

    Args:
        N: the number of items (``N ≥ 1``).
        M: the number of falsified items to be detected (``1 ≤ M ≤ N``).
        beta: the acceptable non-detection probability β, in [0, 1].
        per_inspection: the probability that inspecting a falsified item reveals it.

    Returns:
        The sample size, between 0 and ``N``.

    Raises:
        SamplingError: an argument is out of range, or even inspecting all ``N`` items
            leaves a non-detection probability ``(1 - p)^M`` above β.
    """
    big_n = _count(N, "N", low=1)
    m = _count(M, "M (falsified items)", low=1, high=big_n)
    b = _probability(beta, "beta")
    p = _probability(per_inspection, "per_inspection")
    found = _smallest(big_n, lambda n: _miss_and_detect(big_n, m, n, p)[0] <= b)
    if found is None:
        raise SamplingError(
            f"no sample size reaches non-detection {b:g}: inspecting all {big_n} items "
            f"still misses {m} falsified ones with probability {(1 - p) ** m:.6g} "
            f"when each inspection detects with probability {p:g}"
        )
    return found


def sample_size_for(N: int, k: int, goal: float, *, per_inspection: float = 1.0) -> int:
    """The smallest number of inspections with :func:`detection_probability` ≥ ``goal``.

    For ``N = 141`` cells and a 90 % goal: 127 inspections if one cell is falsified, 52
    if five are, 21 if fourteen are.

    Args:
        N: the number of cells (``N ≥ 0``).
        k: the number of falsified cells to be detected (``0 ≤ k ≤ N``).
        goal: the detection probability to reach, in [0, 1].
        per_inspection: the probability that inspecting a falsified cell reveals it.

    Returns:
        The sample size, between 0 and ``N``.

    Raises:
        SamplingError: an argument is out of range, or the goal cannot be reached (no
            cell is falsified, or inspections miss too often).
    """
    big_n, k, _, p = _check(N, k, 0, per_inspection)
    target = _probability(goal, "goal")
    found = _smallest(big_n, lambda n: _miss_and_detect(big_n, k, n, p)[1] >= target)
    if found is None:
        best = _miss_and_detect(big_n, k, big_n, p)[1]
        raise SamplingError(
            f"no sample size reaches detection probability {target:g} for {k} falsified "
            f"of {big_n} cells: inspecting every cell detects with probability {best:.6g}"
        )
    return found


# --- what a clean record says about completeness ----------------------------------------


@dataclass(frozen=True)
class Prior:
    """A prior on ``K``, the number of falsified cells among ``N``, before inspection.

    Build one with :meth:`uniform` or :meth:`binomial`.

    Attributes:
        kind: ``"uniform"``: ``K`` uniform on ``0..max_hidden``; ``"binomial"``: each
            cell falsified independently with probability ``q``, so ``K ~ Binomial(N, q)``.
        max_hidden: the largest ``K`` the uniform prior allows (uniform only).
        q: the per-cell falsification probability (binomial only).

    Raises:
        SamplingError: the fields do not fit the kind.
    """

    kind: Literal["uniform", "binomial"]
    max_hidden: int | None = None
    q: float | None = None

    def __post_init__(self) -> None:
        if self.kind == "uniform":
            if self.q is not None:
                raise SamplingError("a uniform prior takes max_hidden, not q")
            _count(self.max_hidden, "max_hidden")
        elif self.kind == "binomial":
            if self.max_hidden is not None:
                raise SamplingError("a binomial prior takes q, not max_hidden")
            _probability(self.q, "q")
        else:
            raise SamplingError(f"unknown prior kind {self.kind!r}: 'uniform' or 'binomial'")

    @classmethod
    def uniform(cls, max_hidden: int) -> Prior:
        """``K`` uniform on ``0..max_hidden``."""
        return cls("uniform", max_hidden=max_hidden)

    @classmethod
    def binomial(cls, q: float) -> Prior:
        """Each cell falsified independently with probability ``q``."""
        return cls("binomial", q=q)


def _log_prior(prior: Prior, N: int) -> NDArray[np.float64]:
    """log P(K = k) for k = 0..N (-inf where the prior puts no mass)."""
    _need_numpy("the posterior")
    import numpy as np

    log_p = np.full(N + 1, -np.inf)
    if prior.kind == "uniform":
        top = _count(prior.max_hidden, "max_hidden", high=N)
        log_p[: top + 1] = -math.log(top + 1)
        return log_p
    q = float(prior.q if prior.q is not None else 0.0)
    if q in (0.0, 1.0):
        log_p[0 if q == 0.0 else N] = 0.0
        return log_p
    k = np.arange(N + 1, dtype=np.float64)
    from scipy.stats import binom  # imported on use: it takes a second to load

    return np.asarray(binom.logpmf(k, N, q), dtype=np.float64)


def _log_likelihood(N: int, n: int, p: float, ks: NDArray[np.int64]) -> NDArray[np.float64]:
    """log P(all n inspected cells clean | K = k) = log E[(1 - p)^X] for each k in ks."""
    _need_numpy("the posterior")
    import numpy as np

    out = np.full(len(ks), -np.inf)
    if n == 0 or p == 0.0:  # nothing inspected, or nothing could be seen
        return np.zeros(len(ks))
    if p == 1.0:
        # L(k) = prod_{i<k} (1 - n/(N - i)), zero once k > N - n.
        top = N - n
        steps = np.log1p(-n / (N - np.arange(top, dtype=np.float64)))
        cumulative = np.concatenate(([0.0], np.cumsum(steps)))
        alive = ks <= top
        out[alive] = cumulative[ks[alive]]
        return out
    # E[(1 - p)^X] for k = 0, 1, ... by adding one falsified cell at a time: g[x] is
    # P(X = x and every visited falsified cell missed) for the current k, rescaled to sum
    # to 1 with the log of the scale kept apart, so that nothing underflows.
    top = int(ks.max())
    xs = np.arange(n + 1, dtype=np.float64)
    keep = 1.0 - p
    g = np.zeros(n + 1)
    g[0] = 1.0
    log_scale = np.zeros(top + 1)
    for k in range(top):
        left = N - k  # cells not yet falsified; the new one is uniform among them
        unvisited = np.maximum(N - n - k + xs, 0.0) / left  # it is not inspected
        g_next = g * unvisited
        g_next[1:] += g[:-1] * ((n - xs[:-1]) / left) * keep  # inspected, and missed
        total = float(g_next.sum())
        g = g_next / total
        log_scale[k + 1] = log_scale[k] + math.log(total)
    return log_scale[ks]


def posterior(N: int, n_clean: int, prior: Prior, *, per_inspection: float = 1.0) -> list[float]:
    """The posterior distribution of ``K`` after ``n_clean`` inspections all came back clean.

    Bayes' rule with the likelihood ``P(all clean | K = k) = E[(1 - p)^X]``,
    ``X ~ Hypergeom(N, k, n_clean)``: the inspected cells are a uniform random sample.
    With ``p < 1`` the work grows as ``max K · n_clean`` (about a second for a binomial
    prior over 100,000 cells).

    Args:
        N: the number of cells (``N ≥ 0``).
        n_clean: the number of distinct cells inspected, every one found clean.
        prior: the prior on ``K``.
        per_inspection: the probability that inspecting a falsified cell reveals it.

    Returns:
        ``P(K = k | all clean)`` for ``k = 0..N`` (a list of ``N + 1`` numbers summing
        to 1).

    Raises:
        SamplingError: an argument is out of range (including a uniform prior's
            ``max_hidden > N``), or the prior makes a clean record impossible.
    """
    big_n, _, n, p = _check(N, 0, n_clean, per_inspection)
    _need_numpy("the posterior")
    import numpy as np

    log_prior = _log_prior(prior, big_n)
    ks = np.flatnonzero(np.isfinite(log_prior)).astype(np.int64)
    log_joint = log_prior[ks] + _log_likelihood(big_n, n, p, ks)
    if not np.isfinite(log_joint).any():
        raise SamplingError(
            f"{n} clean inspections are impossible under this prior: every K it allows "
            "would have been detected"
        )
    weights = np.exp(log_joint - log_joint.max())
    result = np.zeros(big_n + 1)
    result[ks] = weights / math.fsum(weights.tolist())
    return [float(w) for w in result]


def _uniform_log_likelihoods(N: int, n: int, p: float, top: int) -> list[float]:
    """log P(all n inspected cells clean | K = k) for k = 0..top, in plain Python.

    The same recurrences as the posterior's, with ``g`` kept only where it can be non-zero
    (``x ≤ min(k, n)``), so the work is ``top · min(top, n)``.
    """
    if n == 0 or p == 0.0:
        return [0.0] * (top + 1)
    if p == 1.0:
        out = [-math.inf] * (top + 1)
        cumulative = 0.0
        out[0] = 0.0
        for k in range(1, min(top, N - n) + 1):
            cumulative += math.log1p(-n / (N - (k - 1)))
            out[k] = cumulative
        return out
    keep = 1.0 - p
    g = [1.0]
    log_scale = 0.0
    out = [0.0]
    for k in range(top):
        left = N - k
        size = min(k + 1, n) + 1
        g_next = [0.0] * size
        for x, gx in enumerate(g):
            g_next[x] += gx * (max(N - n - k + x, 0) / left)
            if x + 1 < size:
                g_next[x + 1] += gx * ((n - x) / left) * keep
        total = math.fsum(g_next)
        g = [v / total for v in g_next]
        log_scale += math.log(total)
        out.append(log_scale)
    return out


def completeness_confidence(
    N: int, n_clean: int, *, prior: Prior, per_inspection: float = 1.0
) -> float:
    """The probability that the declaration is complete (``K = 0``) given a clean record.

    The first entry of :func:`posterior` (equal to it up to rounding), computed without
    NumPy or SciPy: the engine folds escrow states with it. With a binomial prior the
    cells are independent, so inspecting some says nothing about the others: the
    confidence is ``(1 - q)^(N - n)·((1 - q)/(1 - qp))^n``, and it reaches 1 only when
    every cell has been inspected by infallible inspectors. A uniform prior ties the
    cells together, and each clean inspection makes large ``K`` less likely: the
    confidence is ``1 / Σ_k L(k)`` over ``k = 0..max_hidden``, ``L(k)`` the probability
    of the clean record with ``k`` falsified cells (work ``max_hidden · min(max_hidden,
    n)`` when ``p < 1``).

    Args:
        N: the number of cells.
        n_clean: the number of distinct cells inspected, every one found clean.
        prior: the prior on ``K``.
        per_inspection: the probability that inspecting a falsified cell reveals it.

    Returns:
        ``P(K = 0 | all clean)``, in [0, 1].

    Raises:
        SamplingError: as :func:`posterior`.
    """
    big_n, _, n, p = _check(N, 0, n_clean, per_inspection)
    if prior.kind == "uniform":
        top = _count(prior.max_hidden, "max_hidden", high=big_n)
        likelihoods = _uniform_log_likelihoods(big_n, n, p, top)
        return 1.0 / math.fsum(math.exp(v) for v in likelihoods)
    q = float(prior.q if prior.q is not None else 0.0)
    if q == 0.0 or big_n == 0:
        return 1.0
    if q == 1.0:  # K = N for certain
        if n > 0 and p == 1.0:
            raise SamplingError(
                f"{n} clean inspections are impossible under this prior: every K it allows "
                "would have been detected"
            )
        return 0.0
    log_q = math.log1p(-q)
    return math.exp((big_n - n) * log_q + n * (log_q - math.log1p(-q * p)))
