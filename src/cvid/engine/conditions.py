"""The condition language: evaluated over facts, never ``eval``.

A condition is a tree of the model's condition classes. :func:`holds` walks it
against a :class:`Facts` (what the engine knows at a moment), :func:`describe`
writes it in words for reasons and reports, :func:`references` lists the steps
and phases it looks at (to say what a reward is "in return for").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

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


def holds(cond: m.Condition, facts: Facts) -> bool:
    """Evaluate ``cond`` against ``facts``."""
    if isinstance(cond, m.All):
        return all(holds(c, facts) for c in cond.all)
    if isinstance(cond, m.AnyOf):
        return any(holds(c, facts) for c in cond.any)
    if isinstance(cond, m.Not):
        return not holds(cond.not_, facts)
    if isinstance(cond, m.Verified):
        return facts.done(cond.verified)
    if isinstance(cond, m.Reported):
        return facts.reported(cond.reported)
    if isinstance(cond, m.Overdue):
        return facts.overdue(cond.overdue.step, cond.overdue.grace_days)
    if isinstance(cond, m.Violated):
        return facts.violated(cond.violated)
    if isinstance(cond, m.IrreversibilityViolated):
        return facts.irreversibility_violated(cond.irreversibility_violated)
    if isinstance(cond, m.GuaranteeInForce):
        return facts.guarantee_in_force(cond.guarantee_in_force)
    if isinstance(cond, m.ResolutionAdopted):
        return facts.resolution_adopted(cond.resolution_adopted)
    return _other_holds(cond, facts)


def _other_holds(cond: m.Condition, facts: Facts) -> bool:
    if isinstance(cond, m.DateAfter):
        return facts.now() >= day_after(cond.date_after, facts.zone)
    if isinstance(cond, m.Adopted):
        return facts.in_force
    if isinstance(cond, m.SnapbackCompleted):
        return facts.snapback_completed
    if isinstance(cond, m.CellsRevealed):
        return facts.cells_revealed(cond.cells_revealed)
    if isinstance(cond, m.Confidence):
        return facts.confidence(cond.confidence.declaration) >= cond.confidence.at_least
    if isinstance(cond, m.DeclarationViolated):
        return facts.declaration_violated(cond.declaration_violated)
    if isinstance(cond, m.BeaconMissed):
        return facts.beacon_missed(cond.beacon_missed)
    return _continuing_holds(cond, facts)


def _continuing_holds(cond: m.Condition, facts: Facts) -> bool:
    """Conditions on parties over time, limits and recurring obligations."""
    if isinstance(cond, m.AllegationConfirmed):
        return facts.allegation_confirmed(cond.allegation_confirmed)
    if isinstance(cond, m.PartyWithdrawn):
        return facts.party_withdrawn(cond.party_withdrawn)
    if isinstance(cond, m.LimitExceeded):
        return facts.limit_exceeded(cond.limit_exceeded)
    if isinstance(cond, m.LimitViolated):
        return facts.limit_violated(cond.limit_violated)
    if isinstance(cond, m.ObligationMissed):
        ref = cond.obligation_missed
        if isinstance(ref, str):
            return facts.obligation_missed(ref, None)
        return facts.obligation_missed(ref.obligation, ref.party)
    if isinstance(cond, m.QuotaShort):
        return facts.quota_short(cond.quota_short)
    if isinstance(cond, m.ContinuityLost):
        spec = cond.continuity_lost
        if isinstance(spec, str):
            return facts.continuity_lost(spec, 0)
        return facts.continuity_lost(spec.item, spec.grace_days)
    if isinstance(cond, m.BalanceFlagged):
        return facts.muf_flagged(cond.muf_flagged)
    assert isinstance(cond, m.CustodyFlagged)
    return facts.custody_flagged(cond.custody_flagged)


def describe(cond: m.Condition) -> str:
    """Write ``cond`` in words, e.g. ``all of (freeze verified, p5 in force)``."""
    if isinstance(cond, m.All):
        return "all of (" + ", ".join(describe(c) for c in cond.all) + ")"
    if isinstance(cond, m.AnyOf):
        return "any of (" + ", ".join(describe(c) for c in cond.any) + ")"
    if isinstance(cond, m.Not):
        return f"not ({describe(cond.not_)})"
    if isinstance(cond, m.Verified):
        return f"{cond.verified} verified"
    if isinstance(cond, m.Reported):
        return f"{cond.reported} reported"
    if isinstance(cond, m.Overdue):
        grace = f" by more than {cond.overdue.grace_days} days" if cond.overdue.grace_days else ""
        return f"{cond.overdue.step} overdue{grace}"
    if isinstance(cond, m.Violated):
        return "any step violated" if cond.violated == "any" else f"{cond.violated} violated"
    if isinstance(cond, m.IrreversibilityViolated):
        ref = cond.irreversibility_violated
        return "any item moved backward" if ref == "any" else f"{ref} moved backward"
    if isinstance(cond, m.GuaranteeInForce):
        return f"guarantee {cond.guarantee_in_force} in force"
    if isinstance(cond, m.ResolutionAdopted):
        return f"Council resolution {cond.resolution_adopted} adopted"
    return _describe_other(cond)


def _describe_other(cond: m.Condition) -> str:
    if isinstance(cond, m.DateAfter):
        return f"after {cond.date_after.isoformat()}"
    if isinstance(cond, m.Adopted):
        return "agreement in force"
    if isinstance(cond, m.SnapbackCompleted):
        return "snapback completed"
    if isinstance(cond, m.CellsRevealed):
        spec = cond.cells_revealed
        cells = ", ".join(spec.cells) if spec.cells else "every cell"
        return f"{spec.declaration}: {cells} revealed"
    if isinstance(cond, m.Confidence):
        return (
            f"confidence in {cond.confidence.declaration} at least {cond.confidence.at_least:.0%}"
        )
    if isinstance(cond, m.DeclarationViolated):
        ref = cond.declaration_violated
        return "any declaration found false" if ref == "any" else f"{ref} found false"
    if isinstance(cond, m.BeaconMissed):
        ref = cond.beacon_missed
        return "a beacon secret not revealed" if ref == "any" else f"{ref} missed a beacon reveal"
    if isinstance(cond, m.AllegationConfirmed):
        kind = cond.allegation_confirmed
        return "an allegation confirmed" if kind == "any" else f"a {kind} allegation confirmed"
    if isinstance(cond, m.PartyWithdrawn):
        who = cond.party_withdrawn
        return "a party withdrawn" if who == "any" else f"{who} withdrawn"
    if isinstance(cond, m.LimitExceeded):
        ref = cond.limit_exceeded
        return "a limit exceeded" if ref == "any" else f"limit {ref} exceeded"
    if isinstance(cond, m.LimitViolated):
        ref = cond.limit_violated
        return "a limit ever exceeded" if ref == "any" else f"limit {ref} ever exceeded"
    if isinstance(cond, m.ObligationMissed | m.QuotaShort | m.ContinuityLost | m.BalanceFlagged):
        return _describe_recurring(cond)
    assert isinstance(cond, m.CustodyFlagged)
    ref = cond.custody_flagged
    return "a chain of custody broken" if ref == "any" else f"custody of {ref} broken"


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


def _describe_recurring(
    cond: m.ObligationMissed | m.QuotaShort | m.ContinuityLost | m.BalanceFlagged,
) -> str:
    if isinstance(cond, m.ContinuityLost | m.BalanceFlagged):
        return _describe_monitoring(cond)
    if isinstance(cond, m.QuotaShort):
        ref = cond.quota_short
        return "a quota period ended short" if ref == "any" else f"quota {ref} ended short"
    spec = cond.obligation_missed
    ref, party = (spec, None) if isinstance(spec, str) else (spec.obligation, spec.party)
    what = "a recurring obligation" if ref == "any" else ref
    return f"{what} missed" + (f" by {party}" if party else "")


def _describe_monitoring(cond: m.ContinuityLost | m.BalanceFlagged) -> str:
    if isinstance(cond, m.BalanceFlagged):
        area = cond.muf_flagged
        return "a MUF flagged" if area == "any" else f"MUF of {area} flagged"
    spec = cond.continuity_lost
    item, grace = (spec, 0) if isinstance(spec, str) else (spec.item, spec.grace_days)
    what = "any covered item" if item == "any" else item
    return f"continuity of knowledge of {what} lost" + (
        f" for more than {grace} days" if grace else ""
    )
