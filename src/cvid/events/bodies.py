"""The closed set of event types and the schema of each one's body.

An event's body is validated against its type's model before anything else about
it is believed: unknown fields, wrong types and missing fields are refused. The
models say nothing about *who* may submit an event or whether its references exist;
that is :mod:`cvid.events.authz`. This module does no I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

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
    the parties to the dispute to abstain (Charter Art. 27(3)).
    """

    draft: Id
    title: Text
    purpose: Literal["continue_relief", "endorse", "other"]
    chapter: Literal["VI", "VII", "procedural"] = "VII"
    dispute_parties: list[Id] = Field(default_factory=list, max_length=15)
    suspend_measures: list[Id] = Field(default_factory=list, max_length=100)
    reimpose_measures: list[Id] = Field(default_factory=list, max_length=100)


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
}
"""Every event type cvid knows, mapped to the model of its body."""

EVENT_TYPES = tuple(BODIES)
