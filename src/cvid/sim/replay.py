"""Sanctions and guarantees along a simulated run, decided by the real engine.

A simulated run is written out as the events that would carry it out — adoption,
guarantee signatures, the Council's endorsement, each step reported and verified
at the time it is done, the verifiers' failed finding when an inspection detects
hidden items — and :func:`cvid.engine.evaluate` is asked where the agreement
stands at every moment something can change. The road map's own reward and
consequence conditions decide which measures are in force and which guarantees
hold; nothing here re-implements them.

The events are built in memory and never signed: the engine reads an event's
body, party, time and log position, not its signature, and admission is not what
is being simulated. Reveal steps are recorded as reported (their escrow proofs are
not simulated), which the engine counts as done for a step without verifiers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cvid.engine import evaluate
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.events.envelope import Event, SignedEvent
from cvid.roadmap.loader import digest
from cvid.roadmap.membership import COUNCIL_ROLES
from cvid.roadmap.model import RoadMap

_NO_KEY = bytes(4)
_NO_SIGNATURE = bytes(64)
ENDORSE_DRAFT = "sim-endorse"


@dataclass(frozen=True)
class RunPlan:
    """One run's moments, in days after the agreement's start (``None``: never)."""

    adoption: float
    endorsement: float | None
    step_done: dict[str, float]
    detection: float | None
    detection_step: str | None
    guarantees_signed: bool


@dataclass(frozen=True)
class Trajectory:
    """Where sanctions and guarantees stood along one run, as the engine computed it.

    ``days[i]`` is a moment (days after the start) and ``measures_in_force[i]``,
    ``guarantees_in_force[i]`` the ids in force from then until the next moment.
    """

    run: int
    days: tuple[float, ...]
    measures_in_force: tuple[tuple[str, ...], ...]
    guarantees_in_force: tuple[tuple[str, ...], ...]
    rules_fired: dict[str, float]
    phases_complete: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """The trajectory as JSON-ready data."""
        return {
            "run": self.run,
            "days": list(self.days),
            "measures_in_force": [list(x) for x in self.measures_in_force],
            "guarantees_in_force": [list(x) for x in self.guarantees_in_force],
            "rules_fired": dict(self.rules_fired),
            "phases_complete": dict(self.phases_complete),
        }


class _Builder:
    def __init__(self, roadmap: RoadMap) -> None:
        self.roadmap = roadmap
        self.digest = digest(roadmap)
        self.start = dt.datetime.combine(roadmap.agreement.start, dt.time(), tzinfo=dt.UTC)
        self.pending: list[tuple[dt.datetime, int, str, str, dict[str, Any]]] = []

    def at(self, day: float) -> dt.datetime:
        # Whole seconds: the simulated moments need no finer grain.
        return self.start + dt.timedelta(seconds=round(day * 86_400))

    def add(self, day: float, party: str, kind: str, body: dict[str, Any]) -> None:
        self.pending.append((self.at(day), len(self.pending), party, kind, body))

    def events(self) -> list[AdmittedEvent]:
        seq: dict[str, int] = {}
        out = []
        for index, (when, _, party, kind, body) in enumerate(sorted(self.pending)):
            seq[party] = seq.get(party, 0) + 1
            event = Event(
                agreement=self.roadmap.agreement.id,
                roadmap=self.digest,
                type=kind,
                party=party,
                seq=seq[party],
                time=when,
                body=body,
            )
            parsed = b.BODIES[kind].model_validate(body)
            out.append(AdmittedEvent(index, SignedEvent(event, _NO_KEY, _NO_SIGNATURE), parsed))
        return out


def events_for(roadmap: RoadMap, plan: RunPlan) -> list[AdmittedEvent]:
    """The events that carry out ``plan`` on ``roadmap``, in log order."""
    build = _Builder(roadmap)
    for party in roadmap.agreement.adopted_by:
        build.add(plan.adoption, party, "agreement.adopted", {})
    if plan.guarantees_signed:
        for g in roadmap.guarantees:
            for party in g.guarantors:
                build.add(plan.adoption, party, "guarantee.signed", {"guarantee": g.id})
    members = [p.id for p in roadmap.parties if set(p.roles) & set(COUNCIL_ROLES)]
    if plan.endorsement is not None and members:
        day = plan.endorsement
        build.add(
            day,
            members[0],
            "council.draft.tabled",
            {"draft": ENDORSE_DRAFT, "title": "Endorse the road map", "purpose": "endorse"},
        )
        for party in members:
            build.add(day, party, "council.vote.cast", {"draft": ENDORSE_DRAFT, "vote": "yes"})
        build.add(day, members[0], "council.vote.closed", {"draft": ENDORSE_DRAFT})
    steps = {st.id: st for ph in roadmap.phases for st in ph.steps}
    for sid, day in plan.step_done.items():
        spec = steps[sid]
        build.add(day, spec.actor, "step.reported", {"step": sid})
        if spec.verification is not None:
            for verifier in spec.verification.by[: spec.verification.threshold]:
                build.add(day, verifier, "step.verified", {"step": sid, "outcome": "confirmed"})
    if plan.detection is not None and plan.detection_step is not None:
        spec = steps[plan.detection_step]
        verifier = _verifier(roadmap, spec.verification.by if spec.verification else [])
        body = {
            "step": spec.id,
            "outcome": "failed",
            "note": "simulated inspection found hidden items",
        }
        build.add(plan.detection, verifier, "step.verified", body)
    return build.events()


def _verifier(roadmap: RoadMap, named: Iterable[str]) -> str:
    for party in named:
        return party
    for p in roadmap.parties:
        if "verifier" in p.roles:
            return p.id
    return roadmap.parties[0].id


def trajectory(roadmap: RoadMap, plan: RunPlan, *, run: int, horizon_days: float) -> Trajectory:
    """Replay ``plan`` through the engine and read off sanctions and guarantees.

    The engine is evaluated at the horizon, then again at the start and at every
    moment a rule fired or a signature or resolution could change a status, so the
    returned steps are exactly where the engine's answer changes.
    """
    events = events_for(roadmap, plan)
    start = dt.datetime.combine(roadmap.agreement.start, dt.time(), tzinfo=dt.UTC)

    def days(moment: dt.datetime) -> float:
        return (moment - start).total_seconds() / 86_400

    end = start + dt.timedelta(days=horizon_days)
    final = evaluate(roadmap, events, at=end)
    moments = {start, *(r.fired_at for r in final.rules.values() if r.fired_at is not None)}
    moments.update(e.time for e in events if e.type in ("guarantee.signed", "council.vote.closed"))
    measures: list[tuple[str, ...]] = []
    guarantees: list[tuple[str, ...]] = []
    kept: list[float] = []
    for moment in sorted(m for m in moments if m <= end):
        state = final if moment == end else evaluate(roadmap, events, at=moment)
        now_m = tuple(mid for mid, x in state.measures.items() if x.status == "in_force")
        now_g = tuple(gid for gid, x in state.guarantees.items() if x.in_force)
        if measures and (now_m, now_g) == (measures[-1], guarantees[-1]):
            continue
        kept.append(days(moment))
        measures.append(now_m)
        guarantees.append(now_g)
    return Trajectory(
        run=run,
        days=tuple(kept),
        measures_in_force=tuple(measures),
        guarantees_in_force=tuple(guarantees),
        rules_fired={
            rid: days(r.fired_at) for rid, r in final.rules.items() if r.fired_at is not None
        },
        phases_complete={
            pid: (days(p.complete_at) if p.complete_at is not None else None)
            for pid, p in final.phases.items()
        },
    )
