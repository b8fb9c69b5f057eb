"""Tests for cvid.events.authz: every rejection reason, every event type, the Council rules.

Each refusal is checked three ways: its reason code, that its message names the
problem, and that the History it was checked against is exactly as it was.
"""

from __future__ import annotations

import ast
import base64
import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cvid._jcs import canonical
from cvid.errors import EventRejectedError, EventSignatureError, StorageQuotaError
from cvid.events import authz, envelope
from cvid.events import bodies as b
from cvid.events.authz import DEFAULT_PERMISSIONS, AdmittedEvent, History
from cvid.events.envelope import DOMAIN, SignedEvent, sign_event
from cvid.events.monitoring_bodies import MONITORING_BODIES
from cvid.log.note import Signer
from cvid.service.problems import error_problem, status_for_reason
from tests.kit import Kit, at, mini_data, seeded_signer

T0 = at("2027-01-02T09:00:00")
T1 = T0 + dt.timedelta(days=1)
DAY = dt.timedelta(days=1)
Refusal = EventRejectedError | EventSignatureError
Body = dict[str, Any]

# --- helpers ----------------------------------------------------------------------------


def in_force(kit: Kit | None = None) -> Kit:
    """The mini agreement, adopted by north, usa and chn at T0."""
    kit = kit or Kit()
    kit.adopt(T0)
    return kit


def raw_entry(
    event: dict[str, Any],
    signer: Signer,
    *,
    key_id: bytes | None = None,
    signature: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The canonical entry of an arbitrary event object, signed by ``signer``."""
    sig = signer.sign_message(DOMAIN + canonical(event))
    value: dict[str, Any] = {
        "event": event,
        "signature": signature
        or {
            "key_id": (key_id or signer.key_id).hex(),
            "value": base64.b64encode(sig).decode(),
        },
    }
    value.update(extra or {})
    return canonical(value)


def entry(
    kit: Kit,
    party: str,
    event_type: str,
    body: Body,
    /,
    *,
    time: dt.datetime = T1,
    seq: int | None = None,
    signer: Signer | None = None,
    **fields: Any,
) -> bytes:
    """``party``'s next event, with envelope ``fields`` overridden, signed (by default) by it."""
    event = kit.event(party, event_type, body, time=time, seq=seq).to_dict()
    event.update(fields)
    return raw_entry(event, signer or kit.signers[party])


def refusal(attempt: Callable[[], object]) -> Refusal:
    try:
        attempt()
    except (EventRejectedError, EventSignatureError) as e:
        return e
    pytest.fail("accepted, but should have been refused")


def refused(kit: Kit, data: bytes, *, now: dt.datetime = T1) -> Refusal:
    """Admission of ``data`` is refused, and ``kit.history`` is left exactly as it was."""
    before, text = copy.deepcopy(kit.history), repr(kit.history)
    error = refusal(lambda: kit.gate.admit(data, kit.history, now=now))
    assert kit.history == before
    assert repr(kit.history) == text
    return error


def refuse(
    kit: Kit, party: str, event_type: str, body: Body, reason: str, *, time: dt.datetime = T1
) -> Refusal:
    """``party``'s next ``event_type`` event at ``time`` is refused with ``reason``."""
    error = refused(kit, kit.signed(party, event_type, body, time=time), now=time)
    assert error.reason == reason, f"{error.reason}: {error}"
    return error


def table(kit: Kit, draft: str = "d-1", *, chapter: str = "VII", **more: Any) -> AdmittedEvent:
    body: Body = {"draft": draft, "title": f"Draft {draft}", "purpose": "endorse"}
    body |= {"chapter": chapter, **more}
    return kit.act("usa", "council.draft.tabled", body, time=T1)


# --- the reason table -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A minimal refusal: ``build`` sets a kit up and returns it with the attempt to make."""

    id: str
    reason: str
    error: type[Refusal]
    message: str  # a regular expression the message must match
    build: Callable[[], tuple[Kit, Callable[[], object]]]


def admits(kit: Kit, data: bytes, now: dt.datetime = T1) -> tuple[Kit, Callable[[], object]]:
    return kit, lambda: kit.gate.admit(data, kit.history, now=now)


def case_wrong_key() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    return kit, lambda: sign_event(
        kit.event("north", "step.reported", {}, time=T1), kit.signers["usa"]
    )


def case_oversize_entry() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    body = {"step": "declare", "note": "x" * kit.gate.max_size}
    return admits(kit, entry(kit, "north", "step.reported", body))


def case_oversize_body() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    limit = kit.roadmap.agreement.max_body_bytes
    body = {"step": "declare", "note": "x" * (limit - len('{"note":"","step":"declare"}') + 1)}
    assert len(canonical(body)) == limit + 1
    data = entry(kit, "north", "step.reported", body)
    assert len(data) <= kit.gate.max_size  # the entry fits: it is the body that is too big
    return admits(kit, data)


def case_time_regression() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    kit.act("north", "step.reported", {"step": "declare"}, time=T1)
    early = T1 - dt.timedelta(seconds=1)
    return admits(kit, entry(kit, "north", "step.reported", {"step": "freeze-reactor"}, time=early))


def case_not_in_force() -> tuple[Kit, Callable[[], object]]:
    kit = Kit()
    kit.act("north", "agreement.adopted", time=T0)
    kit.act("usa", "agreement.adopted", time=T0)
    return admits(kit, entry(kit, "north", "step.reported", {"step": "declare"}))


def case_vote_closed() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    table(kit)
    kit.act("usa", "council.vote.closed", {"draft": "d-1"}, time=T1)
    return admits(kit, entry(kit, "chn", "council.vote.cast", {"draft": "d-1", "vote": "yes"}))


def case_not_a_member() -> tuple[Kit, Callable[[], object]]:
    data = mini_data()
    data["council"]["terms"] = [
        {"party": p, "from": dt.date(2027, 1, 1), "until": dt.date(2027, 1, 2)}
        for p in ("e1", "e2", "e3")
    ]
    kit = in_force(Kit(data))
    table(kit)  # on T1 (3 January): the elected members' terms ended the day before
    return admits(kit, entry(kit, "e1", "council.vote.cast", {"draft": "d-1", "vote": "yes"}))


def case_storage_quota() -> tuple[Kit, Callable[[], object]]:
    data = mini_data()
    data["agreement"]["storage_quota_bytes_per_day"] = 1100
    kit = in_force(Kit(data))
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)
    kit.act("usa", "guarantee.withdrawn", {"guarantee": "g-nsa", "reason": "x" * 300}, time=T1)
    return admits(kit, entry(kit, "usa", "guarantee.signed", {"guarantee": "g-nsa"}))


def case_not_reported() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    verified = {"step": "freeze-reactor", "outcome": "confirmed"}
    return admits(kit, entry(kit, "iaea", "step.verified", verified))


def case_not_ready() -> tuple[Kit, Callable[[], object]]:
    data = mini_data()
    data["agreement"]["early_steps"] = "refuse"
    kit = in_force(Kit(data))
    return admits(kit, entry(kit, "north", "step.reported", {"step": "disable-reactor"}))


def case_withdrawn() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    kit.act("usa", "party.withdrawal_notified", {"reason": "Leaving"}, time=T1)
    return admits(kit, entry(kit, "usa", "guarantee.signed", {"guarantee": "g-nsa"}))


def case_suspended() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    kit.act("chn", "participation.suspended", {"reason": "Pause"}, time=T1)
    return admits(kit, entry(kit, "chn", "snapback.notified", {"reason": "x"}))


def case_must_abstain() -> tuple[Kit, Callable[[], object]]:
    kit = in_force()
    table(kit, chapter="VI", dispute_parties=["chn"])
    return admits(kit, entry(kit, "chn", "council.vote.cast", {"draft": "d-1", "vote": "no"}))


def simple(
    party: str, event_type: str, body: Body, /, **fields: Any
) -> Callable[[], tuple[Kit, Callable[[], object]]]:
    """A case built on a kit in force: ``party``'s next event with ``fields`` changed."""

    def build() -> tuple[Kit, Callable[[], object]]:
        kit = in_force()
        return admits(kit, entry(kit, party, event_type, body, **fields))

    return build


def mangled(mutate: Callable[[bytes], bytes]) -> Callable[[], tuple[Kit, Callable[[], object]]]:
    """A case whose entry is a good entry (north's next report) with its bytes changed."""

    def build() -> tuple[Kit, Callable[[], object]]:
        kit = in_force()
        good = kit.signed("north", "step.reported", {"step": "declare"}, time=T1)
        kit.gate.admit(good, kit.history, now=T1)
        return admits(kit, mutate(good))

    return build


def structured(
    mutate: Callable[[dict[str, Any]], None],
) -> Callable[[], tuple[Kit, Callable[[], object]]]:
    """North's next report, signed, then its entry's JSON changed by ``mutate``.

    The event object is signed after ``mutate`` has changed it, so a changed event
    carries a signature that verifies over it.
    """

    def build() -> tuple[Kit, Callable[[], object]]:
        kit = in_force()
        event = kit.event("north", "step.reported", {"step": "declare"}, time=T1).to_dict()
        whole: dict[str, Any] = json.loads(raw_entry(event, kit.signers["north"]))
        original = copy.deepcopy(whole["signature"])
        mutate(whole)
        if "event" in whole and whole.get("signature") == original:
            resigned = json.loads(raw_entry(whole["event"], kit.signers["north"]))
            whole["signature"] = resigned["signature"]
        return admits(kit, canonical(whole))

    return build


def resigned_by(
    signer_party: str, *, own_key_id: bool = True
) -> Callable[[], tuple[Kit, Callable[[], object]]]:
    """North's next report signed by ``signer_party``'s key (under its key ID or north's)."""

    def build() -> tuple[Kit, Callable[[], object]]:
        kit = in_force()
        event = kit.event("north", "step.reported", {"step": "declare"}, time=T1).to_dict()
        key_id = None if own_key_id else kit.signers["north"].key_id
        return admits(kit, raw_entry(event, kit.signers[signer_party], key_id=key_id))

    return build


REPORT: Body = {"step": "declare"}
R, S = EventRejectedError, EventSignatureError

CASES: list[Case] = [
    # --- envelope.py: the entry ---------------------------------------------------------
    Case(
        "oversize-entry", "oversize", R, r"event is \d+ bytes, more than 17408", case_oversize_entry
    ),
    Case(
        "bad-json",
        "bad-json",
        R,
        r"duplicate key 'seq'",
        mangled(lambda d: d.replace(b'"seq":2', b'"seq":2,"seq":2')),
    ),
    Case(
        "not-canonical",
        "not-canonical",
        R,
        r"not in canonical JSON \(RFC 8785\)",
        mangled(lambda d: d.replace(b'{"event":', b'{ "event":')),
    ),
    Case(
        "unknown-field-entry",
        "unknown-field",
        R,
        r"unknown field 'proof' beside event and signature",
        structured(lambda v: v.update(proof="yes")),
    ),
    Case(
        "unknown-field-event",
        "unknown-field",
        R,
        r"unknown event field 'priority'",
        structured(lambda v: v["event"].update(priority=1)),
    ),
    Case(
        "bad-envelope",
        "bad-envelope",
        R,
        r"unsupported envelope version 2",
        structured(lambda v: v["event"].update(v=2)),
    ),
    Case(
        "bad-time",
        "bad-time",
        R,
        r"time '2027-01-03T09:00:00\+00:00' is not RFC 3339 UTC",
        structured(lambda v: v["event"].update(time="2027-01-03T09:00:00+00:00")),
    ),
    Case(
        "missing-signature",
        "missing-signature",
        S,
        r"the event is not signed",
        structured(lambda v: v.pop("signature")),
    ),
    Case(
        "bad-signature-shape",
        "bad-signature",
        S,
        r"signature key_id must be 8 lowercase hex digits",
        structured(lambda v: v.update(signature={"key_id": "XYZ", "value": ""})),
    ),
    Case(
        "bad-signature",
        "bad-signature",
        S,
        r"signature by 'north' does not verify",
        resigned_by("usa", own_key_id=False),
    ),
    Case(
        "unregistered-key",
        "unregistered-key",
        S,
        r"key [0-9a-f]{8} is not registered for party 'north'",
        resigned_by("usa"),
    ),
    Case("wrong-key", "wrong-key", S, r"key 'usa' cannot sign for party 'north'", case_wrong_key),
    # --- authz.py: the envelope against the road map ----------------------------------
    Case(
        "wrong-agreement",
        "wrong-agreement",
        R,
        r"event is for agreement 'maxi', not 'mini'",
        simple("north", "step.reported", REPORT, agreement="maxi"),
    ),
    Case(
        "wrong-roadmap",
        "wrong-roadmap",
        R,
        r"event is for road map sha256:0{64}, not the adopted sha256:",
        simple("north", "step.reported", REPORT, roadmap="sha256:" + "0" * 64),
    ),
    Case(
        "unknown-party",
        "unknown-party",
        R,
        r"'mallory' is not a party to the agreement",
        simple("north", "step.reported", REPORT, party="mallory", signer=seeded_signer("mallory")),
    ),
    Case(
        "unknown-type",
        "unknown-type",
        R,
        r"unknown event type 'step.teleported'",
        simple("north", "step.teleported", REPORT),
    ),
    Case(
        "unauthorised-type",
        "unauthorised-type",
        R,
        r"north may not submit inventory.observed events",
        simple("north", "inventory.observed", {"items": {"reactor-a": "frozen"}}),
    ),
    Case(
        "replayed-sequence",
        "replayed-sequence",
        R,
        r"north already used sequence number 1; next is 2",
        simple("north", "step.reported", REPORT, seq=1),
    ),
    Case(
        "sequence-gap",
        "sequence-gap",
        R,
        r"north's next sequence number is 2, not 3",
        simple("north", "step.reported", REPORT, seq=3),
    ),
    Case(
        "clock-skew",
        "clock-skew",
        R,
        r"event time 2027-01-03T09:05:01Z is more than 300 s from the time of receipt "
        r"2027-01-03T09:00:00Z",
        simple("north", "step.reported", REPORT, time=T1 + dt.timedelta(seconds=301)),
    ),
    Case(
        "time-regression",
        "time-regression",
        R,
        r"event time is before north's previous event",
        case_time_regression,
    ),
    Case(
        "oversize-body",
        "oversize",
        R,
        r"the body is 16385 bytes, more than 16384",
        case_oversize_body,
    ),
    Case(
        "unknown-field-body",
        "unknown-field",
        R,
        r"step.reported: unknown body field 'colour'",
        simple("north", "step.reported", {"step": "declare", "colour": "red"}),
    ),
    Case(
        "bad-body",
        "bad-body",
        R,
        r"step.verified: body.outcome: ",
        simple("iaea", "step.verified", {"step": "freeze-reactor", "outcome": "maybe"}),
    ),
    Case(
        "bad-body-missing",
        "bad-body",
        R,
        r"step.reported: missing body field 'step'",
        simple("north", "step.reported", {}),
    ),
    # --- authz.py: the context ---------------------------------------------------------
    Case(
        "not-in-force",
        "not-in-force",
        R,
        r"the agreement is not in force until every adopting party adopts it",
        case_not_in_force,
    ),
    Case(
        "unauthorised",
        "unauthorised",
        R,
        r"step 'declare' is north's to report",
        simple("usa", "step.reported", REPORT),
    ),
    Case(
        "duplicate",
        "duplicate",
        R,
        r"north has already adopted the road map",
        simple("north", "agreement.adopted", {}),
    ),
    Case(
        "unknown-reference",
        "unknown-reference",
        R,
        r"no step 'teleport' in the road map",
        simple("north", "step.reported", {"step": "teleport"}),
    ),
    Case("vote-closed", "vote-closed", R, r"the vote on 'd-1' is closed", case_vote_closed),
    Case(
        "storage-quota",
        "storage-quota",
        StorageQuotaError,
        r"usa has logged \d+ bytes on 2027-01-03; this entry's \d+ would pass the road "
        r"map's 1100 bytes a day; its count starts again at 2027-01-04T00:00:00Z",
        case_storage_quota,
    ),
    Case(
        "not-reported",
        "not-reported",
        R,
        r"step 'freeze-reactor' has not been reported; the road map does not allow",
        case_not_reported,
    ),
    Case(
        "not-ready",
        "not-ready",
        R,
        r"step 'disable-reactor' waits for freeze; the road map refuses steps performed early",
        case_not_ready,
    ),
    Case(
        "withdrawn",
        "withdrawn",
        R,
        r"usa has withdrawn from the agreement: it may only act on its own measures",
        case_withdrawn,
    ),
    Case(
        "suspended",
        "suspended",
        R,
        r"chn has suspended its participation and cannot exercise a participant's rights",
        case_suspended,
    ),
    Case(
        "not-a-member",
        "not-a-member",
        R,
        r"e1 is not a Council member on 2027-01-03T09:00:00Z",
        case_not_a_member,
    ),
    Case(
        "must-abstain",
        "must-abstain",
        R,
        r"chn is a party to the dispute and must abstain \(Charter Art. 27\(3\)\)",
        case_must_abstain,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_reason_has_a_minimal_case(case: Case) -> None:
    kit, attempt = case.build()
    before, text = copy.deepcopy(kit.history), repr(kit.history)
    error = refusal(attempt)
    assert type(error) is case.error
    assert error.reason == case.reason, str(error)
    assert re.search(case.message, str(error)), str(error)
    assert kit.history == before
    assert repr(kit.history) == text


def reasons_raised_in(module: Any) -> set[str]:
    """Every literal reason code a module passes to _reject or an event error class."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        first = node.args[0]
        if name == "StorageQuotaError":  # its reason is its own
            found.add(StorageQuotaError.REASON)
            continue
        if name not in {"_reject", "EventRejectedError", "EventSignatureError"}:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
        else:  # only the helpers that pass a code through may use a variable
            assert ast.unparse(node) == "EventRejectedError(reason, message)"
    return found


def test_the_table_covers_every_reason_in_the_sources() -> None:
    in_sources = reasons_raised_in(authz) | reasons_raised_in(envelope)
    assert len(in_sources) >= 25
    assert in_sources == {c.reason for c in CASES}


def test_the_minimal_cases_are_admissible_without_their_defect() -> None:
    """The base event of the ``simple`` cases is admitted: only the defect is refused."""
    kit = in_force()
    kit.gate.admit(entry(kit, "north", "step.reported", REPORT), kit.history, now=T1)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)
    good = {"step": "freeze-reactor", "outcome": "confirmed"}
    kit.gate.admit(entry(kit, "iaea", "step.verified", good), kit.history, now=T1)
    kit.gate.admit(entry(kit, "usa", "council.draft.tabled", DRAFT), kit.history, now=T1)


# --- every type can be admitted ---------------------------------------------------------

DRAFT: Body = {"draft": "d-1", "title": "Endorse the freeze", "purpose": "endorse"}


def setup_none(kit: Kit) -> None:
    pass


def setup_reported(kit: Kit) -> None:
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)


def setup_reported_disable(kit: Kit) -> None:
    kit.act("north", "step.reported", {"step": "disable-reactor"}, time=T1)


def setup_suspended(kit: Kit) -> None:
    kit.act("chn", "participation.suspended", {"reason": "x"}, time=T1)


ALLEGATION: Body = {
    "allegation": "a-1",
    "against": "north",
    "kind": "undeclared",
    "detail": "An undeclared site at X",
}


def setup_alleged(kit: Kit) -> None:
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)


def setup_signed(kit: Kit) -> None:
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)


def setup_tabled(kit: Kit) -> None:
    kit.act("usa", "council.draft.tabled", DRAFT, time=T1)


POSITIVE: list[tuple[str, str, Body, Callable[[Kit], None], type[b.Body]]] = [
    (
        "north",
        "step.reported",
        {"step": "freeze-reactor", "note": "Sealed."},
        setup_none,
        b.StepReported,
    ),
    (
        "iaea",
        "step.verified",
        {"step": "freeze-reactor", "outcome": "confirmed", "items": {"reactor-a": "frozen"}},
        setup_reported,
        b.StepVerified,
    ),
    (
        "iaea",
        "step.verified",
        {"step": "disable-reactor", "outcome": "failed"},
        setup_reported_disable,
        b.StepVerified,
    ),
    (
        "ops",
        "step.waived",
        {"step": "declare", "reason": "Handed over early"},
        setup_none,
        b.StepWaived,
    ),
    (
        "iaea",
        "inventory.observed",
        {"items": {"stock-1": "stored", "reactor-a": "declared"}},
        setup_none,
        b.InventoryObserved,
    ),
    ("usa", "guarantee.signed", {"guarantee": "g-nsa"}, setup_none, b.GuaranteeSigned),
    (
        "usa",
        "guarantee.withdrawn",
        {"guarantee": "g-nsa", "reason": "Breach"},
        setup_signed,
        b.GuaranteeWithdrawn,
    ),
    (
        "e1",
        "council.draft.tabled",
        {
            "draft": "d-2",
            "title": "Continue relief",
            "purpose": "continue_relief",
            "chapter": "VI",
            "dispute_parties": ["north"],
            "suspend_measures": ["m-oil"],
            "reimpose_measures": ["m-banking"],
        },
        setup_none,
        b.DraftTabled,
    ),
    ("e2", "council.vote.cast", {"draft": "d-1", "vote": "no"}, setup_tabled, b.VoteCast),
    ("usa", "council.vote.closed", {"draft": "d-1"}, setup_tabled, b.VoteClosed),
    (
        "chn",
        "snapback.notified",
        {"reason": "Significant non-performance"},
        setup_none,
        b.SnapbackNotified,
    ),
    ("usa", "party.withdrawal_notified", {"reason": "x"}, setup_none, b.WithdrawalNotified),
    ("chn", "participation.suspended", {"reason": "x"}, setup_none, b.ParticipationSuspended),
    ("chn", "participation.resumed", {"note": "y"}, setup_suspended, b.ParticipationResumed),
    ("usa", "measure.reimposed", {"measure": "m-usa"}, setup_none, b.MeasureAct),
    ("usa", "measure.suspended", {"measure": "m-usa", "note": "z"}, setup_none, b.MeasureAct),
    ("usa", "measure.lifted", {"measure": "m-usa"}, setup_none, b.MeasureAct),
    (
        "north",
        "commitments.ceased",
        {"commitments": ["freeze-reactor"], "ground": "¶36", "in_response_to": ["usa"]},
        setup_none,
        b.CommitmentsCeased,
    ),
    ("usa", "allegation.made", ALLEGATION, setup_none, b.AllegationMade),
    (
        "north",
        "allegation.answered",
        {"allegation": "a-1", "response": "It is a warehouse"},
        setup_alleged,
        b.AllegationAnswered,
    ),
    (
        "iaea",
        "finding.made",
        {"allegation": "a-1", "outcome": "rejected"},
        setup_alleged,
        b.FindingMade,
    ),
]


@pytest.mark.parametrize(
    ("party", "event_type", "body", "setup", "model"),
    POSITIVE,
    ids=[f"{p[1]}-{i}" for i, p in enumerate(POSITIVE)],
)
def test_each_type_is_admitted(
    party: str, event_type: str, body: Body, setup: Callable[[Kit], None], model: type[b.Body]
) -> None:
    kit = in_force()
    setup(kit)
    size, seq = kit.history.size, kit.history.seq.get(party, 0)
    admitted = kit.act(party, event_type, body, time=T1 + dt.timedelta(minutes=1))
    assert isinstance(admitted.body, model)
    assert admitted.body == model.model_validate(body)
    assert admitted.index == size
    assert (admitted.type, admitted.party) == (event_type, party)
    assert admitted.time == T1 + dt.timedelta(minutes=1)
    assert kit.history.size == size + 1
    assert kit.history.seq[party] == seq + 1
    assert kit.history.last_time[party] == admitted.time


# The declaration, beacon, inspection and custody events are admitted (and refused)
# end to end in tests/integration/test_escrow_flow.py, which needs an escrow and a log.
VERIFICATION_TYPES = {
    "declaration.committed",
    "declaration.revealed",
    "beacon.committed",
    "beacon.revealed",
    "inspection.planned",
    "inspection.reported",
    "custody.handed_over",
    "custody.received",
}


# Joint bodies' decisions and refusals are admitted (and refused) in test_authz_bodies.py,
# which needs a road map with joint bodies.
JOINT_TYPES = {"decision.proposed", "decision.joined", "decision.blocked", "obligation.refused"}


# Declared and measured quantities need a road map with limits: admitted and refused in
# tests/unit/events/test_authz_limits.py.
LIMIT_TYPES = {"quantity.declared", "quantity.measured"}


# Recurring obligations and inspections against quotas: admitted and refused in
# tests/unit/events/test_authz_obligations.py, which needs obligations in the road map.
RECURRING_TYPES = {"obligation.performed", "obligation.confirmed", "inspection.conducted"}
LIFE_TYPES = {
    "ratification.deposited",
    "agreement.extended",
    "agreement.terminated",
    "amendment.proposed",
    "amendment.consented",
}

# Continuous monitoring (devices, their data, reveals, balances) needs devices in the
# road map: admitted and refused in tests/unit/events/test_authz_monitoring.py.
MONITORING_TYPES = set(MONITORING_BODIES)


def test_the_positive_table_covers_every_type() -> None:
    covered = {p[1] for p in POSITIVE} | {"agreement.adopted"} | VERIFICATION_TYPES
    elsewhere = JOINT_TYPES | LIMIT_TYPES | RECURRING_TYPES | LIFE_TYPES | MONITORING_TYPES
    assert covered | elsewhere == set(b.EVENT_TYPES)


def test_adoption_brings_the_agreement_into_force() -> None:
    kit = Kit()
    assert not kit.gate.in_force(kit.history)
    for i, party in enumerate(["chn", "north", "usa"]):
        admitted = kit.act(party, "agreement.adopted", {"note": "Adopted."}, time=T0)
        assert isinstance(admitted.body, b.AgreementAdopted)
        assert admitted.index == i
        assert kit.gate.in_force(kit.history) == (i == 2)
    assert kit.history.adopted == {"north", "usa", "chn"}


def test_history_records_what_admission_needs() -> None:
    kit = in_force()
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)
    kit.act("chn", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)
    table(kit)
    kit.act("e1", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    kit.act("usa", "council.vote.closed", {"draft": "d-1"}, time=T1)
    kit.act("chn", "guarantee.withdrawn", {"guarantee": "g-nsa", "reason": "Breach"}, time=T1)
    kit.act("usa", "snapback.notified", {"reason": "Non-performance"}, time=T1)
    h = kit.history
    assert h.size == 10
    assert h.seq == {"north": 1, "usa": 5, "chn": 3, "e1": 1}
    assert h.guarantee_signers == {"g-nsa": {"usa"}}
    assert h.drafts["d-1"].voters == {"e1"}
    assert h.drafts["d-1"].closed
    assert h.snapback_notices == [(T1, "usa")]


# --- specific rules ---------------------------------------------------------------------


def test_dispute_parties_must_abstain_under_chapter_vi() -> None:
    kit = in_force()
    table(kit, chapter="VI", dispute_parties=["usa", "e1"])
    for party, vote in [("usa", "yes"), ("usa", "no"), ("e1", "yes"), ("e1", "no")]:
        error = refuse(
            kit, party, "council.vote.cast", {"draft": "d-1", "vote": vote}, "must-abstain"
        )
        assert f"{party} is a party to the dispute" in str(error)
    kit.act("usa", "council.vote.cast", {"draft": "d-1", "vote": "abstain"}, time=T1)
    kit.act("e1", "council.vote.cast", {"draft": "d-1", "vote": "abstain"}, time=T1)
    kit.act("chn", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)  # not a disputant
    assert kit.history.drafts["d-1"].voters == {"usa", "e1", "chn"}


@pytest.mark.parametrize("chapter", ["VII", "procedural"])
def test_dispute_parties_may_vote_outside_chapter_vi(chapter: str) -> None:
    kit = in_force()
    table(kit, chapter=chapter, dispute_parties=["usa"])
    kit.act("usa", "council.vote.cast", {"draft": "d-1", "vote": "no"}, time=T1)


def test_a_member_votes_once() -> None:
    kit = in_force()
    table(kit)
    kit.act("e1", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    for vote in ["yes", "no", "abstain"]:
        error = refuse(kit, "e1", "council.vote.cast", {"draft": "d-1", "vote": vote}, "duplicate")
        assert "e1 has already voted on 'd-1'" in str(error)
    kit.act("e2", "council.vote.cast", {"draft": "d-1", "vote": "no"}, time=T1)


def test_a_closed_vote_takes_no_votes_and_no_second_close() -> None:
    kit = in_force()
    table(kit)
    kit.act("e1", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T1)
    kit.act("usa", "council.vote.closed", {"draft": "d-1"}, time=T1)
    error = refuse(kit, "e3", "council.vote.cast", {"draft": "d-1", "vote": "yes"}, "vote-closed")
    assert "the vote on 'd-1' is closed" in str(error)
    refuse(kit, "usa", "council.vote.closed", {"draft": "d-1"}, "vote-closed")


def test_votes_need_a_tabled_draft_and_drafts_a_fresh_id() -> None:
    kit = in_force()
    error = refuse(
        kit, "e1", "council.vote.cast", {"draft": "d-9", "vote": "yes"}, "unknown-reference"
    )
    assert "no draft 'd-9' was tabled" in str(error)
    refuse(kit, "e1", "council.vote.closed", {"draft": "d-9"}, "unknown-reference")
    table(kit)
    error = refuse(kit, "e1", "council.draft.tabled", DRAFT, "duplicate")
    assert "a draft 'd-1' was already tabled" in str(error)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"suspend_measures": ["m-gold"]}, "no measure 'm-gold'"),
        ({"reimpose_measures": ["m-oil", "m-gold"]}, "no measure 'm-gold'"),
        ({"dispute_parties": ["atlantis"]}, "'atlantis' is not a party"),
    ],
)
def test_a_draft_names_real_measures_and_parties(extra: Body, needle: str) -> None:
    kit = in_force()
    error = refuse(kit, "e1", "council.draft.tabled", DRAFT | extra, "unknown-reference")
    assert needle in str(error)


def test_council_events_are_for_council_members() -> None:
    kit = in_force()
    table(kit)
    for party in ["north", "iaea", "ops"]:
        for event_type, body in [
            ("council.draft.tabled", DRAFT | {"draft": "d-2"}),
            ("council.vote.cast", {"draft": "d-1", "vote": "yes"}),
            ("council.vote.closed", {"draft": "d-1"}),
        ]:
            error = refuse(kit, party, event_type, body, "unauthorised-type")
            assert f"{party} may not submit {event_type} events" in str(error)


def test_a_guarantee_is_signed_once_and_withdrawn_only_if_signed() -> None:
    kit = in_force()
    withdraw = {"guarantee": "g-nsa", "reason": "Breach"}
    error = refuse(kit, "usa", "guarantee.withdrawn", withdraw, "duplicate")
    assert "usa has not signed 'g-nsa'" in str(error)
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)
    error = refuse(kit, "usa", "guarantee.signed", {"guarantee": "g-nsa"}, "duplicate")
    assert "usa has already signed 'g-nsa'" in str(error)
    refuse(kit, "chn", "guarantee.withdrawn", withdraw, "duplicate")  # chn never signed
    kit.act("usa", "guarantee.withdrawn", withdraw, time=T1)
    error = refuse(kit, "usa", "guarantee.withdrawn", withdraw, "duplicate")
    assert "usa has not signed 'g-nsa'" in str(error)
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)  # may sign again
    assert kit.history.guarantee_signers == {"g-nsa": {"usa"}}


def test_a_guarantee_is_for_its_guarantors() -> None:
    kit = in_force()
    for party in ["north", "e1", "iaea"]:
        error = refuse(kit, party, "guarantee.signed", {"guarantee": "g-nsa"}, "unauthorised")
        assert f"{party} is not a guarantor of 'g-nsa'" in str(error)
    error = refuse(kit, "usa", "guarantee.signed", {"guarantee": "g-x"}, "unknown-reference")
    assert "no guarantee 'g-x'" in str(error)


def test_snapback_is_for_entitled_parties_once_per_window() -> None:
    kit = in_force()
    notice = {"reason": "Significant non-performance"}
    for party in ["north", "e1", "iaea", "ops"]:
        error = refuse(kit, party, "snapback.notified", notice, "unauthorised")
        assert f"{party} is not entitled to notify non-performance" in str(error)
    kit.act("usa", "snapback.notified", notice, time=T1)
    # Notice on 3 Jan (09:00 UTC) + 30 days = 2 Feb: the window closes when 2 Feb ends.
    closes = at("2027-02-03")
    for when in [T1, T1 + DAY, T1 + 30 * DAY, closes - dt.timedelta(microseconds=1)]:
        error = refuse(kit, "usa", "snapback.notified", notice, "duplicate", time=when)
        assert "usa has already notified in the open window" in str(error)
    kit.act("chn", "snapback.notified", notice, time=T1 + DAY)  # joins the open window
    error = refuse(kit, "chn", "snapback.notified", notice, "duplicate", time=T1 + 2 * DAY)
    kit.act("usa", "snapback.notified", notice, time=closes)  # the window has closed
    assert kit.history.snapback_notices == [(T1, "usa"), (T1 + DAY, "chn"), (closes, "usa")]


def test_a_road_map_without_snapback_takes_no_notices() -> None:
    data = mini_data()
    del data["snapback"]
    kit = in_force(Kit(data))
    error = refuse(kit, "usa", "snapback.notified", {"reason": "x"}, "unauthorised")
    assert "the road map has no snapback procedure" in str(error)


def test_a_step_is_reported_by_its_actor() -> None:
    kit = in_force()
    for party in ["usa", "iaea", "ops", "e1"]:
        error = refuse(kit, party, "step.reported", {"step": "freeze-reactor"}, "unauthorised")
        assert "step 'freeze-reactor' is north's to report" in str(error)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)


def test_a_step_is_verified_by_its_verifiers() -> None:
    kit = in_force()
    verified = {"step": "freeze-reactor", "outcome": "confirmed"}
    for party in ["north", "usa", "ops"]:
        error = refuse(kit, party, "step.verified", verified, "unauthorised")
        assert f"{party} is not a verifier of step 'freeze-reactor'" in str(error)
    # a step without verification has no verifiers, not even the inspectorate
    error = refuse(kit, "iaea", "step.verified", verified | {"step": "declare"}, "unauthorised")
    assert "iaea is not a verifier of step 'declare'" in str(error)
    error = refuse(kit, "iaea", "step.verified", verified, "not-reported")
    assert "step 'freeze-reactor' has not been reported" in str(error)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)
    kit.act("iaea", "step.verified", verified, time=T1)
    error = refuse(kit, "north", "step.reported", {"step": "freeze-reactor"}, "duplicate")
    assert "step 'freeze-reactor' is already done" in str(error)


@pytest.mark.parametrize(
    ("items", "reason", "needle"),
    [
        ({"reactor-b": "frozen"}, "unknown-reference", "no item 'reactor-b'"),
        ({"reactor-a": "melted"}, "bad-body", "'melted' is not a lifecycle state of 'reactor-a'"),
        ({"stock-1": "frozen"}, "bad-body", "'frozen' is not a lifecycle state of 'stock-1'"),
    ],
)
def test_observed_states_are_real(items: dict[str, str], reason: str, needle: str) -> None:
    kit = in_force()
    error = refuse(kit, "iaea", "inventory.observed", {"items": items}, reason)
    assert needle in str(error)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)
    verified = {"step": "freeze-reactor", "outcome": "confirmed", "items": items}
    error = refuse(kit, "iaea", "step.verified", verified, reason)
    assert needle in str(error)


def test_inventory_is_observed_by_verifiers_only() -> None:
    kit = in_force()
    for party in ["north", "usa", "e1", "ops"]:
        refuse(
            kit, party, "inventory.observed", {"items": {"stock-1": "stored"}}, "unauthorised-type"
        )


def test_permissions_grant_step_waived_to_ops_only() -> None:
    assert DEFAULT_PERMISSIONS["step.waived"] == ()
    kit = in_force()
    waiver = {"step": "declare", "reason": "Declared at adoption"}
    for party in ["usa", "chn", "e1", "e2", "e3", "iaea"]:
        error = refuse(kit, party, "step.waived", waiver, "unauthorised-type")
        assert f"{party} may not submit step.waived events" in str(error)
    error = refuse(kit, "north", "step.waived", waiver, "unauthorised")
    assert "a party cannot waive its own obligation" in str(error)
    error = refuse(kit, "ops", "step.waived", waiver | {"step": "nope"}, "unknown-reference")
    assert "no step 'nope'" in str(error)
    admitted = kit.act("ops", "step.waived", waiver, time=T1)
    assert isinstance(admitted.body, b.StepWaived)


def test_without_the_grant_nobody_may_waive() -> None:
    data = mini_data()
    del data["permissions"]
    kit = in_force(Kit(data))
    refuse(kit, "ops", "step.waived", {"step": "declare", "reason": "x"}, "unauthorised-type")


def test_a_grant_by_role_or_party_overrides_the_default() -> None:
    data = mini_data()
    data["permissions"] = {"step.waived": ["guarantor"], "inventory.observed": ["north"]}
    kit = in_force(Kit(data))
    kit.act("usa", "step.waived", {"step": "declare", "reason": "x"}, time=T1)
    kit.act("north", "inventory.observed", {"items": {"stock-1": "stored"}}, time=T1)
    refuse(kit, "ops", "step.waived", {"step": "declare", "reason": "x"}, "unauthorised-type")
    refuse(kit, "iaea", "inventory.observed", {"items": {"stock-1": "stored"}}, "unauthorised-type")


NOT_IN_FORCE: list[tuple[str, str, Body]] = [
    ("north", "step.reported", {"step": "freeze-reactor"}),
    ("iaea", "step.verified", {"step": "freeze-reactor", "outcome": "confirmed"}),
    ("ops", "step.waived", {"step": "declare", "reason": "x"}),
    ("iaea", "inventory.observed", {"items": {"stock-1": "stored"}}),
    ("usa", "guarantee.signed", {"guarantee": "g-nsa"}),
    ("usa", "guarantee.withdrawn", {"guarantee": "g-nsa", "reason": "x"}),
    ("usa", "snapback.notified", {"reason": "x"}),
    ("usa", "party.withdrawal_notified", {"reason": "x"}),
    ("chn", "participation.suspended", {"reason": "x"}),
    ("chn", "participation.resumed", {}),
    ("usa", "measure.reimposed", {"measure": "m-usa"}),
    ("usa", "measure.suspended", {"measure": "m-usa"}),
    ("usa", "measure.lifted", {"measure": "m-usa"}),
    ("north", "commitments.ceased", {"commitments": ["declare"], "ground": "x"}),
    ("usa", "allegation.made", ALLEGATION),
    ("north", "allegation.answered", {"allegation": "a-1", "response": "x"}),
    ("iaea", "finding.made", {"allegation": "a-1", "outcome": "confirmed"}),
    ("usa", "decision.proposed", {"decision": "d", "body": "jc", "subject": "x", "approve": "x"}),
    ("usa", "decision.joined", {"decision": "d"}),
    ("usa", "decision.blocked", {"decision": "d", "reason": "x"}),
    ("north", "obligation.refused", {"step": "declare", "reason": "x"}),
    ("usa", "agreement.extended", {"extension": "x"}),
    ("usa", "agreement.terminated", {"reason": "x"}),
    (
        "usa",
        "amendment.proposed",
        {"amendment": "a", "digest": "sha256:" + "0" * 64, "effective": "2027-02-01"},
    ),
    ("usa", "amendment.consented", {"amendment": "a"}),
]
COUNCIL_TYPES = {"council.draft.tabled", "council.vote.cast", "council.vote.closed"}


@pytest.mark.parametrize("adopters", [[], ["north"], ["north", "usa"], ["usa", "chn"]])
@pytest.mark.parametrize(("party", "event_type", "body"), NOT_IN_FORCE)
def test_nothing_but_adoption_before_the_agreement_is_in_force(
    adopters: list[str], party: str, event_type: str, body: Body
) -> None:
    kit = Kit()
    for adopter in adopters:
        kit.act(adopter, "agreement.adopted", time=T0)
    error = refuse(kit, party, event_type, body, "not-in-force")
    assert "not in force until every adopting party adopts it" in str(error)


def test_the_not_in_force_table_covers_every_other_type() -> None:
    covered = {t for _, t, _ in NOT_IN_FORCE} | {"agreement.adopted"} | COUNCIL_TYPES
    covered |= {"ratification.deposited"}  # before entry into force: test_authz_life.py
    covered |= MONITORING_TYPES  # refused before entry into force: test_authz_monitoring.py
    assert covered | VERIFICATION_TYPES | LIMIT_TYPES | RECURRING_TYPES == set(b.EVENT_TYPES)


def test_the_council_may_endorse_before_the_agreement_is_in_force() -> None:
    kit = Kit()
    kit.act("north", "agreement.adopted", time=T0)
    kit.act("e1", "council.draft.tabled", DRAFT, time=T0)
    for member in ("usa", "chn", "e1", "e2", "e3"):
        kit.act(member, "council.vote.cast", {"draft": "d-1", "vote": "yes"}, time=T0)
    kit.act("e1", "council.vote.closed", {"draft": "d-1"}, time=T0)
    assert kit.history.drafts["d-1"].closed
    assert not kit.gate.in_force(kit.history)


def test_adoption_is_for_adopting_parties_once() -> None:
    kit = Kit()
    for party in ["e1", "iaea", "ops"]:
        error = refuse(kit, party, "agreement.adopted", {}, "unauthorised", time=T0)
        assert f"{party} is not among the parties that adopt the agreement" in str(error)
    kit.act("north", "agreement.adopted", time=T0)
    error = refuse(kit, "north", "agreement.adopted", {}, "duplicate", time=T0)
    assert "north has already adopted the road map" in str(error)


# --- sequence numbers and times ---------------------------------------------------------


def test_sequence_numbers_are_per_party_and_consecutive() -> None:
    kit = in_force()
    assert kit.history.seq == {"north": 1, "usa": 1, "chn": 1}
    first = kit.signed("north", "step.reported", REPORT, time=T1)
    kit.submit(first, now=T1)
    error = refused(kit, first)
    assert error.reason == "replayed-sequence"
    assert "north already used sequence number 2; next is 3" in str(error)
    for seq, reason in [(1, "replayed-sequence"), (2, "replayed-sequence"), (4, "sequence-gap")]:
        error = refused(kit, entry(kit, "north", "step.reported", REPORT, seq=seq))
        assert error.reason == reason
    kit.act("e1", "council.draft.tabled", DRAFT, time=T1)  # e1's first event is its seq 1
    assert kit.history.seq["e1"] == 1


@pytest.mark.parametrize(
    ("offset", "admitted"),
    [
        (dt.timedelta(seconds=300), True),
        (dt.timedelta(seconds=-300), True),
        (dt.timedelta(seconds=300, microseconds=1), False),
        (dt.timedelta(seconds=-300, microseconds=-1), False),
        (dt.timedelta(days=365), False),
        (dt.timedelta(days=-365), False),
    ],
)
def test_clock_skew_bounds(offset: dt.timedelta, admitted: bool) -> None:
    kit = in_force()
    data = entry(kit, "north", "step.reported", REPORT, time=T1 + offset)
    if admitted:
        kit.gate.admit(data, kit.history, now=T1)
    else:
        assert refused(kit, data).reason == "clock-skew"


def test_a_partys_time_never_goes_back_but_may_stand_still() -> None:
    kit = in_force()
    kit.act("north", "step.reported", REPORT, time=T1)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)  # same instant
    early = entry(kit, "north", "step.reported", REPORT, time=T1 - dt.timedelta(microseconds=1))
    assert refused(kit, early).reason == "time-regression"
    # other parties keep their own clocks
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1 - dt.timedelta(seconds=1))


def test_refusal_order_is_stable() -> None:
    """Signature before type, type before sequence, sequence before time, time before body."""
    kit = in_force()
    usa = kit.signers["usa"]
    old = at("1999-01-01")
    body = {"step": "declare", "x": 1}
    bad = entry(kit, "north", "step.teleported", body, signer=usa, seq=9, time=old)
    assert refused(kit, bad).reason == "unregistered-key"
    bad = entry(kit, "north", "step.teleported", body, seq=9, time=old)
    assert refused(kit, bad).reason == "unknown-type"
    bad = entry(kit, "north", "step.reported", body, seq=9, time=old)
    assert refused(kit, bad).reason == "sequence-gap"
    bad = entry(kit, "north", "step.reported", body, time=old)
    assert refused(kit, bad).reason == "clock-skew"
    bad = entry(kit, "north", "step.reported", body)
    assert refused(kit, bad).reason == "unknown-field"


def test_admission_changes_nothing_until_recorded() -> None:
    kit = in_force()
    data = kit.signed("north", "step.reported", REPORT, time=T1)
    before = copy.deepcopy(kit.history)
    first = kit.gate.admit(data, kit.history, now=T1)
    again = kit.gate.admit(data, kit.history, now=T1)
    assert kit.history == before
    assert first == again
    assert first.signed == SignedEvent.from_bytes(data)
    kit.history.record(first)
    assert kit.history != before
    assert refused(kit, data).reason == "replayed-sequence"
    assert History() == History()


def test_a_storage_quota_refusal_says_how_long_until_the_next_utc_day() -> None:
    _, attempt = case_storage_quota()
    error = refusal(attempt)
    assert isinstance(error, StorageQuotaError)
    assert error.retry_after == 15 * 3600  # from 09:00 on T1 to midnight UTC
    answer = error_problem(error)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == str(15 * 3600)
    assert json.loads(bytes(answer.body))["type"] == "urn:cvid:problem:storage-quota"
    assert status_for_reason("storage-quota") == 429
