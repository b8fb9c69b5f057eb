"""The engine's view of continuing obligations on measured quantities (``limits``).

Folded by :mod:`cvid.engine.evaluate` at the same moments as everything else. Each
limit is in effect from its ``from`` moment (adoption when absent) to its ``until``
moment; both are timers, as is the moment a measurement becomes due again. In effect,
verified measurements decide compliance: a measurement beyond the bound by more than
the tolerance exceeds the limit (a violation by the obligated party) until one within
it restores compliance. A declaration by the party shows its value; one that itself
exceeds the bound is an exceedance the party admits, and a violation too. A value
logged outside the interval is kept in the history and never judged.

Not here: whether an event may be logged (:mod:`cvid.events.authz_limits`), units
(:mod:`cvid.units`). Pure: time comes from the engine, timers go back through ``push``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cvid import calendar, units
from cvid._copies import Tail
from cvid.engine import state as s
from cvid.engine.state import moment_text
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.events.authz_limits import limits_for
from cvid.roadmap import model as m
from cvid.sentences import say

Push = Callable[[dt.datetime, str], None]
Report = Callable[[s.Violation], None]

ROUNDING = 1e-9
"""Relative slack for the rounding of unit conversions: 300000 g is 300 kg, not more."""


def bound_text(limit: m.Limit) -> str:
    """The bound in words: ``≤ 300 kg``, ``≥ 5 kg``, ``5 to 300 kg``, ``= 0 test``."""
    if limit.equal is not None:
        return say("= {value} {unit}", value=f"{limit.equal:g}", unit=limit.unit)
    if limit.max is not None and limit.min is not None:
        return say(
            "{min} to {max} {unit}", min=f"{limit.min:g}", max=f"{limit.max:g}", unit=limit.unit
        )
    if limit.max is not None:
        return say("≤ {max} {unit}", max=f"{limit.max:g}", unit=limit.unit)
    return say("≥ {min} {unit}", min=f"{limit.min:g}", unit=limit.unit)


def beyond(limit: m.Limit, value: float) -> bool:
    """Whether ``value`` (in the limit's unit) is beyond the bound and its tolerance."""
    tol = limit.tolerance
    for edge, sign in ((limit.max, 1), (limit.min, -1)):
        if edge is not None and sign * (value - edge) > tol + ROUNDING * max(1.0, abs(edge)):
            return True
    if limit.equal is not None:
        slack = ROUNDING * max(1.0, abs(limit.equal))
        return abs(value - limit.equal) > tol + slack
    return False


@dataclass
class _Limit:
    spec: m.Limit
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    status: s.LimitStatus = "not-in-effect"
    since: dt.datetime | None = None
    measured: s.LimitValue | None = None  # the last counted measurement
    declared: s.LimitValue | None = None  # the last counted declaration
    admitted: s.LimitValue | None = None  # a declaration beyond the bound, while exceeded
    exceeded_since: dt.datetime | None = None
    restored_at: dt.datetime | None = None
    violated: bool = False
    due: dt.datetime | None = None
    history: Tail[s.LimitValue] = field(default_factory=Tail)  # copies share it

    def in_effect(self, t: dt.datetime) -> bool:
        return self.starts is not None and self.starts <= t and (self.ends is None or t < self.ends)


class LimitFold:
    """Mutable state of one evaluation for the road map's limits."""

    def __init__(self, roadmap: m.RoadMap, start: dt.datetime, push: Push, report: Report) -> None:
        self.rm = roadmap
        self.zone = roadmap.agreement.zone
        self.push = push
        self.report = report
        self.limits = {x.id: _Limit(x) for x in roadmap.limits}
        self.alerts: list[str] = []
        self.waiting: dict[str, list[tuple[str, str]]] = {}  # milestone → (limit, from|until)
        for rec in self.limits.values():
            for edge, moment in (("from", rec.spec.from_), ("until", rec.spec.until)):
                if moment is None:
                    if edge == "from":
                        self.waiting.setdefault("adoption", []).append((rec.spec.id, edge))
                elif moment.date is not None:
                    day = moment.date
                    when = (
                        calendar.start_of_day(day, self.zone)
                        if edge == "from"
                        else calendar.end_of_day(day, self.zone)
                    )
                    self._set_edge(rec, edge, when, start)
                elif moment.after == "start":
                    self._set_edge(rec, edge, self._after(start, moment), start)
                else:
                    assert isinstance(moment.after, str)  # the road-map check allows no other
                    self.waiting.setdefault(moment.after, []).append((rec.spec.id, edge))

    def _plus(self, when: dt.datetime, days: int) -> dt.datetime:
        return calendar.add(when, days=days, zone_name=self.zone)

    def _after(self, when: dt.datetime, moment: m.Deadline | None) -> dt.datetime:
        """A milestone's moment plus the interval's days, months and years."""
        if moment is None:
            return when
        return calendar.add(
            when,
            days=moment.days or 0,
            months=moment.months or 0,
            years=moment.years or 0,
            zone_name=self.zone,
        )

    def _set_edge(self, rec: _Limit, edge: str, when: dt.datetime, now: dt.datetime) -> None:
        if edge == "from":
            rec.starts = when
        else:
            rec.ends = when
        if when <= now:  # at once, before anything else at this moment
            self.run_timer(f"{edge}:{rec.spec.id}", now)
        else:
            self.push(when, f"{edge}:{rec.spec.id}")

    def end(self, t: dt.datetime, party: str | None = None) -> None:
        """Limits end at ``t``: ``party``'s (it withdrew), or all (the agreement ended)."""
        for rec in self.limits.values():
            if (party is None or rec.spec.party == party) and (rec.ends is None or rec.ends > t):
                self._set_edge(rec, "until", t, t)

    # --- milestones and timers ----------------------------------------------------------

    def milestone(self, ref: str, t: dt.datetime) -> None:
        """A milestone was reached at ``t``: adoption, a step done, a phase complete."""
        for limit_id, edge in self.waiting.pop(ref, []):
            rec = self.limits[limit_id]
            moment = rec.spec.from_ if edge == "from" else rec.spec.until
            self._set_edge(rec, edge, self._after(t, moment), t)

    def run_timer(self, ref: str, t: dt.datetime) -> None:
        """A limit's interval starts or ends, or a measurement has become overdue."""
        edge, limit_id = ref.split(":", 1)
        rec = self.limits[limit_id]
        if edge == "due" and rec.due != t:
            return  # superseded by a later measurement
        if edge == "from" and rec.spec.measure_every_days is not None:
            self._due(rec, t)
        self._update(rec, t)

    def _due(self, rec: _Limit, t: dt.datetime) -> None:
        assert rec.spec.measure_every_days is not None
        rec.due = self._plus(t, rec.spec.measure_every_days)
        self.push(rec.due, f"due:{rec.spec.id}")

    # --- events -------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Apply a declared or measured quantity; return whether it changed anything."""
        body = ev.body
        assert isinstance(body, b.QuantityDeclared | b.QuantityMeasured)
        basis: Literal["declared", "measured"] = (
            "declared" if isinstance(body, b.QuantityDeclared) else "measured"
        )
        for limit in limits_for(self.rm, ev.party, body):
            rec = self.limits[limit.id]
            try:
                value = units.convert(body.value, body.unit, limit.unit)
                uncertainty = (
                    units.convert(body.uncertainty, body.unit, limit.unit)
                    if isinstance(body, b.QuantityMeasured) and body.uncertainty is not None
                    else None
                )
            except units.UnitError as e:  # only events built without admission get here
                self.alerts.append(
                    say(
                        "{when}: entry {index} ignored: {error}",
                        when=moment_text(t),
                        index=ev.index,
                        error=e,
                    )
                )
                continue
            entry = s.LimitValue(
                t,
                value,
                limit.unit,
                ev.party,
                basis,
                ev.index,
                f"{body.value:g} {body.unit}",
                uncertainty,
                rec.in_effect(t),
            )
            rec.history.append(entry)
            if entry.counted:
                self._judge(rec, entry, t)
            self._update(rec, t)
        return True

    def _judge(self, rec: _Limit, entry: s.LimitValue, t: dt.datetime) -> None:
        limit = rec.spec
        over = beyond(limit, entry.value)
        if entry.basis == "declared":
            rec.declared = entry
            if not over:
                return  # a declaration alone never shows compliance
            rec.admitted = entry
        else:
            rec.measured, rec.admitted = entry, None
            if limit.measure_every_days is not None:
                self._due(rec, t)
        if over and rec.exceeded_since is None:
            rec.exceeded_since, rec.violated = t, True
            bound = bound_text(limit)
            if limit.tolerance:
                bound = say(
                    "{bound} (tolerance {margin} {unit})",
                    bound=bound,
                    margin=f"{limit.tolerance:g}",
                    unit=limit.unit,
                )
            shown = {"party": entry.by, "value": f"{entry.value:g}", "unit": limit.unit}
            detail = (
                say("{party} measured {value} {unit}, beyond {bound}", **shown, bound=bound)
                if entry.basis == "measured"
                else say(
                    "{party} declared (an exceedance it admits) {value} {unit}, beyond {bound}",
                    **shown,
                    bound=bound,
                )
            )
            self.report(s.Violation("limit", limit.id, t, detail, entry.event, limit.party))
        elif not over and rec.exceeded_since is not None:
            rec.exceeded_since, rec.restored_at = None, t
            self.alerts.append(
                say(
                    "{when}: limit {limit} back in compliance: {party} measured {value} {unit} "
                    "({bound})",
                    when=moment_text(t),
                    limit=limit.id,
                    party=entry.by,
                    value=f"{entry.value:g}",
                    unit=limit.unit,
                    bound=bound_text(limit),
                )
            )

    # --- status ---------------------------------------------------------------------------

    def _update(self, rec: _Limit, t: dt.datetime) -> None:
        status: s.LimitStatus
        if not rec.in_effect(t):
            status = "not-in-effect"
            rec.exceeded_since = None
        elif rec.exceeded_since is not None:
            status = "exceeded"
        elif rec.measured is not None and (rec.due is None or t < rec.due):
            status = "in-compliance"
        else:
            status = "unverified"
        if status == "not-in-effect":  # since it ended; before it starts, no since
            rec.status = status
            rec.since = rec.ends if rec.ends is not None and t >= rec.ends else None
        elif status != rec.status or rec.since is None:
            rec.status = status
            rec.since = rec.exceeded_since if status == "exceeded" else t
            if status == "unverified" and rec.measured is not None:
                self.alerts.append(
                    say(
                        "{when}: limit {limit} unverified: no measurement since {since}",
                        when=moment_text(t),
                        limit=rec.spec.id,
                        since=moment_text(rec.measured.at),
                    )
                )

    def exceeded(self, ref: str) -> bool:
        if ref == "any":
            return any(r.status == "exceeded" for r in self.limits.values())
        return self.limits[ref].status == "exceeded"

    def violated(self, ref: str) -> bool:
        if ref == "any":
            return any(r.violated for r in self.limits.values())
        return self.limits[ref].violated

    def result(self, t: dt.datetime) -> dict[str, s.LimitState]:
        """The state of every limit at ``t``."""
        return {lid: self._state(rec, t) for lid, rec in self.limits.items()}

    def _state(self, rec: _Limit, t: dt.datetime) -> s.LimitState:
        limit = rec.spec
        shown = rec.admitted or rec.measured or rec.declared
        if rec.status == "not-in-effect" and rec.history:
            shown = rec.history[-1]
        return s.LimitState(
            id=limit.id,
            title=limit.title,
            party=limit.party,
            quantity=limit.quantity,
            item=limit.item,
            status=rec.status,
            value=shown.value if shown else None,
            unit=limit.unit,
            bound=bound_text(limit),
            since=rec.since,
            reason=self._reason(rec, shown, t),
            basis=shown.basis if shown else None,
            tolerance=limit.tolerance,
            declared=rec.declared.value if rec.declared else None,
            exceeded_since=rec.exceeded_since,
            restored_at=rec.restored_at,
            violated=rec.violated,
            measure_due=rec.due if rec.status != "not-in-effect" else None,
            in_effect_from=rec.starts,
            in_effect_until=rec.ends,
            history=tuple(rec.history),
            source=limit.source,
        )

    def _reason(self, rec: _Limit, shown: s.LimitValue | None, t: dt.datetime) -> str:
        limit = rec.spec
        value = (
            say(
                "{party} {basis} {value} {unit} on {when}",
                party=shown.by,
                basis=shown.basis,
                value=f"{shown.value:g}",
                unit=limit.unit,
                when=moment_text(shown.at),
            )
            if shown
            else ""
        )
        if rec.status == "not-in-effect":
            if rec.ends is not None and t >= rec.ends:
                return say("ended on {when}", when=moment_text(rec.ends))
            if rec.starts is not None:
                return say("takes effect on {when}", when=moment_text(rec.starts))
            moment = limit.from_
            anchor = moment.after if moment is not None else "adoption"
            days = moment.days if moment is not None and moment.days else 0
            return (
                say("takes effect {days} days after {milestone}", days=days, milestone=anchor)
                if days
                else say("takes effect at {milestone}", milestone=anchor)
            )
        if rec.status == "exceeded":
            return say("{measurement}: beyond {bound}", measurement=value, bound=bound_text(limit))
        if rec.status == "in-compliance":
            return say("{measurement}: within {bound}", measurement=value, bound=bound_text(limit))
        if rec.measured is None:
            declared = "; " + value if shown else ""
            since = say("not measured since it took effect on {when}", when=moment_text(rec.starts))
            return since + declared
        return say(
            "no measurement since {since} (due by {when})",
            since=moment_text(rec.measured.at),
            when=moment_text(rec.due),
        )
