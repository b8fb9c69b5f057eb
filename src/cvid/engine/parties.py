"""The engine's view of parties over time, allegations and findings, and remedial
non-performance.

Folded by :mod:`cvid.engine.evaluate` at the same moments as everything else: a
withdrawal takes effect when its notice runs out (a timer), a suspension of
participation from its event to the resumption. An allegation is data: it stays
``open`` beside the accused's answer until ``threshold`` of the road map's finders
confirm it (then it is a violation of the accused) or reject it. A notice of
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
from cvid.events.authz_parties import finders, withdrawal_effective
from cvid.roadmap import model as m

Push = Callable[[dt.datetime, str, str], None]
Report = Callable[[s.Violation], None]
OnWithdrawn = Callable[[str], None]


@dataclass
class _Party:
    standing: Literal["participant", "withdrawn", "suspended"] = "participant"
    since: dt.datetime | None = None
    reason: str = "a party to the agreement"
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
    findings: dict[str, str] = field(default_factory=dict)
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
        self.confirmed_kinds: set[str] = set()
        self.withdrawn: set[str] = set()
        self.alerts: list[str] = []
        self._finders, self._threshold = finders(roadmap)

    # --- events -------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Apply one event of this module's kinds; return whether a condition may see it."""
        body, party = ev.body, self.parties[ev.party]
        if isinstance(body, b.WithdrawalNotified):
            party.effective = withdrawal_effective(self.rm, t)
            party.notice_reason = body.reason
            self.alerts.append(
                f"{moment_text(t)}: {ev.party} notified its withdrawal, effective "
                f"{moment_text(party.effective)}: {body.reason}"
            )
            self.push(party.effective, "withdrawal", ev.party)
        elif isinstance(body, b.ParticipationSuspended):
            party.standing, party.since = "suspended", t
            party.reason = f"participation suspended on {moment_text(t)}: {body.reason}"
        elif isinstance(body, b.ParticipationResumed):
            party.standing, party.since = "participant", t
            party.reason = f"participation resumed on {moment_text(t)}"
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
                f"{moment_text(t)}: {ev.party} ceases {', '.join(body.commitments)}, "
                f"claiming: {body.ground}"
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
            f"{moment_text(t)}: {by} alleges against {allegation.against}: {allegation.detail} "
            "(an allegation: it fires nothing until a finding confirms it)"
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
        if record.status != "open":
            return False
        outcomes = list(record.findings.values())
        if outcomes.count("confirmed") >= self._threshold:
            record.status, record.since = "confirmed", t
            self.confirmed_kinds.update({record.body.kind, "any"})
            finders_text = ", ".join(p for p, o in record.findings.items() if o == "confirmed")
            self.report(
                s.Violation(
                    "finding",
                    record.body.subject or record.body.allegation,
                    t,
                    f"{record.body.detail} (alleged by {record.by}, confirmed by {finders_text})",
                    ev.index,
                    record.body.against,
                )
            )
            return True
        if outcomes.count("rejected") >= self._threshold:
            record.status, record.since = "rejected", t
        return False

    # --- timers -------------------------------------------------------------------------

    def run_timer(self, ref: str, t: dt.datetime) -> None:
        """A withdrawal's notice has run out: the party is withdrawn from now on."""
        party = self.parties[ref]
        party.standing, party.since = "withdrawn", t
        party.reason = f"withdrew on {moment_text(t)}: {party.notice_reason}"
        self.withdrawn.add(ref)
        self.on_withdrawn(ref)

    # --- facts --------------------------------------------------------------------------

    def standing(self, party: str) -> str:
        return self.parties[party].standing

    def allegation_confirmed(self, kind: str) -> bool:
        return kind in self.confirmed_kinds

    def confirmed_subjects(self, kind: str) -> set[str]:
        """The subjects of confirmed allegations of a kind (e.g. the items of custody ones)."""
        return {
            a.body.subject
            for a in self.allegations.values()
            if a.status == "confirmed" and a.body.kind == kind and a.body.subject
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
                dict(a.findings),
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
                            f"ceased by {notice.party} in response to "
                            + (", ".join(notice.in_response_to) or "another's non-performance"),
                        )
                    )
        ordered = {
            p: tuple(sorted(items, key=lambda x: x.since)) for p, items in sorted(breaches.items())
        }
        return parties, allegations, ordered, tuple(self.remedial)
