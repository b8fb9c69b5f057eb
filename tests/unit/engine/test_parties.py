"""Parties over time, measures by their imposers, remedial non-performance, breaches,
and allegations versus findings (including the one-key attacks an outside review found).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cvid.errors import EventRejectedError
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")
T1 = T0 + dt.timedelta(days=1)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def adopted(data: dict[str, Any] | None = None) -> Kit:
    kit = Kit(data)
    kit.adopt(T0)
    return kit


def refused(kit: Kit, party: str, event_type: str, body: dict[str, Any], reason: str) -> str:
    before = (kit.history.size, repr(kit.history))
    with pytest.raises(EventRejectedError) as e:
        kit.act(party, event_type, body, time=T1 + days(90))
    assert e.value.reason == reason, str(e.value)
    assert (kit.history.size, repr(kit.history)) == before
    return str(e.value)


# --- withdrawal and suspension ----------------------------------------------------------


def with_notice(months: int) -> dict[str, Any]:
    data = mini_data()
    data["withdrawal"] = {"notice": {"months": months}, "source": "Art. X"}
    data["snapback"] = {"entitled": ["usa", "chn"], "window_days": 30}
    return data


def test_a_withdrawal_takes_effect_after_its_notice() -> None:
    kit = adopted(with_notice(3))
    kit.act("usa", "party.withdrawal_notified", {"reason": "Leaving"}, time=at("2027-01-31"))
    before = kit.evaluate(at("2027-04-29"))
    assert before.parties["usa"].standing == "participant"
    assert before.parties["usa"].withdrawal_effective == at("2027-04-30")  # 31 Jan + 3 months
    after = kit.evaluate(at("2027-04-30"))
    usa = after.parties["usa"]
    assert (usa.standing, usa.since) == ("withdrawn", at("2027-04-30"))
    assert usa.reason == "withdrew on 2027-04-30: Leaving"
    # A withdrawn party has lost its rights: it cannot notify snapback.
    kit.act("north", "step.reported", {"step": "declare"}, time=at("2027-05-01"))
    with pytest.raises(EventRejectedError) as e:
        kit.act("usa", "snapback.notified", {"reason": "x"}, time=at("2027-05-02"))
    assert e.value.reason == "withdrawn"
    # ... but it still acts on its own measure and in the Council.
    kit.act("usa", "measure.reimposed", {"measure": "m-usa"}, time=at("2027-05-02"))
    plain = {"draft": "d-9", "title": "A statement", "purpose": "other"}
    kit.act("usa", "council.draft.tabled", plain, time=at("2027-05-02"))
    state = kit.evaluate(at("2027-05-03"))
    assert state.measures["m-usa"].status == "in_force"
    assert state.measures["m-usa"].imposed_by == "usa"


def test_before_its_notice_runs_out_a_withdrawing_party_keeps_its_rights() -> None:
    kit = adopted(with_notice(3))
    kit.act("usa", "party.withdrawal_notified", {"reason": "Leaving"}, time=T1)
    kit.act("usa", "snapback.notified", {"reason": "x"}, time=T1 + days(10))
    with pytest.raises(EventRejectedError, match="already notified its withdrawal"):
        kit.act("usa", "party.withdrawal_notified", {"reason": "Again"}, time=T1 + days(11))


def test_a_withdrawn_partys_open_steps_close_as_withdrawn() -> None:
    data = with_notice(0)
    data["agreement"]["adopted_by"] = ["north", "usa", "chn"]
    kit = adopted(data)
    kit.act("north", "party.withdrawal_notified", {"reason": "Leaving"}, time=T1)
    state = kit.evaluate(T1 + days(100))
    freeze = state.steps["freeze-reactor"]
    assert freeze.status == "withdrawn"
    assert freeze.reason == "north withdrew from the agreement on 2027-01-03 09:00 UTC"
    assert not [o for o in state.owed if o.party == "north"]
    assert state.parties["north"].standing == "withdrawn"


def test_a_suspended_party_still_owes_but_cannot_exercise_rights() -> None:
    kit = adopted(with_notice(0))
    kit.act("chn", "participation.suspended", {"reason": "Pause"}, time=T1)
    assert kit.evaluate(T1).parties["chn"].standing == "suspended"
    with pytest.raises(EventRejectedError) as e:
        kit.act("chn", "snapback.notified", {"reason": "x"}, time=T1)
    assert e.value.reason == "suspended"
    kit.act("chn", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)  # it still performs
    kit.act("chn", "participation.resumed", {}, time=T1 + days(2))
    assert kit.evaluate(T1 + days(2)).parties["chn"].standing == "participant"
    kit.act("chn", "snapback.notified", {"reason": "x"}, time=T1 + days(3))
    refused(kit, "chn", "participation.resumed", {}, "not-suspended")


# --- measures and their imposers --------------------------------------------------------

DRAFT = {"draft": "d-1", "title": "Suspend", "purpose": "other", "suspend_measures": ["m-usa"]}


def test_only_the_imposer_acts_on_its_measure() -> None:
    kit = adopted()
    message = refused(kit, "chn", "measure.suspended", {"measure": "m-usa"}, "unauthorised")
    assert message == "'m-usa' is usa's measure, not chn's"
    message = refused(kit, "usa", "measure.suspended", {"measure": "m-oil"}, "unauthorised")
    assert "is a Council measure: only a Council resolution acts on it" in message
    kit.act("usa", "measure.suspended", {"measure": "m-usa", "note": "Relief"}, time=T1)
    measure = kit.evaluate(T1).measures["m-usa"]
    assert (measure.status, measure.reason) == (
        "suspended",
        "suspended by usa, its imposer: Relief",
    )


def test_a_council_draft_cannot_act_on_a_national_measure() -> None:
    kit = adopted()
    message = refused(kit, "chn", "council.draft.tabled", DRAFT, "unauthorised")
    assert message == (
        "a Council resolution acts only on Council measures: 'm-usa' is usa's measure"
    )


# --- allegations, findings, breaches ----------------------------------------------------


def breach_rules() -> dict[str, Any]:
    data = mini_data()
    data["consequences"] += [
        {
            "id": "on-finding",
            "title": "A confirmed allegation",
            "when": {"allegation_confirmed": "any"},
            "reimpose_measures": ["m-banking"],
        },
        {
            "id": "on-custody",
            "title": "Custody broken",
            "when": {"custody_flagged": "any"},
            "reimpose_measures": ["m-oil"],
        },
    ]
    return data


ALLEGATION = {
    "allegation": "a-1",
    "against": "north",
    "kind": "custody",
    "subject": "stock-1",
    "detail": "Stock 1 was moved without notice",
}


def test_one_partys_custody_claims_fire_nothing() -> None:
    """The outside review: a receipt from a party that never held the item, or a
    hand-over by a non-holder, flagged custody and fired the harshest consequence."""
    kit = adopted(breach_rules())
    refused(kit, "usa", "custody.received", {"item": "stock-1", "from": "north"}, "no-hand-over")
    refused(kit, "chn", "custody.handed_over", {"item": "stock-1", "to": "usa"}, "not-holder")
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)
    state = kit.evaluate(T1 + days(60))
    assert not state.rules["on-custody"].fired
    assert not state.rules["on-finding"].fired
    (allegation,) = state.allegations
    assert (allegation.by, allegation.against, allegation.status) == ("usa", "north", "open")
    assert state.measures["m-oil"].status == "in_force"  # initial state, untouched
    assert "north" not in state.breaches


def test_a_finding_by_the_named_finders_confirms_an_allegation() -> None:
    data = breach_rules()
    data["parties"].append({"id": "ins2", "name": "Second inspectorate", "roles": ["verifier"]})
    data["findings"] = {"by": ["iaea", "ins2"], "threshold": 2}
    kit = adopted(data)
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)
    kit.act("north", "allegation.answered", {"allegation": "a-1", "response": "No"}, time=T1)
    for party in ("usa", "chn", "north"):  # nobody but the finders, never the accused
        refused(
            kit,
            party,
            "finding.made",
            {"allegation": "a-1", "outcome": "confirmed"},
            "unauthorised",
        )
    kit.act("iaea", "finding.made", {"allegation": "a-1", "outcome": "confirmed"}, time=T1)
    one = kit.evaluate(T1 + days(1))
    assert one.allegations[0].status == "open"  # one of two finders
    assert not one.rules["on-finding"].fired
    kit.act(
        "ins2", "finding.made", {"allegation": "a-1", "outcome": "confirmed"}, time=T1 + days(2)
    )
    state = kit.evaluate(T1 + days(3))
    allegation = state.allegations[0]
    assert (allegation.status, allegation.response) == ("confirmed", "No")
    assert state.rules["on-finding"].fired_at == T1 + days(2)
    assert state.rules["on-custody"].fired_at == T1 + days(2)  # a custody finding on stock-1
    (breach,) = state.breaches["north"]
    assert (breach.obligation, breach.kind, breach.ground) == ("stock-1", "finding", "")


def test_a_rejected_allegation_fires_nothing() -> None:
    kit = adopted(breach_rules())
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)
    kit.act("iaea", "finding.made", {"allegation": "a-1", "outcome": "rejected"}, time=T1)
    state = kit.evaluate(T1 + days(1))
    assert state.allegations[0].status == "rejected"
    assert not state.rules["on-finding"].fired
    refused(kit, "usa", "allegation.made", ALLEGATION, "duplicate")
    refused(
        kit,
        "usa",
        "allegation.made",
        ALLEGATION | {"allegation": "a-2", "against": "usa"},
        "unknown-reference",
    )
    refused(
        kit, "chn", "allegation.answered", {"allegation": "a-1", "response": "x"}, "unauthorised"
    )


def test_remedial_non_performance_keeps_both_facts() -> None:
    """JCPOA ¶26/¶36: a party ceasing commitments in response to another's
    non-performance is still in breach of them, with the ground it claims beside it."""
    kit = adopted()
    ground = "¶26 and ¶36: response to the United States' withdrawal"
    refused(
        kit,
        "north",
        "commitments.ceased",
        {"commitments": ["g-nsa"], "ground": ground},
        "unknown-reference",
    )
    refused(
        kit,
        "usa",
        "commitments.ceased",
        {"commitments": ["declare"], "ground": ground},
        "unauthorised",
    )
    kit.act(
        "north",
        "commitments.ceased",
        {"commitments": ["freeze-reactor"], "ground": ground, "in_response_to": ["usa"]},
        time=T1,
    )
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1 + days(1))
    failed = {"step": "freeze-reactor", "outcome": "failed", "note": "running"}
    kit.act("iaea", "step.verified", failed, time=T1 + days(2))
    state = kit.evaluate(T1 + days(3))
    assert state.steps["freeze-reactor"].status == "violated"
    (breach,) = state.breaches["north"]
    assert (breach.obligation, breach.since, breach.ground) == (
        "freeze-reactor",
        T1 + days(2),
        ground,
    )
    (notice,) = state.remedial
    assert (notice.party, notice.in_response_to) == ("north", ("usa",))


def test_breaches_are_listed_per_party_in_order() -> None:
    kit = adopted()
    kit.act("north", "commitments.ceased", {"commitments": ["declare"], "ground": "g1"}, time=T1)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1 + days(1))
    kit.act(
        "iaea", "step.verified", {"step": "freeze-reactor", "outcome": "failed"}, time=T1 + days(2)
    )
    breaches = kit.evaluate(T1 + days(3)).breaches["north"]
    assert [(b.obligation, b.kind, b.ground) for b in breaches] == [
        ("declare", "remedial", "g1"),
        ("freeze-reactor", "step", ""),
    ]


def test_a_withdrawn_partys_recurring_obligations_stop_and_those_owed_to_it_lapse() -> None:
    data = with_notice(0)
    data["withdrawal"]["owed_to_withdrawn"] = "lapse"
    data["obligations"] = [
        {
            "id": "report",
            "title": "Monthly report",
            "action": "Report",
            "party": "north",
            "owed_to": ["usa"],
            "every": {"months": 1},
        },
        {
            "id": "aid",
            "title": "Monthly aid",
            "action": "Deliver",
            "party": "chn",
            "owed_to": ["north"],
            "every": {"months": 1},
        },
    ]
    kit = adopted(data)
    kit.act("north", "party.withdrawal_notified", {"reason": "Leaving"}, time=at("2027-03-15"))
    state = kit.evaluate(at("2027-07-01"))
    for oid in ("report", "aid"):
        dues = [occ.due for occ in state.obligations[oid].occurrences]
        assert dues, oid  # owed before the withdrawal
        assert max(dues) < "2027-03-15", (oid, dues)


def test_a_party_cannot_fill_the_log_past_its_daily_quota() -> None:
    data = mini_data()
    data["agreement"]["storage_quota_bytes_per_day"] = 2048
    kit = adopted(data)
    note = "n" * 400  # about 750 bytes an entry with the envelope and signature
    kit.act("north", "step.reported", {"step": "declare", "note": note}, time=T1)
    kit.act("north", "step.reported", {"step": "freeze-reactor", "note": note}, time=T1)
    size = kit.history.size
    with pytest.raises(EventRejectedError) as e:
        kit.act("north", "step.reported", {"step": "disable-reactor", "note": note}, time=T1)
    assert e.value.reason == "storage-quota"
    assert kit.history.size == size
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T1)  # another party's own
    next_day = T1 + days(1)
    kit.act("north", "step.reported", {"step": "disable-reactor", "note": note}, time=next_day)


def test_rules_act_on_every_measure_of_an_imposer() -> None:
    data = mini_data()
    data["rewards"].append(
        {
            "id": "national-relief",
            "title": "National relief",
            "when": {"verified": "freeze-reactor"},
            "suspend_measures_of": ["usa", "council"],
        }
    )
    data["consequences"].append(
        {
            "id": "council-back",
            "title": "Council measures back",
            "when": {"violated": "any"},
            "reimpose_measures_of": ["council"],
        }
    )
    kit = adopted(data)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T1)
    kit.act("iaea", "step.verified", {"step": "freeze-reactor", "outcome": "confirmed"}, time=T1)
    state = kit.evaluate(T1 + days(1))
    assert {x.status for x in state.measures.values()} == {"suspended"}
    assert state.rules["national-relief"].effects == (
        "suspend every measure of usa",
        "suspend every measure of council",
    )
    kit.act("north", "step.reported", {"step": "declare"}, time=T1 + days(2))
    kit.act("north", "step.reported", {"step": "disable-reactor"}, time=T1 + days(3))
    kit.act(
        "iaea", "step.verified", {"step": "disable-reactor", "outcome": "failed"}, time=T1 + days(4)
    )
    later = kit.evaluate(T1 + days(5))
    assert {m: later.measures[m].status for m in ("m-oil", "m-banking", "m-usa")} == {
        "m-oil": "in_force",
        "m-banking": "in_force",
        "m-usa": "suspended",  # a state's own measure: not the Council's to re-impose
    }
    assert later.rules["council-back"].fired_at == T1 + days(4)


def test_an_unknown_imposer_in_a_rule_is_a_load_error() -> None:
    from cvid.errors import RoadmapError
    from cvid.roadmap.loader import from_data

    data = mini_data()
    data["consequences"][0]["reimpose_measures_of"] = ["mars"]
    with pytest.raises(RoadmapError, match="'mars' is not a party to the agreement"):
        from_data(data)


def test_a_withdrawn_partys_limits_end_with_its_withdrawal() -> None:
    data = with_notice(0)
    data["limits"] = [
        {
            "id": "stockpile",
            "title": "Warhead stockpile",
            "party": "north",
            "quantity": "warheads",
            "unit": "warhead",
            "max": 10,
            "verifiers": ["iaea"],
        }
    ]
    kit = adopted(data)
    kit.act(
        "iaea", "quantity.measured", {"limit": "stockpile", "value": 12, "unit": "warhead"}, time=T1
    )
    assert kit.evaluate(T1).limits["stockpile"].status == "exceeded"
    kit.act("north", "party.withdrawal_notified", {"reason": "Leaving"}, time=T1 + days(1))
    limit = kit.evaluate(T1 + days(2)).limits["stockpile"]
    assert (limit.status, limit.since) == ("not-in-effect", T1 + days(1))


def test_a_limits_interval_counts_calendar_months_after_a_milestone() -> None:
    data = mini_data()
    data["limits"] = [
        {
            "id": "stockpile",
            "title": "Warhead stockpile",
            "party": "north",
            "quantity": "warheads",
            "unit": "warhead",
            "max": 10,
            "from": {"after": "adoption", "months": 6},
            "verifiers": ["iaea"],
        }
    ]
    kit = adopted(data)
    # Adopted 2 Jan 2027 09:00 UTC: in effect from 2 Jul 2027 09:00 UTC.
    assert kit.evaluate(at("2027-07-02T08:59:59")).limits["stockpile"].status == "not-in-effect"
    assert kit.evaluate(at("2027-07-02T09:00:00")).limits["stockpile"].status == "unverified"
