"""Recurring obligations and inspection quotas in the engine's fold.

Each expanded obligation (:func:`cvid.roadmap.obligations.expand`) starts when its
anchor is reached (a date, the start, adoption, a step or a phase done). Its
occurrences are made lazily, one at a time: occurrence k+1 opens when k falls due,
so at any moment the obligation holds the occurrences opened so far and one timer;
the evaluation time ``at`` bounds how many are computed (a daily obligation over ten
years evaluated in its second month holds some sixty). A missed occurrence (nothing
performed by its due time plus the days of grace) and one a verifier found failed
are :class:`~cvid.engine.state.Violation` s of kind ``obligation`` naming the party.

A quota counts the inspections conducted (or received) by its party per period; a
period of an ``at_least`` quota that began once the agreement was in force and ends
short is a violation of kind ``quota``. Periods that started before entry into
force are shown but not judged. Refusing an inspection beyond ``at_most`` is
admission's job (:mod:`cvid.events.authz_obligations`). No clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cvid import calendar
from cvid.engine import state as s
from cvid.engine.state import moment_text as _when
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.roadmap import model as m
from cvid.roadmap import obligations as ob
from cvid.sentences import say

Push = Callable[[dt.datetime, str, str], None]  # (when, "obligation" | "quota", ref)
Report = Callable[[s.Violation], None]


@dataclass
class _Occurrence:
    k: int
    date: dt.date
    due: dt.datetime
    performed_at: dt.datetime | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    missed: bool = False
    events: list[int] = field(default_factory=list)


@dataclass
class _Duty:
    duty: ob.Duty
    rec: ob.Recurrence | None = None
    occurrences: dict[dt.date, _Occurrence] = field(default_factory=dict)
    last: int = 0  # the highest k opened
    begun: bool = False
    ended: bool = False


@dataclass
class _Quota:
    spec: m.Quota
    counts: dict[int, int] = field(default_factory=dict)
    judged: dict[int, bool] = field(default_factory=dict)  # period -> met


class ObligationFold:
    """The recurring obligations' and quotas' part of one evaluation."""

    def __init__(self, roadmap: m.RoadMap, push: Push, report: Report) -> None:
        self.rm = roadmap
        self.zone = roadmap.agreement.zone
        self._push = push
        self._report = report
        self.duties = {oid: _Duty(d) for oid, d in ob.expand(roadmap).items()}
        self.quotas = {q.id: _Quota(q) for q in roadmap.quotas}
        self.adopted_at: dt.datetime | None = None
        self.breached: set[str] = set()  # duties with a missed or failed occurrence
        self.short: set[str] = set()
        self.waiting: dict[str, list[str]] = {}  # milestone -> duties anchored on it
        self.ending: dict[str, list[str]] = {}  # milestone -> duties it ends
        for oid, rec in self.duties.items():
            spec = rec.duty.spec
            if isinstance(spec.from_, m.After):
                self.waiting.setdefault(spec.from_.after, []).append(oid)
            if isinstance(spec.until, m.Reached):
                self.ending.setdefault(spec.until.milestone, []).append(oid)
        self.reached(ob.START, calendar.start_of_day(roadmap.agreement.start, self.zone))
        for oid, rec in self.duties.items():
            if isinstance(rec.duty.spec.from_, dt.date):
                self._start(oid, calendar.start_of_day(rec.duty.spec.from_, self.zone))

    # --- milestones and timers ----------------------------------------------------------

    def reached(self, milestone: str, t: dt.datetime) -> None:
        """A milestone (``start``, ``adoption``, a step or a phase) was reached at ``t``."""
        for oid in self.waiting.pop(milestone, []):
            self._start(oid, t)
        for oid in self.ending.pop(milestone, []):
            self._end(oid, calendar.local_date(t, self.zone))
        if milestone == ob.ADOPTION:
            self.adopted_at = t
            for rec in self.duties.values():
                self._begin(rec, t)
            for quota in self.quotas.values():
                first = ob.period_of(quota.spec, self.rm, t)
                start = ob.period_start(quota.spec, self.rm)
                if first is None:
                    first = 0 if calendar.start_of_day(start, self.zone) >= t else None
                elif ob.period_bounds(quota.spec, self.rm, first)[0] < t:
                    first += 1
                if first is not None and quota.spec.at_least is not None:
                    self._push(
                        ob.period_bounds(quota.spec, self.rm, first)[1], "quota", quota.spec.id
                    )

    def _start(self, oid: str, anchor: dt.datetime) -> None:
        rec = self.duties[oid]
        spec = rec.duty.spec
        until = spec.until if isinstance(spec.until, dt.date) else None
        rec.rec = ob.Recurrence.of(spec, anchor, self.zone, until)
        self._begin(rec, anchor)

    def _begin(self, rec: _Duty, t: dt.datetime) -> None:
        """Open, now or when its window opens, the first occurrence due after entry into
        force (nothing is owed before: no event can be logged then)."""
        if rec.rec is None or self.adopted_at is None or rec.begun:
            return
        rec.begun = True
        since = calendar.local_date(self.adopted_at, self.zone) - dt.timedelta(days=1)
        first = rec.rec.first_after(since)
        if first is None:
            return
        opens = rec.rec.opens(first)
        if opens > t:
            date = rec.rec.date(first)
            assert date is not None
            self._push(opens, "obligation", f"{rec.duty.id}|{date.isoformat()}|open")
        else:
            self._open(rec, first)

    def withdrawn(self, party: str, t: dt.datetime, *, lapse_owed: bool) -> None:
        """``party``'s withdrawal took effect at ``t``: nothing it owes falls due after
        that day, and what is owed to it alone lapses when the road map says so."""
        last_day = calendar.local_date(t, self.zone) - dt.timedelta(days=1)
        for oid, rec in self.duties.items():
            owed_to = rec.duty.owed_to
            to_it_alone = bool(owed_to) and set(owed_to) <= {party}
            if rec.duty.party == party or (lapse_owed and to_it_alone):
                self._end(oid, last_day)

    def end_all(self, t: dt.datetime) -> None:
        """The agreement ended at ``t``: nothing falls due after that day."""
        last_day = calendar.local_date(t, self.zone) - dt.timedelta(days=1)
        for oid in self.duties:
            self._end(oid, last_day)

    def _end(self, oid: str, last_day: dt.date) -> None:
        rec = self.duties[oid]
        if rec.rec is None:
            rec.ended = True
            return
        rec.rec = ob.Recurrence(rec.rec.anchor, rec.rec.zone, rec.rec.every, rec.rec.on, last_day)
        for date in [
            d for d, o in rec.occurrences.items() if d > last_day and o.performed_at is None
        ]:
            del rec.occurrences[date]

    def _open(self, rec: _Duty, k: int) -> None:
        assert rec.rec is not None
        date = rec.rec.date(k)
        if date is None or rec.ended:
            return
        rec.last = k
        occ = rec.occurrences.get(date)
        if occ is None:  # else performed already, by admission's reckoning of its window
            occ = rec.occurrences[date] = _Occurrence(k, date, rec.rec.due_on(date))
        self._push(occ.due, "obligation", f"{rec.duty.id}|{date.isoformat()}|due")

    def run_timer(self, kind: str, ref: str, t: dt.datetime) -> None:
        """A due time, the end of a grace or the end of a quota period."""
        if kind == "quota":
            self._judge(self.quotas[ref], t)
            return
        oid, day, what = ref.split("|")
        rec = self.duties[oid]
        if what == "open":
            assert rec.rec is not None
            k = rec.rec.index(dt.date.fromisoformat(day))
            if k is not None:
                self._open(rec, k)
            return
        occ = rec.occurrences.get(dt.date.fromisoformat(day))
        if occ is None:  # dropped: its obligation ended before it
            return
        grace = rec.duty.spec.grace_days
        if what == "due":
            self._open(rec, occ.k + 1)
            if grace:
                self._push(occ.due + dt.timedelta(days=grace), "obligation", f"{oid}|{day}|grace")
                return
        if occ.performed_at is None and not occ.missed:
            occ.missed = True
            self.breached.add(oid)
            detail = (
                say(
                    "{party} did not perform {obligation} due {date}: nothing performed by the "
                    "end of that day and {days} days of grace",
                    party=rec.duty.party,
                    obligation=rec.duty.declared,
                    date=day,
                    days=grace,
                )
                if grace
                else say(
                    "{party} did not perform {obligation} due {date}: nothing performed by the "
                    "end of that day",
                    party=rec.duty.party,
                    obligation=rec.duty.declared,
                    date=day,
                )
            )
            self._report(
                s.Violation(
                    "obligation",
                    oid,
                    t,
                    detail,
                    -1,
                    rec.duty.party,
                )
            )

    def _judge(self, quota: _Quota, t: dt.datetime) -> None:
        spec = quota.spec
        period = ob.period_of(spec, self.rm, t - dt.timedelta(microseconds=1))
        if period is None or spec.at_least is None:
            return
        count = quota.counts.get(period, 0)
        quota.judged[period] = count >= spec.at_least
        if count < spec.at_least:
            self.short.add(spec.id)
            start, end = ob.period_bounds(spec, self.rm, period)
            self._report(
                s.Violation(
                    "quota",
                    spec.id,
                    t,
                    say(
                        "{party}: {count} inspections {counted} from {start} to {end}, "
                        "fewer than {n}",
                        party=spec.party,
                        count=count,
                        counted=spec.counts,
                        start=_when(start),
                        end=_when(end),
                        n=spec.at_least,
                    ),
                    -1,
                    spec.party,
                )
            )
        self._push(ob.period_bounds(spec, self.rm, period + 1)[1], "quota", spec.id)

    # --- events ---------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Apply an event of this module's types; True when the state changed."""
        body = ev.body
        if isinstance(body, b.InspectionConducted):
            for quota in self.quotas.values():
                if ob.counts(quota.spec, by=ev.party, inspected=body.inspected, kind=body.type):
                    period = ob.period_of(quota.spec, self.rm, t)
                    if period is not None:
                        quota.counts[period] = quota.counts.get(period, 0) + 1
            return True
        assert isinstance(body, b.ObligationPerformed | b.ObligationConfirmed)
        rec = self.duties[body.obligation]
        date = dt.date.fromisoformat(body.occurrence)
        occ = rec.occurrences.get(date)
        if occ is None and rec.rec is not None and (k := rec.rec.index(date)) is not None:
            occ = _Occurrence(k, date, rec.rec.due(k))  # opened by admission's reckoning
            rec.occurrences[date] = occ
            rec.occurrences = dict(sorted(rec.occurrences.items()))
        if occ is None:
            return False
        occ.events.append(ev.index)
        if isinstance(body, b.ObligationPerformed):
            occ.performed_at = occ.performed_at or t
            return True
        occ.verdicts[ev.party] = body.outcome
        if body.outcome == "failed":
            self.breached.add(rec.duty.id)
            who = {"party": ev.party, "obliged": rec.duty.party, "obligation": rec.duty.declared}
            detail = (
                say(
                    "{party} found {obliged}'s {obligation} due {date} not performed: {note}",
                    **who,
                    date=body.occurrence,
                    note=body.note,
                )
                if body.note
                else say(
                    "{party} found {obliged}'s {obligation} due {date} not performed",
                    **who,
                    date=body.occurrence,
                )
            )
            self._report(
                s.Violation("obligation", rec.duty.id, t, detail, ev.index, rec.duty.party)
            )
        return True

    # --- facts ----------------------------------------------------------------------------

    def missed(self, ref: str, party: str | None) -> bool:
        """Whether an occurrence of ``ref`` (declared or expanded id, or ``any``) was
        missed or failed, by ``party`` when given."""
        for oid in self.breached:
            duty = self.duties[oid].duty
            if ref in ("any", duty.id, duty.declared) and party in (None, duty.party):
                return True
        return False

    def quota_short(self, ref: str) -> bool:
        return bool(self.short) if ref == "any" else ref in self.short

    # --- the result -----------------------------------------------------------------------

    def _status(self, rec: _Duty, occ: _Occurrence, t: dt.datetime) -> s.OccurrenceStatus:
        if "failed" in occ.verdicts.values():
            return "failed"
        if occ.performed_at is None:
            if occ.missed:
                return "missed"
            return "pending" if t < occ.due else "due"
        confirmed = sum(v == "confirmed" for v in occ.verdicts.values())
        if confirmed < rec.duty.threshold:
            return "performed"
        return "late" if occ.performed_at >= occ.due else "done"

    def result(
        self, t: dt.datetime
    ) -> tuple[dict[str, s.RecurringState], dict[str, s.QuotaState], list[s.Obligation]]:
        """The obligations' and quotas' states at ``t``, and what is owed now."""
        states: dict[str, s.RecurringState] = {}
        owed: list[s.Obligation] = []
        for oid, rec in self.duties.items():
            occurrences = []
            for occ in rec.occurrences.values():
                status = self._status(rec, occ, t)
                occurrences.append(
                    s.OccurrenceState(
                        occ.date.isoformat(),
                        occ.due,
                        status,
                        occ.performed_at,
                        tuple(sorted(p for p, v in occ.verdicts.items() if v == "confirmed")),
                        tuple(occ.events),
                    )
                )
                if status in ("pending", "due"):
                    owed.append(s.Obligation(rec.duty.party, "perform", oid, occ.due, ()))
                elif status == "performed":
                    owed.extend(
                        s.Obligation(v, "confirm", oid, occ.due, ())
                        for v in rec.duty.verifiers
                        if v not in occ.verdicts
                    )
            nxt = next((o for o in occurrences if o.status in ("pending", "due")), None)
            if rec.rec is None or self.adopted_at is None:
                reason = say("not started: its anchor is not reached")
            elif not occurrences and rec.rec.anchor > t:
                reason = say("starts on {when}", when=_when(rec.rec.anchor))
            elif nxt is not None:
                reason = say(
                    "{party} to perform by the end of {date}", party=rec.duty.party, date=nxt.due
                )
            else:
                reason = say("no occurrence open")
            states[oid] = s.RecurringState(
                oid,
                rec.duty.declared,
                rec.duty.spec.title,
                rec.duty.party,
                rec.duty.owed_to,
                reason,
                nxt.due if nxt else None,
                tuple(occurrences),
            )
        return states, {qid: self._quota_state(q, t) for qid, q in self.quotas.items()}, owed

    def _quota_state(self, quota: _Quota, t: dt.datetime) -> s.QuotaState:
        spec = quota.spec
        now = ob.period_of(spec, self.rm, t)
        shown = set(quota.counts) | set(quota.judged) | ({now} if now is not None else set())
        if self.adopted_at is not None and now is not None:  # every period since entry into force
            since = ob.period_of(spec, self.rm, self.adopted_at)
            shown.update(range(since if since is not None else 0, now + 1))
        periods = []
        for i in sorted(shown):
            start, end = ob.period_bounds(spec, self.rm, i)
            status: s.QuotaPeriodStatus
            if i in quota.judged:
                status = "met" if quota.judged[i] else "short"
            elif end > t:
                status = "open"
            elif spec.at_least is None:
                status = "closed"
            else:
                status = "not judged"  # it began before the agreement was in force
            periods.append(s.QuotaPeriodState(start, end, quota.counts.get(i, 0), status))
        return s.QuotaState(
            spec.id, spec.party, spec.counts, spec.at_least, spec.at_most, tuple(periods)
        )
