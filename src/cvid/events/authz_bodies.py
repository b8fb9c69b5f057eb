"""Admission rules for joint bodies' decisions and for refusals to perform.

The companion of :mod:`cvid.events.authz` for ``decision.proposed`` (a decision
that finds on an allegation only by a body a consequence is ``found_by``),
``decision.joined``, ``decision.blocked`` and ``obligation.refused``. A decision is
one decision signed by the members its body's rule requires
(:mod:`cvid.roadmap.joint`); each signature is a separate signed event, and
admission refuses a signature by a non-member, a second signature by the same
member, and any signature once the decision is in effect, blocked or lapsed. Only
a step's actor may refuse it, and never a right (``kind: right``). What is needed later is kept in
:class:`JointHistory`, recorded after each append. Nothing here reads a clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.events.envelope import format_time
from cvid.roadmap import finders, joint
from cvid.roadmap import model as m

EFFECTS = ("extend", "waive", "perform", "approve", "find")


def effect_of(body: b.DecisionProposed) -> list[str]:
    """The effects a proposal names (exactly one once admitted)."""
    return [name for name in EFFECTS if getattr(body, name) is not None]


@dataclass
class DecisionRecord:
    """A proposed decision as admission knows it."""

    body: str
    signers: list[str]
    blockers: list[str] = field(default_factory=list)
    lapses: dt.datetime | None = None
    adopted_at: dt.datetime | None = None


@dataclass(frozen=True)
class Checked:
    """What admission established for the record: the decision's joint body and,
    for a proposal with ``by``, when it lapses."""

    body: m.JointBody
    lapses: dt.datetime | None = None
    absent: frozenset[str] = frozenset()  # members withdrawn or suspended then


@dataclass
class JointHistory:
    """What admission remembers of decisions and refusals."""

    decisions: dict[str, DecisionRecord] = field(default_factory=dict)
    refusals: set[tuple[str, str]] = field(default_factory=set)  # (party, step or subject)

    def record(self, party: str, body: b.Body, when: dt.datetime, checked: object) -> None:
        """Remember an appended event of this module's kinds (``checked``: what
        :func:`check_joint_event` returned for it)."""
        if isinstance(body, b.ObligationRefused):
            self.refusals.add((party, body.step or body.subject or ""))
            return
        assert isinstance(checked, Checked)
        if isinstance(body, b.DecisionProposed):
            self.decisions[body.decision] = DecisionRecord(
                body.body, [party], lapses=checked.lapses
            )
        assert isinstance(body, b.DecisionProposed | b.DecisionJoined | b.DecisionBlocked)
        record = self.decisions[body.decision]
        if isinstance(body, b.DecisionJoined):
            record.signers.append(party)
        elif isinstance(body, b.DecisionBlocked):
            record.blockers.append(party)
        if record.adopted_at is None and joint.passes(
            checked.body, record.signers, when, checked.absent
        ):
            record.adopted_at = when


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


def _bodies(roadmap: m.RoadMap) -> dict[str, m.JointBody]:
    return {j.id: j for j in roadmap.joint_bodies}


def _steps(roadmap: m.RoadMap) -> dict[str, m.Step]:
    return {s.id: s for ph in roadmap.phases for s in ph.steps}


def _step(roadmap: m.RoadMap, step_id: str) -> m.Step:
    step = _steps(roadmap).get(step_id)
    if step is None:
        raise _reject("unknown-reference", f"no step {step_id!r} in the road map")
    return step


def _member(body: m.JointBody, party: str, when: dt.datetime) -> None:
    if party not in joint.participants(body, when):
        raise _reject(
            "not-a-member", f"{party} is not a member of {body.id} on {format_time(when)}"
        )


def check_joint_event(
    roadmap: m.RoadMap,
    party: str,
    body: b.Body,
    history: JointHistory,
    when: dt.datetime,
    *,
    absent: frozenset[str] = frozenset(),
    allegations: Collection[str] = (),
) -> Checked | None:
    """Admit or refuse a decision or refusal event in context.

    ``allegations``: the ids of the allegations made so far (a decision may ``find``
    on one of them).

    Returns:
        For a decision event, its joint body (and when a proposal lapses).

    Raises:
        EventRejectedError: the event breaks a rule; ``reason`` says which.
    """
    if isinstance(body, b.DecisionProposed):
        checked = _proposed(roadmap, party, body, history, when, allegations=allegations)
        return dataclasses.replace(checked, absent=absent)
    if isinstance(body, b.DecisionJoined | b.DecisionBlocked):
        checked = _signature(roadmap, party, body, history, when, absent=absent)
        return dataclasses.replace(checked, absent=absent)
    assert isinstance(body, b.ObligationRefused)
    _refused(roadmap, party, body, history)
    return None


def _proposed(
    roadmap: m.RoadMap,
    party: str,
    body: b.DecisionProposed,
    history: JointHistory,
    when: dt.datetime,
    *,
    allegations: Collection[str],
) -> Checked:
    jb = _bodies(roadmap).get(body.body)
    if jb is None:
        raise _reject("unknown-reference", f"no joint body {body.body!r} in the road map")
    _member(jb, party, when)
    if body.decision in history.decisions:
        raise _reject("duplicate", f"a decision {body.decision!r} was already proposed")
    effects = effect_of(body)
    if len(effects) != 1:
        raise _reject(
            "bad-body",
            "decision.proposed: a decision does exactly one of "
            f"{', '.join(EFFECTS)} (it names {', '.join(effects) or 'none'})",
        )
    lapses = None
    if body.by is not None:
        try:
            lapses = joint.lapse_time(body.by, roadmap.agreement.zone)
        except ValueError:
            raise _reject("bad-body", f"decision.proposed: by {body.by!r} is not a date") from None
        if lapses <= when:
            raise _reject("bad-body", f"decision.proposed: the day {body.by} is already over")
    members = set(jb.members)
    if body.extend is not None:
        step = _step(roadmap, body.extend.step)
        _within_mandate(jb, step, members, "extend")
        if step.deadline is None:
            raise _reject("no-deadline", f"step {step.id!r} has no deadline to extend")
    elif body.waive is not None:
        _within_mandate(jb, _step(roadmap, body.waive), members, "waive")
    elif body.perform is not None:
        step = _step(roadmap, body.perform)
        if step.actor != jb.id:
            raise _reject(
                "outside-mandate",
                f"step {step.id!r} is {step.actor}'s to carry out, not a joint act of {jb.id}",
            )
    elif body.find is not None:
        _finder(roadmap, jb, body.find, allegations)
    return Checked(jb, lapses)


def _finder(
    roadmap: m.RoadMap, jb: m.JointBody, find: b.Determination, allegations: Collection[str]
) -> None:
    if jb.id not in finders.finding_bodies(roadmap):
        raise _reject(
            "outside-mandate",
            f"{jb.id} makes no findings: no rule of the road map is found_by it",
        )
    if find.allegation not in allegations:
        raise _reject("unknown-reference", f"no allegation {find.allegation!r}")


def _within_mandate(jb: m.JointBody, step: m.Step, members: set[str], what: str) -> None:
    if step.actor != jb.id and step.actor not in members:
        raise _reject(
            "outside-mandate",
            f"{jb.id} may {what} only the steps of its members or its own, and "
            f"{step.actor} (the actor of {step.id!r}) is not a member",
        )


def _signature(
    roadmap: m.RoadMap,
    party: str,
    body: b.DecisionJoined | b.DecisionBlocked,
    history: JointHistory,
    when: dt.datetime,
    *,
    absent: frozenset[str],
) -> Checked:
    record = history.decisions.get(body.decision)
    if record is None:
        raise _reject("unknown-reference", f"no decision {body.decision!r} was proposed")
    jb = _bodies(roadmap)[record.body]
    _member(jb, party, when)
    if record.adopted_at is not None:
        raise _reject(
            "decision-closed",
            f"decision {body.decision!r} is already in effect "
            f"(adopted {format_time(record.adopted_at)})",
        )
    if joint.cannot_pass(jb, record.blockers, when, absent):
        raise _reject(
            "decision-closed",
            f"decision {body.decision!r} was blocked by {', '.join(record.blockers)}",
        )
    if record.lapses is not None and when >= record.lapses:
        raise _reject(
            "decision-closed",
            f"decision {body.decision!r} lapsed at {format_time(record.lapses)}",
        )
    if party in record.signers:
        raise _reject("duplicate", f"{party} has already signed decision {body.decision!r}")
    if party in record.blockers:
        raise _reject("duplicate", f"{party} has already blocked decision {body.decision!r}")
    return Checked(jb)


def _refused(
    roadmap: m.RoadMap, party: str, body: b.ObligationRefused, history: JointHistory
) -> None:
    if (body.step is None) == (body.subject is None):
        raise _reject("bad-body", "obligation.refused: name either a step or a subject")
    if body.step is not None:
        step = _step(roadmap, body.step)
        if step.actor != party:
            raise _reject(
                "unauthorised",
                f"only the obliged party refuses an obligation: step {step.id!r} is "
                f"{step.actor}'s, not {party}'s",
            )
        if step.kind == "right":
            raise _reject(
                "not-an-obligation",
                f"step {step.id!r} is a right of {party}: not exercising it is no refusal",
            )
    if (party, body.step or body.subject or "") in history.refusals:
        raise _reject("duplicate", f"{party} has already refused {body.step or body.subject!r}")
