"""The road map as classes: what a road-map file may say, and nothing else.

Each class is a strict, frozen pydantic model that refuses unknown keys, so a typo
in a file is an error, not a silently ignored setting. The JSON Schema shipped as
``schema.json`` is generated from these classes. Checks that span the whole
document (references, cycles, thresholds, roles) are in :mod:`cvid.roadmap.check`;
reading YAML and reporting positions is :mod:`cvid.roadmap.loader`. No I/O here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Discriminator, Field, StringConstraints, Tag, model_validator

from cvid import calendar
from cvid._ids import STRICT, Id, Text
from cvid.roadmap.devices import Monitoring
from cvid.roadmap.translations import Translations

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=40)]

Role = Literal[
    "disarming_state",
    "guarantor",
    "party",
    "verifier",
    "council_permanent",
    "council_elected",
    "operator",
    "witness",
    "secretariat",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

DEFAULT_LIFECYCLE = ("declared", "frozen", "disabled", "dismantled", "removed")


class Model(BaseModel):
    """Base of every road-map class: strict, frozen, no unknown keys."""

    model_config = STRICT


# --- conditions -------------------------------------------------------------------------
# A condition is a one-key mapping: the key says which test, the value its argument.


class All(Model):
    """True when every sub-condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(Model):
    """True when at least one sub-condition is true."""

    any: list[Condition] = Field(min_length=1)


class Not(Model):
    """True when the sub-condition is false."""

    not_: Condition = Field(alias="not")


class Verified(Model):
    """True once a step (or every step of a phase) is verified, or waived."""

    verified: Id


class Reported(Model):
    """True once a step's actor has reported it (or it is verified or waived)."""

    reported: Id


class OverdueSpec(Model):
    """A step and the days of grace after its deadline."""

    step: Id
    grace_days: int = Field(default=0, ge=0, le=3650)


class Overdue(Model):
    """True once a step is not done ``grace_days`` after its deadline."""

    overdue: OverdueSpec


class Violated(Model):
    """True once a verifier found a step not carried out (``any``: any step)."""

    violated: Id


class IrreversibilityViolated(Model):
    """True once an item moved backward in its lifecycle (``any``: any item)."""

    irreversibility_violated: Id


class GuaranteeInForce(Model):
    """True while a guarantee is in force."""

    guarantee_in_force: Id


class ResolutionAdopted(Model):
    """True once a Council draft with this id, or this purpose, was adopted."""

    resolution_adopted: Id


class DateAfter(Model):
    """True from the start of the day after this date (in the agreement's time zone)."""

    date_after: dt.date


class Adopted(Model):
    """True once the agreement is in force (every adopting party has adopted it)."""

    adopted: Literal[True]


class SnapbackCompleted(Model):
    """True once a snapback window closed and re-imposed the measures."""

    snapback_completed: Literal[True]


class CellsSpec(Model):
    """A declaration and some of its cells (none listed: every cell)."""

    declaration: Id
    cells: list[Id] = Field(default_factory=list)


class CellsRevealed(Model):
    """True once those cells of a declaration are revealed completely (with proof)."""

    cells_revealed: CellsSpec


class ConfidenceSpec(Model):
    """A declaration and the confidence in its completeness to reach."""

    declaration: Id
    at_least: float = Field(gt=0, lt=1)


class Confidence(Model):
    """True while clean inspections give at least this posterior that nothing is hidden."""

    confidence: ConfidenceSpec


class DeclarationViolated(Model):
    """True once an inspection found an undeclared item or a discrepancy (``any``)."""

    declaration_violated: Id


class BeaconMissed(Model):
    """True once a party failed to reveal its beacon secret in time (``any``: anyone)."""

    beacon_missed: Id


class CustodyFlagged(Model):
    """True once a chain of custody shows a gap or a double hand-over (``any`` item)."""

    custody_flagged: Id


class AllegationConfirmed(Model):
    """True once the road map's finders confirmed an allegation of this kind (``any``)."""

    allegation_confirmed: Literal[
        "custody", "undeclared", "receipt", "non-performance", "other", "any"
    ]


class PartyWithdrawn(Model):
    """True once a party's withdrawal has taken effect (``any``: any party's)."""

    party_withdrawn: Id


class LimitExceeded(Model):
    """True while a limit is exceeded beyond its tolerance (``any``: any limit)."""

    limit_exceeded: Id


class LimitViolated(Model):
    """True once a limit has ever been exceeded beyond its tolerance (``any``)."""

    limit_violated: Id


class MissedSpec(Model):
    """A recurring obligation (as declared, or expanded ``<id>.<party>``; ``any``) and,
    for one declared with ``for_each``, the party whose occurrence counts."""

    obligation: Id
    party: Id | None = None


class ObligationMissed(Model):
    """True once an occurrence of a recurring obligation was missed or found failed
    (``any``: of any obligation)."""

    obligation_missed: Id | MissedSpec


class QuotaShort(Model):
    """True once a period of an ``at_least`` quota ended short (``any``: any quota)."""

    quota_short: Id


class ContinuitySpec(Model):
    """An item or facility a device covers (``any``: any of them) and the days of grace."""

    item: Id
    grace_days: int = Field(default=0, ge=0, le=36_500)


class ContinuityLost(Model):
    """True while continuity of knowledge of an item or facility has been lost (for
    more than ``grace_days``), until a re-verification re-establishes it."""

    continuity_lost: Id | ContinuitySpec


class BalanceFlagged(Model):
    """True once a material balance area's MUF was flagged (``any``: any area's)."""

    muf_flagged: Id


_CONDITION_TAGS = (
    "all",
    "any",
    "not",
    "verified",
    "reported",
    "overdue",
    "violated",
    "irreversibility_violated",
    "guarantee_in_force",
    "resolution_adopted",
    "date_after",
    "adopted",
    "snapback_completed",
    "cells_revealed",
    "confidence",
    "declaration_violated",
    "beacon_missed",
    "custody_flagged",
    "allegation_confirmed",
    "party_withdrawn",
    "limit_exceeded",
    "limit_violated",
    "obligation_missed",
    "quota_short",
    "continuity_lost",
    "muf_flagged",
)


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in _CONDITION_TAGS else None
    if isinstance(value, BaseModel):
        return _TAG_OF_CLASS.get(type(value))
    return None


Condition = Annotated[
    Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Verified, Tag("verified")]
    | Annotated[Reported, Tag("reported")]
    | Annotated[Overdue, Tag("overdue")]
    | Annotated[Violated, Tag("violated")]
    | Annotated[IrreversibilityViolated, Tag("irreversibility_violated")]
    | Annotated[GuaranteeInForce, Tag("guarantee_in_force")]
    | Annotated[ResolutionAdopted, Tag("resolution_adopted")]
    | Annotated[DateAfter, Tag("date_after")]
    | Annotated[Adopted, Tag("adopted")]
    | Annotated[SnapbackCompleted, Tag("snapback_completed")]
    | Annotated[CellsRevealed, Tag("cells_revealed")]
    | Annotated[Confidence, Tag("confidence")]
    | Annotated[DeclarationViolated, Tag("declaration_violated")]
    | Annotated[BeaconMissed, Tag("beacon_missed")]
    | Annotated[CustodyFlagged, Tag("custody_flagged")]
    | Annotated[AllegationConfirmed, Tag("allegation_confirmed")]
    | Annotated[PartyWithdrawn, Tag("party_withdrawn")]
    | Annotated[LimitExceeded, Tag("limit_exceeded")]
    | Annotated[LimitViolated, Tag("limit_violated")]
    | Annotated[ObligationMissed, Tag("obligation_missed")]
    | Annotated[QuotaShort, Tag("quota_short")]
    | Annotated[ContinuityLost, Tag("continuity_lost")]
    | Annotated[BalanceFlagged, Tag("muf_flagged")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message=(
            "expected a condition: a mapping with exactly one of the keys "
            + ", ".join(_CONDITION_TAGS)
        ),
    ),
]
_TAG_OF_CLASS: dict[type[BaseModel], str] = {
    All: "all",
    AnyOf: "any",
    Not: "not",
    Verified: "verified",
    Reported: "reported",
    Overdue: "overdue",
    Violated: "violated",
    IrreversibilityViolated: "irreversibility_violated",
    GuaranteeInForce: "guarantee_in_force",
    ResolutionAdopted: "resolution_adopted",
    DateAfter: "date_after",
    Adopted: "adopted",
    SnapbackCompleted: "snapback_completed",
    CellsRevealed: "cells_revealed",
    Confidence: "confidence",
    DeclarationViolated: "declaration_violated",
    BeaconMissed: "beacon_missed",
    CustodyFlagged: "custody_flagged",
    AllegationConfirmed: "allegation_confirmed",
    PartyWithdrawn: "party_withdrawn",
    LimitExceeded: "limit_exceeded",
    LimitViolated: "limit_violated",
    ObligationMissed: "obligation_missed",
    QuotaShort: "quota_short",
    ContinuityLost: "continuity_lost",
    BalanceFlagged: "muf_flagged",
}
CONDITION_CLASSES: tuple[type[BaseModel], ...] = tuple(_TAG_OF_CLASS)
"""Every condition class, in the order of the ``Condition`` union (the engine registers
an evaluator and a description for each: :data:`cvid.engine.conditions.KINDS`)."""


def _union_members() -> list[tuple[type[BaseModel], str]]:
    """The ``Condition`` union's members, as (class, tag)."""
    union, _ = get_args(Condition)
    return [(cls, tag.tag) for cls, tag in (get_args(member) for member in get_args(union))]


if (
    _union_members() != list(_TAG_OF_CLASS.items())
    or tuple(_TAG_OF_CLASS.values()) != _CONDITION_TAGS
):  # a condition added to one list and not the others
    raise ImportError("the Condition union, _TAG_OF_CLASS and _CONDITION_TAGS differ")

for _model in (All, AnyOf, Not):
    _model.model_rebuild()


# --- the agreement and its parties ------------------------------------------------------


class Ratifications(Model):
    """Entry into force on deposit: ``at_least`` of the parties ``by`` (all of them when
    ``at_least`` is absent) deposit their instruments of ratification."""

    by: list[Id] = Field(min_length=1)
    at_least: int | None = Field(default=None, ge=1)


class EntryIntoForce(Model):
    """When the agreement enters into force: at the start of a ``date`` (in the
    agreement's zone) once every adopting party has adopted it, or when the required
    ``ratifications`` are deposited."""

    date: dt.date | None = None
    ratifications: Ratifications | None = None

    @model_validator(mode="after")
    def _one_form(self) -> EntryIntoForce:
        if (self.date is None) == (self.ratifications is None):
            raise ValueError("entry_into_force has either 'date' or 'ratifications'")
        return self


class Extensions(Model):
    """How the agreement's duration may be extended: at most ``max`` times, each by
    ``length``, each extension signed by every party ``by`` (by default the adopting
    parties)."""

    max: int = Field(default=1, ge=1, le=100)
    length: Duration
    by: list[Id] = Field(default_factory=list)
    source: Text | None = None


class Termination(Model):
    """Who ends the agreement before its time: ``at_least`` of the parties ``by`` (by
    default every adopting party) signing ``agreement.terminated``."""

    by: list[Id] = Field(default_factory=list)
    at_least: int | None = Field(default=None, ge=1)
    source: Text | None = None


class AmendmentQuorum(Model):
    """At least ``at_least`` consents."""

    at_least: int = Field(ge=1)


class Amendments(Model):
    """How the road map is amended: a version proposed by one of the parties ``by`` (by
    default the adopting parties) is adopted by their consents (``all``, or at least K)."""

    consent: Literal["all"] | AmendmentQuorum = "all"
    by: list[Id] = Field(default_factory=list)
    source: Text | None = None


class Agreement(Model):
    """What is agreed, by whom, and the rules for the events that carry it out.

    ``zone`` is the IANA time zone in which the road map's dates are read (a deadline
    on a date ends when that day ends there); ``UTC`` by default. ``early_steps``: a
    step reported before its dependencies are done is ``record``-ed as performed early,
    or refused (``refuse``). ``storage_quota_bytes_per_day``: the most bytes of log
    entries one party may add per UTC day (none: no quota), so that no party can fill
    the log.
    """

    id: Id
    title: Text
    origin: Annotated[str, Field(pattern=r"^[!-*,-~]{1,200}$")]
    start: dt.date
    adopted_by: list[Id] = Field(min_length=1)
    zone: Annotated[str, Field(pattern=r"^[A-Za-z0-9_+/-]{1,64}$")] = "UTC"
    clock_skew_seconds: int = Field(default=300, ge=0, le=86_400)
    max_body_bytes: int = Field(default=16_384, ge=256, le=60_000)
    early_steps: Literal["record", "refuse"] = "record"
    storage_quota_bytes_per_day: int | None = Field(default=None, ge=1024, le=10**12)
    source: Text | None = None
    entry_into_force: EntryIntoForce | None = None
    duration: Duration | None = None
    extensions: Extensions | None = None
    termination: Termination = Field(default_factory=Termination)
    after_end: list[Id] = Field(default_factory=list)


class Party(Model):
    """A state or body that acts by signing events with one of its keys.

    ``short_name`` is what crowded places (tables, the headline) write; without it
    they write ``name``."""

    id: Id
    name: Text
    roles: list[Role] = Field(min_length=1)
    keys: list[str] = Field(default_factory=list)
    short_name: ShortText | None = None  # as tables and headlines write it, e.g. "DPRK"


class Term(Model):
    """An elected member's seat on the Council: from the first day to the last day held
    (both dates inclusive, in the agreement's time zone; no ``until``: still held)."""

    party: Id
    from_: dt.date = Field(alias="from")
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.until is not None and self.until < self.from_:
            raise ValueError("a term cannot end before it starts")
        return self


class Presidency(Model):
    """Who presides the Council from a day on (until the next entry's day)."""

    party: Id
    from_: dt.date = Field(alias="from")


class Council(Model):
    """The Security Council's vote rule (Charter Art. 23 and 27), its members over time
    and its presidency.

    Its members are the parties with a ``council_permanent`` role, and those with a
    ``council_elected`` role while one of their ``terms`` runs (always, when the road
    map lists no terms). A non-procedural draft is adopted with ``affirmative_votes``
    and no negative vote of a permanent member; a procedural one with the votes alone.
    A vote is closed by the presidency of the day (``presidency``), by a party with the
    ``secretariat`` role, or, when the road map names no presidency, by the member that
    tabled the draft; a draft with ``vote_by`` closes by itself then.
    """

    size: int = Field(default=15, ge=1, le=100)
    affirmative_votes: int = Field(default=9, ge=1, le=100)
    permanent_veto: bool = True
    terms: list[Term] = Field(default_factory=list)
    presidency: list[Presidency] = Field(default_factory=list)
    source: Text | None = None


# --- inventory, measures, guarantees ----------------------------------------------------


class Category(Model):
    """A kind of item, with its forward-only lifecycle."""

    id: Id
    title: Text
    lifecycle: list[Id] | None = Field(default=None, min_length=2)


class Item(Model):
    """One declared item: a facility, a stock, a delivery system."""

    id: Id
    title: Text
    category: Id
    state: Id | None = None
    quantity: float | None = None
    unit: Text | None = None
    source: Text | None = None


class Inventory(Model):
    """The categories and items a road map moves through their lifecycles."""

    categories: list[Category] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)


class Measure(Model):
    """A sanctions measure, held in force or suspended as an interim measure.

    ``imposed_by`` is ``council`` (a UN measure: only a Council resolution, or the road
    map's own rules, act on it) or the party that imposed it (a state or a regional
    organisation, which re-imposes, suspends or lifts it by its own signed events).
    """

    id: Id
    title: Text
    source: Text
    initially: Literal["in_force", "suspended"] = "in_force"
    imposed_by: Id = "council"


class Guarantee(Model):
    """A security guarantee: given when ``threshold`` of its guarantors sign it."""

    id: Id
    title: Text
    text: Text
    guarantors: list[Id] = Field(min_length=1)
    threshold: int = Field(ge=1)
    source: Text | None = None


# --- phases and steps -------------------------------------------------------------------


ZoneName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_+/-]{1,64}$")]
"""An IANA time zone name (``UTC``, ``America/New_York``); its existence is checked
when the road map loads (:mod:`cvid.roadmap.check`)."""

EventTypeName = Annotated[str, Field(pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*){1,3}$")]


class ResolutionAnchor(Model):
    """The adoption of a Council resolution: the first draft adopted whose id, or
    whose purpose, is ``resolution``."""

    resolution: Id


class FirstEventAnchor(Model):
    """The first admitted event of a type (e.g. ``snapback.notified``)."""

    first: EventTypeName


Anchor = Id | ResolutionAnchor | FirstEventAnchor
"""What a deadline counts from: ``start``, ``adoption``, a step id (when it is done),
a phase id (when every step of it is done), a resolution or the first event of a type."""


def anchor_key(anchor: Anchor) -> tuple[str, str]:
    """An anchor as ``(kind, ref)``: ``("milestone", id)`` for start, adoption, steps
    and phases, ``("resolution", draft id or purpose)``, ``("first", event type)``."""
    if isinstance(anchor, ResolutionAnchor):
        return ("resolution", anchor.resolution)
    if isinstance(anchor, FirstEventAnchor):
        return ("first", anchor.first)
    return ("milestone", anchor)


class Deadline(Model):
    """When something is due, or happens: one of four forms.

    - ``date``: the end of that day in the agreement's time zone;
    - ``after`` a milestone (an :data:`Anchor`), plus ``days``, ``months`` and
      ``years`` in any combination (none: at the milestone itself), counted on the
      calendar of the agreement's zone (:func:`cvid.calendar.add`);
    - ``earliest_of`` / ``latest_of``: two or more deadlines, whichever comes first
      (last). When each form becomes known is :mod:`cvid.engine.anchors`' rule.
    """

    date: dt.date | None = None
    after: Anchor | None = None
    days: int | None = Field(default=None, ge=0, le=36_500)
    months: int | None = Field(default=None, ge=0, le=1_200)
    years: int | None = Field(default=None, ge=0, le=100)
    earliest_of: list[Deadline] | None = Field(default=None, min_length=2, max_length=20)
    latest_of: list[Deadline] | None = Field(default=None, min_length=2, max_length=20)

    @model_validator(mode="after")
    def _one_form(self) -> Deadline:
        forms = [self.date, self.after, self.earliest_of, self.latest_of]
        if sum(f is not None for f in forms) != 1:
            raise ValueError(
                "a deadline has either 'date' or 'after' (with days, months or years), "
                "or 'earliest_of' or 'latest_of': exactly one of them"
            )
        if self.after is None and self.has_duration:
            raise ValueError("'days', 'months' and 'years' count from 'after': add it")
        return self

    @property
    def has_duration(self) -> bool:
        """True when the deadline states days, months or years (even zero)."""
        return self.days is not None or self.months is not None or self.years is not None

    def anchors(self) -> Iterator[tuple[str, str]]:
        """The anchors it counts from, through earliest_of and latest_of, as
        ``(kind, ref)``: ``milestone`` (start, adoption, a step or a phase),
        ``resolution`` or ``first``."""
        if self.after is not None:
            yield anchor_key(self.after)
        for operand in (self.earliest_of or []) + (self.latest_of or []):
            yield from operand.anchors()


Deadline.model_rebuild()


class Verification(Model):
    """Who must confirm a step, and how many of them.

    A verifier confirms a step its actor has reported; with ``by_observation`` it may
    also confirm what it observed without a report.
    """

    by: list[Id] = Field(min_length=1)
    threshold: int = Field(default=1, ge=1)
    method: Text | None = None
    by_observation: bool = False


class Transition(Model):
    """The lifecycle state an item, or every item of a category, reaches by a step."""

    item: Id | None = None
    category: Id | None = None
    to: Id

    @model_validator(mode="after")
    def _one_target(self) -> Transition:
        if (self.item is None) == (self.category is None):
            raise ValueError("a transition names either an 'item' or a 'category'")
        return self


class Step(Model):
    """One thing one party must do (or, as a right, may do), by when, and who confirms it.

    The actor may be a joint body: the step is then a joint act, done when the body's
    decision to perform it is adopted. ``owed_to`` names the party the step is owed
    to (its beneficiary), who may waive it; the actor never may.
    An ``automatic`` step is a milestone defined by its date (JCPOA Adoption Day, 90
    days after the endorsement): it is done when its deadline arrives, with no report
    (or earlier, if its actor reports it earlier), once its dependencies are done.
    A step of ``kind: right`` is an act its actor may perform (a complaint, a referral):
    never owed, never overdue, never a violation for not being done, and its phase's
    completion does not wait for it; steps that depend on it wait until it is
    performed. A right has no deadline, verification, beneficiary or automatic
    happening, and its actor is a party (checked when the road map loads).
    """

    id: Id
    title: Text
    actor: Id
    action: Text
    items: list[Transition] = Field(default_factory=list)
    depends_on: list[Id] = Field(default_factory=list)
    deadline: Deadline | None = None
    verification: Verification | None = None
    reveals: CellsSpec | None = None
    cica_measure: Id | None = None
    owed_to: Id | None = None
    automatic: bool = False
    kind: Literal["obligation", "right"] = "obligation"
    source: Text | None = None


class Phase(Model):
    """A group of steps. It is complete from the first moment at which every step it
    requires is done and none of its steps stands violated; it requires its
    obligations (steps of ``kind: obligation``), or, when all its steps are rights,
    all of them (:func:`cvid.roadmap.steps.required`)."""

    id: Id
    title: Text
    steps: list[Step] = Field(min_length=1)
    source: Text | None = None


# --- continuing obligations: limits on measured quantities -----------------------------


class Limit(Model):
    """A bound on a measured quantity that ``party`` must keep over an interval.

    The bound is ``max``, ``min``, both (a range) or ``equal``, in ``unit`` (any unit
    :mod:`cvid.units` reads: ``kg``, ``%``, ``centrifuges``...); a value beyond the
    bound by more than ``tolerance`` (in ``unit``) exceeds the limit. The limit holds
    from ``from`` (a deadline-shaped moment: ``{date: ...}`` or ``{after: <start |
    adoption | step | phase>, days: N}``; absent: from adoption) until ``until``
    (the end of that date, or the milestone plus the days; absent: open-ended).
    ``party`` declares values; the ``verifiers`` measure them, and without a
    measurement for ``measure_every_days`` the limit is unverified. ``quantity`` names
    what is measured (events may refer to it instead of the limit), ``item`` the
    inventory item or facility it applies to.
    """

    id: Id
    title: Text
    party: Id
    quantity: Id
    item: Id | None = None
    unit: Annotated[str, Field(min_length=1, max_length=64)]
    max: float | None = Field(default=None, allow_inf_nan=False)
    min: float | None = Field(default=None, allow_inf_nan=False)
    equal: float | None = Field(default=None, allow_inf_nan=False)
    tolerance: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    from_: Deadline | None = Field(default=None, alias="from")
    until: Deadline | None = None
    measure_every_days: int | None = Field(default=None, ge=1, le=36_500)
    verifiers: list[Id] = Field(min_length=1)
    source: Text | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Limit:
        if self.equal is not None and (self.max is not None or self.min is not None):
            raise ValueError("a limit has either 'equal' or 'min'/'max', not both")
        if self.equal is None and self.max is None and self.min is None:
            raise ValueError("a limit needs a bound: 'max', 'min' (or both) or 'equal'")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min:g}) is above 'max' ({self.max:g})")
        return self


# --- rewards, consequences, snapback ----------------------------------------------------


class FinderVerifiers(Model):
    """``threshold`` of the verifiers ``by`` (none listed: the road map's ``findings``)."""

    by: list[Id] = Field(default_factory=list)
    threshold: int = Field(default=1, ge=1)


class FoundBy(Model):
    """Whose finding confirms the allegations a rule's condition looks at
    (``allegation_confirmed``, and ``custody_flagged`` by a custody allegation):
    exactly one of ``verifiers`` (k of n named verifiers, signing ``finding.made``),
    ``joint_body`` (an adopted decision of that body with ``find``) or ``council:
    true`` (an adopted Council resolution that ``determines`` the allegation)."""

    verifiers: FinderVerifiers | None = None
    joint_body: Id | None = None
    council: Literal[True] | None = None
    source: Text | None = None

    @model_validator(mode="after")
    def _one_finder(self) -> FoundBy:
        named = [self.verifiers, self.joint_body, self.council]
        if sum(x is not None for x in named) != 1:
            raise ValueError("found_by names exactly one of 'verifiers', 'joint_body', 'council'")
        return self


class Reward(Model):
    """What the others give, once its condition holds.

    ``suspend_measures_of`` names imposers (``council`` or parties): every measure they
    impose is suspended, as well as the ``suspend_measures`` named one by one.
    ``found_by`` says whose finding confirms the allegations its condition looks at, as
    for a consequence (absent: the road map's ``findings``).
    """

    id: Id
    title: Text
    when: Condition
    found_by: FoundBy | None = None
    suspend_measures: list[Id] = Field(default_factory=list)
    suspend_measures_of: list[Id] = Field(default_factory=list)
    bring_into_force: list[Id] = Field(default_factory=list)
    aid: list[Text] = Field(default_factory=list)
    source: Text | None = None


class Consequence(Model):
    """What follows a failure, once its condition holds.

    ``reimpose_measures_of`` names imposers (``council`` or parties): every measure they
    impose is re-imposed, as well as the ``reimpose_measures`` named one by one.
    ``found_by`` says whose finding confirms the allegations its condition looks at
    (absent: the road map's ``findings``); a finding by anyone else does not fire it.
    """

    id: Id
    title: Text
    when: Condition
    found_by: FoundBy | None = None
    reimpose_measures: list[Id] = Field(default_factory=list)
    reimpose_measures_of: list[Id] = Field(default_factory=list)
    suspend_guarantees: list[Id] = Field(default_factory=list)
    council_procedure: Text | None = None
    source: Text | None = None


class Snapback(Model):
    """Re-imposition on notice, as in UNSCR 2231 ¶11-12.

    A notification by an ``entitled`` party opens a window of ``window_days``;
    unless a Council draft with purpose ``continue_relief`` is adopted within it,
    the ``measures`` (all measures when empty) are re-imposed when it closes. The
    window counts whole days in ``zone`` (the agreement's zone when absent): it closes
    at the end of the day ``window_days`` after the notice's date there
    (:func:`cvid.calendar.window_end`).
    """

    entitled: list[Id] = Field(min_length=1)
    window_days: int = Field(default=30, ge=1, le=3650)
    zone: ZoneName | None = None
    measures: list[Id] = Field(default_factory=list)
    source: Text | None = None


class Prior(Model):
    """The prior on the number of falsified cells (uniform: 0..max_hidden, capped at the
    number of cells; binomial: each cell falsified with probability q)."""

    kind: Literal["uniform", "binomial"] = "uniform"
    max_hidden: int = Field(default=10, ge=1, le=100_000)
    q: float = Field(default=0.05, gt=0, lt=1)


class Declaration(Model):
    """A declaration the road map expects, committed in escrow by ``by``."""

    id: Id
    title: Text
    by: Id
    source: Text | None = None


class Escrow(Model):
    """Declarations in escrow, and how inspections of them are judged."""

    declarations: list[Declaration] = Field(min_length=1)
    quantity_tolerance: float = Field(default=0.05, ge=0, le=1)
    per_inspection: float = Field(default=1.0, gt=0, le=1)
    prior: Prior = Field(default_factory=Prior)


class Beacon(Model):
    """Who contributes secrets to the randomness beacon, and how long they have to reveal."""

    participants: list[Id] = Field(min_length=2)
    reveal_days: int = Field(default=7, ge=1, le=365)


class Custody(Model):
    """Chains of custody: how long a receiver has to acknowledge a hand-over."""

    receipt_days: int = Field(default=30, ge=1, le=3650)


class Duration(Model):
    """A length of time in calendar days, months and years (any combination)."""

    days: int = Field(default=0, ge=0, le=36_500)
    months: int = Field(default=0, ge=0, le=1200)
    years: int = Field(default=0, ge=0, le=100)

    def after(self, moment: dt.datetime, zone: str) -> dt.datetime:
        """``moment`` plus this duration on the calendar of ``zone``."""
        return calendar.add(
            moment, days=self.days, months=self.months, years=self.years, zone_name=zone
        )


class Withdrawal(Model):
    """How a party leaves: the notice it gives, and what happens to obligations owed to it.

    A withdrawal takes effect ``notice`` after it is notified (at once with no notice).
    From then on the party is ``withdrawn``: its open obligations close as withdrawn, it
    loses its rights as a participant (to notify snapback, to allege, to take part in
    decisions), and it may only act on its own measures and, if a member, in the
    Council. Obligations owed to it ``lapse`` or ``continue``.
    """

    notice: Duration = Field(default_factory=Duration)
    owed_to_withdrawn: Literal["lapse", "continue"] = "continue"
    source: Text | None = None


class Findings(Model):
    """Who turns an allegation into a finding: ``threshold`` of the parties ``by``
    (by default any one party with the ``verifier`` role)."""

    by: list[Id] = Field(default_factory=list)
    threshold: int = Field(default=1, ge=1)
    source: Text | None = None


class Witness(Model):
    """An independent witness that cosigns the log's checkpoints (C2SP tlog-witness).

    ``key`` is its ``cosignature/v1`` verifier key, named ``id``; a template leaves it
    out and ``cvid agreement init`` generates one.
    """

    id: Id
    name: Text
    key: str | None = None


class Witnesses(Model):
    """Who witnesses the log, and how many cosignatures make a checkpoint final."""

    threshold: int = Field(ge=1, le=100)
    members: list[Witness] = Field(min_length=1)
    source: Text | None = None


class AtLeast(Model):
    """A joint body's decision rule: at least ``at_least`` of its members sign."""

    at_least: int = Field(ge=1, le=1000)


class JointBody(Model):
    """A body of parties that decides together (the JCPOA's Joint Commission).

    A decision is adopted when the members its ``rule`` requires have signed it:
    ``consensus`` (every member that is a participant at the time) or ``at_least``
    K of them. Its decisions may extend the deadline of a step, or waive a step, whose
    actor is the body or one of its members, record an approval, or perform a step
    whose actor is the body itself (a joint act).
    """

    id: Id
    title: Text
    members: list[Id] = Field(min_length=1, max_length=1000)
    rule: Literal["consensus"] | AtLeast = "consensus"
    source: Text | None = None


# --- recurring obligations, inspections and quotas --------------------------------------


class Every(Model):
    """A recurrence period: exactly one of ``days``, ``months`` or ``years``."""

    days: int | None = Field(default=None, ge=1, le=36_500)
    months: int | None = Field(default=None, ge=1, le=1_200)
    years: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _one_unit(self) -> Every:
        if sum(x is not None for x in (self.days, self.months, self.years)) != 1:
            raise ValueError("'every' has exactly one of 'days', 'months' or 'years'")
        return self


class After(Model):
    """A milestone to count from: ``start``, ``adoption``, a step or a phase."""

    after: Id


class Reached(Model):
    """A milestone that ends a recurring obligation: ``adoption``, a step or a phase."""

    milestone: Id


class ForEachRole(Model):
    """Every party holding a role."""

    role: Role


MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class Obligation(Model):
    """A continuing obligation, due again and again.

    Owed by ``party``, or by each party of ``for_each`` (a list of parties, or every
    party holding a role), expanded when the road map loads into one obligation per
    party with the id ``<id>.<party>``. Due every ``every`` counted on the calendar
    from ``from`` (a date, or ``{after: milestone}``; adoption by default), or each
    year on the ``on_dates`` (``MM-DD``; a key ``on`` would read as a YAML boolean)
    after ``from``; the last occurrence is on or before ``until`` (a date, or
    ``{milestone: ...}`` once reached). An occurrence is due by the end of its date in
    the agreement's zone, and missed ``grace_days`` later if nothing was performed.
    Nothing is owed before the agreement is in force.
    """

    id: Id
    title: Text
    party: Id | None = None
    for_each: list[Id] | ForEachRole | None = None
    owed_to: list[Id] = Field(default_factory=list)
    action: Text
    every: Every | None = None
    on_dates: list[Annotated[str, Field(pattern=MONTH_DAY)]] | None = Field(
        default=None, min_length=1, max_length=366
    )
    from_: dt.date | After = Field(default_factory=lambda: After(after="adoption"), alias="from")
    until: dt.date | Reached | None = None
    grace_days: int = Field(default=0, ge=0, le=3650)
    verification: Verification | None = None
    source: Text | None = None

    @model_validator(mode="after")
    def _well_formed(self) -> Obligation:
        if (self.party is None) == (self.for_each is None):
            raise ValueError("an obligation names either 'party' or 'for_each'")
        if (self.every is None) == (self.on_dates is None):
            raise ValueError("an obligation recurs either 'every' period or on listed 'on_dates'")
        return self


class InspectionType(Model):
    """A type of inspection the inspecting parties ``by`` may choose to carry out
    (of the parties ``of``; any other party when empty)."""

    id: Id
    title: Text
    by: list[Id] = Field(min_length=1)
    of: list[Id] = Field(default_factory=list)
    source: Text | None = None


class Period(Model):
    """Counting periods of ``months`` months from the date ``from`` (by default the
    calendar year: 12 months from 1 January of the agreement's start year)."""

    months: int = Field(default=12, ge=1, le=1_200)
    from_: dt.date | None = Field(default=None, alias="from")


class Quota(Model):
    """At least and/or at most so many inspections per period, for ``party``.

    ``counts``: ``conducted`` counts the inspections the party carries out,
    ``received`` the inspections of the party; ``types`` (none: every type) narrows
    them. A carried-out inspection beyond ``at_most`` is refused; a period that ends
    below ``at_least`` is the party's violation.
    """

    id: Id
    title: Text
    party: Id
    counts: Literal["conducted", "received"] = "conducted"
    types: list[Id] = Field(default_factory=list)
    at_least: int | None = Field(default=None, ge=1, le=100_000)
    at_most: int | None = Field(default=None, ge=0, le=100_000)
    period: Period = Field(default_factory=Period)
    source: Text | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Quota:
        if self.at_least is None and self.at_most is None:
            raise ValueError("a quota has 'at_least', 'at_most' or both")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("'at_least' is above 'at_most'")
        return self


class RoadMap(Model):
    """A whole road map, as written in a ``cvid_roadmap: 1`` file."""

    cvid_roadmap: Literal[1]
    agreement: Agreement
    parties: list[Party] = Field(min_length=1)
    council: Council | None = None
    lifecycle: list[Id] = Field(default_factory=lambda: list(DEFAULT_LIFECYCLE), min_length=2)
    inventory: Inventory = Field(default_factory=Inventory)
    measures: list[Measure] = Field(default_factory=list)
    guarantees: list[Guarantee] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    rewards: list[Reward] = Field(default_factory=list)
    consequences: list[Consequence] = Field(default_factory=list)
    snapback: Snapback | None = None
    escrow: Escrow | None = None
    beacon: Beacon | None = None
    custody: Custody = Field(default_factory=Custody)
    witnesses: Witnesses | None = None
    withdrawal: Withdrawal = Field(default_factory=Withdrawal)
    findings: Findings = Field(default_factory=Findings)
    permissions: dict[str, list[Id]] = Field(default_factory=dict)
    joint_bodies: list[JointBody] = Field(default_factory=list)
    limits: list[Limit] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    inspection_types: list[InspectionType] = Field(default_factory=list)
    quotas: list[Quota] = Field(default_factory=list)
    amendments: Amendments | None = None
    monitoring: Monitoring | None = None
    translations: Translations = Field(default_factory=dict)


Extensions.model_rebuild()  # they name Duration, defined further down
Agreement.model_rebuild()
