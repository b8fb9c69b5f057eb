"""The inspection game: the textbook example, the deterrence condition by brute force,
and equilibrium properties over random payoffs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import GameError, SamplingError
from cvid.sim.game import (
    Payoffs,
    deters,
    expected,
    leadership,
    plan_deters,
    required_detection,
    simultaneous,
)
from cvid.verification.sampling import detection_probability

# The 2x2 example of facts §2: the leader announces the simultaneous equilibrium's
# inspection probability 1/3, the inspectee turns legal, and the inspector's payoff
# rises from -2/3 to -1/3. Payoffs (inspector, inspectee): no inspection (0, 0) /
# (-2, 1); inspection (-1, 0) / (0, -2).
TEXTBOOK = Payoffs(d=1, b=2, c=2, a=0, e=1)


def test_textbook_matrices() -> None:
    assert TEXTBOOK.inspector() == ((0.0, -2.0), (-1.0, 0.0))
    assert TEXTBOOK.inspectee() == ((0.0, 1.0), (0.0, -2.0))


def test_textbook_simultaneous() -> None:
    eq = simultaneous(TEXTBOOK)
    assert eq.inspect == pytest.approx(1 / 3)
    assert eq.violate == pytest.approx(1 / 3)
    assert eq.inspector_payoff == pytest.approx(-2 / 3)
    assert eq.inspectee_payoff == pytest.approx(0.0)
    assert not eq.deters


def test_textbook_leadership() -> None:
    lead = leadership(TEXTBOOK)
    assert lead.inspect == pytest.approx(1 / 3)
    assert lead.inspectee == "legal"
    assert lead.deters
    assert lead.inspector_payoff == pytest.approx(-1 / 3)


def _legal_best_at_certain_inspection(
    d: float, b: float, h: float, alpha: float, beta: float
) -> bool:
    tee = Payoffs(d=d, b=b, h=h, alpha=alpha, beta=beta).inspectee()
    return tee[1][0] >= tee[1][1]


GRID = [0.0, 0.05, 0.2, 0.5, 0.9, 1.0]


@pytest.mark.parametrize("d", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("b", [0.5, 2.0, 10.0])
@pytest.mark.parametrize("h", [0.0, 1.0, 5.0])
def test_deterrence_condition_brute_force(d: float, b: float, h: float) -> None:
    """facts §2 [D]: legal iff 1 - beta >= (d + h alpha) / (b + d), checked against the
    inspectee's payoffs over a grid of alpha and beta."""
    disagreements = []
    for alpha, beta in itertools.product(GRID, GRID):
        brute = _legal_best_at_certain_inspection(d, b, h, alpha, beta)
        formula = 1 - beta >= (d + h * alpha) / (b + d) - 1e-12
        if brute != formula or deters(1 - beta, d=d, b=b, h=h, alpha=alpha) != brute:
            disagreements.append((alpha, beta))
    assert disagreements == []


@pytest.mark.parametrize(("d", "b"), [(1, 2), (1, 1), (3, 1), (0.2, 5)])
def test_equilibrium_inspection_equals_threshold_without_false_alarms(d: float, b: float) -> None:
    """facts §2: with alpha = beta = 0 the equilibrium inspection probability is d/(b+d)."""
    g = Payoffs(d=d, b=b, e=0.5, c=2)
    assert simultaneous(g).inspect == pytest.approx(d / (b + d))
    assert required_detection(d=d, b=b) == pytest.approx(d / (b + d))


def test_threshold_scan_finds_the_smallest_deterring_probability() -> None:
    g = Payoffs(d=1.5, b=2.5, h=2.0, alpha=0.1, beta=0.2, c=3, e=0.4)
    tee = g.inspectee()
    ps = np.linspace(0, 1, 200_001)
    legal = np.array([expected(tee, p, 0.0) for p in ps[::100]])
    violate = np.array([expected(tee, p, 1.0) for p in ps[::100]])
    first = ps[::100][np.argmax(legal >= violate)]
    assert first == pytest.approx(g.inspection_threshold, abs=1e-3)


payoffs = st.builds(
    Payoffs,
    d=st.floats(0.01, 100),
    b=st.floats(0.01, 100),
    h=st.floats(0, 100),
    c=st.floats(0.5, 100),
    a=st.floats(0, 0.4),
    e=st.floats(0, 100),
    f=st.floats(0, 100),
    alpha=st.floats(0, 1),
    beta=st.floats(0, 1),
)


@settings(max_examples=300, deadline=None)
@given(payoffs)
def test_simultaneous_is_an_equilibrium(g: Payoffs) -> None:
    eq = simultaneous(g)
    ins, tee = g.inspector(), g.inspectee()
    scale = 1e-9 * (1 + max(abs(x) for row in ins + tee for x in row))
    assert 0 <= eq.inspect <= 1
    assert 0 <= eq.violate <= 1
    here_ins = expected(ins, eq.inspect, eq.violate)
    here_tee = expected(tee, eq.inspect, eq.violate)
    assert here_ins == pytest.approx(eq.inspector_payoff, abs=scale * 10)
    assert here_tee == pytest.approx(eq.inspectee_payoff, abs=scale * 10)
    for p in (0.0, 1.0):  # no profitable deviation to a pure strategy
        assert expected(ins, p, eq.violate) <= here_ins + scale * 10
    for q in (0.0, 1.0):
        assert expected(tee, eq.inspect, q) <= here_tee + scale * 10


@settings(max_examples=200, deadline=None)
@given(payoffs)
def test_leadership_is_optimal_over_a_grid_and_never_worse(g: Payoffs) -> None:
    lead = leadership(g)
    ins, tee = g.inspector(), g.inspectee()
    scale = 1e-9 * (1 + max(abs(x) for row in ins + tee for x in row))
    # The inspectee's answer is a best response to the announcement.
    answer = 1.0 if lead.inspectee == "violate" else 0.0
    other = 1.0 - answer
    assert expected(tee, lead.inspect, answer) >= expected(tee, lead.inspect, other) - scale
    # No announcement on a grid does better for the leader (ties go the leader's way).
    best = -math.inf
    for p in np.linspace(0, 1, 401):
        legal, violate = expected(tee, p, 0.0), expected(tee, p, 1.0)
        if legal > violate + scale:
            value = expected(ins, p, 0.0)
        elif violate > legal + scale:
            value = expected(ins, p, 1.0)
        else:
            value = max(expected(ins, p, 0.0), expected(ins, p, 1.0))
        best = max(best, value)
    assert best <= lead.inspector_payoff + 1e-6 * (1 + abs(best))
    # Leading never pays less than the simultaneous equilibrium.
    assert lead.inspector_payoff >= simultaneous(g).inspector_payoff - scale * 10


@pytest.mark.parametrize(
    "bad",
    [
        {"d": 0, "b": 1},
        {"d": 1, "b": -1},
        {"d": 1, "b": 1, "h": -0.1},
        {"d": 1, "b": 1, "alpha": 1.5},
        {"d": 1, "b": 1, "beta": -0.01},
        {"d": 1, "b": 1, "c": 1, "a": 1},
        {"d": math.nan, "b": 1},
        {"d": math.inf, "b": 1},
        {"d": "1", "b": 1},
        {"d": True, "b": 1},
    ],
)
def test_bad_payoffs_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(GameError):
        Payoffs(**bad)  # type: ignore[arg-type]


def test_no_inspection_rate_deters_when_caught_costs_too_little() -> None:
    g = Payoffs(d=5, b=1, beta=0.5, c=2, e=1)
    assert g.inspection_threshold == math.inf
    assert simultaneous(g).violate == 1.0
    assert simultaneous(g).inspect == 1.0
    assert leadership(g).inspectee == "violate"


def test_plan_deters_uses_the_exact_detection_probability() -> None:
    verdict = plan_deters(cells=141, hidden=3, inspections=30, d=1, b=2)
    assert verdict.detection == detection_probability(141, 3, 30)
    assert verdict.required == pytest.approx(1 / 3)
    assert verdict.deters
    n = verdict.smallest_deterring_n
    assert n is not None
    assert detection_probability(141, 3, n) >= 1 / 3 > detection_probability(141, 3, n - 1)
    assert not plan_deters(cells=141, hidden=3, inspections=n - 1, d=1, b=2).deters
    assert plan_deters(cells=141, hidden=3, inspections=n, d=1, b=2).deters


def test_plan_that_cannot_deter() -> None:
    verdict = plan_deters(cells=10, hidden=1, inspections=10, d=1, b=1, h=30, alpha=0.5)
    assert verdict.required > 1
    assert not verdict.deters
    assert verdict.smallest_deterring_n is None
    with pytest.raises(SamplingError):
        plan_deters(cells=10, hidden=11, inspections=3, d=1, b=1)
