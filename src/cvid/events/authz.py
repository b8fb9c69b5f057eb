"""Admission: whether a signed event may go on an agreement's log, and if not why.

:class:`Gate` holds what an adopted road map says about events (its hash, the
parties' keys, who may submit which type) and :class:`History` what the log has
already accepted (each party's last sequence number and time, adoptions, drafts
and votes, guarantee signatures, snapback notices). :meth:`Gate.admit` checks a
submission against both and either returns it parsed, or raises with a stable
reason code and a precise message. It never changes anything: the caller appends
the entry and then calls :meth:`History.record`. Admission reads no clock; the
time of receipt is the ``now`` argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.events.authz_escrow import EscrowHistory, check_escrow_event
from cvid.events.authz_obligations import ObligationHistory, check_obligation_event
from cvid.events.envelope import MAX_EVENT_BYTES, SignedEvent, format_time, verify_signature
from cvid.log.note import Verifier
from cvid.roadmap.check import lifecycle_of
from cvid.roadmap.loader import digest
from cvid.roadmap.membership import COUNCIL_ROLES, Membership
from cvid.roadmap.model import RoadMap
from cvid.roadmap.obligations import expand


@dataclass(frozen=True)
class AdmittedEvent:
    """An event that passed admission, with its log index and its parsed body."""

    index: int
    signed: SignedEvent
    body: b.Body
    checked: Any = None  # what admission verified beyond the body (a reveal's leaves)

    @property
    def type(self) -> str:
        return self.signed.event.type

    @property
    def party(self) -> str:
        return self.signed.event.party

    @property
    def time(self) -> dt.datetime:
        return self.signed.event.time


@dataclass
class _Draft:
    body: b.DraftTabled
    tabled_by: str
    voters: set[str] = field(default_factory=set)
    closed: bool = False


@dataclass
class History:
    """What admission needs to remember of the events already logged."""

    size: int = 0
    seq: dict[str, int] = field(default_factory=dict)
    last_time: dict[str, dt.datetime] = field(default_factory=dict)
    adopted: set[str] = field(default_factory=set)
    drafts: dict[str, _Draft] = field(default_factory=dict)
    guarantee_signers: dict[str, set[str]] = field(default_factory=dict)
    snapback_notices: list[tuple[dt.datetime, str]] = field(default_factory=list)
    escrow: EscrowHistory = field(default_factory=EscrowHistory)
    obligations: ObligationHistory = field(default_factory=ObligationHistory)

    def record(self, admitted: AdmittedEvent) -> None:
        """Remember an event that was just appended at ``admitted.index``."""
        event = admitted.signed.event
        self.size = admitted.index + 1
        self.seq[event.party] = event.seq
        self.last_time[event.party] = event.time
        KINDS[event.type].record(self, admitted)
        self.obligations.observe(event.party, event.time, admitted.body, admitted.checked)


@dataclass(frozen=True)
class _Context:
    party: str
    body: b.Body
    history: History
    when: dt.datetime
    root_at: Callable[[int], bytes] | None = None


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


class Gate:
    """The admission rules of one adopted road map."""

    def __init__(self, roadmap: RoadMap) -> None:
        self.roadmap = roadmap
        self.digest = digest(roadmap)
        self.parties = {p.id: p for p in roadmap.parties}
        self.keys = {p.id: [Verifier.from_text(k) for k in p.keys] for p in roadmap.parties}
        self.steps = {s.id: s for ph in roadmap.phases for s in ph.steps}
        self.items = {i.id: i for i in roadmap.inventory.items}
        self.measures = {m.id for m in roadmap.measures}
        self.guarantees = {g.id: g for g in roadmap.guarantees}
        self.council = Membership.of(roadmap)
        self.max_size = min(MAX_EVENT_BYTES, roadmap.agreement.max_body_bytes + 1024)
        self.skew = dt.timedelta(seconds=roadmap.agreement.clock_skew_seconds)
        self.duties = expand(roadmap)

    def in_force(self, history: History) -> bool:
        """Whether every adopting party has adopted the road map."""
        return set(self.roadmap.agreement.adopted_by) <= history.adopted

    def admit(
        self,
        data: bytes,
        history: History,
        *,
        now: dt.datetime | None,
        root_at: Callable[[int], bytes] | None = None,
    ) -> AdmittedEvent:
        """Check a submitted entry; return it parsed if it may be appended next.

        Args:
            data: the entry as submitted (the canonical signed envelope).
            history: what the log already holds.
            now: the time of receipt, for the clock-skew check; None when re-admitting
                an entry already on the log, whose receipt was checked when it was logged.
            root_at: the log's root at a given size, to recompute inspection draws
                (the beacon mixes in the root fixed after the round's last commit).

        Raises:
            EventRejectedError: the event breaks a rule; ``reason`` says which.
            EventSignatureError: the signature is missing, unregistered or invalid.
        """
        signed = SignedEvent.from_bytes(data, max_size=self.max_size)
        event = signed.event
        agreement = self.roadmap.agreement
        if event.agreement != agreement.id:
            raise _reject(
                "wrong-agreement",
                f"event is for agreement {event.agreement!r}, not {agreement.id!r}",
            )
        if event.roadmap != self.digest:
            raise _reject(
                "wrong-roadmap",
                f"event is for road map {event.roadmap}, not the adopted {self.digest}",
            )
        if event.party not in self.parties:
            raise _reject("unknown-party", f"{event.party!r} is not a party to the agreement")
        verify_signature(signed, self.keys[event.party])
        if event.type not in b.BODIES:
            raise _reject("unknown-type", f"unknown event type {event.type!r}")
        self._check_role(event.type, event.party)
        expected = history.seq.get(event.party, 0) + 1
        if event.seq < expected:
            raise _reject(
                "replayed-sequence",
                f"{event.party} already used sequence number {event.seq}; next is {expected}",
            )
        if event.seq > expected:
            raise _reject(
                "sequence-gap",
                f"{event.party}'s next sequence number is {expected}, not {event.seq}",
            )
        if now is not None and abs(event.time - now) > self.skew:
            raise _reject(
                "clock-skew",
                f"event time {format_time(event.time)} is more than "
                f"{self.skew.total_seconds():.0f} s from the time of receipt {format_time(now)}",
            )
        last = history.last_time.get(event.party)
        if last is not None and event.time < last:
            raise _reject("time-regression", f"event time is before {event.party}'s previous event")
        body_size = signed.body_size()
        if body_size > agreement.max_body_bytes:
            raise _reject(
                "oversize", f"the body is {body_size} bytes, more than {agreement.max_body_bytes}"
            )
        try:
            body = b.BODIES[event.type].model_validate(event.body)
        except ValidationError as e:
            raise _body_error(event.type, e) from None
        checked = self._check_context(event.party, body, history, event.time, root_at)
        return AdmittedEvent(history.size, signed, body, checked)

    def _check_role(self, event_type: str, party_id: str) -> None:
        granted = self.roadmap.permissions.get(event_type)
        allowed: Iterable[str] | None = granted if granted is not None else KINDS[event_type].roles
        if allowed is None:
            return
        party = self.parties[party_id]
        if party_id in allowed or set(party.roles) & set(allowed):
            return
        raise _reject("unauthorised-type", f"{party_id} may not submit {event_type} events")

    def _check_context(
        self,
        party: str,
        body: b.Body,
        history: History,
        when: dt.datetime,
        root_at: Callable[[int], bytes] | None,
    ) -> Any:
        kind = KINDS[type_of(body)]
        # The Council may act before the agreement is in force (it endorses it first).
        if not kind.before_in_force and not self.in_force(history):
            raise _reject(
                "not-in-force", "the agreement is not in force until every adopting party adopts it"
            )
        return kind.check(self, _Context(party, body, history, when, root_at))

    # --- per-type rules ------------------------------------------------------------------

    def _step(self, step_id: str) -> None:
        if step_id not in self.steps:
            raise _reject("unknown-reference", f"no step {step_id!r} in the road map")

    def _states(self, observed: dict[str, str]) -> None:
        for item_id, state in observed.items():
            item = self.items.get(item_id)
            if item is None:
                raise _reject("unknown-reference", f"no item {item_id!r} in the road map")
            if state not in lifecycle_of(self.roadmap, item.category):
                raise _reject("bad-body", f"{state!r} is not a lifecycle state of {item_id!r}")

    def _adopted(self, c: _Context) -> None:
        if c.party not in self.roadmap.agreement.adopted_by:
            raise _reject(
                "unauthorised", f"{c.party} is not among the parties that adopt the agreement"
            )
        if c.party in c.history.adopted:
            raise _reject("duplicate", f"{c.party} has already adopted the road map")

    def _escrow(self, c: _Context) -> Any:
        return check_escrow_event(self.roadmap, c.party, c.body, c.history.escrow, c.root_at)

    def _obligation(self, c: _Context) -> Any:
        return check_obligation_event(
            self.roadmap,
            self.duties,
            party=c.party,
            body=c.body,
            history=c.history.obligations,
            when=c.when,
        )

    def _reported(self, c: _Context) -> None:
        assert isinstance(c.body, b.StepReported)
        self._step(c.body.step)
        if self.steps[c.body.step].actor != c.party:
            raise _reject(
                "unauthorised",
                f"step {c.body.step!r} is {self.steps[c.body.step].actor}'s to report",
            )

    def _verified(self, c: _Context) -> None:
        assert isinstance(c.body, b.StepVerified)
        self._step(c.body.step)
        verification = self.steps[c.body.step].verification
        if verification is None or c.party not in verification.by:
            raise _reject("unauthorised", f"{c.party} is not a verifier of step {c.body.step!r}")
        self._states(c.body.items)

    def _waived(self, c: _Context) -> None:
        assert isinstance(c.body, b.StepWaived)
        self._step(c.body.step)

    def _observed(self, c: _Context) -> None:
        assert isinstance(c.body, b.InventoryObserved)
        self._states(c.body.items)

    def _guarantee(self, c: _Context) -> None:
        assert isinstance(c.body, b.GuaranteeSigned | b.GuaranteeWithdrawn)
        guarantee = self.guarantees.get(c.body.guarantee)
        if guarantee is None:
            raise _reject("unknown-reference", f"no guarantee {c.body.guarantee!r} in the road map")
        if c.party not in guarantee.guarantors:
            raise _reject("unauthorised", f"{c.party} is not a guarantor of {c.body.guarantee!r}")
        signed = c.party in c.history.guarantee_signers.get(c.body.guarantee, set())
        if isinstance(c.body, b.GuaranteeSigned) and signed:
            raise _reject("duplicate", f"{c.party} has already signed {c.body.guarantee!r}")
        if isinstance(c.body, b.GuaranteeWithdrawn) and not signed:
            raise _reject("duplicate", f"{c.party} has not signed {c.body.guarantee!r}")

    def _member(self, c: _Context) -> None:
        if c.party not in self.council.members(c.when):
            raise _reject(
                "not-a-member", f"{c.party} is not a Council member on {format_time(c.when)}"
            )

    def _tabled(self, c: _Context) -> None:
        assert isinstance(c.body, b.DraftTabled)
        self._member(c)
        if c.body.draft in c.history.drafts:
            raise _reject("duplicate", f"a draft {c.body.draft!r} was already tabled")
        for measure in [*c.body.suspend_measures, *c.body.reimpose_measures]:
            if measure not in self.measures:
                raise _reject("unknown-reference", f"no measure {measure!r} in the road map")
        for disputant in c.body.dispute_parties:
            if disputant not in self.parties:
                raise _reject("unknown-reference", f"{disputant!r} is not a party to the agreement")

    def _open_draft(self, draft_id: str, history: History) -> _Draft:
        draft = history.drafts.get(draft_id)
        if draft is None:
            raise _reject("unknown-reference", f"no draft {draft_id!r} was tabled")
        if draft.closed:
            raise _reject("vote-closed", f"the vote on {draft_id!r} is closed")
        return draft

    def _vote(self, c: _Context) -> None:
        assert isinstance(c.body, b.VoteCast)
        draft = self._open_draft(c.body.draft, c.history)
        self._member(c)
        if c.party in draft.voters:
            raise _reject("duplicate", f"{c.party} has already voted on {c.body.draft!r}")
        # Charter Art. 27(3): in decisions under Chapter VI a party to a dispute abstains.
        if (
            draft.body.chapter == "VI"
            and c.party in draft.body.dispute_parties
            and c.body.vote != "abstain"
        ):
            raise _reject(
                "must-abstain",
                f"{c.party} is a party to the dispute and must abstain (Charter Art. 27(3))",
            )

    def _closed(self, c: _Context) -> None:
        assert isinstance(c.body, b.VoteClosed)
        draft = self._open_draft(c.body.draft, c.history)
        if "secretariat" in self.parties[c.party].roles:
            return
        president = self.council.president(c.when)
        if self.council.presidency:
            if c.party != president:
                who = f"the presidency ({president})" if president else "the presidency"
                raise _reject(
                    "unauthorised",
                    f"only {who} or the secretariat closes a vote, not {c.party}",
                )
        elif c.party != draft.tabled_by:
            raise _reject(
                "unauthorised",
                f"only the member that tabled {c.body.draft!r} ({draft.tabled_by}) or the "
                f"secretariat closes its vote, not {c.party}",
            )

    def _notified(self, c: _Context) -> None:
        snapback = self.roadmap.snapback
        if snapback is None:
            raise _reject("unauthorised", "the road map has no snapback procedure")
        if c.party not in snapback.entitled:
            raise _reject("unauthorised", f"{c.party} is not entitled to notify non-performance")
        # A notice while a window is open joins it (the E3 notified together); the same
        # party twice in one window is a duplicate.
        window = dt.timedelta(days=snapback.window_days)
        opened: dt.datetime | None = None
        notifiers: set[str] = set()
        for when, party in c.history.snapback_notices:
            if opened is None or when >= opened + window:
                opened, notifiers = when, set()
            notifiers.add(party)
        if opened is not None and c.when < opened + window and c.party in notifiers:
            raise _reject("duplicate", f"{c.party} has already notified in the open window")


# --- the registry: one entry per event type ---------------------------------------------

Check = Callable[[Gate, _Context], Any]
Record = Callable[[History, AdmittedEvent], None]


@dataclass(frozen=True)
class Kind:
    """What admission knows of one event type, in one place.

    ``roles``: who may submit it before the context is looked at (``None``: the
    context alone decides, e.g. the step's actor); a road map's ``permissions``
    override it. ``check``: the rules in context; it returns what it verified beyond
    the body (kept on the :class:`AdmittedEvent`). ``record``: what
    :class:`History` remembers once it is logged. ``before_in_force``: may be
    logged before every adopting party has adopted the road map.
    """

    roles: tuple[str, ...] | None
    check: Check
    record: Record
    before_in_force: bool = False


def _nothing(history: History, admitted: AdmittedEvent) -> None:
    """Admission remembers nothing of this type beyond sequence and time."""


def _rec_adopted(history: History, admitted: AdmittedEvent) -> None:
    history.adopted.add(admitted.party)


def _rec_tabled(history: History, admitted: AdmittedEvent) -> None:
    assert isinstance(admitted.body, b.DraftTabled)
    history.drafts[admitted.body.draft] = _Draft(admitted.body, admitted.party)


def _rec_vote(history: History, admitted: AdmittedEvent) -> None:
    assert isinstance(admitted.body, b.VoteCast)
    history.drafts[admitted.body.draft].voters.add(admitted.party)


def _rec_closed(history: History, admitted: AdmittedEvent) -> None:
    assert isinstance(admitted.body, b.VoteClosed)
    history.drafts[admitted.body.draft].closed = True


def _rec_signed(history: History, admitted: AdmittedEvent) -> None:
    assert isinstance(admitted.body, b.GuaranteeSigned)
    history.guarantee_signers.setdefault(admitted.body.guarantee, set()).add(admitted.party)


def _rec_withdrawn(history: History, admitted: AdmittedEvent) -> None:
    assert isinstance(admitted.body, b.GuaranteeWithdrawn)
    history.guarantee_signers.get(admitted.body.guarantee, set()).discard(admitted.party)


def _rec_notified(history: History, admitted: AdmittedEvent) -> None:
    history.snapback_notices.append((admitted.time, admitted.party))


def _rec_escrow(history: History, admitted: AdmittedEvent) -> None:
    history.escrow.record(admitted.index, admitted.party, admitted.body, admitted.checked)


_VERIFIERS = ("verifier",)
_ESCROW = Kind(None, Gate._escrow, _rec_escrow)

KINDS: dict[str, Kind] = {
    "agreement.adopted": Kind(None, Gate._adopted, _rec_adopted, before_in_force=True),
    "step.reported": Kind(None, Gate._reported, _nothing),
    "step.verified": Kind(None, Gate._verified, _nothing),
    "step.waived": Kind((), Gate._waived, _nothing),  # nobody, unless the road map grants it
    "inventory.observed": Kind(_VERIFIERS, Gate._observed, _nothing),
    "guarantee.signed": Kind(None, Gate._guarantee, _rec_signed),
    "guarantee.withdrawn": Kind(None, Gate._guarantee, _rec_withdrawn),
    "council.draft.tabled": Kind(COUNCIL_ROLES, Gate._tabled, _rec_tabled, before_in_force=True),
    "council.vote.cast": Kind(COUNCIL_ROLES, Gate._vote, _rec_vote, before_in_force=True),
    "council.vote.closed": Kind(
        (*COUNCIL_ROLES, "secretariat"), Gate._closed, _rec_closed, before_in_force=True
    ),
    "snapback.notified": Kind(None, Gate._notified, _rec_notified),
    "declaration.committed": Kind(("disarming_state",), Gate._escrow, _rec_escrow),
    "declaration.revealed": _ESCROW,
    "beacon.committed": _ESCROW,
    "beacon.revealed": _ESCROW,
    "inspection.planned": Kind(_VERIFIERS, Gate._escrow, _rec_escrow),
    "inspection.reported": Kind(_VERIFIERS, Gate._escrow, _rec_escrow),
    "custody.handed_over": _ESCROW,
    "custody.received": _ESCROW,
    "obligation.performed": Kind(None, Gate._obligation, _nothing),
    "obligation.confirmed": Kind(None, Gate._obligation, _nothing),
    "inspection.conducted": Kind(None, Gate._obligation, _nothing),
}
"""Every event type's admission rules; :data:`cvid.events.bodies.BODIES` holds its body."""

if set(KINDS) != set(b.BODIES):  # a type without its rules, or rules without a type
    raise ImportError(f"event types without admission rules: {set(b.BODIES) ^ set(KINDS)}")

DEFAULT_PERMISSIONS = {name: kind.roles for name, kind in KINDS.items()}
"""Which roles may submit each type by default (derived from :data:`KINDS`)."""


def type_of(body: b.Body) -> str:
    """The event type whose body ``body`` is."""
    return _TYPE_OF[type(body)]


_TYPE_OF = {model: name for name, model in b.BODIES.items()}


def _body_error(event_type: str, error: ValidationError) -> EventRejectedError:
    err = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    if err["type"] == "extra_forbidden":
        return _reject("unknown-field", f"{event_type}: unknown body field {where!r}")
    if err["type"] == "missing":
        return _reject("bad-body", f"{event_type}: missing body field {where!r}")
    return _reject("bad-body", f"{event_type}: body.{where}: {err['msg']}")
