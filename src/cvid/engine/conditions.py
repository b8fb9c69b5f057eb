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
from cvid.sentences import say


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


def _missed(spec: str | m.MissedSpec) -> tuple[str, str | None]:
    return (spec, None) if isinstance(spec, str) else (spec.obligation, spec.party)


def _describe_missed(cond: m.ObligationMissed) -> str:
    ref, party = _missed(cond.obligation_missed)
    if ref == "any":
        if party:
            return say("a recurring obligation missed by {party}", party=party)
        return say("a recurring obligation missed")
    if party:
        return say("{obligation} missed by {party}", obligation=ref, party=party)
    return say("{obligation} missed", obligation=ref)


def _describe_overdue(cond: m.Overdue) -> str:
    step, grace = cond.overdue.step, cond.overdue.grace_days
    if grace:
        return say("{step} overdue by more than {days} days", step=step, days=grace)
    return say("{step} overdue", step=step)


def _describe_cells(cond: m.CellsRevealed) -> str:
    spec = cond.cells_revealed
    if spec.cells:
        return say(
            "{declaration}: {cells} revealed",
            declaration=spec.declaration,
            cells=", ".join(spec.cells),
        )
    return say("{declaration}: every cell revealed", declaration=spec.declaration)


_kind(
    m.All,
    lambda c, f: all(holds(x, f) for x in c.all),
    lambda c: say("all of ({conditions})", conditions=", ".join(describe(x) for x in c.all)),
)
_kind(
    m.AnyOf,
    lambda c, f: any(holds(x, f) for x in c.any),
    lambda c: say("any of ({conditions})", conditions=", ".join(describe(x) for x in c.any)),
)
_kind(
    m.Not,
    lambda c, f: not holds(c.not_, f),
    lambda c: say("not ({condition})", condition=describe(c.not_)),
)
_kind(
    m.Verified,
    lambda c, f: f.done(c.verified),
    lambda c: say("{step} verified", step=c.verified),
)
_kind(
    m.Reported,
    lambda c, f: f.reported(c.reported),
    lambda c: say("{step} reported", step=c.reported),
)
_kind(
    m.Overdue,
    lambda c, f: f.overdue(c.overdue.step, c.overdue.grace_days),
    _describe_overdue,
)
_kind(
    m.Violated,
    lambda c, f: f.violated(c.violated),
    lambda c: (
        say("any step violated") if c.violated == "any" else say("{step} violated", step=c.violated)
    ),
)
_kind(
    m.IrreversibilityViolated,
    lambda c, f: f.irreversibility_violated(c.irreversibility_violated),
    lambda c: (
        say("any item moved backward")
        if c.irreversibility_violated == "any"
        else say("{item} moved backward", item=c.irreversibility_violated)
    ),
)
_kind(
    m.GuaranteeInForce,
    lambda c, f: f.guarantee_in_force(c.guarantee_in_force),
    lambda c: say("guarantee {guarantee} in force", guarantee=c.guarantee_in_force),
)
_kind(
    m.ResolutionAdopted,
    lambda c, f: f.resolution_adopted(c.resolution_adopted),
    lambda c: say("Council resolution {resolution} adopted", resolution=c.resolution_adopted),
)
_kind(
    m.DateAfter,
    lambda c, f: f.now() >= day_after(c.date_after, f.zone),
    lambda c: say("after {date}", date=c.date_after.isoformat()),
)
_kind(m.Adopted, lambda _c, f: f.in_force, lambda _c: say("agreement in force"))
_kind(m.SnapbackCompleted, lambda _c, f: f.snapback_completed, lambda _c: say("snapback completed"))
_kind(m.CellsRevealed, lambda c, f: f.cells_revealed(c.cells_revealed), _describe_cells)
_kind(
    m.Confidence,
    lambda c, f: f.confidence(c.confidence.declaration) >= c.confidence.at_least,
    lambda c: say(
        "confidence in {declaration} at least {percent}",
        declaration=c.confidence.declaration,
        percent=f"{c.confidence.at_least:.0%}",
    ),
)
_kind(
    m.DeclarationViolated,
    lambda c, f: f.declaration_violated(c.declaration_violated),
    lambda c: (
        say("any declaration found false")
        if c.declaration_violated == "any"
        else say("{declaration} found false", declaration=c.declaration_violated)
    ),
)
_kind(
    m.BeaconMissed,
    lambda c, f: f.beacon_missed(c.beacon_missed),
    lambda c: (
        say("a beacon secret not revealed")
        if c.beacon_missed == "any"
        else say("{party} missed a beacon reveal", party=c.beacon_missed)
    ),
)
_kind(
    m.CustodyFlagged,
    lambda c, f: f.custody_flagged(c.custody_flagged),
    lambda c: (
        say("a chain of custody broken")
        if c.custody_flagged == "any"
        else say("custody of {item} broken", item=c.custody_flagged)
    ),
)
_kind(
    m.AllegationConfirmed,
    lambda c, f: f.allegation_confirmed(c.allegation_confirmed),
    lambda c: (
        say("an allegation confirmed")
        if c.allegation_confirmed == "any"
        else say("a {allegation_kind} allegation confirmed", allegation_kind=c.allegation_confirmed)
    ),
)
_kind(
    m.PartyWithdrawn,
    lambda c, f: f.party_withdrawn(c.party_withdrawn),
    lambda c: (
        say("a party withdrawn")
        if c.party_withdrawn == "any"
        else say("{party} withdrawn", party=c.party_withdrawn)
    ),
)
_kind(
    m.LimitExceeded,
    lambda c, f: f.limit_exceeded(c.limit_exceeded),
    lambda c: (
        say("a limit exceeded")
        if c.limit_exceeded == "any"
        else say("limit {limit} exceeded", limit=c.limit_exceeded)
    ),
)
_kind(
    m.LimitViolated,
    lambda c, f: f.limit_violated(c.limit_violated),
    lambda c: (
        say("a limit ever exceeded")
        if c.limit_violated == "any"
        else say("limit {limit} ever exceeded", limit=c.limit_violated)
    ),
)
_kind(
    m.ObligationMissed,
    lambda c, f: f.obligation_missed(*_missed(c.obligation_missed)),
    _describe_missed,
)
_kind(
    m.QuotaShort,
    lambda c, f: f.quota_short(c.quota_short),
    lambda c: (
        say("a quota period ended short")
        if c.quota_short == "any"
        else say("quota {quota} ended short", quota=c.quota_short)
    ),
)


def _continuity(spec: str | m.ContinuitySpec) -> tuple[str, int]:
    return (spec, 0) if isinstance(spec, str) else (spec.item, spec.grace_days)


def _describe_continuity(cond: m.ContinuityLost) -> str:
    item, grace = _continuity(cond.continuity_lost)
    if item == "any":
        if grace:
            return say(
                "continuity of knowledge of any covered item lost for more than {days} days",
                days=grace,
            )
        return say("continuity of knowledge of any covered item lost")
    if grace:
        return say(
            "continuity of knowledge of {item} lost for more than {days} days",
            item=item,
            days=grace,
        )
    return say("continuity of knowledge of {item} lost", item=item)


_kind(
    m.ContinuityLost,
    lambda c, f: f.continuity_lost(*_continuity(c.continuity_lost)),
    _describe_continuity,
)
_kind(
    m.BalanceFlagged,
    lambda c, f: f.muf_flagged(c.muf_flagged),
    lambda c: (
        say("a MUF flagged")
        if c.muf_flagged == "any"
        else say("MUF of {area} flagged", area=c.muf_flagged)
    ),
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
