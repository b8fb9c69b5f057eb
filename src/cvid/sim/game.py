"""The inspection game (Avenhaus-Canty): when do inspections deter a violation?

Two players. The inspector inspects (probability ``p``) or not; the inspectee acts
legally or violates (probability ``q``). An inspection of a violator detects it with
probability ``1 - beta``; an inspection of a legal inspectee raises a false alarm
with probability ``alpha``. Payoffs, rows the inspector's choice and columns the
inspectee's::

                      legal                     violate
    no inspection     (0, 0)                    (-c, d)
    inspection        (-e - f·alpha, -h·alpha)  (-(1-beta)·a - beta·c, -(1-beta)·b + beta·d)

(inspector, inspectee). ``d``: the inspectee's gain from an undetected violation;
``b``: its loss if caught; ``h``: its loss from a false alarm. ``c``: the inspector's
loss from an undetected violation; ``a`` from a detected one (``a < c``); ``e`` the
effort of inspecting a legal inspectee; ``f`` the inspector's loss from a false alarm.

Derivation (facts §2, "Inspection games", the condition marked [D]). With the
inspector inspecting with probability ``p``, the inspectee's payoff is ``-p·h·alpha``
if legal and ``(1-p)·d + p·(-(1-beta)·b + beta·d) = d - p·(1-beta)·(b+d)`` if it
violates. Legal is a best response iff ``p·K ≥ d`` with ``K = (1-beta)(b+d) - h·alpha``,
so the smallest deterring inspection probability is ``p* = d / K`` (and none deters
when ``K ≤ d``). At ``p = 1`` (the plan is certainly carried out) this is
``-h·alpha ≥ -b(1-beta) + d·beta``, i.e. ``1 - beta ≥ (d + h·alpha) / (b + d)``: the
facts file's condition, which ``tests/unit/sim/test_game.py`` also checks by brute
force. The inspector is indifferent when ``q·G = (1-q)·E`` with ``G = (1-beta)(c-a)``
and ``E = e + f·alpha``, so ``q* = E / (E + G)``.

Leadership: the inspector announces ``p`` first and credibly; the inspectee answers
with a best response, breaking a tie in the inspector's favour (the leader may
announce a hair above ``p*`` to make the tie strict). Announcing ``p*`` and being
answered with legal behaviour is the leader's best when ``-p*·E ≥ -c + p*·G``.

Pure arithmetic: no randomness, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from cvid.errors import GameError, SamplingError

Matrix = tuple[tuple[float, float], tuple[float, float]]  # [inspect?][violate?]


def _finite(name: str, value: float, *, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GameError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise GameError(f"{name} must be {bound}, not {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Payoffs:
    """The game's parameters; construction checks their ranges.

    Raises:
        GameError: a parameter is not a finite number in its range, ``d`` or ``b`` is
            not positive, or ``a ≥ c``.
    """

    d: float
    b: float
    h: float = 0.0
    c: float = 1.0
    a: float = 0.0
    e: float = 0.0
    f: float = 0.0
    alpha: float = 0.0
    beta: float = 0.0

    def __post_init__(self) -> None:
        for name in ("d", "b", "c"):
            if _finite(name, getattr(self, name), low=0.0) <= 0.0:
                raise GameError(f"{name} must be positive, not {getattr(self, name)!r}")
        for name in ("h", "a", "e", "f"):
            _finite(name, getattr(self, name), low=0.0)
        _finite("alpha (false-alarm probability)", self.alpha, low=0.0, high=1.0)
        _finite("beta (non-detection probability)", self.beta, low=0.0, high=1.0)
        if self.a >= self.c:
            raise GameError(
                f"a detected violation must cost the inspector less than an undetected one "
                f"(a = {self.a:g}, c = {self.c:g})"
            )

    def inspector(self) -> Matrix:
        """The inspector's payoffs, ``[inspects][violates]``."""
        return (
            (0.0, -self.c),
            (-self.e - self.f * self.alpha, -(1 - self.beta) * self.a - self.beta * self.c),
        )

    def inspectee(self) -> Matrix:
        """The inspectee's payoffs, ``[inspects][violates]``."""
        return (
            (0.0, self.d),
            (-self.h * self.alpha, -(1 - self.beta) * self.b + self.beta * self.d),
        )

    @property
    def deterrence_margin(self) -> float:
        """``K = (1-beta)(b+d) - h·alpha``: inspecting with probability ``p`` deters
        iff ``p·K ≥ d``."""
        return (1 - self.beta) * (self.b + self.d) - self.h * self.alpha

    @property
    def inspection_threshold(self) -> float:
        """``p* = d / K``, the smallest deterring inspection probability (``inf``: none)."""
        k = self.deterrence_margin
        return self.d / k if k > self.d else (1.0 if k == self.d else math.inf)


def expected(matrix: Matrix, p: float, q: float) -> float:
    """A player's expected payoff when the inspector inspects with ``p`` and the
    inspectee violates with ``q``."""
    return sum(
        (p if i else 1 - p) * (q if v else 1 - q) * matrix[i][v] for i in (0, 1) for v in (0, 1)
    )


@dataclass(frozen=True)
class Equilibrium:
    """The simultaneous game's equilibrium: ``inspect`` = p, ``violate`` = q."""

    inspect: float
    violate: float
    inspector_payoff: float
    inspectee_payoff: float
    deters: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Leadership:
    """The inspector-leadership solution: the announced ``inspect`` and the answer."""

    inspect: float
    inspectee: Literal["legal", "violate"]
    inspector_payoff: float
    inspectee_payoff: float

    @property
    def deters(self) -> bool:
        return self.inspectee == "legal"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "deters": self.deters}


def simultaneous(g: Payoffs) -> Equilibrium:
    """The Nash equilibrium of the simultaneous game.

    When some inspection probability deters (``K > d``) it is the mixed equilibrium
    ``p* = d/K``, ``q* = E/(E+G)`` (unique when ``E > 0``). Otherwise violating is a
    dominant strategy and the inspector inspects always (never, if ``beta = 1``).
    """
    k, big_e = g.deterrence_margin, g.e + g.f * g.alpha
    big_g = (1 - g.beta) * (g.c - g.a)
    if k > g.d:
        # Each player is indifferent: its payoff is that of its first pure strategy.
        p, q = g.d / k, big_e / (big_e + big_g)
        return Equilibrium(p, q, -q * g.c, -p * g.h * g.alpha, deters=q == 0.0)
    p, q = (1.0 if big_g > 0 else 0.0), 1.0
    return Equilibrium(
        p, q, expected(g.inspector(), p, q), expected(g.inspectee(), p, q), deters=False
    )


def leadership(g: Payoffs) -> Leadership:
    """The inspector-leadership solution (the inspector announces ``p`` first).

    The inspectee answers with a best response, a tie going the inspector's way.
    """
    ins, tee = g.inspector(), g.inspectee()
    p_star = g.inspection_threshold
    if p_star > 1.0:
        p = 1.0 if (1 - g.beta) * (g.c - g.a) > 0 else 0.0
        return Leadership(p, "violate", expected(ins, p, 1.0), expected(tee, p, 1.0))
    legal, violate = expected(ins, p_star, 0.0), expected(ins, p_star, 1.0)
    if legal >= violate:
        return Leadership(p_star, "legal", legal, expected(tee, p_star, 0.0))
    return Leadership(p_star, "violate", violate, expected(tee, p_star, 1.0))


def required_detection(*, d: float, b: float, h: float = 0.0, alpha: float = 0.0) -> float:
    """The smallest detection probability ``1 - beta`` that deters when the inspection
    is certainly carried out: ``(d + h·alpha) / (b + d)`` (above 1: none does).

    Raises:
        GameError: a payoff or probability out of range.
    """
    Payoffs(d=d, b=b, h=h, alpha=alpha)
    return (d + h * alpha) / (b + d)


def deters(detection: float, *, d: float, b: float, h: float = 0.0, alpha: float = 0.0) -> bool:
    """Whether a certainly-carried-out inspection that detects a violation with
    probability ``detection`` (and raises a false alarm with ``alpha``) makes legal
    behaviour the inspectee's best response: ``-h·alpha ≥ -b(1-beta) + d·beta``.

    Raises:
        GameError: a payoff or probability out of range.
    """
    _finite("detection", detection, low=0.0, high=1.0)
    g = Payoffs(d=d, b=b, h=h, alpha=alpha, beta=1.0 - detection)
    tee = g.inspectee()
    return tee[1][0] >= tee[1][1]


@dataclass(frozen=True)
class PlanVerdict:
    """Whether a sampling plan deters, and what it would take."""

    detection: float
    required: float
    deters: bool
    smallest_deterring_n: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_deters(
    *,
    cells: int,
    hidden: int,
    inspections: int,
    d: float,
    b: float,
    h: float = 0.0,
    alpha: float = 0.0,
    per_inspection: float = 1.0,
) -> PlanVerdict:
    """Does inspecting ``inspections`` of ``cells`` cells deter hiding ``hidden`` items?

    The plan's detection probability is the exact hypergeometric
    :func:`cvid.verification.sampling.detection_probability`; ``alpha`` is the plan's
    false-alarm probability.

    Raises:
        GameError: payoffs out of range. SamplingError: counts out of range.
    """
    from cvid.verification.sampling import detection_probability, sample_size_for

    detection = detection_probability(cells, hidden, inspections, per_inspection=per_inspection)
    need = required_detection(d=d, b=b, h=h, alpha=alpha)
    smallest: int | None
    if need > 1.0:
        smallest = None
    else:
        try:
            smallest = sample_size_for(cells, hidden, need, per_inspection=per_inspection)
        except SamplingError:
            smallest = None
    return PlanVerdict(
        detection=detection,
        required=need,
        deters=deters(detection, d=d, b=b, h=h, alpha=alpha),
        smallest_deterring_n=smallest,
    )
