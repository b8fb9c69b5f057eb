"""The condition language: evaluated over facts, never ``eval``.

A condition is a tree of the model's condition classes. Each class is registered
once in :data:`KINDS` with its evaluator and its description (a class of the
model's union without one fails at import). :func:`holds` walks a condition
against a :class:`Facts` (what the engine knows at a moment), :func:`describe`
writes it in words for reasons and reports, :func:`references` lists the steps
and phases it looks at (to say what a reward is "in return for").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from cvid import calendar
from cvid.roadmap import model as m


class Facts(Protocol):
    """What a condition may ask of the engine's state at the current time."""

    in_force: bool
    snapback_completed: bool
    zone: str  # the agreement's time zone: where a date begins and ends

    def done(self, ref: str) -> bool: ...
    def reported(self, ref: str) -> bool: ...
    def overdue(self, step: str, grace_days: int) -> bool: ...
    def violated(self, step: str) -> bool: ...
    def irreversibility_violated(self, item: str) -> bool: ...
    def guarantee_in_force(self, guarantee: str) -> bool: ...
    def resolution_adopted(self, ref: str) -> bool: ...
    def now(self) -> dt.datetime: ...
    def cells_revealed(self, spec: m.CellsSpec) -> bool: ...
    def confidence(self, declaration: str) -> float: ...
    def declaration_violated(self, ref: str) -> bool: ...
    def beacon_missed(self, ref: str) -> bool: ...
    def custody_flagged(self, ref: str) -> bool: ...
    def allegation_confirmed(self, kind: str) -> bool: ...
    def party_withdrawn(self, party: str) -> bool: ...
    def limit_exceeded(self, ref: str) -> bool: ...
    def limit_violated(self, ref: str) -> bool: ...
    def obligation_missed(self, ref: str, party: str | None) -> bool: ...
    def quota_short(self, ref: str) -> bool: ...
    def continuity_lost(self, ref: str, grace_days: int) -> bool: ...
    def muf_flagged(self, ref: str) -> bool: ...


def day_after(date: dt.date, zone: str = "UTC") -> dt.datetime:
    """The first instant after ``date`` ends in ``zone``: when "after that date" starts."""
    return calendar.end_of_day(date, zone)


# --- the registry: one entry per condition class ------------------------------------------

C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True)
class ConditionKind(Generic[C]):
    """What the engine knows of one condition class: how it is evaluated over
    :class:`Facts` and how it reads in words."""

    holds: Callable[[C, Facts], bool]
    describe: Callable[[C], str]


KINDS: dict[type[BaseModel], ConditionKind[Any]] = {}
"""Every condition class of the road-map language (:data:`cvid.roadmap.model.CONDITION_CLASSES`),
mapped to its evaluator and description."""


def _kind(cls: type[C], holds: Callable[[C, Facts], bool], describe: Callable[[C], str]) -> None:
    if cls in KINDS:
        raise ImportError(f"condition {cls.__name__} registered twice")
    KINDS[cls] = ConditionKind(holds, describe)


def holds(cond: m.Condition, facts: Facts) -> bool:
    """Evaluate ``cond`` against ``facts``."""
    kind: ConditionKind[Any] = KINDS[type(cond)]
    return kind.holds(cond, facts)


def describe(cond: m.Condition) -> str:
    """Write ``cond`` in words, e.g. ``all of (freeze verified, p5 in force)``."""
    kind: ConditionKind[Any] = KINDS[type(cond)]
    return kind.describe(cond)


def _any(ref: str, anything: str, one: str) -> str:
    """``anything`` for the ``any`` reference, else ``one`` (with ``{}`` for the ref)."""
    return anything if ref == "any" else one.format(ref)


def _missed(spec: str | m.MissedSpec) -> tuple[str, str | None]:
    return (spec, None) if isinstance(spec, str) else (spec.obligation, spec.party)


def _describe_missed(cond: m.ObligationMissed) -> str:
    ref, party = _missed(cond.obligation_missed)
    what = "a recurring obligation" if ref == "any" else ref
    return f"{what} missed" + (f" by {party}" if party else "")


def _describe_overdue(cond: m.Overdue) -> str:
    grace = f" by more than {cond.overdue.grace_days} days" if cond.overdue.grace_days else ""
    return f"{cond.overdue.step} overdue{grace}"


def _describe_cells(cond: m.CellsRevealed) -> str:
    spec = cond.cells_revealed
    cells = ", ".join(spec.cells) if spec.cells else "every cell"
    return f"{spec.declaration}: {cells} revealed"


_kind(
    m.All,
    lambda c, f: all(holds(x, f) for x in c.all),
    lambda c: "all of (" + ", ".join(describe(x) for x in c.all) + ")",
)
_kind(
    m.AnyOf,
    lambda c, f: any(holds(x, f) for x in c.any),
    lambda c: "any of (" + ", ".join(describe(x) for x in c.any) + ")",
)
_kind(m.Not, lambda c, f: not holds(c.not_, f), lambda c: f"not ({describe(c.not_)})")
_kind(m.Verified, lambda c, f: f.done(c.verified), lambda c: f"{c.verified} verified")
_kind(m.Reported, lambda c, f: f.reported(c.reported), lambda c: f"{c.reported} reported")
_kind(
    m.Overdue,
    lambda c, f: f.overdue(c.overdue.step, c.overdue.grace_days),
    _describe_overdue,
)
_kind(
    m.Violated,
    lambda c, f: f.violated(c.violated),
    lambda c: _any(c.violated, "any step violated", "{} violated"),
)
_kind(
    m.IrreversibilityViolated,
    lambda c, f: f.irreversibility_violated(c.irreversibility_violated),
    lambda c: _any(c.irreversibility_violated, "any item moved backward", "{} moved backward"),
)
_kind(
    m.GuaranteeInForce,
    lambda c, f: f.guarantee_in_force(c.guarantee_in_force),
    lambda c: f"guarantee {c.guarantee_in_force} in force",
)
_kind(
    m.ResolutionAdopted,
    lambda c, f: f.resolution_adopted(c.resolution_adopted),
    lambda c: f"Council resolution {c.resolution_adopted} adopted",
)
_kind(
    m.DateAfter,
    lambda c, f: f.now() >= day_after(c.date_after, f.zone),
    lambda c: f"after {c.date_after.isoformat()}",
)
_kind(m.Adopted, lambda _c, f: f.in_force, lambda _c: "agreement in force")
_kind(m.SnapbackCompleted, lambda _c, f: f.snapback_completed, lambda _c: "snapback completed")
_kind(m.CellsRevealed, lambda c, f: f.cells_revealed(c.cells_revealed), _describe_cells)
_kind(
    m.Confidence,
    lambda c, f: f.confidence(c.confidence.declaration) >= c.confidence.at_least,
    lambda c: f"confidence in {c.confidence.declaration} at least {c.confidence.at_least:.0%}",
)
_kind(
    m.DeclarationViolated,
    lambda c, f: f.declaration_violated(c.declaration_violated),
    lambda c: _any(c.declaration_violated, "any declaration found false", "{} found false"),
)
_kind(
    m.BeaconMissed,
    lambda c, f: f.beacon_missed(c.beacon_missed),
    lambda c: _any(c.beacon_missed, "a beacon secret not revealed", "{} missed a beacon reveal"),
)
_kind(
    m.CustodyFlagged,
    lambda c, f: f.custody_flagged(c.custody_flagged),
    lambda c: _any(c.custody_flagged, "a chain of custody broken", "custody of {} broken"),
)
_kind(
    m.AllegationConfirmed,
    lambda c, f: f.allegation_confirmed(c.allegation_confirmed),
    lambda c: _any(c.allegation_confirmed, "an allegation confirmed", "a {} allegation confirmed"),
)
_kind(
    m.PartyWithdrawn,
    lambda c, f: f.party_withdrawn(c.party_withdrawn),
    lambda c: _any(c.party_withdrawn, "a party withdrawn", "{} withdrawn"),
)
_kind(
    m.LimitExceeded,
    lambda c, f: f.limit_exceeded(c.limit_exceeded),
    lambda c: _any(c.limit_exceeded, "a limit exceeded", "limit {} exceeded"),
)
_kind(
    m.LimitViolated,
    lambda c, f: f.limit_violated(c.limit_violated),
    lambda c: _any(c.limit_violated, "a limit ever exceeded", "limit {} ever exceeded"),
)
_kind(
    m.ObligationMissed,
    lambda c, f: f.obligation_missed(*_missed(c.obligation_missed)),
    _describe_missed,
)
_kind(
    m.QuotaShort,
    lambda c, f: f.quota_short(c.quota_short),
    lambda c: _any(c.quota_short, "a quota period ended short", "quota {} ended short"),
)


def _continuity(spec: str | m.ContinuitySpec) -> tuple[str, int]:
    return (spec, 0) if isinstance(spec, str) else (spec.item, spec.grace_days)


def _describe_continuity(cond: m.ContinuityLost) -> str:
    item, grace = _continuity(cond.continuity_lost)
    what = "any covered item" if item == "any" else item
    return f"continuity of knowledge of {what} lost" + (
        f" for more than {grace} days" if grace else ""
    )


_kind(
    m.ContinuityLost,
    lambda c, f: f.continuity_lost(*_continuity(c.continuity_lost)),
    _describe_continuity,
)
_kind(
    m.BalanceFlagged,
    lambda c, f: f.muf_flagged(c.muf_flagged),
    lambda c: _any(c.muf_flagged, "a MUF flagged", "MUF of {} flagged"),
)

if set(KINDS) != set(m.CONDITION_CLASSES):  # a condition the engine could not evaluate
    raise ImportError(
        "condition classes without an evaluator: "
        + ", ".join(sorted(c.__name__ for c in set(KINDS) ^ set(m.CONDITION_CLASSES)))
    )


def references(cond: m.Condition) -> Iterator[str]:
    """Yield the steps and phases ``cond`` looks at (what a reward rewards)."""
    if isinstance(cond, m.All):
        for c in cond.all:
            yield from references(c)
    elif isinstance(cond, m.AnyOf):
        for c in cond.any:
            yield from references(c)
    elif isinstance(cond, m.Verified):
        yield cond.verified
    elif isinstance(cond, m.Reported):
        yield cond.reported


def overdue_graces(cond: m.Condition) -> Iterator[tuple[str, int]]:
    """Yield ``(step, grace_days)`` for every ``overdue`` test in ``cond``."""
    if isinstance(cond, m.All | m.AnyOf):
        for c in cond.all if isinstance(cond, m.All) else cond.any:
            yield from overdue_graces(c)
    elif isinstance(cond, m.Not):
        yield from overdue_graces(cond.not_)
    elif isinstance(cond, m.Overdue):
        yield cond.overdue.step, cond.overdue.grace_days


def dates(cond: m.Condition, zone: str = "UTC") -> Iterator[dt.datetime]:
    """Yield the instants at which a ``date_after`` test in ``cond`` turns true."""
    if isinstance(cond, m.All | m.AnyOf):
        for c in cond.all if isinstance(cond, m.All) else cond.any:
            yield from dates(c, zone)
    elif isinstance(cond, m.Not):
        yield from dates(cond.not_, zone)
    elif isinstance(cond, m.DateAfter):
        yield day_after(cond.date_after, zone)
        yield day_after(cond.date_after)
