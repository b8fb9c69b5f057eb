"""Admission rules for declarations in escrow, the beacon, inspections and custody.

The companion of :mod:`cvid.events.authz` for the events of the verification
process. A reveal is checked against the committed root (every leaf, salt and the
range proof); an inspection plan must be exactly the draw anyone can recompute
from the completed beacon round and the log root fixed after its last commit.
What these checks establish is kept in :class:`EscrowHistory`, which the gate's
:class:`~cvid.events.authz.History` records after each append. Nothing here
changes state on a refusal, and nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cvid.errors import EventRejectedError, InputError, VerificationError
from cvid.escrow.commit import Partition
from cvid.escrow.reveal import Reveal, RevealTracker, VerifiedReveal, verify_reveal
from cvid.events import bodies as b
from cvid.roadmap.model import RoadMap
from cvid.verification.beacon import beacon_output, draw, secret_commitment


@dataclass
class DeclarationRecord:
    """A committed declaration and what has been revealed of it so far."""

    by: str
    root: bytes
    size: int
    partition: Partition
    tracker: RevealTracker


@dataclass
class BeaconRound:
    """One commit-reveal round: commitments, revealed secrets, the last commit's index."""

    commits: dict[str, bytes] = field(default_factory=dict)
    secrets: dict[str, bytes] = field(default_factory=dict)
    last_commit_index: int = -1


@dataclass
class InspectionRecord:
    """A planned inspection and whether it has been reported."""

    declaration: str
    cells: tuple[str, ...]
    reported: bool = False


@dataclass
class EscrowHistory:
    """What admission remembers of declarations, beacon rounds and inspections."""

    declarations: dict[str, DeclarationRecord] = field(default_factory=dict)
    rounds: dict[str, BeaconRound] = field(default_factory=dict)
    inspections: dict[str, InspectionRecord] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)  # item → holder, once it moved
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)  # item → (from, to)

    def record(self, index: int, party: str, body: b.Body, checked: Any) -> None:
        """Remember an appended event of this module's kinds (others are ignored)."""
        if isinstance(body, b.DeclarationCommitted):
            partition = Partition.from_dict({"cells": body.cells})
            self.declarations[body.declaration] = DeclarationRecord(
                party,
                bytes.fromhex(body.root),
                body.size,
                partition,
                RevealTracker(partition, body.size),
            )
        elif isinstance(body, b.DeclarationRevealed):
            assert isinstance(checked, VerifiedReveal)
            self.declarations[body.declaration].tracker.add(checked)
        elif isinstance(body, b.BeaconCommitted):
            beacon_round = self.rounds.setdefault(body.round, BeaconRound())
            beacon_round.commits[party] = bytes.fromhex(body.commitment)
            beacon_round.last_commit_index = index
        elif isinstance(body, b.BeaconRevealed):
            self.rounds[body.round].secrets[party] = bytes.fromhex(body.secret)
        elif isinstance(body, b.InspectionPlanned):
            self.inspections[body.inspection] = InspectionRecord(
                body.declaration, tuple(body.cells)
            )
        elif isinstance(body, b.InspectionReported):
            self.inspections[body.inspection].reported = True
        elif isinstance(body, b.CustodyHandedOver):
            self.pending[body.item] = (party, body.to)
        elif isinstance(body, b.CustodyReceived):
            self.holders[body.item] = party
            del self.pending[body.item]


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


def population(record: DeclarationRecord, kind: str) -> list[str]:
    """The cells an inspection draws from: completely revealed ones, or all, in order."""
    if kind == "all":
        return list(record.partition.cells)
    complete = record.tracker.complete_cells()
    return [c for c in record.partition.cells if c in complete]


def round_output(
    rm: RoadMap, history: EscrowHistory, round_id: str, root_at: Callable[[int], bytes]
) -> bytes:
    """The beacon output of a completed round (every participant revealed).

    Raises:
        EventRejectedError: the round is unknown or not complete.
    """
    assert rm.beacon is not None
    beacon_round = history.rounds.get(round_id)
    if beacon_round is None:
        raise _reject("unknown-reference", f"no beacon round {round_id!r}")
    missing = [p for p in rm.beacon.participants if p not in beacon_round.secrets]
    if missing:
        raise _reject(
            "beacon-incomplete", f"round {round_id!r} still waits for {', '.join(missing)}"
        )
    anchor = root_at(beacon_round.last_commit_index + 1)
    return beacon_output(round_id, anchor, beacon_round.secrets)


def check_escrow_event(
    rm: RoadMap,
    party: str,
    body: b.Body,
    history: EscrowHistory,
    root_at: Callable[[int], bytes] | None,
) -> Any:
    """Check one event of this module's kinds in context; return what was verified.

    Raises:
        EventRejectedError: the event breaks a rule; ``reason`` says which.
    """
    if isinstance(body, b.DeclarationCommitted | b.DeclarationRevealed):
        return _declaration(rm, party, body, history)
    if isinstance(body, b.BeaconCommitted | b.BeaconRevealed):
        _beacon(rm, party, body, history)
        return None
    if isinstance(body, b.InspectionPlanned | b.InspectionReported):
        _inspection(rm, body, history, root_at)
        return None
    if isinstance(body, b.CustodyHandedOver | b.CustodyReceived):
        item = body.item
        other = body.to if isinstance(body, b.CustodyHandedOver) else body.from_
        if item not in {i.id for i in rm.inventory.items}:
            raise _reject("unknown-reference", f"no item {item!r} in the road map")
        if other not in {p.id for p in rm.parties} or other == party:
            raise _reject("unknown-reference", f"{other!r} is not another party to the agreement")
        _custody(rm, party, body, history)
    return None


def _custody(
    rm: RoadMap, party: str, body: b.CustodyHandedOver | b.CustodyReceived, history: EscrowHistory
) -> None:
    # Only the holder can hand an item over, and only the party it was handed to can
    # acknowledge it: one party's word can never make a chain of custody look broken.
    if isinstance(body, b.CustodyHandedOver):
        keeper = next((p.id for p in rm.parties if "disarming_state" in p.roles), "")
        holder = history.holders.get(body.item, keeper)
        if party != holder:
            raise _reject(
                "not-holder",
                f"{party} does not hold {body.item!r} ({holder} does): "
                "only the holder hands it over",
            )
        return
    pending = history.pending.get(body.item)
    if pending is None or pending != (body.from_, party):
        raise _reject(
            "no-hand-over",
            f"{body.from_} has not handed {body.item!r} over to {party}: "
            "there is nothing to acknowledge",
        )


def _declaration(
    rm: RoadMap,
    party: str,
    body: b.DeclarationCommitted | b.DeclarationRevealed,
    history: EscrowHistory,
) -> VerifiedReveal | None:
    expected = {d.id: d.by for d in rm.escrow.declarations} if rm.escrow else {}
    if body.declaration not in expected:
        raise _reject("unknown-reference", f"no declaration {body.declaration!r} in the road map")
    if expected[body.declaration] != party:
        raise _reject(
            "unauthorised", f"declaration {body.declaration!r} is {expected[body.declaration]}'s"
        )
    record = history.declarations.get(body.declaration)
    if isinstance(body, b.DeclarationCommitted):
        if record is not None:
            raise _reject("duplicate", f"declaration {body.declaration!r} is already committed")
        if len(set(body.cells)) != len(body.cells):
            raise _reject("bad-body", "a cell is listed twice in the partition")
        if body.size < len(body.cells):
            raise _reject("bad-body", "every cell has at least one leaf: size < number of cells")
        return None
    if record is None:
        raise _reject("unknown-reference", f"declaration {body.declaration!r} is not committed")
    try:
        reveal = Reveal.from_dict(body.reveal)
        return verify_reveal(reveal, root=record.root, size=record.size, partition=record.partition)
    except (InputError, VerificationError) as e:
        raise _reject("bad-reveal", f"reveal of {body.declaration!r} refused: {e}") from e


def _beacon(
    rm: RoadMap, party: str, body: b.BeaconCommitted | b.BeaconRevealed, history: EscrowHistory
) -> None:
    if rm.beacon is None or party not in rm.beacon.participants:
        raise _reject("unauthorised", f"{party} is not a beacon participant")
    beacon_round = history.rounds.get(body.round, BeaconRound())
    if isinstance(body, b.BeaconCommitted):
        if party in beacon_round.commits:
            raise _reject("duplicate", f"{party} has already committed in round {body.round!r}")
        if beacon_round.secrets:
            raise _reject(
                "beacon-closed", f"round {body.round!r} is revealing; commitments are closed"
            )
        return
    if party not in beacon_round.commits:
        raise _reject("unknown-reference", f"{party} has no commitment in round {body.round!r}")
    if party in beacon_round.secrets:
        raise _reject("duplicate", f"{party} has already revealed in round {body.round!r}")
    waiting = [p for p in rm.beacon.participants if p not in beacon_round.commits]
    if waiting:
        raise _reject(
            "beacon-open",
            f"round {body.round!r} still waits for commitments from {', '.join(waiting)}",
        )
    secret = bytes.fromhex(body.secret)
    if secret_commitment(body.round, party, secret) != beacon_round.commits[party]:
        raise _reject(
            "bad-reveal", f"the secret does not match {party}'s commitment in round {body.round!r}"
        )


def _inspection(
    rm: RoadMap,
    body: b.InspectionPlanned | b.InspectionReported,
    history: EscrowHistory,
    root_at: Callable[[int], bytes] | None,
) -> None:
    if isinstance(body, b.InspectionReported):
        _reported(body, history)
    else:
        _planned(rm, body, history, root_at)


def _reported(body: b.InspectionReported, history: EscrowHistory) -> None:
    planned = history.inspections.get(body.inspection)
    if planned is None:
        raise _reject("unknown-reference", f"no inspection {body.inspection!r} was planned")
    if planned.reported:
        raise _reject("duplicate", f"inspection {body.inspection!r} is already reported")
    cells = [f.cell for f in body.findings]
    if len(set(cells)) != len(cells) or not set(cells) <= set(planned.cells):
        raise _reject("bad-body", "findings must name each planned cell at most once, and no other")
    items = history.declarations[planned.declaration].tracker.items()
    for finding in body.findings:
        for item in finding.confirmed + [d.item for d in finding.discrepancies]:
            if items.get(item, ("",))[0] != finding.cell:
                raise _reject(
                    "unknown-reference", f"{item!r} is not a revealed item of cell {finding.cell!r}"
                )
        for d in finding.discrepancies:
            declared = items[d.item][1].get("attributes", {}).get(d.attribute)
            if isinstance(declared, bool) or not isinstance(declared, int | float):
                raise _reject("bad-body", f"{d.item} declares no number {d.attribute!r}")
            if declared != d.declared:
                raise _reject(
                    "bad-body",
                    f"{d.item}.{d.attribute} was declared {declared:g}, not {d.declared:g}",
                )


def _planned(
    rm: RoadMap,
    body: b.InspectionPlanned,
    history: EscrowHistory,
    root_at: Callable[[int], bytes] | None,
) -> None:
    if body.inspection in history.inspections:
        raise _reject("duplicate", f"inspection {body.inspection!r} was already planned")
    record = history.declarations.get(body.declaration)
    if record is None:
        raise _reject("unknown-reference", f"declaration {body.declaration!r} is not committed")
    if rm.beacon is None:
        raise _reject("unauthorised", "the road map has no beacon to draw inspections from")
    if root_at is None:
        raise _reject("no-log", "the draw cannot be checked without the log's roots")
    output = round_output(rm, history, body.round, root_at)
    cells = population(record, body.population)
    if len(body.cells) > len(cells):
        raise _reject("bad-draw", f"{len(body.cells)} cells asked, {len(cells)} in the population")
    expected = draw(output, cells, len(body.cells))
    if list(body.cells) != expected:
        raise _reject(
            "bad-draw", f"the cells are not the beacon's draw: expected {', '.join(expected)}"
        )
