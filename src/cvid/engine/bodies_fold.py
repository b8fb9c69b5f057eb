"""Joint bodies' decisions and refusals to perform, folded over the events.

A decision is proposed (and signed) by one member and joined by others; it is
adopted at the instant the body's rule (:mod:`cvid.roadmap.joint`) is met, and then
takes effect: a step's deadline moves, a step is waived by the body, a joint act is
performed, an allegation is found on (for the consequences ``found_by`` the body),
or an approval is recorded. A decision that can no longer pass because
members blocked it is ``blocked``; if it was a joint act, the act is the blocking
members' default (a violation attributed to each of them, not to the body). A
decision with ``by`` lapses at the end of that day unless adopted. A refusal to
perform puts the step in breach at once, attributed to the refusing party.

This module owns the decisions' state only; it changes steps through the hooks the
engine gives it (:class:`StepHooks`). It does not check who may sign: admission did
(:mod:`cvid.events.authz_bodies`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cvid.engine import state as s
from cvid.engine.state import moment_text as _when
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.roadmap import joint
from cvid.roadmap import model as m
from cvid.sentences import say


class StepHooks(Protocol):
    """What the decisions may do to the engine's steps."""

    def extend_due(self, step: str, days: int) -> str | None:
        """Move a step's deadline ``days`` later; the reason when it cannot."""

    def waive_step(self, step: str, by: str, reason: str, event: int) -> None:
        """Waive a step on behalf of ``by``."""

    def perform_step(self, step: str, event: int) -> None:
        """Mark a joint act done."""

    def breach_step(self, step: str | None, violation: s.Violation) -> None:
        """Put a step (if any) in breach and record the violation."""

    def absent(self) -> frozenset[str]:
        """The parties withdrawn or with their participation suspended, now."""

    def find(self, allegation: str, outcome: str, body: str, event: int) -> None:
        """The joint body ``body`` found on an allegation (confirmed or rejected)."""


@dataclass
class _Decision:
    proposal: b.DecisionProposed
    body: m.JointBody
    proposed_by: str
    signers: list[str]
    events: list[int]
    blockers: dict[str, str] = field(default_factory=dict)  # member -> reason
    status: s.DecisionStatus = "proposed"
    since: dt.datetime | None = None
    outcome: str = ""


def effect_text(p: b.DecisionProposed) -> str:
    """What a proposal does, in words."""
    if p.extend is not None:
        return say(
            "extend the deadline of {step} by {days} days", step=p.extend.step, days=p.extend.days
        )
    if p.waive is not None:
        return say("waive {step}", step=p.waive)
    if p.perform is not None:
        return say("perform {step}", step=p.perform)
    if p.find is not None:
        return say(
            "find allegation {allegation} {finding}",
            allegation=p.find.allegation,
            finding=p.find.outcome,
        )
    return say("approve: {note}", note=p.approve)


class DecisionFold:
    """The decisions of the road map's joint bodies, and refusals, over time."""

    def __init__(
        self,
        roadmap: m.RoadMap,
        hooks: StepHooks,
        push: Callable[[dt.datetime, str], None],
        alert: Callable[[str], None],
    ) -> None:
        self.zone = roadmap.agreement.zone
        self.bodies = {j.id: j for j in roadmap.joint_bodies}
        self.hooks = hooks
        self.push = push
        self.alert = alert
        self.decisions: dict[str, _Decision] = {}
        self.early: dict[str, list[AdmittedEvent]] = {}  # signatures timed before the proposal

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Fold one event of this module's kinds; True when something changed."""
        body = ev.body
        if isinstance(body, b.ObligationRefused):
            self._refused(ev, body, t)
            return True
        if isinstance(body, b.DecisionProposed):
            self._proposed(ev, body, t)
            for early in sorted(self.early.pop(body.decision, []), key=lambda e: e.index):
                self.apply(early, t)
            return True
        assert isinstance(body, b.DecisionJoined | b.DecisionBlocked)
        decision = self.decisions.get(body.decision)
        if decision is None:
            # Logged after its proposal but timed before it (clocks differ within the
            # allowed skew): it counts, in log order, when the proposal is made.
            self.early.setdefault(body.decision, []).append(ev)
            return False
        if decision.status != "proposed":
            return False
        decision.events.append(ev.index)
        if isinstance(body, b.DecisionJoined):
            decision.signers.append(ev.party)
            self._settle(decision, ev.index, t)
        else:
            decision.blockers[ev.party] = body.reason
            self._blocked(decision, ev.index, t)
        return True

    def run_timer(self, ref: str, t: dt.datetime) -> None:
        """A decision's ``by`` day is over: it lapses unless adopted."""
        decision = self.decisions[ref]
        if decision.status == "proposed":
            decision.status, decision.since = "lapsed", t
            decision.outcome = say(
                "lapsed on {when}: {n} of {need} signatures",
                when=_when(t),
                n=len(decision.signers),
                need=joint.needed(decision.body, t, self.hooks.absent()),
            )
            self.alert(
                say(
                    "{when}: decision {decision} of {body} lapsed",
                    when=_when(t),
                    decision=ref,
                    body=decision.body.id,
                )
            )

    def _proposed(self, ev: AdmittedEvent, body: b.DecisionProposed, t: dt.datetime) -> None:
        jb = self.bodies[body.body]
        decision = _Decision(body, jb, ev.party, [ev.party], [ev.index])
        self.decisions[body.decision] = decision
        if body.by is not None:
            self.push(joint.lapse_time(body.by, self.zone), body.decision)
        self._settle(decision, ev.index, t)

    def _settle(self, decision: _Decision, idx: int, t: dt.datetime) -> None:
        if not joint.passes(decision.body, decision.signers, t, self.hooks.absent()):
            return
        decision.status, decision.since = "adopted", t
        p = decision.proposal
        by = say("{body} (decision {decision})", body=decision.body.id, decision=p.decision)
        outcome = say(
            "adopted on {when} by {parties}", when=_when(t), parties=", ".join(decision.signers)
        )
        if p.extend is not None:
            refused = self.hooks.extend_due(p.extend.step, p.extend.days)
            outcome += "; " + say("no effect: {why}", why=refused) if refused else ""
        elif p.waive is not None:
            self.hooks.waive_step(p.waive, by, p.subject, idx)
        elif p.perform is not None:
            self.hooks.perform_step(p.perform, idx)
        elif p.find is not None:
            self.hooks.find(p.find.allegation, p.find.outcome, decision.body.id, idx)
        decision.outcome = outcome
        self.alert(
            say("{when}: {by} adopted: {effect}", when=_when(t), by=by, effect=effect_text(p))
        )

    def _blocked(self, decision: _Decision, idx: int, t: dt.datetime) -> None:
        if not joint.cannot_pass(decision.body, decision.blockers, t, self.hooks.absent()):
            return
        decision.status, decision.since = "blocked", t
        decision.outcome = say(
            "blocked on {when} by {blockers}",
            when=_when(t),
            blockers="; ".join(f"{p} ({r})" for p, r in decision.blockers.items()),
        )
        step = decision.proposal.perform
        if step is None:
            return
        for party, reason in decision.blockers.items():
            detail = say(
                "blocked by {party} on {when}: {note}", party=party, when=_when(t), note=reason
            )
            self.hooks.breach_step(step, s.Violation("joint-act", step, t, detail, idx, party))

    def _refused(self, ev: AdmittedEvent, body: b.ObligationRefused, t: dt.datetime) -> None:
        subject = body.step or body.subject or ""
        detail = say(
            "refused by {party} on {when}: {note}", party=ev.party, when=_when(t), note=body.reason
        )
        violation = s.Violation("refusal", subject, t, detail, ev.index, ev.party)
        self.hooks.breach_step(body.step, violation)

    def result(self, t: dt.datetime) -> dict[str, s.DecisionState]:
        """Every decision's state."""
        return {
            did: s.DecisionState(
                did,
                d.body.id,
                d.proposal.subject,
                effect_text(d.proposal),
                d.status,
                d.proposed_by,
                tuple(d.signers),
                tuple(d.blockers),
                joint.needed(d.body, d.since or t, self.hooks.absent()),
                d.since,
                d.outcome
                or say("{n} signed", n=len(d.signers))
                + "; "
                + say("needs {rule_text}", rule_text=joint.rule_text(d.body)),
                tuple(d.events),
            )
            for did, d in self.decisions.items()
        }
