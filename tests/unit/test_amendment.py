"""Amendments: a new version adopted by the required consents governs from its
effective date; the past reads as it was; a version cannot rewrite logged history."""

from __future__ import annotations

from typing import Any

from cvid.amendment import history_problems
from cvid.roadmap.loader import from_data
from cvid.roadmap.model import RoadMap
from tests.kit import Kit, at, mini_data, with_keys
from tests.unit.events.test_authz_life import T0, amendable, version


def adopted_amendment(consents: list[str]) -> tuple[Kit, str]:
    kit = amendable(consent={"at_least": 2})
    digest = version(kit, declare_days=90)
    proposal = {"amendment": "a1", "digest": digest, "effective": "2027-02-01"}
    kit.act("north", "amendment.proposed", proposal, time=T0)
    for party in consents:
        kit.act(party, "amendment.consented", {"amendment": "a1"}, time=T0)
    return kit, digest


def test_an_adopted_amendment_changes_a_deadline_from_its_effective_date() -> None:
    kit, _ = adopted_amendment(["usa"])
    old_due, new_due = at("2027-03-03T09:00:00"), at("2027-04-02T09:00:00")
    before = kit.evaluate(at("2027-01-31T23:59:59"))
    assert before.steps["declare"].due == old_due  # time travel: the old deadline
    after = kit.evaluate(at("2027-02-01"))
    assert after.steps["declare"].due == new_due
    # On 2027-03-10 the step is overdue under the old text, not under the amended one.
    assert kit.evaluate(at("2027-03-10")).steps["declare"].status == "open"
    assert kit.evaluate(at("2027-01-31")).steps["declare"].status == "open"


def test_without_the_required_consents_nothing_changes() -> None:
    kit, _ = adopted_amendment([])
    assert kit.evaluate(at("2027-03-10")).steps["declare"].status == "overdue"


def keyed(data: dict[str, Any]) -> RoadMap:
    rm: RoadMap = from_data(with_keys(data)[0])
    return rm


def test_a_version_that_keeps_history_has_no_problem() -> None:
    kit = Kit()
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "declare"}, time=T0)
    data = mini_data()
    data["phases"][0]["steps"][1]["deadline"]["days"] = 90
    assert history_problems(kit.roadmap, keyed(data), kit.events) == []


def test_a_version_that_rewrites_history_is_named_problem_by_problem() -> None:
    kit = Kit()
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "declare"}, time=T0)
    kit.act("usa", "guarantee.signed", {"guarantee": "g-nsa"}, time=T0)
    kit.act("usa", "measure.lifted", {"measure": "m-usa"}, time=T0)
    draft = {"draft": "d-1", "title": "A draft", "purpose": "other"}
    kit.act("e1", "council.draft.tabled", draft, time=T0)
    data = mini_data()
    data["agreement"]["id"] = "other"
    del data["phases"][0]["steps"][1]  # declare
    data["guarantees"] = []
    data["measures"] = [x for x in data["measures"] if x["id"] != "m-usa"]
    data["parties"] = [p for p in data["parties"] if p["id"] != "e1"]
    data["council"]["size"] = 4
    data["rewards"] = [r for r in data.get("rewards", []) if "g-nsa" not in str(r)]
    data["consequences"] = [c for c in data.get("consequences", []) if "g-nsa" not in str(c)]
    rm = keyed(data)
    problems = history_problems(kit.roadmap, rm, kit.events)
    assert problems == [
        "the agreement's id and origin cannot change",
        "party 'e1' has signed logged events and cannot be removed",
        "step 'declare' has logged events and cannot be removed",
        "guarantee 'g-nsa' has logged events and cannot be removed",
        "measure 'm-usa' has logged events and cannot be removed",
    ]
    data = mini_data()
    new_data, _ = with_keys(data, salt="other")
    assert "party 'north' has signed logged events and must keep its keys" in history_problems(
        kit.roadmap, from_data(new_data), kit.events
    )
    data = mini_data()
    data["phases"][0]["steps"][1]["actor"] = "usa"
    assert history_problems(kit.roadmap, keyed(data), kit.events) == [
        "step 'declare' has logged events and must keep its actor"
    ]
