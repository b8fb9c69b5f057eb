"""The engine's view of parties over time, allegations and findings, and remedial
non-performance.

Folded by :mod:`cvid.engine.evaluate` at the same moments as everything else: a
withdrawal takes effect when its notice runs out (a timer), a suspension of
participation from its event to the resumption. An allegation is data: it stays
``open`` beside the accused's answer until a finder the road map names confirms it
(then it is a violation of the accused) or rejects it. Each finder (the road map's
``findings``, and each consequence's ``found_by``: k of n verifiers, a joint body's
decision, a Council determination; :mod:`cvid.roadmap.finders`) decides once, and a
consequence reads only its own finder's decisions. A notice of
remedial non-performance is kept with the ground it claims, so the breaches it
answers and the ground appear side by side. Pure: time comes from the engine,
timers go back to it through ``push``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cvid.engine import state as s
from cvid.engine.state import moment_text
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.events.authz_parties import withdrawal_effective
from cvid.roadmap import finders
from cvid.roadmap import model as m
from cvid.sentences import say

Push = Callable[[dt.datetime, str, str], None]
Report = Callable[[s.Violation], None]
OnWithdrawn = Callable[[str], None]


@dataclass
class _Party:
    standing: Literal["participant", "withdrawn", "suspended"] = "participant"
    since: dt.datetime | None = None
    reason: str = say("a party to the agreement")
    effective: dt.datetime | None = None
    notice_reason: str = ""


@dataclass
class _Allegation:
    body: b.AllegationMade
    by: str
    at: dt.datetime
    status: Literal["open", "confirmed", "rejected"] = "open"
    since: dt.datetime | None = None
    response: str | None = None
    findings: dict[str, str] = field(default_factory=dict)  # verifier → outcome
    determinations: dict[str, str] = field(default_factory=dict)  # finder key → outcome
    decided: dict[str, str] = field(default_factory=dict)  # finder key → its decision
    shown: dict[str, str] = field(default_factory=dict)  # body or Council → outcome
    events: list[int] = field(default_factory=list)


class PartiesFold:
    """Mutable state of one evaluation for standing, allegations and remedial notices."""

    def __init__(
        self, roadmap: m.RoadMap, push: Push, report: Report, on_withdrawn: OnWithdrawn
    ) -> None:
        self.rm = roadmap
        self.push = push
        self.report = report
        self.on_withdrawn = on_withdrawn
        self.parties = {p.id: _Party() for p in roadmap.parties}
        self.allegations: dict[str, _Allegation] = {}
        self.remedial: list[s.RemedialState] = []
        self.confirmed_kinds: dict[str, set[str]] = {}  # finder key → kinds confirmed
        self.withdrawn: set[str] = set()
        self.alerts: list[str] = []
        self._finders = finders.named(roadmap)

    # --- events -------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Apply one event of this module's kinds; return whether a condition may see it."""
        body, party = ev.body, self.parties[ev.party]
        if isinstance(body, b.WithdrawalNotified):
            party.effective = withdrawal_effective(self.rm, t)
            party.notice_reason = body.reason
            self.alerts.append(
                say(
                    "{when}: {party} notified its withdrawal, effective {effective}: {note}",
                    when=moment_text(t),
                    party=ev.party,
                    effective=moment_text(party.effective),
                    note=body.reason,
                )
            )
            self.push(party.effective, "withdrawal", ev.party)
        elif isinstance(body, b.ParticipationSuspended):
            party.standing, party.since = "suspended", t
            party.reason = say(
                "participation suspended on {when}: {note}", when=moment_text(t), note=body.reason
            )
        elif isinstance(body, b.ParticipationResumed):
            party.standing, party.since = "participant", t
            party.reason = say("participation resumed on {when}", when=moment_text(t))
        elif isinstance(body, b.CommitmentsCeased):
            self.remedial.append(
                s.RemedialState(
                    ev.party,
                    tuple(body.commitments),
                    body.ground,
                    tuple(body.in_response_to),
                    t,
                    ev.index,
                )
            )
            self.alerts.append(
                say(
                    "{when}: {party} ceases {commitments}, claiming: {ground}",
                    when=moment_text(t),
                    party=ev.party,
                    commitments=", ".join(body.commitments),
                    ground=body.ground,
                )
            )
        else:
            return self._allegation(ev, body, t)
        return True

    def allege(self, allegation: b.AllegationMade, by: str, t: dt.datetime, event: int) -> None:
        """Record an allegation (an event's, or one the engine raises, as a custody gap)."""
        record = _Allegation(allegation, by, t, since=t)
        record.events.append(event)
        self.allegations[allegation.allegation] = record
        self.alerts.append(
            say(
                "{when}: {party} alleges against {against}: {detail} "
                "(an allegation: it fires nothing until a finding confirms it)",
                when=moment_text(t),
                party=by,
                against=allegation.against,
                detail=allegation.detail,
            )
        )

    def _allegation(self, ev: AdmittedEvent, body: b.Body, t: dt.datetime) -> bool:
        if isinstance(body, b.AllegationMade):
            self.allege(body, ev.party, t, ev.index)
            return False
        assert isinstance(body, b.AllegationAnswered | b.FindingMade)
        record = self.allegations[body.allegation]
        record.events.append(ev.index)
        if isinstance(body, b.AllegationAnswered):
            record.response = body.response
            return False
        record.findings[ev.party] = body.outcome
        return self._decide(record, t, ev.index)

    def determine(
        self, allegation: str, outcome: str, *, key: str, who: str, t: dt.datetime, event: int
    ) -> bool:
        """A joint body's decision or a Council resolution finds on an allegation
        (``key``: its finder key, ``who``: its name among the findings); return
        whether a condition may see it."""
        record = self.allegations.get(allegation)
        if record is None or key in record.determinations:
            return False
        record.events.append(event)
        record.determinations[key] = outcome
        record.shown[who] = outcome
        return self._decide(record, t, event)

    def _decide(self, record: _Allegation, t: dt.datetime, event: int) -> bool:
        """Let every finder that has not yet decided on ``record`` decide; the
        allegation is confirmed once one finder confirms it, rejected when a finder
        rejects it and none confirms it."""
        changed = False
        for key, spec in self._finders.items():
            if key in record.decided:
                continue
            outcome = finders.decide(self.rm, spec, record.findings, record.determinations)
            if outcome is None:
                continue
            record.decided[key] = outcome
            if outcome == "confirmed":
                self.confirmed_kinds.setdefault(key, set()).update({record.body.kind, "any"})
                changed = True
        if record.status != "confirmed" and "confirmed" in record.decided.values():
            record.status, record.since = "confirmed", t
            found = [p for p, o in record.findings.items() if o == "confirmed"]
            found += [w for w, o in record.shown.items() if o == "confirmed"]
            self.report(
                s.Violation(
                    "finding",
                    record.body.subject or record.body.allegation,
                    t,
                    say(
                        "{detail} (alleged by {party}, confirmed by {who})",
                        detail=record.body.detail,
                        party=record.by,
                        who=", ".join(found),
                    ),
                    event,
                    record.body.against,
                )
            )
            return True
        if record.status == "open" and "rejected" in record.decided.values():
            record.status, record.since = "rejected", t
        return changed

    # --- timers -------------------------------------------------------------------------

    def run_timer(self, ref: str, t: dt.datetime) -> None:
        """A withdrawal's notice has run out: the party is withdrawn from now on."""
        party = self.parties[ref]
        party.standing, party.since = "withdrawn", t
        party.reason = say(
            "withdrew on {when}: {note}", when=moment_text(t), note=party.notice_reason
        )
        self.withdrawn.add(ref)
        self.on_withdrawn(ref)

    # --- facts --------------------------------------------------------------------------

    def standing(self, party: str) -> str:
        return self.parties[party].standing

    def allegation_confirmed(self, kind: str, finder: str = finders.DEFAULT) -> bool:
        """Whether ``finder`` (a key of :mod:`cvid.roadmap.finders`) confirmed an
        allegation of ``kind`` (``any``: of any kind)."""
        return kind in self.confirmed_kinds.get(finder, ())

    def confirmed_subjects(self, kind: str, finder: str = finders.DEFAULT) -> set[str]:
        """The subjects of the allegations of a kind ``finder`` confirmed (e.g. the
        items of custody ones)."""
        return {
            a.body.subject
            for a in self.allegations.values()
            if a.decided.get(finder) == "confirmed" and a.body.kind == kind and a.body.subject
        }

    # --- the result ---------------------------------------------------------------------

    def result(
        self, violations: tuple[s.Violation, ...]
    ) -> tuple[
        dict[str, s.PartyState],
        tuple[s.AllegationState, ...],
        dict[str, tuple[s.Breach, ...]],
        tuple[s.RemedialState, ...],
    ]:
        parties = {
            pid: s.PartyState(pid, p.standing, p.since, p.reason, p.effective)
            for pid, p in self.parties.items()
        }
        allegations = tuple(
            s.AllegationState(
                aid,
                a.by,
                a.body.against,
                a.body.kind,
                a.body.subject,
                a.body.detail,
                a.at,
                a.status,
                a.since or a.at,
                a.response,
                a.findings | a.shown,
                tuple(a.events),
            )
            for aid, a in self.allegations.items()
        )
        grounds: dict[tuple[str, str], str] = {}
        for notice in self.remedial:
            for commitment in notice.commitments:
                grounds.setdefault((notice.party, commitment), notice.ground)
        breaches: dict[str, list[s.Breach]] = {}
        for v in violations:
            if v.party:
                ground = grounds.get((v.party, v.subject), "")
                breaches.setdefault(v.party, []).append(
                    s.Breach(v.subject, v.at, ground, v.kind, v.detail)
                )
        for notice in self.remedial:  # a commitment ceased is a breach with its ground
            for commitment in notice.commitments:
                if not any(x.obligation == commitment for x in breaches.get(notice.party, [])):
                    breaches.setdefault(notice.party, []).append(
                        s.Breach(
                            commitment,
                            notice.at,
                            notice.ground,
                            "remedial",
                            say(
                                "ceased by {party} in response to {parties}",
                                party=notice.party,
                                parties=", ".join(notice.in_response_to),
                            )
                            if notice.in_response_to
                            else say(
                                "ceased by {party} in response to another's non-performance",
                                party=notice.party,
                            ),
                        )
                    )
        ordered = {
            p: tuple(sorted(items, key=lambda x: x.since)) for p, items in sorted(breaches.items())
        }
        return parties, allegations, ordered, tuple(self.remedial)
