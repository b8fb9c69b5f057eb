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
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from cvid.calendar import window_end
from cvid.errors import EventRejectedError, StorageQuotaError
from cvid.events import authz_life as al
from cvid.events import authz_parties as ap
from cvid.events import bodies as b
from cvid.events.authz_bodies import JointHistory, check_joint_event
from cvid.events.authz_escrow import EscrowHistory, check_escrow_event
from cvid.events.authz_limits import check_limit_event
from cvid.events.authz_monitoring import (
    MONITORING_TYPES,
    MonitoringHistory,
    check_monitoring_event,
)
from cvid.events.authz_obligations import ObligationHistory, check_obligation_event
from cvid.events.authz_parties import PartiesHistory
from cvid.events.envelope import MAX_EVENT_BYTES, SignedEvent, format_time, verify_signature
from cvid.log.note import NoteVerifier, Verifier
from cvid.roadmap import steps
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
    size: int = 0  # the entry's length in bytes, as logged

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
    parties: PartiesHistory = field(default_factory=PartiesHistory)
    reported: set[str] = field(default_factory=set)  # steps reported by their actor
    storage: dict[str, tuple[dt.date, int]] = field(default_factory=dict)  # party → (day, bytes)
    joint: JointHistory = field(default_factory=JointHistory)
    obligations: ObligationHistory = field(default_factory=ObligationHistory)
    life: al.LifeHistory = field(default_factory=al.LifeHistory)
    monitoring: MonitoringHistory = field(default_factory=MonitoringHistory)

    def record(self, admitted: AdmittedEvent) -> None:
        """Remember an event that was just appended at ``admitted.index``."""
        event = admitted.signed.event
        self.size = admitted.index + 1
        if admitted.size:
            day = event.time.astimezone(dt.UTC).date()  # the quota's day (Gate._check_quota)
            used_day, used = self.storage.get(event.party, (day, 0))
            self.storage[event.party] = (day, (used if used_day == day else 0) + admitted.size)
        self.seq[event.party] = event.seq
        self.last_time[event.party] = event.time
        KINDS[event.type].record(self, admitted)
        self.obligations.observe(event.party, event.time, admitted.body, admitted.checked)
        self.life.observe(event.type, event.party, admitted.body, event.time)


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
    """The admission rules of one adopted road map.

    ``versions`` are the amended versions kept in the agreement directory, by digest:
    an event must carry the digest of the version in force at its time (the adopted
    one until an amendment takes effect) and is admitted under that version's rules.
    """

    def __init__(self, roadmap: RoadMap, *, versions: dict[str, RoadMap] | None = None) -> None:
        self.roadmap = roadmap
        self.digest = digest(roadmap)
        self.versions: dict[str, RoadMap] = versions if versions is not None else {}
        self._gates: dict[str, Gate] = {}
        self.parties = {p.id: p for p in roadmap.parties}
        self.keys = {p.id: [Verifier.from_text(k) for k in p.keys] for p in roadmap.parties}
        self.steps = {s.id: s for ph in roadmap.phases for s in ph.steps}
        self.items = {i.id: i for i in roadmap.inventory.items}
        self.measures = {m.id: m for m in roadmap.measures}
        self.guarantees = {g.id: g for g in roadmap.guarantees}
        self.council = Membership.of(roadmap)
        self.max_size = min(MAX_EVENT_BYTES, roadmap.agreement.max_body_bytes + 1024)
        self.skew = dt.timedelta(seconds=roadmap.agreement.clock_skew_seconds)
        self.duties = expand(roadmap)

    def in_force(self, history: History, when: dt.datetime | None = None) -> bool:
        """Whether the agreement has entered into force (by ``when``, if given): every
        adopting party has adopted the road map, or as its ``entry_into_force`` says."""
        if self.roadmap.agreement.entry_into_force is None:
            return set(self.roadmap.agreement.adopted_by) <= history.adopted
        entered = history.life.entered_at(self.roadmap)
        return entered is not None and (when is None or entered <= when)

    def admit(
        self,
        data: bytes,
        history: History,
        *,
        now: dt.datetime | None,
        root_at: Callable[[int], bytes] | None = None,
        parsed: SignedEvent | None = None,
        verified: NoteVerifier | None = None,
    ) -> AdmittedEvent:
        """Check a submitted entry; return it parsed if it may be appended next.

        Args:
            data: the entry as submitted (the canonical signed envelope).
            history: what the log already holds.
            now: the time of receipt, for the clock-skew check; None when re-admitting
                an entry already on the log, whose receipt was checked when it was logged.
            root_at: the log's root at a given size, to recompute inspection draws
                (the beacon mixes in the root fixed after the round's last commit).
            parsed: ``data`` already parsed by ``SignedEvent.from_bytes`` with this
                gate's ``max_size`` (elsewhere, off the caller's thread); not parsed again.
            verified: a key found to verify the signature of ``parsed``; the signature
                is not checked again when it is the registered key it names.

        Raises:
            EventRejectedError: the event breaks a rule; ``reason`` says which.
            EventSignatureError: the signature is missing, unregistered or invalid.
        """
        signed = parsed or SignedEvent.from_bytes(data, max_size=self.max_size)
        event = signed.event
        agreement = self.roadmap.agreement
        if event.agreement != agreement.id:
            raise _reject(
                "wrong-agreement",
                f"event is for agreement {event.agreement!r}, not {agreement.id!r}",
            )
        in_force = self.digest_at(event.time, history)
        if event.roadmap != in_force:
            which = "adopted" if in_force == self.digest else "amended version in force then,"
            raise _reject(
                "wrong-roadmap",
                f"event is for road map {event.roadmap}, not the {which} {in_force}",
            )
        gate = self if in_force == self.digest else self._version(in_force)
        return gate._admit(
            signed, history, now=now, root_at=root_at, size=len(data), verified=verified
        )

    def digest_at(self, when: dt.datetime, history: History) -> str:
        """The digest of the road-map version in force at ``when`` (amendments adopted
        and in effect by then), which an event at ``when`` must carry."""
        return history.life.version_at(when, self.roadmap) or self.digest

    def add_version(self, roadmap: RoadMap) -> str:
        """Make a proposed road-map version known (read from the agreement directory)."""
        version = digest(roadmap)
        self.versions[version] = roadmap
        return version

    def _version(self, version: str) -> Gate:
        if version not in self.versions:
            raise _reject(
                "wrong-roadmap",
                f"road map {version} is in force but missing from the agreement directory "
                f"(versions/{version.removeprefix('sha256:')}.yaml)",
            )
        if version not in self._gates:
            self._gates[version] = Gate(self.versions[version], versions=self.versions)
        return self._gates[version]

    def _admit(
        self,
        signed: SignedEvent,
        history: History,
        *,
        now: dt.datetime | None,
        root_at: Callable[[int], bytes] | None,
        size: int,
        verified: NoteVerifier | None = None,
    ) -> AdmittedEvent:
        event = signed.event
        agreement = self.roadmap.agreement
        if event.party not in self.parties:
            raise _reject("unknown-party", f"{event.party!r} is not a party to the agreement")
        verify_signature(signed, self.keys[event.party], verified=verified)
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
        self._check_quota(event.party, event.time, size, history)
        try:
            body = b.BODIES[event.type].model_validate(event.body)
        except ValidationError as e:
            raise _body_error(event.type, e) from None
        checked = self._check_context(
            event.type, event.party, body, history, when=event.time, root_at=root_at
        )
        return AdmittedEvent(history.size, signed, body, checked, size)

    def _check_quota(self, party: str, when: dt.datetime, size: int, history: History) -> None:
        """One party cannot fill the log: at most the road map's bytes per UTC day (of
        the events' times), counted on the entries as logged. A refusal says how long
        from ``when`` until the next UTC day."""
        quota = self.roadmap.agreement.storage_quota_bytes_per_day
        if quota is None:
            return
        day = when.astimezone(dt.UTC).date()
        used_day, used = history.storage.get(party, (day, 0))
        used = used if used_day == day else 0
        if used + size > quota:
            next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
            raise StorageQuotaError(
                f"{party} has logged {used} bytes on {day.isoformat()}; this entry's {size} "
                f"would pass the road map's {quota} bytes a day; its count starts again at "
                f"{next_day.isoformat().replace('+00:00', 'Z')}",
                retry_after=max(1, math.ceil((next_day - when).total_seconds())),
            )

    def _check_role(self, event_type: str, party_id: str) -> None:
        if KINDS[event_type].roles_in_check:
            return  # the check applies the grant, with the body in hand
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
        event_type: str,
        party: str,
        body: b.Body,
        history: History,
        *,
        when: dt.datetime,
        root_at: Callable[[int], bytes] | None,
    ) -> Any:
        kind = KINDS[event_type]
        # The Council may act before the agreement is in force (it endorses it first).
        al.check_after_end(self.roadmap, event_type, history.life, when)
        if not kind.before_in_force and not self.in_force(history, when):
            raise _reject("not-in-force", al.not_in_force_message(self.roadmap))
        standing = history.parties.standing(party, when, self.roadmap)
        if standing == "withdrawn" and kind.standing != "any":
            raise _reject(
                "withdrawn",
                f"{party} has withdrawn from the agreement: it may only act on its own "
                "measures and in the Council",
            )
        if standing == "suspended" and kind.standing == "rights":
            raise _reject(
                "suspended",
                f"{party} has suspended its participation and cannot exercise a "
                "participant's rights until it resumes",
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

    def _standing(self, c: _Context) -> None:
        ap.check_standing_change(c.party, c.body, c.history.parties)

    def _measure(self, c: _Context) -> None:
        assert isinstance(c.body, b.MeasureAct)
        ap.check_measure(self.roadmap, c.party, c.body)

    def _ceased(self, c: _Context) -> None:
        assert isinstance(c.body, b.CommitmentsCeased)
        ap.check_ceased(self.roadmap, c.party, c.body)

    def _allegation(self, c: _Context) -> None:
        ap.check_allegation(self.roadmap, c.party, c.body, c.history.parties)

    def _life(self, c: _Context) -> None:
        al.check_life_event(self.roadmap, c.party, c.body, c.history.life, c.when)
        if isinstance(c.body, b.AmendmentProposed) and c.body.digest not in self.versions:
            raise _reject(
                "unknown-reference",
                f"no road map {c.body.digest} in the agreement directory "
                f"(versions/{c.body.digest.removeprefix('sha256:')}.yaml)",
            )

    def step_done(self, step_or_phase: str, history: History) -> bool:
        """Whether a step (every step a phase requires) is done by its own events, by
        the engine's rule (:mod:`cvid.roadmap.steps`): waived, reported (no verification
        needed), or confirmed by enough verifiers with no finding of failure standing."""
        phase = next((ph for ph in self.roadmap.phases if ph.id == step_or_phase), None)
        if phase is not None:
            return all(self.step_done(st.id, history) for st in steps.required(phase))
        events = history.obligations.step_events.get(step_or_phase, ())
        return steps.done_event(self.steps[step_or_phase], events) is not None

    def _quantity(self, c: _Context) -> None:
        assert isinstance(c.body, b.QuantityDeclared | b.QuantityMeasured)
        check_limit_event(self.roadmap, c.party, c.body)

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
        step = self.steps[c.body.step]
        if step.actor != c.party:
            raise _reject("unauthorised", f"step {c.body.step!r} is {step.actor}'s to report")
        if self.step_done(c.body.step, c.history):
            raise _reject("duplicate", f"step {c.body.step!r} is already done")
        waiting = [d for d in step.depends_on if not self.step_done(d, c.history)]
        if waiting and self.roadmap.agreement.early_steps == "refuse":
            raise _reject(
                "not-ready",
                f"step {c.body.step!r} waits for {', '.join(waiting)}; the road map refuses "
                "steps performed early",
            )

    def _verified(self, c: _Context) -> None:
        assert isinstance(c.body, b.StepVerified)
        self._step(c.body.step)
        verification = self.steps[c.body.step].verification
        if verification is None or c.party not in verification.by:
            raise _reject("unauthorised", f"{c.party} is not a verifier of step {c.body.step!r}")
        if c.body.step not in c.history.reported and not verification.by_observation:
            raise _reject(
                "not-reported",
                f"step {c.body.step!r} has not been reported; the road map does not allow "
                "its verification by observation",
            )
        self._states(c.body.items)

    def _granted(self, event_type: str, party_id: str) -> bool:
        allowed = self.roadmap.permissions.get(event_type, KINDS[event_type].roles or ())
        return party_id in allowed or bool(set(self.parties[party_id].roles) & set(allowed))

    def _waived(self, c: _Context) -> None:
        # Only those the road map names waive an obligation: its beneficiary
        # (``owed_to``) or a party the permissions grant ``step.waived``; never the
        # obliged party itself. Joint bodies and the Council waive by decision.
        assert isinstance(c.body, b.StepWaived)
        self._step(c.body.step)
        step = self.steps[c.body.step]
        if c.party == step.actor:
            raise _reject("unauthorised", "a party cannot waive its own obligation")
        if c.party != step.owed_to and not self._granted("step.waived", c.party):
            owed = f" or its beneficiary ({step.owed_to})" if step.owed_to else ""
            raise _reject(
                "unauthorised-type",
                f"{c.party} may not submit step.waived events: step {step.id!r} is waived "
                f"by the parties the road map's permissions name{owed}",
            )

    def _joint(self, c: _Context) -> Any:
        absent = frozenset(
            p
            for p in self.parties
            if c.history.parties.standing(p, c.when, self.roadmap) != "participant"
        )
        return check_joint_event(
            self.roadmap,
            c.party,
            c.body,
            c.history.joint,
            c.when,
            absent=absent,
            allegations=c.history.parties.allegations,
        )

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
        deadline = b.vote_deadline(c.body)
        if deadline is not None and deadline <= c.when:
            raise _reject("bad-body", "vote_by must come after the draft is tabled")
        if c.body.draft in c.history.drafts:
            raise _reject("duplicate", f"a draft {c.body.draft!r} was already tabled")
        for measure in [*c.body.suspend_measures, *c.body.reimpose_measures]:
            if measure not in self.measures:
                raise _reject("unknown-reference", f"no measure {measure!r} in the road map")
            imposer = self.measures[measure].imposed_by
            if imposer != "council":
                raise _reject(
                    "unauthorised",
                    "a Council resolution acts only on Council measures: "
                    f"{measure!r} is {imposer}'s measure",
                )
        for step_id in c.body.waive_steps:
            self._step(step_id)
        ap.check_determines(self.roadmap, c.body.determines, c.history.parties)
        for disputant in c.body.dispute_parties:
            if disputant not in self.parties:
                raise _reject("unknown-reference", f"{disputant!r} is not a party to the agreement")

    def _open_draft(self, draft_id: str, history: History, when: dt.datetime) -> _Draft:
        draft = history.drafts.get(draft_id)
        if draft is None:
            raise _reject("unknown-reference", f"no draft {draft_id!r} was tabled")
        if draft.closed:
            raise _reject("vote-closed", f"the vote on {draft_id!r} is closed")
        deadline = b.vote_deadline(draft.body)
        if deadline is not None and when >= deadline:
            raise _reject(
                "vote-closed",
                f"the vote on {draft_id!r} closed at its stated deadline, {format_time(deadline)}",
            )
        return draft

    def _vote(self, c: _Context) -> None:
        assert isinstance(c.body, b.VoteCast)
        draft = self._open_draft(c.body.draft, c.history, c.when)
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
        draft = self._open_draft(c.body.draft, c.history, c.when)
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
        zone = snapback.zone or self.roadmap.agreement.zone
        closes: dt.datetime | None = None
        notifiers: set[str] = set()
        for when, party in c.history.snapback_notices:
            if closes is None or when >= closes:
                closes, notifiers = window_end(when, snapback.window_days, zone), set()
            notifiers.add(party)
        if closes is not None and c.when < closes and c.party in notifiers:
            raise _reject("duplicate", f"{c.party} has already notified in the open window")


# --- the registry: one entry per event type ---------------------------------------------

Check = Callable[[Gate, _Context], Any]
Record = Callable[[History, AdmittedEvent], None]


@dataclass(frozen=True)
class Kind:
    """What admission knows of one event type, in one place.

    ``roles``: who may submit it before the context is looked at (``None``: the
    context alone decides, e.g. the step's actor); a road map's ``permissions``
    override it (``roles_in_check``: the check applies them, with the body in
    hand). ``check``: the rules in context; it returns what it verified beyond
    the body (kept on the :class:`AdmittedEvent`). ``record``: what
    :class:`History` remembers once it is logged. ``before_in_force``: may be
    logged before every adopting party has adopted the road map. ``standing``: who may
    submit it by standing: ``performing`` (carrying out obligations: also while
    participation is suspended, not once withdrawn), ``rights`` (a participant's rights:
    neither suspended nor withdrawn), ``any`` (a party's own measures, the Council).
    """

    roles: tuple[str, ...] | None
    check: Check
    record: Record
    before_in_force: bool = False
    standing: Literal["any", "performing", "rights"] = "performing"
    roles_in_check: bool = False


def _nothing(history: History, admitted: AdmittedEvent) -> None:
    """Admission remembers nothing of this type beyond sequence and time."""


def _rec_step(history: History, admitted: AdmittedEvent) -> None:
    # Verdicts and waivers are kept with every step event in ``history.obligations``
    # (``step_events``), which :meth:`Gate.step_done` folds by the shared rule.
    if isinstance(admitted.body, b.StepReported):
        history.reported.add(admitted.body.step)


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


def _rec_withdrawal(history: History, admitted: AdmittedEvent) -> None:
    history.parties.withdrawals[admitted.party] = admitted.time


def _rec_suspended(history: History, admitted: AdmittedEvent) -> None:
    history.parties.suspended.add(admitted.party)


def _rec_resumed(history: History, admitted: AdmittedEvent) -> None:
    history.parties.suspended.discard(admitted.party)


def _rec_allegation(history: History, admitted: AdmittedEvent) -> None:
    body = admitted.body
    if isinstance(body, b.AllegationMade):
        history.parties.allegations[body.allegation] = ap.AllegationRecord(
            admitted.party, body.against
        )
    elif isinstance(body, b.AllegationAnswered):
        history.parties.allegations[body.allegation].answered = True
    else:
        assert isinstance(body, b.FindingMade)
        history.parties.allegations[body.allegation].finders.add(admitted.party)


def _rec_joint(history: History, admitted: AdmittedEvent) -> None:
    history.joint.record(admitted.party, admitted.body, admitted.time, admitted.checked)


_VERIFIERS = ("verifier",)
_ESCROW = Kind(None, Gate._escrow, _rec_escrow)
_DECISION = Kind(None, Gate._joint, _rec_joint, standing="rights")  # a participant's act

KINDS: dict[str, Kind] = {
    "agreement.adopted": Kind(None, Gate._adopted, _rec_adopted, before_in_force=True),
    "step.reported": Kind(None, Gate._reported, _rec_step),
    "step.verified": Kind(None, Gate._verified, _rec_step),
    # nobody, unless the road map grants it or names the step's beneficiary
    "step.waived": Kind((), Gate._waived, _rec_step, roles_in_check=True),
    "inventory.observed": Kind(_VERIFIERS, Gate._observed, _nothing),
    "guarantee.signed": Kind(None, Gate._guarantee, _rec_signed),
    "guarantee.withdrawn": Kind(None, Gate._guarantee, _rec_withdrawn),
    "council.draft.tabled": Kind(
        COUNCIL_ROLES, Gate._tabled, _rec_tabled, before_in_force=True, standing="any"
    ),
    "council.vote.cast": Kind(
        COUNCIL_ROLES, Gate._vote, _rec_vote, before_in_force=True, standing="any"
    ),
    "council.vote.closed": Kind(
        (*COUNCIL_ROLES, "secretariat"),
        Gate._closed,
        _rec_closed,
        before_in_force=True,
        standing="any",
    ),
    "snapback.notified": Kind(None, Gate._notified, _rec_notified, standing="rights"),
    "declaration.committed": Kind(("disarming_state",), Gate._escrow, _rec_escrow),
    "declaration.revealed": _ESCROW,
    "beacon.committed": _ESCROW,
    "beacon.revealed": _ESCROW,
    "inspection.planned": Kind(_VERIFIERS, Gate._escrow, _rec_escrow),
    "inspection.reported": Kind(_VERIFIERS, Gate._escrow, _rec_escrow),
    "custody.handed_over": _ESCROW,
    "custody.received": _ESCROW,
    "party.withdrawal_notified": Kind(None, Gate._standing, _rec_withdrawal),
    "participation.suspended": Kind(None, Gate._standing, _rec_suspended),
    "participation.resumed": Kind(None, Gate._standing, _rec_resumed),
    "measure.reimposed": Kind(None, Gate._measure, _nothing, standing="any"),
    "measure.suspended": Kind(None, Gate._measure, _nothing, standing="any"),
    "measure.lifted": Kind(None, Gate._measure, _nothing, standing="any"),
    "commitments.ceased": Kind(None, Gate._ceased, _nothing),
    "allegation.made": Kind(None, Gate._allegation, _rec_allegation, standing="rights"),
    "allegation.answered": Kind(None, Gate._allegation, _rec_allegation),
    "finding.made": Kind(None, Gate._allegation, _rec_allegation, standing="any"),
    "decision.proposed": _DECISION,
    "decision.joined": _DECISION,
    "decision.blocked": _DECISION,
    "obligation.refused": Kind(None, Gate._joint, _rec_joint),
    "quantity.declared": Kind(None, Gate._quantity, _nothing),  # the limit's party
    "quantity.measured": Kind(None, Gate._quantity, _nothing),  # the limit's verifiers
    "obligation.performed": Kind(None, Gate._obligation, _nothing),
    "obligation.confirmed": Kind(None, Gate._obligation, _nothing),
    "inspection.conducted": Kind(None, Gate._obligation, _nothing),
    "ratification.deposited": Kind(None, Gate._life, _nothing, before_in_force=True),
    "agreement.extended": Kind(None, Gate._life, _nothing, standing="rights"),
    "agreement.terminated": Kind(None, Gate._life, _nothing, standing="rights"),
    "amendment.proposed": Kind(None, Gate._life, _nothing, standing="rights"),
    "amendment.consented": Kind(None, Gate._life, _nothing, standing="rights"),
}
"""Every event type's admission rules; :data:`cvid.events.bodies.BODIES` holds its body."""


def _monitoring(gate: Gate, c: _Context) -> Any:
    return check_monitoring_event(gate.roadmap, c.party, c.body, c.history.monitoring, c.when)


def _rec_monitoring(history: History, admitted: AdmittedEvent) -> None:
    history.monitoring.record(admitted.index, admitted.body, admitted.time)


KINDS.update({t: Kind(None, _monitoring, _rec_monitoring) for t in MONITORING_TYPES})

if set(KINDS) != set(b.BODIES):  # a type without its rules, or rules without a type
    raise ImportError(f"event types without admission rules: {set(b.BODIES) ^ set(KINDS)}")

DEFAULT_PERMISSIONS = {name: kind.roles for name, kind in KINDS.items()}
"""Which roles may submit each type by default (derived from :data:`KINDS`)."""


def _body_error(event_type: str, error: ValidationError) -> EventRejectedError:
    err = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    if err["type"] == "extra_forbidden":
        return _reject("unknown-field", f"{event_type}: unknown body field {where!r}")
    if err["type"] == "missing":
        return _reject("bad-body", f"{event_type}: missing body field {where!r}")
    return _reject("bad-body", f"{event_type}: body.{where}: {err['msg']}")
