"""The closed set of event types and the schema of each one's body.

An event's body is validated against its type's model before anything else about
it is believed: unknown fields, wrong types and missing fields are refused. The
models say nothing about *who* may submit an event or whether its references exist;
that is :mod:`cvid.events.authz`. This module does no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from cvid import event_types
from cvid._ids import STRICT, Id, Text


class Body(BaseModel):
    """Base of every event body: strict, frozen, no unknown fields."""

    model_config = STRICT


class AgreementAdopted(Body):
    """A party adopts the road map whose hash the envelope carries."""

    note: Text | None = None


class StepReported(Body):
    """The step's actor reports that it has carried the step out."""

    step: Id
    note: Text | None = None


class StepVerified(Body):
    """A verifier's finding on a step, with the states it observed for items."""

    step: Id
    outcome: Literal["confirmed", "failed"]
    items: dict[Id, Id] = Field(default_factory=dict, max_length=1000)
    note: Text | None = None


class StepWaived(Body):
    """An authorised party waives a step (it no longer blocks anything)."""

    step: Id
    reason: Text


class InventoryObserved(Body):
    """A verifier records the states it observed for items outside any step."""

    items: dict[Id, Id] = Field(min_length=1, max_length=1000)
    note: Text | None = None


class GuaranteeSigned(Body):
    """A guarantor signs a security guarantee."""

    guarantee: Id


class GuaranteeWithdrawn(Body):
    """A guarantor withdraws its signature from a guarantee."""

    guarantee: Id
    reason: Text


class DraftTabled(Body):
    """A Council member tables a draft resolution.

    ``purpose`` ``continue_relief`` is the draft that, adopted within a snapback
    window, keeps the relief in place (UNSCR 2231 ¶11). ``chapter`` ``VI`` obliges
    the parties to the dispute to abstain (Charter Art. 27(3)). ``vote_by`` (RFC 3339,
    UTC, ``...Z``) is the vote's stated deadline: it closes by itself then. Adopted, it
    ``determines`` the allegations it lists confirmed (a Council determination, for
    the consequences ``found_by`` the Council).
    """

    draft: Id
    title: Text
    purpose: Literal["continue_relief", "endorse", "other"]
    vote_by: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
        ]
        | None
    ) = None
    chapter: Literal["VI", "VII", "procedural"] = "VII"
    dispute_parties: list[Id] = Field(default_factory=list, max_length=15)
    suspend_measures: list[Id] = Field(default_factory=list, max_length=100)
    reimpose_measures: list[Id] = Field(default_factory=list, max_length=100)
    waive_steps: list[Id] = Field(default_factory=list, max_length=100)
    determines: list[Id] = Field(default_factory=list, max_length=100)


def vote_deadline(draft: DraftTabled) -> dt.datetime | None:
    """The instant a draft's vote closes by itself, if it states one."""
    if draft.vote_by is None:
        return None
    return dt.datetime.fromisoformat(draft.vote_by.replace("Z", "+00:00"))


class VoteCast(Body):
    """A Council member's vote on a tabled draft."""

    draft: Id
    vote: Literal["yes", "no", "abstain"]


class VoteClosed(Body):
    """The vote on a draft is closed; the engine tallies it."""

    draft: Id


class SnapbackNotified(Body):
    """An entitled party notifies the Council of significant non-performance."""

    reason: Text


Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class DeclarationCommitted(Body):
    """The disarming party commits to its complete declaration: the escrow tree's root.

    ``cells`` is the agreed partition, in order; every cell has at least one leaf.
    """

    declaration: Id
    root: Hex32
    size: int = Field(ge=1, le=10**9)
    cells: list[Id] = Field(min_length=1, max_length=2000)


class DeclarationRevealed(Body):
    """A contiguous run of escrowed leaves with salts and a range proof (see cvid.escrow)."""

    declaration: Id
    reveal: dict[str, Any]


class BeaconCommitted(Body):
    """A participant's commitment to its secret for a beacon round."""

    round: Id
    commitment: Hex32


class BeaconRevealed(Body):
    """A participant's secret for a beacon round (32 bytes, hex)."""

    round: Id
    secret: Hex32


class InspectionPlanned(Body):
    """Cells to inspect, drawn from a completed beacon round (anyone can recompute them)."""

    inspection: Id
    declaration: Id
    round: Id
    population: Literal["revealed", "all"] = "revealed"
    cells: list[Id] = Field(min_length=1, max_length=2000)


class Discrepancy(Body):
    """A declared quantity that inspectors found different."""

    item: Id
    attribute: Id
    declared: float
    found: float


class Undeclared(Body):
    """Something the inspectors found in a cell that the declaration does not list."""

    category: Id
    description: Text
    quantity: float | None = None


class Finding(Body):
    """What the inspectors found in one cell."""

    cell: Id
    confirmed: list[Id] = Field(default_factory=list, max_length=5000)
    discrepancies: list[Discrepancy] = Field(default_factory=list, max_length=1000)
    undeclared: list[Undeclared] = Field(default_factory=list, max_length=1000)


class InspectionReported(Body):
    """The inspectorate's findings, cell by cell, for a planned inspection."""

    inspection: Id
    findings: list[Finding] = Field(min_length=1, max_length=2000)


class CustodyHandedOver(Body):
    """An item leaves the holder's control (the Project Sapphire pattern: both sides sign)."""

    item: Id
    to: Id
    note: Text | None = None


class CustodyReceived(Body):
    """The receiver acknowledges an item handed over to it."""

    item: Id
    from_: Id = Field(alias="from")
    note: Text | None = None


class WithdrawalNotified(Body):
    """A party notifies its withdrawal; it takes effect after the road map's notice period."""

    reason: Text


class ParticipationSuspended(Body):
    """A party suspends its participation (its obligations keep running; it loses its
    rights as a participant until it resumes)."""

    reason: Text


class ParticipationResumed(Body):
    """A party resumes its suspended participation."""

    note: Text | None = None


class MeasureAct(Body):
    """The imposer of a measure re-imposes, suspends or lifts it (a state or an
    organisation acting on its own measure; the Council acts by resolution)."""

    measure: Id
    note: Text | None = None


class CommitmentsCeased(Body):
    """A party ceases some of its commitments in response to another's non-performance
    (remedial non-performance, as JCPOA ¶26 and ¶36): it keeps the ground it claims."""

    commitments: list[Id] = Field(min_length=1, max_length=100)
    ground: Text
    in_response_to: list[Id] = Field(default_factory=list, max_length=20)


class AllegationMade(Body):
    """One party asserts another's fault. An allegation fires nothing by itself: the
    road map's finders confirm or reject it."""

    allegation: Id
    against: Id
    kind: Literal["custody", "undeclared", "receipt", "non-performance", "other"] = "other"
    subject: Id | None = None
    detail: Text


class AllegationAnswered(Body):
    """The accused party's signed response to an allegation."""

    allegation: Id
    response: Text


class FindingMade(Body):
    """A finder's determination on an allegation: confirmed or rejected."""

    allegation: Id
    outcome: Literal["confirmed", "rejected"]
    note: Text | None = None


class Extension(Body):
    """A decision's extension of a step's deadline by ``days``."""

    step: Id
    days: int = Field(ge=1, le=3650)


class Determination(Body):
    """A joint body's finding on an allegation: confirmed or rejected."""

    allegation: Id
    outcome: Literal["confirmed", "rejected"]


class DecisionProposed(Body):
    """A member of a joint body proposes a decision, and signs it.

    It does exactly one thing: ``extend`` a step's deadline, ``waive`` a step,
    ``perform`` a step whose actor is the body (a joint act), ``approve`` a text
    (an act recorded for later use, e.g. an amendment), or ``find`` on an allegation
    (when a consequence of the road map is ``found_by`` this body). ``by``: a date
    (``YYYY-MM-DD``) after which the decision lapses unless adopted.
    """

    decision: Id
    body: Id
    subject: Text
    extend: Extension | None = None
    waive: Id | None = None
    perform: Id | None = None
    approve: Text | None = None
    find: Determination | None = None
    by: str | None = None


class DecisionJoined(Body):
    """Another member of the joint body signs a proposed decision."""

    decision: Id


class DecisionBlocked(Body):
    """A member of the joint body declares that it will not sign a proposed decision."""

    decision: Id
    reason: Text


class ObligationRefused(Body):
    """The obliged party announces that it will not perform: a breach at once.

    ``step``: a step of the road map (the party must be its actor); or ``subject``:
    an obligation the road map does not list as a step (e.g. data exchanges).
    """

    step: Id | None = None
    subject: Text | None = None
    reason: Text


UnitText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class QuantityDeclared(Body):
    """The obligated party declares a value of a limited quantity.

    It names either a ``limit`` or a ``quantity`` (and, optionally, the ``item``),
    which then applies to each of the party's limits on that quantity.
    """

    limit: Id | None = None
    quantity: Id | None = None
    item: Id | None = None
    value: Number
    unit: UnitText
    note: Text | None = None


class QuantityMeasured(Body):
    """A verifier named by the limit reports a measured value, with its uncertainty."""

    limit: Id | None = None
    quantity: Id | None = None
    item: Id | None = None
    value: Number
    unit: UnitText
    uncertainty: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    note: Text | None = None


ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class ObligationPerformed(Body):
    """The obliged party performed one occurrence of a recurring obligation: the one
    due on ``occurrence`` (an ISO date, YYYY-MM-DD)."""

    obligation: Id
    occurrence: Annotated[str, Field(pattern=ISO_DATE)]
    note: Text | None = None


class ObligationConfirmed(Body):
    """A named verifier's finding on a performed occurrence."""

    obligation: Id
    occurrence: Annotated[str, Field(pattern=ISO_DATE)]
    outcome: Literal["confirmed", "failed"]
    note: Text | None = None


class InspectionConducted(Body):
    """An inspection the inspecting party chose, of a road-map-listed type, at a site
    of the ``inspected`` party; it counts against the road map's quotas."""

    type: Id
    inspected: Id
    site: Text
    note: Text | None = None


class RatificationDeposited(Body):
    """A party deposits its instrument of ratification."""

    note: Text | None = None


class AgreementExtended(Body):
    """A party signs an extension of the agreement's duration; the first signature
    proposes it, and it takes effect once every required party has signed it."""

    extension: Id
    note: Text | None = None


class AgreementTerminated(Body):
    """A party signs the termination of the agreement (effective once enough have)."""

    reason: Text


Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
Day = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class AmendmentProposed(Body):
    """A party proposes a new road-map version: its digest (the file travels as
    ``versions/<hex>.yaml`` in the agreement directory) and the date it takes effect."""

    amendment: Id
    digest: Digest
    effective: Day
    note: Text | None = None


class AmendmentConsented(Body):
    """A party consents to a proposed amendment."""

    amendment: Id


BODIES: dict[str, type[Body]] = {
    "agreement.adopted": AgreementAdopted,
    "step.reported": StepReported,
    "step.verified": StepVerified,
    "step.waived": StepWaived,
    "inventory.observed": InventoryObserved,
    "guarantee.signed": GuaranteeSigned,
    "guarantee.withdrawn": GuaranteeWithdrawn,
    "council.draft.tabled": DraftTabled,
    "council.vote.cast": VoteCast,
    "council.vote.closed": VoteClosed,
    "snapback.notified": SnapbackNotified,
    "declaration.committed": DeclarationCommitted,
    "declaration.revealed": DeclarationRevealed,
    "beacon.committed": BeaconCommitted,
    "beacon.revealed": BeaconRevealed,
    "inspection.planned": InspectionPlanned,
    "inspection.reported": InspectionReported,
    "custody.handed_over": CustodyHandedOver,
    "custody.received": CustodyReceived,
    "party.withdrawal_notified": WithdrawalNotified,
    "participation.suspended": ParticipationSuspended,
    "participation.resumed": ParticipationResumed,
    "measure.reimposed": MeasureAct,
    "measure.suspended": MeasureAct,
    "measure.lifted": MeasureAct,
    "commitments.ceased": CommitmentsCeased,
    "allegation.made": AllegationMade,
    "allegation.answered": AllegationAnswered,
    "finding.made": FindingMade,
    "decision.proposed": DecisionProposed,
    "decision.joined": DecisionJoined,
    "decision.blocked": DecisionBlocked,
    "obligation.refused": ObligationRefused,
    "quantity.declared": QuantityDeclared,
    "quantity.measured": QuantityMeasured,
    "obligation.performed": ObligationPerformed,
    "obligation.confirmed": ObligationConfirmed,
    "inspection.conducted": InspectionConducted,
    "ratification.deposited": RatificationDeposited,
    "agreement.extended": AgreementExtended,
    "agreement.terminated": AgreementTerminated,
    "amendment.proposed": AmendmentProposed,
    "amendment.consented": AmendmentConsented,
}
"""Every event type cvid knows, mapped to the model of its body."""

# Continuous monitoring's types live in their own module (their bodies subclass Body).
from cvid.events.monitoring_bodies import MONITORING_BODIES  # noqa: E402

BODIES.update(MONITORING_BODIES)

EVENT_TYPES = event_types.EVENT_TYPES

if set(BODIES) != set(EVENT_TYPES):  # the names a road map may use, kept below both layers
    raise ImportError(
        f"cvid.event_types.EVENT_TYPES and BODIES differ: {sorted(set(BODIES) ^ set(EVENT_TYPES))}"
    )
