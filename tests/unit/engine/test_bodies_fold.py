"""The engine's joint bodies: decisions and their effects, refusals, joint acts, and the
Dispute Resolution Mechanism included as a phase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import EventRejectedError
from cvid.report import state_to_dict
from tests.joint_kit import joint_data
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")  # adoption
T1 = T0 + dt.timedelta(days=1)
DAY = dt.timedelta(days=1)
Body = dict[str, Any]


def adopted() -> Kit:
    kit = Kit(joint_data())
    kit.adopt(T0)
    return kit


def decide(
    kit: Kit, body: Body, signers: list[str], *, time: dt.datetime = T1, did: str = "d-1"
) -> None:
    """The first signer proposes ``body`` as decision ``did``; the others join it."""
    kit.act(signers[0], "decision.proposed", {"decision": did, "subject": "s"} | body, time=time)
    for party in signers[1:]:
        kit.act(party, "decision.joined", {"decision": did}, time=time)


def complain(kit: Kit, time: dt.datetime = T1) -> None:
    kit.act("e3", "step.reported", {"step": "e3-complaint"}, time=time)


EXTEND_JC: Body = {"body": "jc", "extend": {"step": "drm-joint-commission", "days": 15}}
ALL_JC = ["irn", "e3", "rus"]


# --- the Dispute Resolution Mechanism ----------------------------------------------------


def test_a_complaint_starts_the_first_stage() -> None:
    kit = adopted()
    before = kit.evaluate(T1 - DAY)
    assert before.steps["drm-joint-commission"].status == "blocked"
    complain(kit)
    state = kit.evaluate(T1 + DAY)
    stage = state.steps["drm-joint-commission"]
    assert (stage.status, stage.actor, stage.due) == ("open", "jc", T1 + 15 * DAY)


def test_without_an_extension_the_first_stage_goes_overdue() -> None:
    kit = adopted()
    complain(kit)
    state = kit.evaluate(T1 + 16 * DAY)
    assert state.steps["drm-joint-commission"].status == "overdue"


def test_an_extension_by_consensus_keeps_the_stage_open() -> None:
    kit = adopted()
    complain(kit)
    decide(kit, EXTEND_JC, ALL_JC, time=T1 + 10 * DAY)
    state = kit.evaluate(T1 + 16 * DAY)
    stage = state.steps["drm-joint-commission"]
    assert stage.status == "open"
    assert stage.due == T1 + 30 * DAY
    decision = state.decisions["d-1"]
    assert decision.status == "adopted"
    assert decision.since == T1 + 10 * DAY
    assert decision.signed_by == ("irn", "e3", "rus")
    assert decision.effect == "extend the deadline of drm-joint-commission by 15 days"
    assert kit.evaluate(T1 + 30 * DAY).steps["drm-joint-commission"].status == "overdue"


def test_an_extension_short_of_consensus_does_not_take_effect() -> None:
    kit = adopted()
    complain(kit)
    decide(kit, EXTEND_JC, ["irn", "e3"], time=T1 + 10 * DAY)
    state = kit.evaluate(T1 + 16 * DAY)
    assert state.decisions["d-1"].status == "proposed"
    assert state.decisions["d-1"].reason == "2 signed; needs consensus of its members"
    assert state.decisions["d-1"].needed == 3
    assert state.steps["drm-joint-commission"].status == "overdue"


def test_an_extension_adopted_after_the_deadline_has_no_effect() -> None:
    kit = adopted()
    complain(kit)
    decide(kit, EXTEND_JC, ALL_JC, time=T1 + 20 * DAY)
    state = kit.evaluate(T1 + 21 * DAY)
    assert state.steps["drm-joint-commission"].status == "overdue"
    assert "no effect: drm-joint-commission was already overdue" in state.decisions["d-1"].reason


def test_a_members_own_step_is_extended_and_its_deadline_moves() -> None:
    kit = adopted()
    decide(kit, {"body": "jc2", "extend": {"step": "report", "days": 10}}, ["irn", "rus"])
    state = kit.evaluate(T0 + 65 * DAY)
    assert state.steps["report"].due == T0 + 70 * DAY
    assert state.steps["report"].status == "open"
    assert kit.evaluate(T0 + 70 * DAY).steps["report"].status == "overdue"


def test_an_extension_before_the_stage_starts_applies_when_it_starts() -> None:
    kit = adopted()
    decide(kit, EXTEND_JC, ALL_JC)
    complain(kit, T1 + 5 * DAY)
    state = kit.evaluate(T1 + 25 * DAY)
    assert state.steps["drm-joint-commission"].due == T1 + 35 * DAY
    assert state.steps["drm-joint-commission"].status == "open"


def test_the_stages_run_to_an_advisory_opinion_and_a_referral() -> None:
    kit = adopted()
    complain(kit)
    t = T1 + 14 * DAY
    decide(kit, {"body": "jc", "perform": "drm-joint-commission"}, ALL_JC, time=t, did="s1")
    state = kit.evaluate(t)
    assert state.steps["drm-joint-commission"].done_at == t
    assert state.steps["drm-advisory-opinion"].due == t + 15 * DAY
    assert state.steps["drm-ministers"].due == t + 15 * DAY
    opinion = {"body": "board", "perform": "drm-advisory-opinion"}
    decide(kit, opinion, ["ind", "irn", "e3"], time=t + 10 * DAY, did="s2")
    considered = {"body": "jc", "perform": "drm-opinion-considered"}
    decide(kit, considered, ALL_JC, time=t + 14 * DAY, did="s3")
    state = kit.evaluate(t + 14 * DAY)
    assert state.steps["drm-advisory-opinion"].status == "reported"
    assert not state.steps["drm-advisory-opinion"].late
    assert state.steps["drm-opinion-considered"].done_at == t + 14 * DAY
    assert state.steps["drm-referral"].status == "open"
    kit.act("e3", "step.reported", {"step": "drm-referral"}, time=t + 15 * DAY)
    state = kit.evaluate(t + 16 * DAY)
    assert state.steps["drm-referral"].status == "reported"
    # the ministers' stage was not held: the board worked instead of it
    assert state.steps["drm-ministers"].status == "overdue"


def test_the_opinion_considered_late_is_overdue() -> None:
    kit = adopted()
    complain(kit)
    decide(kit, {"body": "jc", "perform": "drm-joint-commission"}, ALL_JC, did="s1")
    decide(
        kit, {"body": "board", "perform": "drm-advisory-opinion"}, ["ind", "irn", "e3"], did="s2"
    )
    state = kit.evaluate(T1 + 6 * DAY)
    assert state.steps["drm-opinion-considered"].status == "overdue"


# --- waivers, approvals, lapses ----------------------------------------------------------


def test_a_joint_body_waives_a_members_step() -> None:
    kit = adopted()
    decide(kit, {"body": "jc", "waive": "report", "subject": "Superseded"}, ALL_JC)
    step = kit.evaluate(T1).steps["report"]
    assert step.status == "waived"
    assert step.reason == "waived by jc (decision d-1): Superseded"


def test_the_beneficiary_waives_a_step_owed_to_it() -> None:
    kit = adopted()
    kit.act("e3", "step.waived", {"step": "limit-stock", "reason": "Done otherwise"}, time=T1)
    step = kit.evaluate(T1).steps["limit-stock"]
    assert (step.status, step.reason) == ("waived", "waived by e3: Done otherwise")


def test_the_council_waives_by_resolution() -> None:
    kit = Kit(mini_data())
    kit.adopt(T0)
    draft = {"draft": "d-9", "title": "Waive the declaration", "purpose": "other"}
    kit.act("usa", "council.draft.tabled", draft | {"waive_steps": ["declare"]}, time=T1)
    for member in ("usa", "chn", "e1"):
        kit.act(member, "council.vote.cast", {"draft": "d-9", "vote": "yes"}, time=T1)
    assert kit.evaluate(T1).steps["declare"].status == "open"
    kit.act("usa", "council.vote.closed", {"draft": "d-9"}, time=T1)
    step = kit.evaluate(T1).steps["declare"]
    assert step.status == "waived"
    assert step.reason == "waived by the Council (resolution d-9): Waive the declaration"


def test_an_approval_is_recorded_when_adopted() -> None:
    kit = adopted()
    decide(kit, {"body": "jc2", "approve": "Amendment 1"}, ["e3", "rus"])
    decision = kit.evaluate(T1).decisions["d-1"]
    assert (decision.status, decision.effect) == ("adopted", "approve: Amendment 1")
    assert decision.needed == 2


def test_a_decision_lapses_at_the_end_of_its_by_day() -> None:
    kit = adopted()
    decide(kit, EXTEND_JC | {"by": "2027-01-05"}, ["irn", "e3"])
    assert kit.evaluate(at("2027-01-05T23:59:59")).decisions["d-1"].status == "proposed"
    lapsed = kit.evaluate(at("2027-01-06T00:00:00")).decisions["d-1"]
    assert lapsed.status == "lapsed"
    assert lapsed.since == at("2027-01-06T00:00:00")
    assert lapsed.reason == "lapsed on 2027-01-06: 2 of 3 signatures"


def test_a_signature_timed_before_its_proposal_counts_when_it_is_made() -> None:
    kit = adopted()
    proposal = {"decision": "d-1", "subject": "s", "body": "pair", "approve": "Text"}
    kit.act("irn", "decision.proposed", proposal, time=T1 + dt.timedelta(minutes=1))
    kit.act("e3", "decision.joined", {"decision": "d-1"}, time=T1)  # logged after, timed before
    decision = kit.evaluate(T1 + DAY).decisions["d-1"]
    assert decision.status == "adopted"
    assert decision.since == T1 + dt.timedelta(minutes=1)


# --- refusals and joint acts -------------------------------------------------------------


def test_a_refusal_is_a_breach_at_once_attributed_to_the_refusing_party() -> None:
    kit = adopted()
    kit.act("irn", "obligation.refused", {"step": "report", "reason": "Data withheld"}, time=T1)
    state = kit.evaluate(T1)
    step = state.steps["report"]
    assert step.status == "violated"
    assert step.reason == "refused by irn on 2027-01-03 09:00 UTC: Data withheld"
    assert step.due == T0 + 60 * DAY  # long before its deadline
    (violation,) = state.violations
    assert (violation.kind, violation.subject, violation.party) == ("refusal", "report", "irn")
    assert state.rules["breach"].fired_at == T1
    assert state.measures["m-oil"].status == "in_force"


def test_a_refusal_of_an_unlisted_obligation_is_a_violation() -> None:
    kit = adopted()
    body = {"subject": "Notifications of exercises", "reason": "Suspended"}
    kit.act("rus", "obligation.refused", body, time=T1)
    (violation,) = kit.evaluate(T1).violations
    assert violation.subject == "Notifications of exercises"
    assert violation.party == "rus"
    assert violation.detail.startswith("refused by rus on ")


def test_a_joint_act_is_done_when_every_side_signs() -> None:
    kit = adopted()
    decide(kit, {"body": "pair", "perform": "joint-session"}, ["e3", "irn"])
    step = kit.evaluate(T1).steps["joint-session"]
    assert step.done_at == T1
    assert step.status == "reported"


def test_a_blocked_joint_act_is_the_blockers_default() -> None:
    kit = adopted()
    proposal = {"decision": "d-1", "subject": "Session", "body": "pair", "perform": "joint-session"}
    kit.act("e3", "decision.proposed", proposal, time=T1)
    kit.act("irn", "decision.blocked", {"decision": "d-1", "reason": "Not now"}, time=T1)
    state = kit.evaluate(T1)
    step = state.steps["joint-session"]
    assert step.status == "violated"
    assert step.reason == "blocked by irn on 2027-01-03 09:00 UTC: Not now"
    (violation,) = state.violations
    assert (violation.kind, violation.party) == ("joint-act", "irn")
    decision = state.decisions["d-1"]
    assert decision.status == "blocked"
    assert decision.blocked_by == ("irn",)


def test_a_block_that_leaves_enough_members_blocks_nothing() -> None:
    kit = adopted()
    proposal = {"decision": "d-1", "subject": "s", "body": "jc2", "approve": "Text"}
    kit.act("irn", "decision.proposed", proposal, time=T1)
    kit.act("rus", "decision.blocked", {"decision": "d-1", "reason": "No"}, time=T1)
    assert kit.evaluate(T1).decisions["d-1"].status == "proposed"
    kit.act("e3", "decision.joined", {"decision": "d-1"}, time=T1)
    assert kit.evaluate(T1).decisions["d-1"].status == "adopted"
    assert kit.evaluate(T1).violations == ()


def test_decisions_appear_in_the_json_status() -> None:
    kit = adopted()
    decide(kit, EXTEND_JC, ["irn"])
    out = state_to_dict(kit.evaluate(T1))
    assert out["decisions"]["d-1"]["status"] == "proposed"
    assert out["decisions"]["d-1"]["body"] == "jc"


# --- property: the rule ------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    joiners=st.lists(st.sampled_from(["e3", "rus"]), unique=True),
    body=st.sampled_from(["jc", "jc2"]),
)
def test_a_decision_is_adopted_iff_its_rule_is_met(joiners: list[str], body: str) -> None:
    kit = adopted()
    decide(kit, {"body": body, "approve": "Text"}, ["irn"])
    needed = 3 if body == "jc" else 2
    signed = ["irn"]
    for party in joiners:
        if len(signed) >= needed:  # in effect: a further signature is refused
            with pytest.raises(EventRejectedError) as e:
                kit.act(party, "decision.joined", {"decision": "d-1"}, time=T1)
            assert e.value.reason == "decision-closed"
        else:
            kit.act(party, "decision.joined", {"decision": "d-1"}, time=T1)
            signed.append(party)
    decision = kit.evaluate(T1).decisions["d-1"]
    assert (decision.status == "adopted") == (len(signed) >= needed)
    assert decision.signed_by == tuple(signed)


def test_consensus_counts_the_members_taking_part() -> None:
    """After a member withdraws (or while it has suspended its participation), a
    consensus of the Joint Commission is the consensus of the others; before, it needs
    every member."""
    kit = adopted()
    approve: Body = {"body": "jc", "approve": "Procedures"}
    decide(kit, approve, ["irn", "e3"], did="before")
    assert kit.evaluate(T1 + DAY).decisions["before"].status == "proposed"
    kit.act("rus", "participation.suspended", {"reason": "Pause"}, time=T1 + DAY)
    decide(kit, approve, ["irn", "e3"], did="during", time=T1 + 2 * DAY)
    state = kit.evaluate(T1 + 3 * DAY)
    assert state.decisions["during"].status == "adopted"
    with pytest.raises(EventRejectedError) as e:
        kit.act("rus", "decision.joined", {"decision": "before"}, time=T1 + 3 * DAY)
    assert e.value.reason == "suspended"
