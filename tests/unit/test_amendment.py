"""Amendments: a new version adopted by the required consents governs from its
effective date; the past reads as it was; a version cannot rewrite logged history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from cvid import agreement as ag
from cvid.amendment import VERSIONS_DIR, history_problems
from cvid.errors import AgreementError, EventRejectedError
from cvid.events import bodies as b
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


def amended_directory(tmp_path: Path) -> tuple[ag.Agreement, Path]:
    data = mini_data()
    data["amendments"] = {"by": ["north", "usa"]}
    agreement = ag.create(tmp_path / "a", data, adopt_at=T0)
    text = (tmp_path / "a" / ag.ROADMAP_FILE).read_text(encoding="utf-8")
    new = tmp_path / "v2.yaml"
    new.write_text(text.replace("days: 60", "days: 90"), encoding="utf-8")
    return agreement, new


def test_an_amended_agreement_reopens_and_replays_under_each_version(tmp_path: Path) -> None:
    agreement, new = amended_directory(tmp_path)
    with agreement:
        with pytest.raises(AgreementError, match="already in force"):
            agreement.propose_amendment(
                agreement.signer("north"), tmp_path / "a" / ag.ROADMAP_FILE,
                amendment="a0", effective=dt.date(2027, 2, 1), time=T0,
            )  # fmt: skip
        proposal = agreement.propose_amendment(
            agreement.signer("north"), new, amendment="a1", effective=dt.date(2027, 2, 1), time=T0
        )
        assert isinstance(proposal.body, b.AmendmentProposed)
        agreement.act(agreement.signer("usa"), "amendment.consented", {"amendment": "a1"}, time=T0)
        later = at("2027-02-02")
        reported = agreement.act(
            agreement.signer("north"), "step.reported", {"step": "declare"}, time=later
        )
        assert reported.signed.event.roadmap == proposal.body.digest
        assert agreement.next_event("north", "step.reported", {}, time=T0).roadmap == (
            agreement.gate.digest
        )
    with ag.Agreement.open(tmp_path / "a") as reopened:  # the whole log admitted again
        assert len(reopened.events) == 6
        assert reopened.state(at=at("2027-01-20")).steps["declare"].due == at("2027-03-03T09:00")
        assert reopened.state(at=at("2027-02-03")).steps["declare"].due == at("2027-04-02T09:00")
    kept = next((tmp_path / "a" / VERSIONS_DIR).glob("*.yaml"))
    kept.write_text(kept.read_text(encoding="utf-8").replace("days: 90", "days: 99"), "utf-8")
    with pytest.raises(AgreementError, match="not the version its name says"):
        ag.Agreement.open(tmp_path / "a")


def test_a_refused_proposal_keeps_no_file(tmp_path: Path) -> None:
    agreement, new = amended_directory(tmp_path)
    with agreement:
        with pytest.raises(EventRejectedError) as info:
            agreement.propose_amendment(
                agreement.signer("ops"), new, amendment="a1", effective=dt.date(2027, 2, 1),
                time=T0,
            )  # fmt: skip
        assert info.value.reason == "unauthorised"
    assert not any((tmp_path / "a" / VERSIONS_DIR).glob("*.yaml"))
