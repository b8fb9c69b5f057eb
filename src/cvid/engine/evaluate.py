"""The compliance engine: road map + admitted events + ``at`` → agreement state.

A pure function. It replays the events whose time is at or before ``at`` in time
order (log order among equal times), and between them the moments the road map
itself makes meaningful: deadlines (known as :mod:`cvid.engine.anchors` rules, and
automatic milestones happening at theirs), days of grace, ``date_after`` dates, the
closing of snapback windows (:func:`cvid.calendar.window_end`). At each such
moment timers run before events (a step done exactly at its deadline is late; a
resolution adopted exactly when the window closes is too late), then rewards and
consequences whose condition has become true fire, in file order, rewards before
consequences, until none is left.
Rules fire once: what a fired rule did stays done unless another rule or a
Council resolution undoes it. The same inputs always give the same state.

Work per event is constant apart from the rules, which are re-evaluated only at
moments when something a condition can see has changed; the cost is near linear
in the number of events (``benchmarks/engine_bench.py``).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cvid import calendar
from cvid.engine import anchors as anc
from cvid.engine import conditions as cond
from cvid.engine import council
from cvid.engine import state as s
from cvid.engine.bodies_fold import DecisionFold
from cvid.engine.escrow_fold import EscrowFold
from cvid.engine.life_fold import LifeFold
from cvid.engine.limits import LimitFold
from cvid.engine.monitoring import MonitoringFold
from cvid.engine.obligations import ObligationFold
from cvid.engine.parties import PartiesFold
from cvid.engine.state import moment_text as _when
from cvid.events import bodies as b
from cvid.events.authz import KINDS, AdmittedEvent
from cvid.events.authz_monitoring import MONITORING_TYPES
from cvid.roadmap import finders
from cvid.roadmap import model as m
from cvid.roadmap.check import lifecycle_of
from cvid.roadmap.membership import Membership
from cvid.roadmap.steps import StepProgress, is_right, required
from cvid.sentences import say

TimerKind = Literal[
    "due",
    "window",
    "date",
    "beacon",
    "custody",
    "withdrawal",
    "decision",
    "limit",
    "anchor",
    "obligation",
    "quota",
    "life",
    "vote",
    "monitoring",
]


@dataclass
class _Step:
    spec: m.Step
    phase: str
    dependents: list[str] = field(default_factory=list)
    graces: set[int] = field(default_factory=lambda: {0})
    due: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    reported_by_event: int | None = None
    done_at: dt.datetime | None = None
    waived: tuple[str, str] | None = None  # (party, reason)
    withdrawn: dt.datetime | None = None  # its actor withdrew before it was done
    ended: dt.datetime | None = None  # the agreement ended before it was done
    early: str | None = None  # a dependency not yet done when it was reported
    violation: str | None = None
    events: list[int] = field(default_factory=list)
    extended: dt.timedelta = dt.timedelta()  # by joint-body decisions
    by_road_map: bool = False  # an automatic step that happened at its deadline
    progress: StepProgress = field(init=False)  # its verdicts: the step-done rule

    def __post_init__(self) -> None:
        self.progress = StepProgress(self.spec)

    @property
    def verdicts(self) -> dict[str, str]:
        """Each verifier's last finding on the step."""
        return self.progress.verdicts


@dataclass
class _Draft:
    body: b.DraftTabled
    tabled_by: str
    tabled_at: dt.datetime
    votes: dict[str, str] = field(default_factory=dict)
    closed_at: dt.datetime | None = None
    tally: council.Tally | None = None
    events: list[int] = field(default_factory=list)


@dataclass
class _Snapback:
    by: str
    at: dt.datetime
    closes: dt.datetime
    event: int
    outcome: Literal["open", "continued", "reimposed"] = "open"
    reason: str = say("window open")
    joined: list[str] = field(default_factory=list)


@dataclass
class _Guarantee:
    spec: m.Guarantee
    needs_reward: bool
    signers: dict[str, int] = field(default_factory=dict)
    activated: str | None = None
    suspended: str | None = None
    status: s.GuaranteeStatus = "pending"
    since: dt.datetime | None = None
    reason: str = say("not signed")
    events: list[int] = field(default_factory=list)
    settled: tuple[str | None, int, str | None] | None = None  # what status and reason rest on


@dataclass
class _Item:
    state: str
    since: dt.datetime | None
    category: str
    advanced_by: str | None = None  # the actor of the step that last moved it forward


@dataclass
class _Measure:
    status: s.MeasureStatus
    since: dt.datetime | None
    reason: str


class _Engine:
    """One evaluation's mutable state; also the :class:`~cvid.engine.conditions.Facts`."""

    def __init__(self, roadmap: m.RoadMap) -> None:
        self.rm = roadmap
        self.zone = roadmap.agreement.zone
        self.t = calendar.start_of_day(roadmap.agreement.start, self.zone)
        self.start = self.t
        self.in_force = False
        self.adopted_at: dt.datetime | None = None
        self.adopted: set[str] = set()
        self.snapback_completed = False
        self.changed = True
        self.timers: list[tuple[dt.datetime, int, TimerKind, str]] = []
        self._counter = 0
        self.steps: dict[str, _Step] = {}
        self.phase_done: dict[str, int] = {ph.id: 0 for ph in roadmap.phases}  # required, done
        self.phase_required = {ph.id: {st.id for st in required(ph)} for ph in roadmap.phases}
        self.phase_complete: dict[str, dt.datetime] = {}
        self.phase_steps = {ph.id: [st.id for st in ph.steps] for ph in roadmap.phases}
        self.anchors = anc.Anchors(self.zone, self._push_anchor)
        self.anchors.happen(anc.START, self.start)
        for ph in roadmap.phases:
            for st in ph.steps:
                self.steps[st.id] = _Step(st, ph.id)
        self.items = {
            i.id: _Item(i.state or lifecycle_of(roadmap, i.category)[0], None, i.category)
            for i in roadmap.inventory.items
        }
        self.rank = {
            i.id: {st: n for n, st in enumerate(lifecycle_of(roadmap, i.category))}
            for i in roadmap.inventory.items
        }
        rewarded = {g for r in roadmap.rewards for g in r.bring_into_force}
        self.guarantees = {g.id: _Guarantee(g, g.id in rewarded) for g in roadmap.guarantees}
        self.measures = {
            x.id: _Measure(x.initially, None, say("initial state in the road map"))
            for x in roadmap.measures
        }
        self.drafts: dict[str, _Draft] = {}
        self.early: dict[str, list[AdmittedEvent]] = {}  # votes timed before their draft
        self.adopted_refs: set[str] = set()
        self.snapbacks: list[_Snapback] = []
        self.rules: list[tuple[Literal["reward", "consequence"], m.Reward | m.Consequence]] = [
            *(("reward", r) for r in roadmap.rewards),
            *(("consequence", c) for c in roadmap.consequences),
        ]
        self.fired: dict[str, dt.datetime] = {}
        self.finder = finders.DEFAULT  # whose findings the rule being evaluated reads
        self.violations: list[s.Violation] = []
        self.violated_steps: set[str] = set()  # found not carried out, ever
        self.irreversible: set[str] = set()
        self.alerts: list[str] = []
        self.parties = PartiesFold(roadmap, self._push_other, self._violation, self._withdrawn)
        self.escrow = EscrowFold(roadmap, self._push_other, self._violation, self.parties.allege)
        self.joint = DecisionFold(roadmap, self, self._push_decision, self.alerts.append)
        self.limits = LimitFold(roadmap, self.start, self._push_limit, self._violation)
        self.keeper = next((p.id for p in roadmap.parties if "disarming_state" in p.roles), "")
        self.recurring = ObligationFold(roadmap, self._push_recurring, self._violation)
        self.life = LifeFold(roadmap, self._push_life)
        self.monitoring = MonitoringFold(roadmap, self._push_monitoring, self._violation)
        self.reveal_steps = [rec for rec in self.steps.values() if rec.spec.reveals is not None]
        self.council = Membership.of(roadmap)
        for _, rule in self.rules:
            for step_id, grace in cond.overdue_graces(rule.when):
                self.steps[step_id].graces.add(grace)
            for when in cond.dates(rule.when, self.zone):
                self._push(when, "date", "")
        self._link_steps()  # after the graces: it pushes the timers of known deadlines

    def _link_steps(self) -> None:
        for rec in self.steps.values():
            for dep in rec.spec.depends_on:
                for sid in self.phase_steps.get(dep, [dep]):
                    self.steps[sid].dependents.append(rec.spec.id)
        for rec in self.steps.values():
            if rec.spec.deadline is not None:
                rec.due = self.anchors.watch(f"step/{rec.spec.id}", rec.spec.deadline, self.t)
                self._push_due(rec)

    # --- timers ---------------------------------------------------------------------------

    def _push(self, when: dt.datetime, kind: TimerKind, ref: str) -> None:
        self._counter += 1
        heapq.heappush(self.timers, (when, self._counter, kind, ref))

    # The folds get bound methods, not closures: a copy of the engine (a checkpoint of
    # cvid.engine.incremental, a snapshot) must push onto its own heap.
    def _push_anchor(self, when: dt.datetime, ref: str) -> None:
        self._push(when, "anchor", ref)

    def _push_decision(self, when: dt.datetime, ref: str) -> None:
        self._push(when, "decision", ref)

    def _push_life(self, when: dt.datetime, _kind: str, ref: str) -> None:
        self._push(when, "life", ref)

    def _push_due(self, rec: _Step) -> None:
        if rec.due is not None:
            for grace in sorted(rec.graces):
                self._push(rec.due + dt.timedelta(days=grace), "due", rec.spec.id)

    def _happen(self, key: anc.AnchorKey) -> None:
        """An anchor happened now: give the deadlines that became known their timers."""
        self._known(self.anchors.happen(key, self.t))

    def _known(self, determined: list[tuple[str, dt.datetime]]) -> None:
        for ref, when in determined:
            kind, _, ident = ref.partition("/")
            if kind == "step" and self.steps[ident].due is None:
                rec = self.steps[ident]
                rec.due = when + rec.extended  # joint-body extensions made before it was known
                self._push_due(rec)

    def _automatic(self, rec: _Step) -> None:
        """An automatic step happens once its deadline has come and its dependencies
        are done (whichever is later)."""
        if (
            rec.spec.automatic
            and rec.done_at is None
            and rec.due is not None
            and self.t >= rec.due
            and all(self.done(d) for d in rec.spec.depends_on)
        ):
            rec.by_road_map = True
            self._mark_done(rec)

    def _push_other(self, when: dt.datetime, kind: str, ref: str) -> None:
        assert kind in ("beacon", "custody", "withdrawal")
        self._push(when, kind, ref)  # type: ignore[arg-type]

    def absent(self) -> frozenset[str]:
        """Parties withdrawn or with their participation suspended, now (joint bodies
        count only the members taking part)."""
        return frozenset(
            p for p, rec in self.parties.parties.items() if rec.standing != "participant"
        )

    def _withdrawn(self, party: str) -> None:
        """A party's withdrawal took effect: what it still owed closes as withdrawn."""
        for rec in self.steps.values():
            if rec.spec.actor == party and rec.done_at is None and rec.withdrawn is None:
                rec.withdrawn = self.t
        lapse = self.rm.withdrawal.owed_to_withdrawn == "lapse"
        self.recurring.withdrawn(party, self.t, lapse_owed=lapse)
        self.limits.end(self.t, party)
        self.alerts.append(
            say("{when}: {party} has withdrawn from the agreement", when=_when(self.t), party=party)
        )

    def _push_limit(self, when: dt.datetime, ref: str) -> None:
        self._push(when, "limit", ref)

    def _push_monitoring(self, when: dt.datetime, ref: str) -> None:
        self._push(when, "monitoring", ref)

    def _push_recurring(self, when: dt.datetime, kind: str, ref: str) -> None:
        assert kind in ("obligation", "quota")
        self._push(when, kind, ref)  # type: ignore[arg-type]

    def _life_event(self, ev: AdmittedEvent | None) -> None:
        changes = self.life.apply(ev, self.t) if ev is not None else self.life.sync(self.t)
        for change in changes:
            self.changed = True
            if change == "entered":
                self.in_force, self.adopted_at = True, self.t
                self._happen(anc.ADOPTION)
                self.limits.milestone("adoption", self.t)
                self.recurring.reached("adoption", self.t)
            else:  # ended: nothing more is owed
                self.in_force = False
                for rec in self.steps.values():
                    if rec.done_at is None and rec.withdrawn is None and rec.ended is None:
                        rec.ended = self.t
                self.recurring.end_all(self.t)
                self.limits.end(self.t)

    def _violation(self, violation: s.Violation) -> None:
        self.violations.append(violation)
        self.alerts.append(
            say(
                "{when}: {kind} violation: {subject}: {detail}",
                when=_when(violation.at),
                kind=violation.kind,
                subject=violation.subject,
                detail=violation.detail,
            )
        )
        self.changed = True

    def run_timer(self, kind: TimerKind, ref: str) -> None:
        self.changed = True
        _TIMERS[kind](self, ref)

    def _vote_deadline(self, ref: str) -> None:
        draft = self.drafts[ref]
        if draft.closed_at is None:  # closes by itself at its stated deadline
            self._close_vote(draft, None)

    def _window_closes(self, ref: str) -> None:
        window = self.snapbacks[int(ref)]
        if window.outcome == "open":
            self._reimpose_on_snapback(window)

    def _anchor_recheck(self, ref: str) -> None:
        when = self.anchors.recheck(ref, self.t)
        if when is not None:
            self._known([(ref, when)])

    # --- facts (the conditions' view) -------------------------------------------------------

    def now(self) -> dt.datetime:
        return self.t

    def done(self, ref: str) -> bool:
        if ref in self.phase_steps:
            return ref in self.phase_complete
        return self.steps[ref].done_at is not None

    def reported(self, ref: str) -> bool:
        sids = self.phase_required.get(ref, [ref])  # a phase: the steps it requires
        return all(
            self.steps[x].reported_at is not None or self.steps[x].done_at is not None for x in sids
        )

    def overdue(self, step: str, grace_days: int) -> bool:
        rec = self.steps[step]
        return (
            not is_right(rec.spec)
            and rec.done_at is None
            and rec.withdrawn is None
            and rec.ended is None
            and not self._reported_on_time(rec)
            and rec.due is not None
            and self.t >= rec.due + dt.timedelta(days=grace_days)
        )

    @staticmethod
    def _reported_on_time(rec: _Step) -> bool:
        """Reported before its deadline: waiting for the verifier is not the actor's delay."""
        return (
            rec.reported_at is not None
            and rec.spec.verification is not None
            and (rec.due is None or rec.reported_at < rec.due)
            and "failed" not in rec.verdicts.values()
        )

    def violated(self, step: str) -> bool:
        return bool(self.violated_steps) if step == "any" else step in self.violated_steps

    def irreversibility_violated(self, item: str) -> bool:
        return bool(self.irreversible) if item == "any" else item in self.irreversible

    def guarantee_in_force(self, guarantee: str) -> bool:
        return self.guarantees[guarantee].status == "in_force"

    def resolution_adopted(self, ref: str) -> bool:
        return ref in self.adopted_refs

    def cells_revealed(self, spec: m.CellsSpec) -> bool:
        return self.escrow.cells_revealed(spec)

    def confidence(self, declaration: str) -> float:
        return self.escrow.confidence(declaration)

    def declaration_violated(self, ref: str) -> bool:
        violated = self.escrow.violated_declarations
        return bool(violated) if ref == "any" else ref in violated

    def beacon_missed(self, ref: str) -> bool:
        missed = self.escrow.beacon_missed
        return bool(missed) if ref == "any" else ref in missed

    def custody_flagged(self, ref: str) -> bool:
        confirmed = self.parties.confirmed_subjects("custody", self.finder)
        flagged = self.escrow.custody_flagged | confirmed
        return bool(flagged) if ref == "any" else ref in flagged

    def allegation_confirmed(self, kind: str) -> bool:
        return self.parties.allegation_confirmed(kind, self.finder)

    def party_withdrawn(self, party: str) -> bool:
        withdrawn = self.parties.withdrawn
        return bool(withdrawn) if party == "any" else party in withdrawn

    def limit_exceeded(self, ref: str) -> bool:
        return self.limits.exceeded(ref)

    def limit_violated(self, ref: str) -> bool:
        return self.limits.violated(ref)

    def obligation_missed(self, ref: str, party: str | None) -> bool:
        return self.recurring.missed(ref, party)

    def quota_short(self, ref: str) -> bool:
        return self.recurring.quota_short(ref)

    def continuity_lost(self, ref: str, grace_days: int) -> bool:
        return self.monitoring.continuity_lost(ref, grace_days, self.t)

    def muf_flagged(self, ref: str) -> bool:
        return self.monitoring.muf_flagged(ref)

    # --- events ---------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent) -> None:
        REDUCERS[ev.type](self, ev)
        self._happen(("first", ev.type))

    def _adopted(self, ev: AdmittedEvent) -> None:
        self.adopted.add(ev.party)
        self._life_event(ev)  # in force once every adopting party adopted (by default)

    def _on_step(self, ev: AdmittedEvent) -> None:
        assert isinstance(ev.body, b.StepReported | b.StepVerified | b.StepWaived)
        self._step_event(self.steps[ev.body.step], ev)

    def _observed(self, ev: AdmittedEvent) -> None:
        assert isinstance(ev.body, b.InventoryObserved)
        self._observe(ev.body.items, ev.index, ev.party)

    def _guarantee(self, ev: AdmittedEvent) -> None:
        body = ev.body
        assert isinstance(body, b.GuaranteeSigned | b.GuaranteeWithdrawn)
        guarantee = self.guarantees[body.guarantee]
        if isinstance(body, b.GuaranteeSigned):
            guarantee.signers[ev.party] = ev.index
        else:
            guarantee.signers.pop(ev.party, None)
        guarantee.events.append(ev.index)
        self.changed = True

    def _measure_event(self, ev: AdmittedEvent) -> None:
        assert isinstance(ev.body, b.MeasureAct)
        status: s.MeasureStatus = "in_force" if ev.type == "measure.reimposed" else "suspended"
        verb = ev.type.removeprefix("measure.")
        why = (
            say(
                "{verb} by {party}, its imposer: {note}",
                verb=verb,
                party=ev.party,
                note=ev.body.note,
            )
            if ev.body.note
            else say("{verb} by {party}, its imposer", verb=verb, party=ev.party)
        )
        self._set_measure(ev.body.measure, status, why)

    def _parties_event(self, ev: AdmittedEvent) -> None:
        if self.parties.apply(ev, self.t):
            self.changed = True

    def _notified(self, ev: AdmittedEvent) -> None:
        self._notify(ev.party, ev.index)

    def _escrow_event(self, ev: AdmittedEvent) -> None:
        if not self.escrow.apply(ev, self.t):
            return
        self.changed = True
        for rec in self.reveal_steps:
            if (
                rec.done_at is None
                and rec.spec.reveals
                and self.escrow.cells_revealed(rec.spec.reveals)
            ):
                rec.events.append(ev.index)
                self._mark_done(rec)

    def _joint_event(self, ev: AdmittedEvent) -> None:
        if self.joint.apply(ev, self.t):
            self.changed = True

    # --- what joint bodies' decisions and refusals do to steps (DecisionFold's hooks) -----

    def extend_due(self, step: str, days: int) -> str | None:
        """Move a step's deadline ``days`` later and push its timers again; a deadline
        that has passed, or a step done, is not extended (the reason is returned)."""
        rec = self.steps[step]
        if rec.done_at is not None:
            return say("{step} was already done on {when}", step=step, when=_when(rec.done_at))
        if rec.due is not None and self.t >= rec.due:
            return say("{step} was already overdue since {when}", step=step, when=_when(rec.due))
        rec.extended += dt.timedelta(days=days)
        if rec.due is not None:
            rec.due += dt.timedelta(days=days)
            self._push_due(rec)
        self.changed = True
        return None

    def waive_step(self, step: str, by: str, reason: str, event: int) -> None:
        rec = self.steps[step]
        rec.events.append(event)
        if rec.done_at is None:
            rec.waived = (by, reason)
            self._mark_done(rec)
        self.changed = True

    def perform_step(self, step: str, event: int) -> None:
        rec = self.steps[step]
        rec.events.append(event)
        rec.reported_at = rec.reported_at or self.t
        self._mark_done(rec)
        self.changed = True

    def find(self, allegation: str, outcome: str, body: str, event: int) -> None:
        key = finders.body_key(body)
        if self.parties.determine(allegation, outcome, key=key, who=body, t=self.t, event=event):
            self.changed = True

    def breach_step(self, step: str | None, violation: s.Violation) -> None:
        if step is not None:
            rec = self.steps[step]
            rec.events.append(violation.event)
            self.violated_steps.add(step)
            if rec.done_at is None:
                rec.violation = violation.detail
        self._violation(violation)

    def _monitoring_event(self, ev: AdmittedEvent) -> None:
        if self.monitoring.apply(ev, self.t):
            self.changed = True

    def _limit_event(self, ev: AdmittedEvent) -> None:
        if self.limits.apply(ev, self.t):
            self.changed = True

    def _recurring_event(self, ev: AdmittedEvent) -> None:
        if self.recurring.apply(ev, self.t):
            self.changed = True

    def _council_event(self, ev: AdmittedEvent) -> None:
        body = ev.body
        if isinstance(body, b.DraftTabled):
            self.drafts[body.draft] = _Draft(body, ev.party, self.t, events=[ev.index])
            deadline = b.vote_deadline(body)
            if deadline is not None:
                self._push(deadline, "vote", body.draft)
            for early in sorted(self.early.pop(body.draft, []), key=lambda e: e.index):
                self._council_event(early)
            return
        assert isinstance(body, b.VoteCast | b.VoteClosed)
        draft = self.drafts.get(body.draft)
        if draft is None:
            # Logged after its draft but timed before it (parties' clocks differ within
            # the allowed skew): it takes effect, in log order, when the draft is tabled.
            self.early.setdefault(body.draft, []).append(ev)
        elif isinstance(body, b.VoteCast):
            draft.votes[ev.party] = body.vote
            draft.events.append(ev.index)
        else:
            self._close_vote(draft, ev.index)

    def _step_event(self, rec: _Step, ev: AdmittedEvent) -> None:
        body = ev.body
        rec.events.append(ev.index)
        self.changed = True
        if isinstance(body, b.StepReported):
            if rec.reported_at is None:
                rec.reported_at = self.t
                rec.early = next((d for d in rec.spec.depends_on if not self.done(d)), None)
            if rec.progress.report():
                self._mark_done(rec)
        elif isinstance(body, b.StepWaived):
            rec.waived = (ev.party, body.reason)
            self._mark_done(rec)
        else:
            assert isinstance(body, b.StepVerified)
            done = rec.progress.verdict(ev.party, body.outcome)
            self._observe(body.items, ev.index, ev.party)
            if body.outcome == "failed":
                self.violated_steps.add(rec.spec.id)
                rec.violation = (
                    say(
                        "{party} found it not carried out on {when}: {note}",
                        party=ev.party,
                        when=_when(self.t),
                        note=body.note,
                    )
                    if body.note
                    else say(
                        "{party} found it not carried out on {when}",
                        party=ev.party,
                        when=_when(self.t),
                    )
                )
                self.violations.append(
                    s.Violation(
                        "step", rec.spec.id, self.t, rec.violation, ev.index, rec.spec.actor
                    )
                )
                self.alerts.append(
                    say(
                        "{when}: step {step} violated ({violation})",
                        when=_when(self.t),
                        step=rec.spec.id,
                        violation=rec.violation,
                    )
                )
            elif not rec.progress.failure:  # every verifier that spoke confirms
                rec.violation = None
                self._phase_check(rec.phase)  # a done step's failure no longer stands
            if done and rec.violation is None:
                self._mark_done(rec)

    def _mark_done(self, rec: _Step) -> None:
        if rec.done_at is not None:
            return
        rec.done_at = self.t
        for transition in rec.spec.items:
            targets = (
                [transition.item]
                if transition.item is not None
                else [i for i, v in self.items.items() if v.category == transition.category]
            )
            for item in targets:
                self._move(item, transition.to, rec.spec.id, recorded=True, actor=rec.spec.actor)
        self._happen(("milestone", rec.spec.id))
        self.limits.milestone(rec.spec.id, self.t)
        self.recurring.reached(rec.spec.id, self.t)
        if rec.spec.id in self.phase_required[rec.phase]:
            self.phase_done[rec.phase] += 1
        self._phase_check(rec.phase)
        for sid in rec.dependents:
            self._automatic(self.steps[sid])

    def _phase_check(self, phase: str) -> None:
        """A phase is complete from the first moment at which every step it requires
        (its obligations; all its steps when it has only rights) is done and none of its
        steps stands violated. A failure found later shows on the step; the phase's
        milestone, once reached, has happened."""
        if (
            phase not in self.phase_complete
            and self.phase_done[phase] == len(self.phase_required[phase])
            and all(self.steps[sid].violation is None for sid in self.phase_steps[phase])
        ):
            self.phase_complete[phase] = self.t
            self._happen(("milestone", phase))
            self.limits.milestone(phase, self.t)
            self.recurring.reached(phase, self.t)

    def _move(
        self,
        item: str,
        to: str,
        why: str,
        *,
        recorded: bool,
        event: int = -1,
        actor: str | None = None,
    ) -> None:
        """Record a lifecycle state for ``item``; a backward move is a violation.

        Only an observation can find an item back: a step that records a state the
        item has already passed (found further along by a verifier) leaves it there.
        An item found back shows the state it was found in, and the violation names
        the party responsible for it: the actor of the step that last moved it
        forward, else the disarming state.
        """
        rec = self.items[item]
        current = rec.state
        rank = self.rank[item]
        if rank[to] < rank[current]:
            if recorded:
                return
            party = rec.advanced_by or self.keeper
            detail = say(
                "{item} was found back from {state} to {to} ({why})",
                item=item,
                state=current,
                to=to,
                why=why,
            )
            if party:
                detail += "; " + say("responsible: {party}", party=party)
            rec.state, rec.since = to, self.t
            self.irreversible.add(item)
            self.violations.append(
                s.Violation("irreversibility", item, self.t, detail, event, party)
            )
            self.alerts.append(
                say(
                    "{when}: irreversibility violation: {detail}", when=_when(self.t), detail=detail
                )
            )
            self.changed = True
        elif rank[to] > rank[current]:
            rec.state, rec.since = to, self.t
            if actor is not None:
                rec.advanced_by = actor

    def _observe(self, observed: dict[str, str], idx: int, party: str) -> None:
        why = say("observed by {party}, entry {index}", party=party, index=idx)
        for item, state in sorted(observed.items()):
            self._move(item, state, why, recorded=False, event=idx)

    def _close_vote(self, draft: _Draft, idx: int | None) -> None:
        if idx is not None:
            draft.events.append(idx)
        draft.closed_at = self.t
        rule = self.rm.council or m.Council()
        draft.tally = council.tally(
            draft.votes,
            members=self.council.members(self.t),
            permanent=self.council.permanent,
            rule=rule,
            procedural=draft.body.chapter == "procedural",
        )
        self.changed = True
        if not draft.tally.adopted:
            return
        self.adopted_refs.update({draft.body.draft, draft.body.purpose})
        self._happen(("resolution", draft.body.draft))
        self._happen(("resolution", draft.body.purpose))
        resolution = say("Council resolution {draft}", draft=draft.body.draft)
        for measure in draft.body.suspend_measures:
            self._set_measure(measure, "suspended", resolution)
        for measure in draft.body.reimpose_measures:
            self._set_measure(measure, "in_force", resolution)
        for step in draft.body.waive_steps:
            self.waive_step(
                step,
                say("the Council (resolution {draft})", draft=draft.body.draft),
                draft.body.title,
                draft.events[-1],
            )
        for allegation in draft.body.determines:  # a Council determination
            who = f"{finders.COUNCIL} ({draft.body.draft})"
            if self.parties.determine(
                allegation,
                "confirmed",
                key=finders.COUNCIL,
                who=who,
                t=self.t,
                event=draft.events[-1],
            ):
                self.changed = True
        if draft.body.purpose == "continue_relief":
            for window in self.snapbacks:
                if window.outcome == "open" and draft.tabled_at >= window.at:
                    window.outcome = "continued"
                    window.reason = say(
                        "relief continued by resolution {draft} on {when}",
                        draft=draft.body.draft,
                        when=_when(self.t),
                    )

    def _notify(self, party: str, idx: int) -> None:
        assert self.rm.snapback is not None
        for window in self.snapbacks:
            if window.outcome == "open" and self.t < window.closes:
                window.joined.append(party)  # a joint notification (as the E3 made)
                self.alerts.append(
                    say(
                        "{when}: {party} joined {by}'s notification",
                        when=_when(self.t),
                        party=party,
                        by=window.by,
                    )
                )
                return
        zone = self.rm.snapback.zone or self.zone
        closes = calendar.window_end(self.t, self.rm.snapback.window_days, zone)
        self.snapbacks.append(_Snapback(party, self.t, closes, idx))
        self._push(closes, "window", str(len(self.snapbacks) - 1))
        last_day = calendar.local_date(closes, zone) - dt.timedelta(days=1)
        self.alerts.append(
            say(
                "{when}: {party} notified significant non-performance; the relief ends at the "
                "end of {date} ({zone}) unless a resolution continues it",
                when=_when(self.t),
                party=party,
                date=last_day.isoformat(),
                zone=zone,
            )
        )
        self.changed = True

    def _reimpose_on_snapback(self, window: _Snapback) -> None:
        assert self.rm.snapback is not None
        measures = self.rm.snapback.measures or [
            x.id for x in self.rm.measures if x.imposed_by == "council"
        ]
        why = say(
            "snapback: {party}'s notice of {when}, no resolution continued the relief",
            party=window.by,
            when=_when(window.at),
        )
        for measure in measures:
            self._set_measure(measure, "in_force", why)
        window.outcome = "reimposed"
        window.reason = say(
            "window closed on {when} without a resolution continuing the relief",
            when=_when(self.t),
        )
        self.snapback_completed = True
        self.alerts.append(
            say(
                "{when}: {why}; measures re-imposed: {measures}",
                when=_when(self.t),
                why=why,
                measures=", ".join(measures),
            )
        )

    def _set_measure(self, measure: str, status: s.MeasureStatus, why: str) -> None:
        rec = self.measures[measure]
        if rec.status != status:
            rec.status, rec.since, rec.reason = status, self.t, why
        self.changed = True

    # --- rules and guarantees ---------------------------------------------------------------

    def settle(self) -> None:
        """Update guarantees and fire every rule whose condition now holds."""
        while self.changed:
            self.changed = False
            self._update_guarantees()
            for kind, rule in self.rules:
                if rule.id in self.fired or not self._holds(rule):
                    continue
                self.fired[rule.id] = self.t
                self.changed = True
                why = say(
                    "{rule_kind} {rule} ({condition})",
                    rule_kind=kind,
                    rule=rule.id,
                    condition=cond.describe(rule.when),
                )
                if isinstance(rule, m.Reward):
                    for measure in self._measures_of(
                        rule.suspend_measures, rule.suspend_measures_of
                    ):
                        self._set_measure(measure, "suspended", why)
                    for g in rule.bring_into_force:
                        self.guarantees[g].activated = why
                else:
                    for measure in self._measures_of(
                        rule.reimpose_measures, rule.reimpose_measures_of
                    ):
                        self._set_measure(measure, "in_force", why)
                    for g in rule.suspend_guarantees:
                        self.guarantees[g].suspended = why
                    if rule.council_procedure:
                        self.alerts.append(
                            say(
                                "{when}: {rule} opens a Council procedure: {procedure}",
                                when=_when(self.t),
                                rule=rule.id,
                                procedure=rule.council_procedure,
                            )
                        )
            self._update_guarantees()

    def _holds(self, rule: m.Reward | m.Consequence) -> bool:
        """Whether a rule's condition holds, reading the findings of its finder."""
        self.finder = finders.key(rule.found_by)
        try:
            return cond.holds(rule.when, self)
        finally:
            self.finder = finders.DEFAULT

    def _measures_of(self, named: list[str], imposers: list[str]) -> list[str]:
        """The measures a rule names, and every measure of the imposers it names."""
        of = [x.id for x in self.rm.measures if x.imposed_by in imposers and x.id not in named]
        return [*named, *of]

    def _update_guarantees(self) -> None:
        for g in self.guarantees.values():
            inputs = (g.suspended, len(g.signers), g.activated)
            if inputs == g.settled:
                continue  # its status and reason are as they were
            g.settled = inputs
            threshold = g.spec.threshold
            status: s.GuaranteeStatus
            if g.suspended is not None:
                status, reason = "suspended", say("suspended by {why}", why=g.suspended)
            elif len(g.signers) < threshold:
                status = "pending"
                reason = say(
                    "{n} of {threshold} guarantors signed", n=len(g.signers), threshold=threshold
                )
            elif g.needs_reward and g.activated is None:
                status = "given"
                reason = say("signed") + "; " + say("in force once its reward condition holds")
            else:
                status = "in_force"
                reason = (
                    say("brought into force by {why}", why=g.activated)
                    if g.activated
                    else say("signed by its guarantors")
                )
            if status != g.status:
                g.status, g.since, self.changed = status, self.t, True
            g.reason = reason

    # --- the result -------------------------------------------------------------------------

    def step_state(self, rec: _Step) -> s.StepState:
        spec = rec.spec
        status: s.StepStatus
        if rec.withdrawn is not None:
            status = "withdrawn"
            reason = say(
                "{party} withdrew from the agreement on {when}",
                party=spec.actor,
                when=_when(rec.withdrawn),
            )
        elif rec.ended is not None:
            status = "ended"
            reason = say(
                "the agreement ended on {when} ({reason})",
                when=_when(rec.ended),
                reason=self.life.reason,
            )
        elif rec.waived is not None:
            status = "waived"
            reason = say("waived by {by}: {note}", by=rec.waived[0], note=rec.waived[1])
        elif rec.violation is not None:
            status, reason = "violated", rec.violation
        elif rec.done_at is not None:
            status, reason = self._done_status(rec, rec.done_at)
        elif spec.automatic:
            status, reason = self._automatic_pending(rec)
        elif self._reported_on_time(rec):
            assert rec.reported_at is not None
            assert spec.verification is not None
            have = sum(1 for v in rec.verdicts.values() if v == "confirmed")
            status = "reported"
            reason = (
                say("reported on time on {when}", when=_when(rec.reported_at))
                + "; "
                + say(
                    "awaiting verification ({have} of {need} confirmations)",
                    have=have,
                    need=spec.verification.threshold,
                )
            )
            if rec.due is not None and self.t >= rec.due:
                reason += "; " + say(
                    "the verifiers' confirmation is late since {when}", when=_when(rec.due)
                )
        elif rec.due is not None and self.t >= rec.due:
            status = "overdue"
            reason = say("due before {when}", when=_when(rec.due)) + "; "
            reason += (
                say("reported late on {when}, not verified", when=_when(rec.reported_at))
                if rec.reported_at is not None
                else say("not reported")
            )
        elif rec.reported_at is not None:
            status = "reported"
            need = spec.verification.threshold if spec.verification else 1
            have = sum(1 for v in rec.verdicts.values() if v == "confirmed")
            reason = (
                say("reported on {when}", when=_when(rec.reported_at))
                + "; "
                + say("{have} of {need} confirmations", have=have, need=need)
            )
        else:
            status, reason = self._pending_status(rec)
        if rec.early is not None and status in ("reported", "verified", "overdue"):
            reason += "; " + say("performed early, before {step} was done", step=rec.early)
        # Late is the actor's: a step reported on time and confirmed later is not late.
        done_by_actor = rec.reported_at if rec.spec.verification else rec.done_at
        late = (
            rec.done_at is not None
            and rec.due is not None
            and (done_by_actor or rec.done_at) >= rec.due
            and not rec.by_road_map
        )
        return s.StepState(
            spec.id,
            rec.phase,
            spec.actor,
            status,
            reason,
            rec.due,
            rec.done_at,
            late,
            tuple(rec.events),
        )

    def _done_status(self, rec: _Step, done_at: dt.datetime) -> tuple[s.StepStatus, str]:
        """A done step's status and reason: how it came to be done."""
        spec = rec.spec
        status: s.StepStatus
        if rec.by_road_map:
            status = "verified"
            reason = say(
                "occurred on {date}, by the road map",
                date=calendar.local_date(done_at, self.zone).isoformat(),
            )
        elif spec.reveals is not None and spec.verification is None:
            status = "verified"
            reason = say("cells revealed and proven complete on {when}", when=_when(done_at))
        elif spec.verification is None:
            status = "reported"
            reason = (
                say("reported on {when}", when=_when(done_at)) + "; " + say("needs no verification")
            )
        else:
            confirmed = sorted(p for p, v in rec.verdicts.items() if v == "confirmed")
            status = "verified"
            reason = say(
                "confirmed by {parties} on {when}",
                parties=", ".join(confirmed),
                when=_when(done_at),
            )
        return status, reason

    def _pending_status(self, rec: _Step) -> tuple[s.StepStatus, str]:
        spec = rec.spec
        waiting = [d for d in spec.depends_on if not self.done(d)]
        if not self.in_force:
            return "blocked", say("the agreement is not in force")
        if waiting:
            return "blocked", say("waiting for {steps}", steps=", ".join(waiting))
        if is_right(spec):
            return "open", say("{party} may carry it out (a right: never owed)", party=spec.actor)
        if rec.due:
            return "open", say(
                "{party} to carry out before {when}", party=spec.actor, when=_when(rec.due)
            )
        return "open", say("{party} to carry out", party=spec.actor)

    def _automatic_pending(self, rec: _Step) -> tuple[s.StepStatus, str]:
        """An automatic step not yet done: when it will happen, or what it waits for."""
        waiting = [d for d in rec.spec.depends_on if not self.done(d)]
        if rec.due is not None and not waiting:
            return "open", say("happens by itself at {when}", when=_when(rec.due))
        if waiting:
            return "blocked", say("waiting for {steps}", steps=", ".join(waiting))
        assert rec.spec.deadline is not None
        return "blocked", say(
            "happens by itself at {deadline}", deadline=anc.describe(rec.spec.deadline)
        )

    def __getstate__(self) -> dict[str, Any]:
        """What a copy or a snapshot keeps: not the cache of drafts' states."""
        kept = self.__dict__.copy()
        kept.pop("_shown_drafts", None)
        return kept

    def _draft_state(self, d: _Draft) -> s.DraftState:
        """A draft's state, made again only when the draft changed (a draft changes with
        each event about it, and when its vote closes): thousands of closed drafts cost
        one lookup each in every result."""
        shown: dict[str, tuple[tuple[int, bool], s.DraftState]]
        shown = self.__dict__.setdefault("_shown_drafts", {})
        version = (len(d.events), d.closed_at is not None)
        cached = shown.get(d.body.draft)
        if cached is not None and cached[0] == version:
            return cached[1]
        state = s.DraftState(
            d.body.draft,
            d.body.title,
            d.body.purpose,
            d.tabled_by,
            d.tabled_at,
            dict(d.votes),
            d.closed_at,
            d.tally,
            tuple(d.events),
        )
        shown[d.body.draft] = (version, state)
        return state

    def result(self, events_seen: int) -> s.AgreementState:
        steps = {sid: self.step_state(rec) for sid, rec in self.steps.items()}
        phases = {}
        for ph in self.rm.phases:
            statuses = [steps[x].status for x in self.phase_steps[ph.id]]
            status: s.PhaseStatus
            if ph.id in self.phase_complete:
                status = "complete"
            elif self.life.status in ("expired", "terminated"):
                status = "ended"
            elif "violated" in statuses:
                status = "violated"
            elif "overdue" in statuses:
                status = "overdue"
            elif all(x == "blocked" for x in statuses):
                status = "blocked"
            else:
                status = "open"
            done = sum(1 for x in self.phase_steps[ph.id] if self.steps[x].done_at is not None)
            phases[ph.id] = s.PhaseState(
                ph.id, status, done, len(statuses), self.phase_complete.get(ph.id)
            )
        guarantees = {
            gid: s.GuaranteeState(
                gid,
                g.status,
                g.spec.threshold,
                tuple(sorted(g.signers)),
                tuple(p for p in g.spec.guarantors if p not in g.signers),
                g.since,
                g.reason,
                tuple(g.events),
            )
            for gid, g in self.guarantees.items()
        }
        by_id = {x.id: x for x in self.rm.measures}
        measures = {
            mid: s.MeasureState(
                mid, rec.status, rec.since, rec.reason, by_id[mid].source, by_id[mid].imposed_by
            )
            for mid, rec in self.measures.items()
        }
        drafts = {d.body.draft: self._draft_state(d) for d in self.drafts.values()}
        rules = {
            rule.id: s.RuleState(
                rule.id,
                kind,
                rule.title,
                _describe(rule),
                self.fired.get(rule.id),
                _effects(rule),
            )
            for kind, rule in self.rules
        }
        snapbacks = tuple(
            s.SnapbackState(w.by, w.at, w.closes, w.outcome, w.reason, w.event, tuple(w.joined))
            for w in self.snapbacks
        )
        items = {
            iid: s.ItemState(iid, v.category, v.state, v.since) for iid, v in self.items.items()
        }
        declarations, beacon_rounds, custody = self.escrow.result()
        parties, allegations, breaches, remedial = self.parties.result(tuple(self.violations))
        recurring, quotas, owed_recurring = self.recurring.result(self.t)
        continuity, devices, balances = self.monitoring.result(self.t)
        return s.AgreementState(
            at=self.t,
            agreement=self.rm.agreement.id,
            in_force=self.in_force,
            adopted_at=self.adopted_at,
            adopted_by=tuple(sorted(self.adopted)),
            events_seen=events_seen,
            steps=steps,
            phases=phases,
            guarantees=guarantees,
            measures=measures,
            drafts=drafts,
            rules=rules,
            snapbacks=snapbacks,
            items=items,
            violations=tuple(self.violations),
            alerts=_in_time_order(
                self.alerts
                + self.escrow.alerts
                + self.parties.alerts
                + self.limits.alerts
                + self.life.alerts
                + self.monitoring.alerts
            ),
            owed=(*self._owed(steps, guarantees), *owed_recurring),
            declarations=declarations,
            beacon_rounds=beacon_rounds,
            custody=custody,
            parties=parties,
            allegations=allegations,
            breaches=breaches,
            remedial=remedial,
            decisions=self.joint.result(self.t),
            limits=self.limits.result(self.t),
            obligations=recurring,
            quotas=quotas,
            life=self.life.result(),
            continuity=continuity,
            devices=devices,
            balances=balances,
        )

    def _owed(
        self, steps: dict[str, s.StepState], guarantees: dict[str, s.GuaranteeState]
    ) -> list[s.Obligation]:
        in_return: dict[str, list[str]] = {}
        for kind, rule in self.rules:
            if kind == "reward" and rule.id not in self.fired:
                for ref in cond.references(rule.when):
                    for sid in self.phase_steps.get(ref, [ref]):
                        in_return.setdefault(sid, []).append(rule.title)
        out = []
        for sid, st in steps.items():
            ret = tuple(in_return.get(sid, ()))
            if (
                st.status in ("open", "overdue")
                and not self.steps[sid].spec.automatic
                and not is_right(self.steps[sid].spec)  # a right is never owed
                and st.done_at is None
                and self.steps[sid].reported_at is None
            ):
                out.append(s.Obligation(st.actor, "carry out", sid, st.due, ret))
            verification = self.steps[sid].spec.verification
            if (
                st.status in ("reported", "overdue")
                and verification
                and self.steps[sid].reported_at
            ):
                for party in verification.by:
                    if self.steps[sid].verdicts.get(party) is None:
                        out.append(s.Obligation(party, "verify", sid, st.due, ret))
        for gid, g in guarantees.items():
            if g.status == "pending" and self.life.status not in ("expired", "terminated"):
                out.extend(s.Obligation(p, "sign", gid, None, ()) for p in g.missing)
        return out


_TIMERS: dict[TimerKind, Callable[[_Engine, str], None]] = {
    "due": lambda e, ref: e._automatic(e.steps[ref]),
    "date": lambda _e, _ref: None,  # a date_after condition turns true: rules re-checked
    "window": _Engine._window_closes,
    "vote": _Engine._vote_deadline,
    "anchor": _Engine._anchor_recheck,
    "beacon": lambda e, ref: e.escrow.run_timer("beacon", ref, e.t),
    "custody": lambda e, ref: e.escrow.run_timer("custody", ref, e.t),
    "withdrawal": lambda e, ref: e.parties.run_timer(ref, e.t),
    "decision": lambda e, ref: e.joint.run_timer(ref, e.t),
    "limit": lambda e, ref: e.limits.run_timer(ref, e.t),
    "obligation": lambda e, ref: e.recurring.run_timer("obligation", ref, e.t),
    "quota": lambda e, ref: e.recurring.run_timer("quota", ref, e.t),
    "life": lambda e, _ref: e._life_event(None),
    "monitoring": lambda e, ref: e.monitoring.run_timer(ref, e.t),
}
"""What each kind of timer does when its moment comes (every kind has an entry)."""

if set(_TIMERS) != set(TimerKind.__args__):  # type: ignore[attr-defined]
    raise ImportError(f"timer kinds without a handler: {set(TimerKind.__args__) ^ set(_TIMERS)}")  # type: ignore[attr-defined]

Reducer = Callable[[_Engine, AdmittedEvent], None]

REDUCERS: dict[str, Reducer] = {
    "agreement.adopted": _Engine._adopted,
    "step.reported": _Engine._on_step,
    "step.verified": _Engine._on_step,
    "step.waived": _Engine._on_step,
    "inventory.observed": _Engine._observed,
    "guarantee.signed": _Engine._guarantee,
    "guarantee.withdrawn": _Engine._guarantee,
    "council.draft.tabled": _Engine._council_event,
    "council.vote.cast": _Engine._council_event,
    "council.vote.closed": _Engine._council_event,
    "snapback.notified": _Engine._notified,
    "declaration.committed": _Engine._escrow_event,
    "declaration.revealed": _Engine._escrow_event,
    "beacon.committed": _Engine._escrow_event,
    "beacon.revealed": _Engine._escrow_event,
    "inspection.planned": _Engine._escrow_event,
    "inspection.reported": _Engine._escrow_event,
    "custody.handed_over": _Engine._escrow_event,
    "custody.received": _Engine._escrow_event,
    "party.withdrawal_notified": _Engine._parties_event,
    "participation.suspended": _Engine._parties_event,
    "participation.resumed": _Engine._parties_event,
    "measure.reimposed": _Engine._measure_event,
    "measure.suspended": _Engine._measure_event,
    "measure.lifted": _Engine._measure_event,
    "commitments.ceased": _Engine._parties_event,
    "allegation.made": _Engine._parties_event,
    "allegation.answered": _Engine._parties_event,
    "finding.made": _Engine._parties_event,
    "decision.proposed": _Engine._joint_event,
    "decision.joined": _Engine._joint_event,
    "decision.blocked": _Engine._joint_event,
    "obligation.refused": _Engine._joint_event,
    "quantity.declared": _Engine._limit_event,
    "quantity.measured": _Engine._limit_event,
    "obligation.performed": _Engine._recurring_event,
    "obligation.confirmed": _Engine._recurring_event,
    "inspection.conducted": _Engine._recurring_event,
    "ratification.deposited": _Engine._life_event,
    "agreement.extended": _Engine._life_event,
    "agreement.terminated": _Engine._life_event,
    "amendment.proposed": _Engine._life_event,  # the version in force: cvid.amendment
    "amendment.consented": _Engine._life_event,
}
"""Every event type's reducer: how it changes the state (its admission rules are in
:data:`cvid.events.authz.KINDS`)."""
REDUCERS.update(dict.fromkeys(MONITORING_TYPES, _Engine._monitoring_event))  # ADR 0015

if set(REDUCERS) != set(KINDS):  # a type the engine would silently ignore
    raise ImportError(f"event types without a reducer: {set(KINDS) ^ set(REDUCERS)}")


def _in_time_order(alerts: list[str]) -> tuple[str, ...]:
    """Every fold's alerts in one time order (each starts with its moment, as
    :func:`cvid.engine.state.moment_text` writes it); the same moment keeps their order."""

    def moment(alert: str) -> tuple[str, str]:
        day, _, clock = alert.split(": ", 1)[0].partition(" ")
        return day, clock[:5] or "00:00"

    return tuple(sorted(alerts, key=moment))


def _describe(rule: m.Reward | m.Consequence) -> str:
    """A rule's condition in words, with the finder a consequence names."""
    text = cond.describe(rule.when)
    if rule.found_by is not None:
        text = say(
            "{condition}, found by {finder}", condition=text, finder=finders.describe(rule.found_by)
        )
    return text


def _effects(rule: m.Reward | m.Consequence) -> tuple[str, ...]:
    if isinstance(rule, m.Reward):
        return (
            *(say("suspend {ref}", ref=x) for x in rule.suspend_measures),
            *(say("suspend every measure of {party}", party=x) for x in rule.suspend_measures_of),
            *(say("bring {guarantee} into force", guarantee=g) for g in rule.bring_into_force),
            *(say("aid: {aid}", aid=a) for a in rule.aid),
        )
    procedure = rule.council_procedure
    return (
        *(say("re-impose {measure}", measure=x) for x in rule.reimpose_measures),
        *(say("re-impose every measure of {party}", party=x) for x in rule.reimpose_measures_of),
        *(say("suspend {ref}", ref=g) for g in rule.suspend_guarantees),
        *((say("Council procedure: {procedure}", procedure=procedure),) if procedure else ()),
    )


def evaluate(
    roadmap: m.RoadMap, events: Sequence[AdmittedEvent], *, at: dt.datetime
) -> s.AgreementState:
    """Compute where the agreement stands at ``at``.

    Args:
        roadmap: the adopted road map (the one whose digest the events carry).
        events: admitted events in log order (index order); those after ``at``
            are ignored, so a past ``at`` gives the state as it stood then.
        at: the moment to evaluate, timezone-aware.

    Returns:
        The state of every step, phase, guarantee, measure, draft, rule and item.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    engine = _Engine(roadmap)
    ordered = sorted((e for e in events if e.time <= at), key=lambda e: (e.time, e.index))
    engine.t = min(engine.t, at, *(ev.time for ev in ordered[:1]))
    for ev in ordered:
        _advance(engine, ev.time)
        engine.apply(ev)
    _advance(engine, at)
    engine.settle()
    return engine.result(len(ordered))


def _advance(engine: _Engine, until: dt.datetime) -> None:
    """Move the engine's clock to ``until``, running the timers due on the way.

    Rules are settled whenever the clock moves, and after each batch of timers,
    so that what happened at one moment takes effect at that moment.
    """
    timers = engine.timers
    while timers and timers[0][0] <= until:
        when = timers[0][0]
        if when > engine.t:
            engine.settle()
            engine.t = when
        while timers and timers[0][0] == when:
            _, _, kind, ref = heapq.heappop(timers)
            engine.run_timer(kind, ref)
        engine.settle()
    if until > engine.t:
        engine.settle()
        engine.t = until
