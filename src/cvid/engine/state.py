"""The engine's answer: where an agreement stands at a moment, and why.

Every object carries the reason for its status and the log indices of the events
that support it, so a reader (the report, the dashboard, an auditor) can follow
each claim back to signed entries. All frozen; built only by
:func:`cvid.engine.evaluate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cvid.engine.council import Tally
from cvid.engine.monitoring_state import BalanceState, ContinuityState, DeviceState


def moment_text(moment: dt.datetime | None) -> str:
    """A moment as reasons, tables and reports show it: the date alone at midnight UTC,
    else the date and time in UTC; empty for None."""
    if moment is None:
        return ""
    moment = moment.astimezone(dt.UTC)
    if moment.time() == dt.time():
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


StepStatus = Literal[
    "blocked", "open", "reported", "verified", "violated", "overdue", "waived", "withdrawn", "ended"
]
PhaseStatus = Literal["blocked", "open", "overdue", "violated", "complete", "ended"]
GuaranteeStatus = Literal["pending", "given", "in_force", "suspended"]
MeasureStatus = Literal["in_force", "suspended"]
LimitStatus = Literal["in-compliance", "exceeded", "unverified", "not-in-effect"]


@dataclass(frozen=True)
class StepState:
    """A step's status at the evaluation time, the rule that set it and its events."""

    id: str
    phase: str
    actor: str
    status: StepStatus
    reason: str
    due: dt.datetime | None
    done_at: dt.datetime | None
    late: bool
    events: tuple[int, ...]


@dataclass(frozen=True)
class PhaseState:
    """A phase: complete from the first moment every step it requires is done (verified,
    reported, or waived) and none of its steps stands violated; it requires its
    obligations, not its rights (:func:`cvid.roadmap.steps.required`)."""

    id: str
    status: PhaseStatus
    done: int
    total: int
    complete_at: dt.datetime | None


@dataclass(frozen=True)
class GuaranteeState:
    """A guarantee as a result object: who signed, who is missing, and its status."""

    id: str
    status: GuaranteeStatus
    threshold: int
    signed_by: tuple[str, ...]
    missing: tuple[str, ...]
    since: dt.datetime | None
    reason: str
    events: tuple[int, ...]

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"


@dataclass(frozen=True)
class MeasureState:
    """A sanctions measure: in force or suspended, since when and why."""

    id: str
    status: MeasureStatus
    since: dt.datetime | None
    reason: str
    source: str
    imposed_by: str = "council"


@dataclass(frozen=True)
class DraftState:
    """A Council draft: when tabled, the votes so far, and once closed the outcome."""

    id: str
    title: str
    purpose: str
    tabled_by: str
    tabled_at: dt.datetime
    votes: dict[str, str]
    closed_at: dt.datetime | None
    tally: Tally | None
    events: tuple[int, ...]

    @property
    def adopted(self) -> bool:
        return self.tally is not None and self.tally.adopted


@dataclass(frozen=True)
class RuleState:
    """A reward or consequence: whether it fired, when, and on which condition."""

    id: str
    kind: Literal["reward", "consequence"]
    title: str
    condition: str
    fired_at: dt.datetime | None
    effects: tuple[str, ...]

    @property
    def fired(self) -> bool:
        return self.fired_at is not None


@dataclass(frozen=True)
class SnapbackState:
    """One snapback window, opened by a notification of non-performance."""

    notified_by: str
    notified_at: dt.datetime
    closes_at: dt.datetime
    outcome: Literal["open", "continued", "reimposed"]
    reason: str
    event: int
    joined_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemState:
    """An inventory item's recorded lifecycle state."""

    id: str
    category: str
    state: str
    since: dt.datetime | None


@dataclass(frozen=True)
class DeclarationState:
    """A declaration in escrow: what is revealed, what inspections found, the confidence."""

    id: str
    committed_at: dt.datetime
    cells: int
    revealed: tuple[str, ...]
    escrowed: tuple[str, ...]
    items_revealed: int
    inspected_clean: tuple[str, ...]
    violations: tuple[str, ...]
    confidence: float
    events: tuple[int, ...]


@dataclass(frozen=True)
class BeaconRoundState:
    """A beacon round: who committed, who revealed, by when, who missed the deadline."""

    id: str
    committed: tuple[str, ...]
    revealed: tuple[str, ...]
    reveal_by: dt.datetime | None
    missed: tuple[str, ...]


@dataclass(frozen=True)
class CustodyState:
    """An item's chain of custody: its holder, a pending hand-over, and any flags."""

    item: str
    holder: str
    in_transit_to: str | None
    flags: tuple[str, ...]
    events: tuple[int, ...]


@dataclass(frozen=True)
class Violation:
    """A step not carried out, an item moved back, a false declaration, a missed reveal,
    a broken chain of custody, a confirmed allegation, a refusal to perform, or a joint
    act one party blocked.

    ``party``: the party the violation is attributed to, when the engine knows it.
    """

    kind: Literal[
        "step",
        "irreversibility",
        "declaration",
        "beacon",
        "custody",
        "finding",
        "refusal",
        "joint-act",
        "limit",
        "obligation",
        "quota",
        "monitoring",
    ]
    subject: str
    at: dt.datetime
    detail: str
    event: int
    party: str = ""  # the party in breach, when the violation is attributable


@dataclass(frozen=True)
class PartyState:
    """A party's standing: a participant, withdrawn or with its participation suspended."""

    id: str
    standing: Literal["participant", "withdrawn", "suspended"]
    since: dt.datetime | None
    reason: str
    withdrawal_effective: dt.datetime | None = None


@dataclass(frozen=True)
class AllegationState:
    """One party's claim against another, the accused's answer, and the findings on it.

    ``status`` is ``open`` until the road map's finders confirm or reject it; only a
    ``confirmed`` allegation is a violation of the accused.
    """

    id: str
    by: str
    against: str
    kind: str
    subject: str | None
    detail: str
    at: dt.datetime
    status: Literal["open", "confirmed", "rejected"]
    since: dt.datetime
    response: str | None
    findings: dict[str, str]
    events: tuple[int, ...]


@dataclass(frozen=True)
class Breach:
    """A party's violation, with the ground it claimed (remedial non-performance)."""

    obligation: str
    since: dt.datetime
    ground: str
    kind: str
    detail: str


@dataclass(frozen=True)
class RemedialState:
    """A notice that a party ceases commitments in response to another's non-performance."""

    party: str
    commitments: tuple[str, ...]
    ground: str
    in_response_to: tuple[str, ...]
    at: dt.datetime
    event: int


DecisionStatus = Literal["proposed", "adopted", "blocked", "lapsed"]


@dataclass(frozen=True)
class DecisionState:
    """A joint body's decision: one decision, the signatures it has, and its outcome.

    ``since``: when it was adopted (the instant of the last required signature),
    blocked or lapsed. ``effect`` says what it does; ``reason`` what came of it.
    """

    id: str
    body: str
    subject: str
    effect: str
    status: DecisionStatus
    proposed_by: str
    signed_by: tuple[str, ...]
    blocked_by: tuple[str, ...]
    needed: int
    since: dt.datetime | None
    reason: str
    events: tuple[int, ...]


@dataclass(frozen=True)
class LimitValue:
    """One value declared or measured against a limit, converted to the limit's unit.

    ``submitted`` is the value as the event gave it (``"4500 g"``); ``counted`` is
    false for a value from outside the limit's interval (kept, never judged).
    """

    at: dt.datetime
    value: float
    unit: str
    by: str
    basis: Literal["declared", "measured"]
    event: int
    submitted: str
    uncertainty: float | None
    counted: bool


@dataclass(frozen=True)
class LimitState:
    """A continuing obligation on a measured quantity, and where it stands.

    ``status``: ``in-compliance`` (the last measurement within the bound and its
    tolerance), ``exceeded`` (a measurement, or the party's own declaration, beyond
    it; a violation), ``unverified`` (in effect but not measured, or not measured for
    ``measure_every_days``), ``not-in-effect`` (before ``from`` or after ``until``).
    ``value`` is the value the status rests on (``basis`` says whether measured or
    declared), in ``unit``; ``bound`` the bound as text (``≤ 300 kg``).
    """

    id: str
    title: str
    party: str
    quantity: str
    item: str | None
    status: LimitStatus
    value: float | None
    unit: str
    bound: str
    since: dt.datetime | None
    reason: str
    basis: Literal["declared", "measured"] | None
    tolerance: float
    declared: float | None
    exceeded_since: dt.datetime | None
    restored_at: dt.datetime | None
    violated: bool
    measure_due: dt.datetime | None
    in_effect_from: dt.datetime | None
    in_effect_until: dt.datetime | None
    history: tuple[LimitValue, ...]
    source: str | None


@dataclass(frozen=True)
class LifeState:
    """Where the agreement is in its life: ``pending`` (not yet in force), ``in_force``,
    ``expired`` or ``terminated``; ``since`` when it got there; ``until`` when it
    expires (while in force, if it has a duration) or ended; ``reason`` in words."""

    status: Literal["pending", "in_force", "expired", "terminated"]
    since: dt.datetime | None
    until: dt.datetime | None
    reason: str


@dataclass(frozen=True)
class Obligation:
    """Something a party owes now: a step to carry out, verify, a guarantee to sign,
    an occurrence of a recurring obligation to perform or confirm."""

    party: str
    kind: Literal["carry out", "verify", "sign", "perform", "confirm"]
    subject: str
    due: dt.datetime | None
    in_return: tuple[str, ...]


OccurrenceStatus = Literal["pending", "due", "performed", "done", "late", "missed", "failed"]


@dataclass(frozen=True)
class OccurrenceState:
    """One occurrence of a recurring obligation.

    ``due`` is its date (ISO, the one ``obligation.performed`` names); it is on time
    before ``due_at`` (the end of that day in the agreement's zone). ``pending``: open,
    not yet due; ``due``: the due time passed, within the days of grace; ``performed``:
    awaiting its verifiers; ``done`` or ``late`` (performed at or after ``due_at``);
    ``missed``: nothing performed by the end of the grace; ``failed``: a verifier
    found it not performed.
    """

    due: str
    due_at: dt.datetime
    status: OccurrenceStatus
    performed_at: dt.datetime | None
    confirmed_by: tuple[str, ...]
    events: tuple[int, ...]


@dataclass(frozen=True)
class RecurringState:
    """A recurring obligation of one party and its occurrences up to the evaluation
    time (``at`` bounds them: the last is the one open at ``at``)."""

    id: str
    declared: str
    title: str
    party: str
    owed_to: tuple[str, ...]
    reason: str
    next_due: str | None
    occurrences: tuple[OccurrenceState, ...]


QuotaPeriodStatus = Literal["open", "met", "short", "closed", "not judged"]


@dataclass(frozen=True)
class QuotaPeriodState:
    """One counting period of a quota: inspections counted, and how it stands."""

    start: dt.datetime
    end: dt.datetime
    count: int
    status: QuotaPeriodStatus


@dataclass(frozen=True)
class QuotaState:
    """A quota on inspections for a party, per period."""

    id: str
    party: str
    counts: Literal["conducted", "received"]
    at_least: int | None
    at_most: int | None
    periods: tuple[QuotaPeriodState, ...]


@dataclass(frozen=True)
class AgreementState:
    """Where the agreement stands at ``at``, computed from the road map and events."""

    at: dt.datetime
    agreement: str
    in_force: bool
    adopted_at: dt.datetime | None
    adopted_by: tuple[str, ...]
    events_seen: int
    steps: dict[str, StepState]
    phases: dict[str, PhaseState]
    guarantees: dict[str, GuaranteeState]
    measures: dict[str, MeasureState]
    drafts: dict[str, DraftState]
    rules: dict[str, RuleState]
    snapbacks: tuple[SnapbackState, ...]
    items: dict[str, ItemState]
    violations: tuple[Violation, ...]
    alerts: tuple[str, ...]
    owed: tuple[Obligation, ...] = field(default=())
    declarations: dict[str, DeclarationState] = field(default_factory=dict)
    beacon_rounds: dict[str, BeaconRoundState] = field(default_factory=dict)
    custody: dict[str, CustodyState] = field(default_factory=dict)
    parties: dict[str, PartyState] = field(default_factory=dict)
    allegations: tuple[AllegationState, ...] = ()
    breaches: dict[str, tuple[Breach, ...]] = field(default_factory=dict)
    remedial: tuple[RemedialState, ...] = ()
    decisions: dict[str, DecisionState] = field(default_factory=dict)
    limits: dict[str, LimitState] = field(default_factory=dict)
    obligations: dict[str, RecurringState] = field(default_factory=dict)
    quotas: dict[str, QuotaState] = field(default_factory=dict)
    life: LifeState = field(default_factory=lambda: LifeState("pending", None, None, ""))
    continuity: dict[str, ContinuityState] = field(default_factory=dict)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    balances: dict[str, BalanceState] = field(default_factory=dict)
