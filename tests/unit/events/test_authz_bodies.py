"""Admission of joint bodies' decisions, refusals to perform, and waivers.

Every refusal is checked for its reason code, its message, and that the History is
left exactly as it was; a table test enumerates every reason the module raises.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from cvid.events import authz_bodies
from cvid.events import bodies as b
from cvid.service.problems import status_for_reason
from tests.joint_kit import joint_data
from tests.kit import Kit, at, mini_data
from tests.unit.events.test_authz import reasons_raised_in, refuse

T0 = at("2027-01-02T09:00:00")
T1 = T0 + dt.timedelta(days=1)
Body = dict[str, Any]

EXTEND: Body = {
    "decision": "d-1",
    "body": "jc",
    "subject": "More time for the data exchange",
    "extend": {"step": "report", "days": 15},
}


def in_force(data: dict[str, Any] | None = None) -> Kit:
    kit = Kit(data if data is not None else joint_data())
    kit.adopt(T0)
    return kit


def proposed(body: Body = EXTEND, party: str = "irn") -> Kit:
    kit = in_force()
    kit.act(party, "decision.proposed", body, time=T1)
    return kit


# --- refusals: (id, setup, party, type, body, reason, message) ---------------------------


def _none() -> Kit:
    return in_force()


def _adopted() -> Kit:
    kit = proposed()
    kit.act("e3", "decision.joined", {"decision": "d-1"}, time=T1)
    kit.act("rus", "decision.joined", {"decision": "d-1"}, time=T1)
    return kit


def _blocked() -> Kit:
    kit = proposed()
    kit.act("rus", "decision.blocked", {"decision": "d-1", "reason": "No."}, time=T1)
    return kit


def _with_by() -> Kit:
    return proposed(EXTEND | {"by": "2027-01-05"})


def _refused() -> Kit:
    kit = in_force()
    kit.act("irn", "obligation.refused", {"step": "report", "reason": "No."}, time=T1)
    return kit


def _with_a_right() -> Kit:
    data = joint_data()
    (complaint,) = [st for st in data["phases"][0]["steps"] if st["id"] == "e3-complaint"]
    complaint["kind"] = "right"
    return in_force(data)


def _blocked_by_at_least() -> Kit:
    kit = in_force()
    body = EXTEND | {"decision": "d-2", "body": "jc2"}
    kit.act("irn", "decision.proposed", body, time=T1)
    kit.act("rus", "decision.blocked", {"decision": "d-2", "reason": "No."}, time=T1)
    return kit


LATE = at("2027-01-06T00:00:00")  # the end of 5 Jan (UTC): the decision has lapsed
REFUSALS: list[tuple[str, Any, str, str, Body, str, str, dt.datetime]] = [
    (
        "unknown body",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"body": "nope"},
        "unknown-reference",
        "no joint body 'nope'",
        T1,
    ),
    (
        "not a member proposes",
        _none,
        "ind",
        "decision.proposed",
        EXTEND,
        "not-a-member",
        "ind is not a member of jc",
        T1,
    ),
    (
        "decision id reused",
        proposed,
        "e3",
        "decision.proposed",
        EXTEND,
        "duplicate",
        "a decision 'd-1' was already proposed",
        T1,
    ),
    (
        "two effects",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"waive": "report"},
        "bad-body",
        "exactly one of extend, waive, perform, approve",
        T1,
    ),
    (
        "no effect",
        _none,
        "irn",
        "decision.proposed",
        {"decision": "d-1", "body": "jc", "subject": "x"},
        "bad-body",
        r"\(it names none\)",
        T1,
    ),
    (
        "by is not a date",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"by": "soon"},
        "bad-body",
        "by 'soon' is not a date",
        T1,
    ),
    (
        "by is over",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"by": "2027-01-02"},
        "bad-body",
        "the day 2027-01-02 is already over",
        T1,
    ),
    (
        "extend an unknown step",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"extend": {"step": "nope", "days": 3}},
        "unknown-reference",
        "no step 'nope'",
        T1,
    ),
    (
        "extend a non-member's step",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"extend": {"step": "inspect", "days": 3}},
        "outside-mandate",
        "iaea .* is not a member",
        T1,
    ),
    (
        "extend a step without deadline",
        _none,
        "irn",
        "decision.proposed",
        EXTEND | {"extend": {"step": "e3-complaint", "days": 3}},
        "no-deadline",
        "'e3-complaint' has no deadline",
        T1,
    ),
    (
        "waive a non-member's step",
        _none,
        "irn",
        "decision.proposed",
        {"decision": "d-1", "body": "pair", "subject": "x", "waive": "inspect"},
        "outside-mandate",
        "pair may waive only",
        T1,
    ),
    (
        "perform another's step",
        _none,
        "irn",
        "decision.proposed",
        {"decision": "d-1", "body": "jc", "subject": "x", "perform": "joint-session"},
        "outside-mandate",
        "not a joint act of jc",
        T1,
    ),
    (
        "join an unknown decision",
        _none,
        "e3",
        "decision.joined",
        {"decision": "nope"},
        "unknown-reference",
        "no decision 'nope'",
        T1,
    ),
    (
        "a non-member joins",
        proposed,
        "ind",
        "decision.joined",
        {"decision": "d-1"},
        "not-a-member",
        "ind is not a member of jc",
        T1,
    ),
    (
        "the proposer signs twice",
        proposed,
        "irn",
        "decision.joined",
        {"decision": "d-1"},
        "duplicate",
        "irn has already signed decision 'd-1'",
        T1,
    ),
    (
        "a blocker then joins",
        _blocked_by_at_least,
        "rus",
        "decision.joined",
        {"decision": "d-2"},
        "duplicate",
        "rus has already blocked decision 'd-2'",
        T1,
    ),
    (
        "join a decision in effect",
        _adopted,
        "rus",
        "decision.blocked",
        {"decision": "d-1", "reason": "Too late"},
        "decision-closed",
        "already in effect",
        T1,
    ),
    (
        "join a blocked decision",
        _blocked,
        "e3",
        "decision.joined",
        {"decision": "d-1"},
        "decision-closed",
        "blocked by rus",
        T1,
    ),
    (
        "join a lapsed decision",
        _with_by,
        "e3",
        "decision.joined",
        {"decision": "d-1"},
        "decision-closed",
        "lapsed at 2027-01-06T00:00:00Z",
        LATE,
    ),
    (
        "refuse another's step",
        _none,
        "e3",
        "obligation.refused",
        {"step": "report", "reason": "x"},
        "unauthorised",
        "step 'report' is irn's, not e3's",
        T1,
    ),
    (
        "refuse a joint act",
        _none,
        "irn",
        "obligation.refused",
        {"step": "joint-session", "reason": "x"},
        "unauthorised",
        "is pair's, not irn's",
        T1,
    ),
    (
        "refuse a right",
        _with_a_right,
        "e3",
        "obligation.refused",
        {"step": "e3-complaint", "reason": "x"},
        "not-an-obligation",
        "step 'e3-complaint' is a right of e3: not exercising it is no refusal",
        T1,
    ),
    (
        "refuse an unknown step",
        _none,
        "irn",
        "obligation.refused",
        {"step": "nope", "reason": "x"},
        "unknown-reference",
        "no step 'nope'",
        T1,
    ),
    (
        "refuse step and subject",
        _none,
        "irn",
        "obligation.refused",
        {"step": "report", "subject": "Notifications", "reason": "x"},
        "bad-body",
        "either a step or a subject",
        T1,
    ),
    (
        "refuse twice",
        _refused,
        "irn",
        "obligation.refused",
        {"step": "report", "reason": "Still no."},
        "duplicate",
        "irn has already refused 'report'",
        T1,
    ),
]


@pytest.mark.parametrize(
    ("setup", "party", "event_type", "body", "reason", "message", "time"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_each_refusal_has_its_reason_and_changes_nothing(
    setup: Any,
    party: str,
    event_type: str,
    body: Body,
    reason: str,
    message: str,
    time: dt.datetime,
) -> None:
    kit = setup()
    error = refuse(kit, party, event_type, body, reason, time=time)
    assert re.search(message, str(error)), str(error)


def test_the_table_covers_every_reason_of_the_module() -> None:
    assert reasons_raised_in(authz_bodies) == {r[5] for r in REFUSALS}


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("decision-closed", 409),
        ("outside-mandate", 403),
        ("no-deadline", 422),
        ("not-an-obligation", 422),
    ],
)
def test_new_reasons_have_their_http_status(reason: str, status: int) -> None:
    assert status_for_reason(reason) == status


# --- admitted -----------------------------------------------------------------------------


def test_a_decision_is_proposed_joined_and_blocked_by_members() -> None:
    kit = proposed()
    joined = kit.act("e3", "decision.joined", {"decision": "d-1"}, time=T1)
    assert isinstance(joined.body, b.DecisionJoined)
    record = kit.history.joint.decisions["d-1"]
    assert record.signers == ["irn", "e3"]
    assert record.adopted_at is None
    kit.act("rus", "decision.joined", {"decision": "d-1"}, time=T1)
    assert record.adopted_at == T1


def test_at_least_k_is_adopted_with_k_signatures_and_blocked_only_beyond() -> None:
    kit = _blocked_by_at_least()
    record = kit.history.joint.decisions["d-2"]
    assert record.blockers == ["rus"]
    kit.act("e3", "decision.joined", {"decision": "d-2"}, time=T1)
    assert record.adopted_at == T1


def test_a_free_subject_may_be_refused_once() -> None:
    kit = in_force()
    body = {"subject": "Notifications of exercises", "reason": "Suspended."}
    admitted = kit.act("rus", "obligation.refused", body, time=T1)
    assert isinstance(admitted.body, b.ObligationRefused)
    refuse(kit, "rus", "obligation.refused", body, "duplicate")


# --- waivers ------------------------------------------------------------------------------


def test_a_disarming_state_cannot_waive_its_own_step_even_when_granted() -> None:
    # The outside review: the road map grants step.waived to the disarming state,
    # which waived its own obligation. Refused, whatever the permissions say.
    kit = in_force()
    assert kit.roadmap.permissions["step.waived"] == ["disarming_state"]
    for step in ("report", "limit-stock"):
        error = refuse(
            kit, "irn", "step.waived", {"step": step, "reason": "Not needed."}, "unauthorised"
        )
        assert str(error).endswith("a party cannot waive its own obligation")


def test_the_beneficiary_waives_without_a_grant_and_others_may_not() -> None:
    kit = in_force()
    waiver = {"step": "limit-stock", "reason": "Shipped out under another arrangement."}
    error = refuse(kit, "rus", "step.waived", waiver, "unauthorised-type")
    assert "beneficiary (e3)" in str(error)
    refuse(kit, "e3", "step.waived", waiver | {"step": "report"}, "unauthorised-type")
    admitted = kit.act("e3", "step.waived", waiver, time=T1)
    assert isinstance(admitted.body, b.StepWaived)


def test_a_grant_still_lets_a_third_party_waive() -> None:
    data = joint_data()
    data["permissions"] = {"step.waived": ["iaea"]}
    kit = in_force(data)
    kit.act("iaea", "step.waived", {"step": "report", "reason": "x"}, time=T1)


def test_a_council_draft_waives_only_real_steps() -> None:
    kit = Kit(mini_data())
    kit.adopt(T0)
    draft = {"draft": "d-9", "title": "Waive", "purpose": "other", "waive_steps": ["nope"]}
    error = refuse(kit, "usa", "council.draft.tabled", draft, "unknown-reference")
    assert "no step 'nope'" in str(error)
    kit.act("usa", "council.draft.tabled", draft | {"waive_steps": ["declare"]}, time=T1)
