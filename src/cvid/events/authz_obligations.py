"""Admission rules for recurring obligations and inspections counted by quotas.

The companion of :mod:`cvid.events.authz` for ``obligation.performed``,
``obligation.confirmed`` and ``inspection.conducted``. Only the obliged party
performs an occurrence, only a named verifier (never the obliged party) confirms
it; an occurrence must exist, be open (from the previous occurrence's due time on)
and not be performed twice. An inspection must be of a listed type, by one of its
inspecting parties, and within every ``at_most`` quota of its period.

What these checks need of the log (when the agreement entered into force, when the
steps that anchor obligations were done, what was performed and confirmed, how many
inspections each quota period holds) is kept in :class:`ObligationHistory`, which
the gate's :class:`~cvid.events.authz.History` feeds every appended event. Nothing
here changes state on a refusal, and nothing reads a clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cvid import calendar
from cvid._copies import Tail
from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.roadmap import model as m
from cvid.roadmap import obligations as ob
from cvid.roadmap import steps

Occurrence = tuple[str, dt.date]  # (obligation id, occurrence date)


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


@dataclass
class ObligationHistory:
    """What admission remembers for recurring obligations and quotas."""

    adopted: dict[str, dt.datetime] = field(default_factory=dict)
    # each step's reports and verifications, (party, kind, time) in log order; copies
    # of the history share them (cvid._copies.Tail)
    step_events: dict[str, Tail[tuple[str, str, dt.datetime]]] = field(default_factory=dict)
    performed: dict[Occurrence, dt.datetime] = field(default_factory=dict)
    confirmed: dict[Occurrence, set[str]] = field(default_factory=dict)
    quota_counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def observe(self, party: str, when: dt.datetime, body: b.Body, checked: Any) -> None:
        """Remember what an appended event (of any type) means for this module."""
        if isinstance(body, b.AgreementAdopted):
            self.adopted.setdefault(party, when)
        elif isinstance(body, b.StepReported | b.StepVerified | b.StepWaived):
            kind = (
                "reported"
                if isinstance(body, b.StepReported)
                else body.outcome
                if isinstance(body, b.StepVerified)
                else "waived"
            )
            events = self.step_events.get(body.step)
            if events is None:
                events = self.step_events[body.step] = Tail()
            events.append((party, kind, when))
        elif isinstance(body, b.ObligationPerformed):
            self.performed[(body.obligation, dt.date.fromisoformat(body.occurrence))] = when
        elif isinstance(body, b.ObligationConfirmed):
            key = (body.obligation, dt.date.fromisoformat(body.occurrence))
            self.confirmed.setdefault(key, set()).add(party)
        elif isinstance(body, b.InspectionConducted):
            for key in checked or ():
                self.quota_counts[key] = self.quota_counts.get(key, 0) + 1


def _step_done(step: m.Step, history: ObligationHistory) -> dt.datetime | None:
    """When a step was done by its own events, by the rule the engine applies too
    (:mod:`cvid.roadmap.steps`)."""
    events = history.step_events.get(step.id, ())
    n = steps.done_event(step, events)
    return None if n is None else events[n][2]


def milestone(roadmap: m.RoadMap, ref: str, history: ObligationHistory) -> dt.datetime | None:
    """When ``start``, ``adoption``, a step or a phase was reached (None: not yet)."""
    if ref == ob.START:
        return calendar.start_of_day(roadmap.agreement.start, roadmap.agreement.zone)
    if ref == ob.ADOPTION:
        times = [history.adopted.get(p) for p in roadmap.agreement.adopted_by]
        return None if None in times else max(t for t in times if t is not None)
    for phase in roadmap.phases:
        if phase.id == ref:
            done = [_step_done(st, history) for st in steps.required(phase)]
            return None if None in done else max(t for t in done if t is not None)
        for st in phase.steps:
            if st.id == ref:
                return _step_done(st, history)
    return None


def recurrence(
    roadmap: m.RoadMap, duty: ob.Duty, history: ObligationHistory
) -> ob.Recurrence | None:
    """The duty's occurrences as admission knows them now (None: anchor not reached)."""
    spec, zone = duty.spec, roadmap.agreement.zone
    anchor = ob.anchor_instant(spec.from_, zone) if isinstance(spec.from_, dt.date) else None
    if isinstance(spec.from_, m.After):
        anchor = milestone(roadmap, spec.from_.after, history)
    if anchor is None:
        return None
    until: dt.date | None = None
    if isinstance(spec.until, dt.date):
        until = spec.until
    elif isinstance(spec.until, m.Reached):
        reached = milestone(roadmap, spec.until.milestone, history)
        until = calendar.local_date(reached, zone) if reached is not None else None
    return ob.Recurrence.of(spec, anchor, zone, until)


def check_obligation_event(
    roadmap: m.RoadMap,
    duties: dict[str, ob.Duty],
    *,
    party: str,
    body: b.Body,
    history: ObligationHistory,
    when: dt.datetime,
) -> Any:
    """Check an event of this module's types in context.

    Returns:
        For an inspection, the quota periods it counts in (recorded once logged).

    Raises:
        EventRejectedError: the event breaks a rule; ``reason`` says which.
    """
    if isinstance(body, b.InspectionConducted):
        return _inspection(roadmap, party, body, history, when)
    assert isinstance(body, b.ObligationPerformed | b.ObligationConfirmed)
    duty = duties.get(body.obligation)
    if duty is None:
        raise _reject("unknown-reference", f"no recurring obligation {body.obligation!r}")
    if isinstance(body, b.ObligationPerformed) and party != duty.party:
        raise _reject(
            "unauthorised", f"obligation {duty.id!r} is {duty.party}'s to perform, not {party}'s"
        )
    if isinstance(body, b.ObligationConfirmed) and party not in duty.verifiers:
        raise _reject(
            "unauthorised", f"{party} is not a verifier of {duty.party}'s obligation {duty.id!r}"
        )
    try:
        date = dt.date.fromisoformat(body.occurrence)
    except ValueError:
        raise _reject("bad-body", f"occurrence {body.occurrence!r} is not a date") from None
    rec = recurrence(roadmap, duty, history)
    k = rec.index(date) if rec is not None else None
    if rec is None or k is None:
        raise _reject("no-occurrence", _no_occurrence(duty, date, rec))
    key = (duty.id, date)
    if isinstance(body, b.ObligationPerformed):
        opens = rec.opens(k)
        if when < opens:
            raise _reject(
                "not-open",
                f"the occurrence of {duty.id!r} due {date.isoformat()} may be performed "
                f"from {opens.isoformat()} on",
            )
        if key in history.performed:
            raise _reject(
                "duplicate",
                f"{duty.party} already performed the occurrence of {duty.id!r} "
                f"due {date.isoformat()}",
            )
        return None
    if key not in history.performed:
        raise _reject(
            "not-performed",
            f"the occurrence of {duty.id!r} due {date.isoformat()} has not been performed",
        )
    if party in history.confirmed.get(key, set()):
        raise _reject(
            "duplicate",
            f"{party} already gave its finding on {duty.id!r} due {date.isoformat()}",
        )
    return None


def _no_occurrence(duty: ob.Duty, date: dt.date, rec: ob.Recurrence | None) -> str:
    if rec is None:
        return f"obligation {duty.id!r} has not started: its anchor is not reached"
    k = rec.first_after(date)
    hint = f"; the next is {rec.date(k)}" if k is not None else "; no occurrence follows"
    return f"{date.isoformat()} is not an occurrence of {duty.id!r}{hint}"


def _inspection(
    roadmap: m.RoadMap,
    party: str,
    body: b.InspectionConducted,
    history: ObligationHistory,
    when: dt.datetime,
) -> list[tuple[str, int]]:
    kind = next((t for t in roadmap.inspection_types if t.id == body.type), None)
    if kind is None:
        raise _reject("unknown-reference", f"no inspection type {body.type!r} in the road map")
    if party not in kind.by:
        raise _reject("unauthorised", f"{party} does not carry out {body.type!r} inspections")
    if body.inspected not in {p.id for p in roadmap.parties}:
        raise _reject("unknown-reference", f"{body.inspected!r} is not a party")
    if body.inspected == party or (kind.of and body.inspected not in kind.of):
        raise _reject("unauthorised", f"{body.type!r} inspections are not of {body.inspected}")
    periods: list[tuple[str, int]] = []
    for quota in roadmap.quotas:
        if not ob.counts(quota, by=party, inspected=body.inspected, kind=body.type):
            continue
        period = ob.period_of(quota, roadmap, when)
        if period is None:
            continue
        count = history.quota_counts.get((quota.id, period), 0)
        if quota.at_most is not None and count >= quota.at_most:
            start, end = ob.period_bounds(quota, roadmap, period)
            raise _reject(
                "quota-exceeded",
                f"quota {quota.id!r}: {quota.party} has had its {quota.at_most} inspections "
                f"for the period {start.date().isoformat()} to {end.date().isoformat()}",
            )
        periods.append((quota.id, period))
    return periods
