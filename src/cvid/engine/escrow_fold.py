"""The engine's view of declarations in escrow, the beacon, inspections and custody.

Folded by :mod:`cvid.engine.evaluate` alongside steps and rules, at the same
moments: what is revealed and what is still escrowed, the confidence in
completeness that clean inspections give (under the road map's stated prior), the
violations inspections find (an undeclared item in a revealed cell, a quantity
off by more than the tolerance), beacon participants who did not reveal in time,
and chains of custody with a gap or a double hand-over. Pure: time comes from the
engine, timers go back to it through ``push``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cvid.engine import state as s
from cvid.engine.state import moment_text
from cvid.escrow.commit import Partition
from cvid.escrow.reveal import Reveal, RevealTracker, VerifiedReveal, verify_reveal
from cvid.events import bodies as b
from cvid.events.authz import AdmittedEvent
from cvid.roadmap import model as m
from cvid.sentences import say
from cvid.verification.sampling import Prior, completeness_confidence

Push = Callable[[dt.datetime, str, str], None]
Report = Callable[[s.Violation], None]
Allege = Callable[[b.AllegationMade, str, dt.datetime, int], None]


@dataclass
class _Declaration:
    committed_at: dt.datetime
    root: bytes
    size: int
    partition: Partition
    tracker: RevealTracker
    clean: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


@dataclass
class _Round:
    commits: dict[str, int] = field(default_factory=dict)
    revealed: set[str] = field(default_factory=set)
    reveal_by: dt.datetime | None = None
    missed: tuple[str, ...] = ()


@dataclass
class _Custody:
    holder: str
    pending: tuple[str, str, dt.datetime] | None = None  # (from, to, since)
    flags: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


class EscrowFold:
    """Mutable state of one evaluation for this module's events."""

    def __init__(
        self, roadmap: m.RoadMap, push: Push, report: Report, allege: Allege | None = None
    ) -> None:
        self.rm = roadmap
        self.push = push
        self.report = report
        self.allege = allege
        self.declarants = (
            {d.id: d.by for d in roadmap.escrow.declarations} if roadmap.escrow else {}
        )
        self.declarations: dict[str, _Declaration] = {}
        self.rounds: dict[str, _Round] = {}
        self.inspections: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        keeper = next((p.id for p in roadmap.parties if "disarming_state" in p.roles), "")
        self.custody = {i.id: _Custody(keeper) for i in roadmap.inventory.items}
        self.beacon_missed: set[str] = set()
        self.custody_flagged: set[str] = set()
        self.violated_declarations: set[str] = set()
        self.alerts: list[str] = []
        self._confidence: dict[tuple[int, int], float] = {}

    # --- events -------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Apply one event; return whether something a condition can see changed."""
        body = ev.body
        if isinstance(body, b.DeclarationCommitted):
            partition = Partition.from_dict({"cells": body.cells})
            tracker = RevealTracker(partition, body.size)
            self.declarations[body.declaration] = _Declaration(
                t, bytes.fromhex(body.root), body.size, partition, tracker, events=[ev.index]
            )
            return True
        if isinstance(body, b.DeclarationRevealed):
            record = self.declarations[body.declaration]
            checked = ev.checked
            if not isinstance(checked, VerifiedReveal):  # events built without admission
                reveal = Reveal.from_dict(body.reveal)
                checked = verify_reveal(
                    reveal, root=record.root, size=record.size, partition=record.partition
                )
            record.tracker.add(checked)
            record.events.append(ev.index)
            return True
        if isinstance(body, b.BeaconCommitted | b.BeaconRevealed):
            return self._beacon(ev, body, t)
        if isinstance(body, b.InspectionPlanned):
            self.inspections[body.inspection] = (body.declaration, tuple(body.cells), False)
            return False
        if isinstance(body, b.InspectionReported):
            return self._inspected(ev, body, t)
        if isinstance(body, b.CustodyHandedOver | b.CustodyReceived):
            return self._custody(ev, body, t)
        return False

    def _beacon(
        self, ev: AdmittedEvent, body: b.BeaconCommitted | b.BeaconRevealed, t: dt.datetime
    ) -> bool:
        assert self.rm.beacon is not None
        beacon_round = self.rounds.setdefault(body.round, _Round())
        if isinstance(body, b.BeaconRevealed):
            beacon_round.revealed.add(ev.party)
            return False
        beacon_round.commits[ev.party] = ev.index
        if set(self.rm.beacon.participants) <= set(beacon_round.commits):
            beacon_round.reveal_by = t + dt.timedelta(days=self.rm.beacon.reveal_days)
            self.push(beacon_round.reveal_by, "beacon", body.round)
        return False

    def _inspected(self, ev: AdmittedEvent, body: b.InspectionReported, t: dt.datetime) -> bool:
        declaration_id, cells, _ = self.inspections[body.inspection]
        self.inspections[body.inspection] = (declaration_id, cells, True)
        record = self.declarations[declaration_id]
        record.events.append(ev.index)
        tolerance = self.rm.escrow.quantity_tolerance if self.rm.escrow else 0.0
        revealed = record.tracker.complete_cells()
        for finding in body.findings:
            problems = []
            for found in finding.undeclared:
                if finding.cell in revealed:
                    problems.append(
                        say(
                            "undeclared {category} in revealed cell {cell}: {note}",
                            category=found.category,
                            cell=finding.cell,
                            note=found.description,
                        )
                    )
                else:
                    self.alerts.append(
                        say(
                            "{when}: undeclared {category} found in escrowed cell {cell}; "
                            "it must appear when the cell is revealed",
                            when=moment_text(t),
                            category=found.category,
                            cell=finding.cell,
                        )
                    )
            for d in finding.discrepancies:
                if abs(d.found - d.declared) > tolerance * abs(d.declared):
                    problems.append(
                        say(
                            "{item}.{attribute} declared {declared}, found {found} "
                            "(tolerance {percent})",
                            item=d.item,
                            attribute=d.attribute,
                            declared=f"{d.declared:g}",
                            found=f"{d.found:g}",
                            percent=f"{tolerance:.0%}",
                        )
                    )
            for problem in problems:
                record.violations.append(problem)
                self.violated_declarations.add(declaration_id)
                self.report(
                    s.Violation(
                        "declaration",
                        declaration_id,
                        t,
                        problem,
                        ev.index,
                        self.declarants.get(declaration_id, ""),
                    )
                )
            if not problems and not finding.undeclared:
                record.clean.add(finding.cell)
        return True

    def _custody(
        self, ev: AdmittedEvent, body: b.CustodyHandedOver | b.CustodyReceived, t: dt.datetime
    ) -> bool:
        # Admission lets only the holder hand an item over and only its addressee receive
        # it; what is left to flag is the holder's own double hand-over.
        chain = self.custody[body.item]
        chain.events.append(ev.index)
        if isinstance(body, b.CustodyHandedOver):
            double = chain.pending is not None
            if chain.pending is not None:
                self._flag(
                    body.item,
                    say(
                        "double hand-over: already handed to {party}, not yet received",
                        party=chain.pending[1],
                    ),
                    t,
                    ev.index,
                    ev.party,
                )
            chain.pending = (ev.party, body.to, t)
            self.push(t + dt.timedelta(days=self.rm.custody.receipt_days), "custody", body.item)
            return double
        if chain.pending is not None and chain.pending[1] == ev.party:
            chain.holder, chain.pending = ev.party, None
        return False

    def _flag(self, item: str, flag: str, t: dt.datetime, event: int, party: str) -> None:
        self.custody[item].flags.append(flag)
        self.custody_flagged.add(item)
        self.report(s.Violation("custody", item, t, flag, event, party))

    # --- timers -------------------------------------------------------------------------

    def run_timer(self, kind: str, ref: str, t: dt.datetime) -> None:
        """A beacon reveal deadline or a custody receipt deadline has come."""
        if kind == "beacon":
            assert self.rm.beacon is not None
            beacon_round = self.rounds[ref]
            beacon_round.missed = tuple(
                p for p in self.rm.beacon.participants if p not in beacon_round.revealed
            )
            for party in beacon_round.missed:
                self.beacon_missed.add(party)
                self.report(
                    s.Violation(
                        "beacon",
                        party,
                        t,
                        say("did not reveal its secret for round {round}", round=ref),
                        -1,
                        party,
                    )
                )
        elif kind == "custody":
            chain = self.custody[ref]
            receipt = dt.timedelta(days=self.rm.custody.receipt_days)
            if chain.pending is not None and chain.pending[2] + receipt <= t:
                # Sender and receiver disagree (handed over / never received): an
                # allegation against the receiver until a finder settles it.
                sender, receiver, since = chain.pending
                gap = say(
                    "gap: handed to {party} on {when}, no receipt",
                    party=receiver,
                    when=moment_text(since),
                )
                chain.flags.append(gap)
                if self.allege is not None:
                    number = sum(1 for f in chain.flags if f.startswith("gap:"))
                    allegation = b.AllegationMade(
                        allegation=f"custody-gap.{ref}.{number}",
                        against=receiver,
                        kind="custody",
                        subject=ref,
                        detail=say(
                            "{item} handed over by {sender} on {when}; {party} has not "
                            "acknowledged it within {days} days",
                            item=ref,
                            sender=sender,
                            when=moment_text(since),
                            party=receiver,
                            days=self.rm.custody.receipt_days,
                        ),
                    )
                    self.allege(allegation, sender, t, -1)

    # --- facts --------------------------------------------------------------------------

    def cells_revealed(self, spec: m.CellsSpec) -> bool:
        record = self.declarations.get(spec.declaration)
        if record is None:
            return False
        wanted = spec.cells or list(record.partition.cells)
        return set(wanted) <= record.tracker.complete_cells()

    def confidence(self, declaration: str) -> float:
        record = self.declarations.get(declaration)
        if record is None or declaration in self.violated_declarations:
            return 0.0
        escrow = self.rm.escrow
        assert escrow is not None
        cells, clean = len(record.partition.cells), len(record.clean)
        key = (cells, clean)
        if key not in self._confidence:  # conditions ask at every settled moment
            stated = escrow.prior
            prior = (
                Prior.uniform(min(stated.max_hidden, cells))
                if stated.kind == "uniform"
                else Prior.binomial(stated.q)
            )
            self._confidence[key] = completeness_confidence(
                cells, clean, prior=prior, per_inspection=escrow.per_inspection
            )
        return self._confidence[key]

    # --- result -------------------------------------------------------------------------

    def result(
        self,
    ) -> tuple[
        dict[str, s.DeclarationState], dict[str, s.BeaconRoundState], dict[str, s.CustodyState]
    ]:
        declarations = {}
        for did, record in self.declarations.items():
            complete = record.tracker.complete_cells()
            declarations[did] = s.DeclarationState(
                id=did,
                committed_at=record.committed_at,
                cells=len(record.partition.cells),
                revealed=tuple(c for c in record.partition.cells if c in complete),
                escrowed=tuple(c for c in record.partition.cells if c not in complete),
                items_revealed=len(record.tracker.items()),
                inspected_clean=tuple(c for c in record.partition.cells if c in record.clean),
                violations=tuple(record.violations),
                confidence=self.confidence(did),
                events=tuple(record.events),
            )
        rounds = {
            rid: s.BeaconRoundState(
                rid, tuple(sorted(r.commits)), tuple(sorted(r.revealed)), r.reveal_by, r.missed
            )
            for rid, r in self.rounds.items()
        }
        custody = {
            item: s.CustodyState(
                item,
                chain.holder,
                chain.pending[1] if chain.pending else None,
                tuple(chain.flags),
                tuple(chain.events),
            )
            for item, chain in self.custody.items()
            if chain.events
        }
        return declarations, rounds, custody
