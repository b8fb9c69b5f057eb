"""Amendments: which road-map version governs a moment, and whether a proposed version
keeps the history already logged.

An amendment is proposed (``amendment.proposed``: the new version's digest and the
date it takes effect) and adopted by the consents the road map requires
(``amendment.consented``); admission (:mod:`cvid.events.authz_life`) keeps the record.
From its effective date the new version is in force: events then carry its digest and
are admitted under its rules, and the state at a moment is computed under the version
in force at that moment, so a state in the past reads as it did then. The new road
map travels as a file, ``versions/<hex>.yaml`` in the agreement directory.

A version may change what lies ahead, never what the log already holds: every party
that has signed an event keeps its keys, every step, guarantee, measure or item an
event named is still there (a step with the same actor), and the agreement's id and
origin stay. Reads no clock and no file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.roadmap.model import RoadMap

VERSIONS_DIR = "versions"


def roadmap_at(gate: Gate, history: History, at: dt.datetime) -> RoadMap:
    """The road-map version in force at ``at`` (the adopted one until an amendment
    takes effect)."""
    version = gate.digest_at(at, history)
    return gate.versions.get(version, gate.roadmap)


def history_problems(old: RoadMap, new: RoadMap, events: Iterable[AdmittedEvent]) -> list[str]:
    """What a new version would change in the history already logged (empty: nothing)."""
    problems: list[str] = []
    signers, steps, named = _named_by(events)
    if (new.agreement.id, new.agreement.origin) != (old.agreement.id, old.agreement.origin):
        problems.append("the agreement's id and origin cannot change")
    new_parties = {p.id: p for p in new.parties}
    old_parties = {p.id: p for p in old.parties}
    new_steps = {s.id: s for ph in new.phases for s in ph.steps}
    for party in sorted(signers):
        kept = new_parties.get(party)
        if kept is None:
            problems.append(f"party {party!r} has signed logged events and cannot be removed")
        elif not set(old_parties[party].keys) <= set(kept.keys):
            problems.append(f"party {party!r} has signed logged events and must keep its keys")
    old_steps = {s.id: s for ph in old.phases for s in ph.steps}
    for step in sorted(steps):
        if step not in new_steps:
            problems.append(f"step {step!r} has logged events and cannot be removed")
        elif step in old_steps and new_steps[step].actor != old_steps[step].actor:
            problems.append(f"step {step!r} has logged events and must keep its actor")
    present = {
        "guarantee": {g.id for g in new.guarantees},
        "measure": {x.id for x in new.measures},
        "item": {i.id for i in new.inventory.items},
    }
    for kind, ids in named.items():
        problems.extend(
            f"{kind} {ref!r} has logged events and cannot be removed"
            for ref in sorted(ids - present[kind])
        )
    return problems


def _named_by(
    events: Iterable[AdmittedEvent],
) -> tuple[set[str], set[str], dict[str, set[str]]]:
    """Who signed logged events, which steps they named, and which other references."""
    named: dict[str, set[str]] = {"guarantee": set(), "measure": set(), "item": set()}
    steps: set[str] = set()
    signers: set[str] = set()
    for ev in events:
        signers.add(ev.party)
        body = ev.body
        if isinstance(body, b.StepReported | b.StepVerified | b.StepWaived):
            steps.add(body.step)
        if isinstance(body, b.CommitmentsCeased):
            steps.update(body.commitments)
        if isinstance(body, b.StepVerified | b.InventoryObserved):
            named["item"].update(body.items)
        if isinstance(body, b.GuaranteeSigned | b.GuaranteeWithdrawn):
            named["guarantee"].add(body.guarantee)
        if isinstance(body, b.MeasureAct):
            named["measure"].add(body.measure)
        if isinstance(body, b.DraftTabled):
            named["measure"].update([*body.suspend_measures, *body.reimpose_measures])
    return signers, steps, named
