"""Per-consequence finders: a consequence fires on the findings of the finder it
names (k of n verifiers, a joint body's decision, a Council determination) and of
no other; one party acting alone fires nothing; every mistake is a load error with
its place in the file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from cvid.errors import EventRejectedError, RoadmapError
from cvid.roadmap import loads
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")
T1 = T0 + dt.timedelta(days=1)

ALLEGATION = {
    "allegation": "a-1",
    "against": "north",
    "kind": "non-performance",
    "detail": "The reactor runs again",
}
CONFIRM = {"allegation": "a-1", "outcome": "confirmed"}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def finder_data(found_by: dict[str, Any], when: dict[str, Any] | None = None) -> dict[str, Any]:
    data = mini_data()
    data["parties"].append({"id": "ins2", "name": "Second inspectorate", "roles": ["verifier"]})
    data["findings"] = {"by": ["iaea"], "threshold": 1}
    data["joint_bodies"] = [
        {"id": "jc", "title": "Joint commission", "members": ["usa", "chn"]},
        {"id": "jc2", "title": "Other commission", "members": ["usa", "chn"]},
    ]
    data["consequences"] += [
        {
            "id": "on-verifiers",
            "title": "Confirmed by the inspectorate",
            "when": {"allegation_confirmed": "non-performance"},
            "reimpose_measures": ["m-oil"],
        },
        {
            "id": "on-named",
            "title": "Confirmed by the named finder",
            "when": when or {"allegation_confirmed": "non-performance"},
            "found_by": found_by,
            "reimpose_measures": ["m-banking"],
        },
    ]
    return data


def alleged(data: dict[str, Any]) -> Kit:
    kit = Kit(data)
    kit.adopt(T0)
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)
    kit.act("iaea", "finding.made", CONFIRM, time=T1)
    return kit


def refused(kit: Kit, party: str, event_type: str, body: dict[str, Any], reason: str) -> str:
    before = (kit.history.size, repr(kit.history))
    with pytest.raises(EventRejectedError) as e:
        kit.act(party, event_type, body, time=T1 + days(5))
    assert e.value.reason == reason, str(e.value)
    assert (kit.history.size, repr(kit.history)) == before
    return str(e.value)


FIND = {
    "decision": "d-find",
    "body": "jc",
    "subject": "The reactor runs again",
    "find": {"allegation": "a-1", "outcome": "confirmed"},
}


def test_a_joint_body_finding_fires_what_a_verifier_finding_does_not() -> None:
    kit = alleged(finder_data({"joint_body": "jc"}))
    state = kit.evaluate(T1 + days(1))
    assert state.allegations[0].status == "confirmed"  # the inspectorate's finding
    assert state.rules["on-verifiers"].fired_at == T1
    assert not state.rules["on-named"].fired  # the verifier alone does not fire it
    assert state.rules["on-named"].condition.endswith(", found by a decision of jc")
    # One member of the commission, acting alone, fires nothing.
    kit.act("usa", "decision.proposed", FIND, time=T1 + days(2))
    one = kit.evaluate(T1 + days(3))
    assert one.decisions["d-find"].status == "proposed"
    assert not one.rules["on-named"].fired
    assert one.measures["m-banking"].status == "in_force"  # as the road map starts
    kit.act("chn", "decision.joined", {"decision": "d-find"}, time=T1 + days(4))
    both = kit.evaluate(T1 + days(5))
    assert both.rules["on-named"].fired_at == T1 + days(4)
    assert both.allegations[0].findings == {"iaea": "confirmed", "jc": "confirmed"}


def test_a_joint_body_that_rejects_fires_nothing() -> None:
    kit = Kit(finder_data({"joint_body": "jc"}))
    kit.adopt(T0)
    kit.act("usa", "allegation.made", ALLEGATION, time=T1)
    reject = FIND | {"find": {"allegation": "a-1", "outcome": "rejected"}}
    kit.act("usa", "decision.proposed", reject, time=T1 + days(1))
    kit.act("chn", "decision.joined", {"decision": "d-find"}, time=T1 + days(1))
    state = kit.evaluate(T1 + days(2))
    assert state.allegations[0].status == "rejected"
    assert not state.rules["on-named"].fired
    assert not state.rules["on-verifiers"].fired


def test_only_the_named_body_finds_and_only_on_an_allegation_made() -> None:
    kit = alleged(finder_data({"joint_body": "jc"}))
    message = refused(kit, "usa", "decision.proposed", FIND | {"body": "jc2"}, "outside-mandate")
    assert message == "jc2 makes no findings: no rule of the road map is found_by it"
    unknown = FIND | {"find": {"allegation": "a-9", "outcome": "confirmed"}}
    assert refused(kit, "usa", "decision.proposed", unknown, "unknown-reference") == (
        "no allegation 'a-9'"
    )


DETERMINE = {
    "draft": "r-find",
    "title": "Determines the allegation",
    "purpose": "other",
    "determines": ["a-1"],
}


def test_a_council_determination_fires_what_a_verifier_finding_does_not() -> None:
    kit = alleged(finder_data({"council": True}))
    assert not kit.evaluate(T1 + days(1)).rules["on-named"].fired
    kit.act("usa", "council.draft.tabled", DETERMINE, time=T1 + days(1))
    kit.act("usa", "council.vote.cast", {"draft": "r-find", "vote": "yes"}, time=T1 + days(1))
    # The member that tabled it, alone, closes a vote it alone supports: not adopted.
    kit.act("usa", "council.vote.closed", {"draft": "r-find"}, time=T1 + days(2))
    alone = kit.evaluate(T1 + days(3))
    assert alone.drafts["r-find"].tally is not None
    assert not alone.drafts["r-find"].tally.adopted
    assert not alone.rules["on-named"].fired
    second = DETERMINE | {"draft": "r-find-2"}
    kit.act("usa", "council.draft.tabled", second, time=T1 + days(3))
    for member in ("usa", "chn", "e1"):
        kit.act(
            member, "council.vote.cast", {"draft": "r-find-2", "vote": "yes"}, time=T1 + days(3)
        )
    kit.act("usa", "council.vote.closed", {"draft": "r-find-2"}, time=T1 + days(4))
    state = kit.evaluate(T1 + days(5))
    assert state.rules["on-named"].fired_at == T1 + days(4)
    assert state.allegations[0].findings["council (r-find-2)"] == "confirmed"
    assert state.measures["m-banking"].status == "in_force"
    assert state.rules["on-named"].condition.endswith(", found by a Council determination")


def test_a_vetoed_determination_fires_nothing() -> None:
    kit = alleged(finder_data({"council": True}))
    kit.act("usa", "council.draft.tabled", DETERMINE, time=T1 + days(1))
    for member, vote in (("usa", "yes"), ("e1", "yes"), ("e2", "yes"), ("chn", "no")):
        kit.act(member, "council.vote.cast", {"draft": "r-find", "vote": vote}, time=T1 + days(1))
    kit.act("usa", "council.vote.closed", {"draft": "r-find"}, time=T1 + days(2))
    assert not kit.evaluate(T1 + days(3)).rules["on-named"].fired


def test_the_council_determines_only_where_the_road_map_makes_it_a_finder() -> None:
    kit = alleged(finder_data({"joint_body": "jc"}))
    message = refused(kit, "usa", "council.draft.tabled", DETERMINE, "unauthorised")
    assert "no rule of the road map is found_by the Council" in message
    council = alleged(finder_data({"council": True}))
    unknown = DETERMINE | {"determines": ["a-9"]}
    refused(council, "usa", "council.draft.tabled", unknown, "unknown-reference")


def test_k_of_n_verifiers_per_consequence() -> None:
    kit = alleged(finder_data({"verifiers": {"by": ["iaea", "ins2"], "threshold": 2}}))
    one = kit.evaluate(T1 + days(1))
    assert one.rules["on-verifiers"].fired_at == T1
    assert not one.rules["on-named"].fired  # one of the two it names
    # ins2 is not among the road map's findings, but this consequence names it.
    kit.act("ins2", "finding.made", CONFIRM, time=T1 + days(2))
    assert kit.evaluate(T1 + days(3)).rules["on-named"].fired_at == T1 + days(2)
    refused(kit, "chn", "finding.made", CONFIRM, "unauthorised")


def test_a_custody_finding_by_a_joint_body_flags_custody_for_its_consequence() -> None:
    data = finder_data({"joint_body": "jc"}, when={"custody_flagged": "stock-1"})
    kit = Kit(data)
    kit.adopt(T0)
    custody = ALLEGATION | {"kind": "custody", "subject": "stock-1"}
    kit.act("usa", "allegation.made", custody, time=T1)
    kit.act("iaea", "finding.made", CONFIRM, time=T1)
    assert not kit.evaluate(T1 + days(1)).rules["on-named"].fired
    kit.act("usa", "decision.proposed", FIND, time=T1 + days(2))
    kit.act("chn", "decision.joined", {"decision": "d-find"}, time=T1 + days(2))
    assert kit.evaluate(T1 + days(3)).rules["on-named"].fired_at == T1 + days(2)


# --- load-time errors -------------------------------------------------------------------


def _problems(data: dict[str, Any]) -> tuple[str, list[str]]:
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    return text, info.value.problems


def _lines(text: str, line_text: str) -> list[str]:
    """``rm.yaml:<line>:`` for each line holding ``line_text``."""
    return [f"rm.yaml:{n + 1}:" for n, line in enumerate(text.splitlines()) if line_text in line]


@pytest.mark.parametrize(
    ("found_by", "when", "line_text", "message"),
    [
        ({"joint_body": "nobody"}, None, "joint_body: nobody", "'nobody' is not a joint body"),
        (
            {"verifiers": {"by": ["iaea", "ghost"], "threshold": 1}},
            None,
            "- ghost",
            "'ghost' is not a party to the agreement",
        ),
        (
            {"verifiers": {"by": ["iaea"], "threshold": 2}},
            None,
            "threshold: 2",
            "threshold 2 is above the 1 finders",
        ),
        (
            {"joint_body": "jc"},
            {"verified": "freeze"},
            "found_by:",
            "its condition reads none: use allegation_confirmed or custody_flagged",
        ),
    ],
)
def test_a_bad_finder_is_a_load_error_with_its_place(
    found_by: dict[str, Any], when: dict[str, Any] | None, line_text: str, message: str
) -> None:
    text, problems = _problems(finder_data(found_by, when))
    places = _lines(text, line_text)
    assert any(p.startswith(w) and message in p for p in problems for w in places), problems


def test_a_council_finder_needs_a_council() -> None:
    data = finder_data({"council": True})
    data["parties"] = [p for p in data["parties"] if not p["id"].startswith("e")]
    for party in data["parties"]:
        party["roles"] = [r for r in party["roles"] if not r.startswith("council")] or ["party"]
    del data["council"], data["snapback"]
    _, problems = _problems(data)
    assert any("the road map has no Council to determine findings" in p for p in problems)


def test_found_by_names_exactly_one_finder() -> None:
    _, problems = _problems(finder_data({"joint_body": "jc", "council": True}))
    assert any("found_by names exactly one of" in p for p in problems), problems


# --- rewards name their finder as consequences do ---------------------------------------


def reward_data(found_by: dict[str, Any], when: dict[str, Any] | None = None) -> dict[str, Any]:
    """Only a reward names the joint body: no consequence does."""
    data = mini_data()
    data["findings"] = {"by": ["iaea"], "threshold": 1}
    data["joint_bodies"] = [{"id": "jc", "title": "Joint commission", "members": ["usa", "chn"]}]
    data["rewards"].append(
        {
            "id": "compensation",
            "title": "Relief once the commission confirms the complaint",
            "when": when or {"allegation_confirmed": "non-performance"},
            "found_by": found_by,
            "suspend_measures": ["m-banking"],
        }
    )
    return data


def test_a_reward_reads_the_findings_of_its_own_finder() -> None:
    kit = alleged(reward_data({"joint_body": "jc"}))
    state = kit.evaluate(T1 + days(1))
    assert state.allegations[0].status == "confirmed"  # by the inspectorate
    assert not state.rules["compensation"].fired  # which is not the reward's finder
    assert state.rules["compensation"].condition.endswith(", found by a decision of jc")
    # The body a reward names may find (admission knows it as a finder).
    kit.act("usa", "decision.proposed", FIND, time=T1 + days(2))
    assert not kit.evaluate(T1 + days(3)).rules["compensation"].fired  # one member alone
    kit.act("chn", "decision.joined", {"decision": "d-find"}, time=T1 + days(4))
    both = kit.evaluate(T1 + days(5))
    assert both.rules["compensation"].fired_at == T1 + days(4)
    assert both.measures["m-banking"].status == "suspended"


def test_a_rewards_finder_is_checked_at_load() -> None:
    text, problems = _problems(reward_data({"joint_body": "jc"}, {"verified": "freeze"}))
    places = _lines(text, "found_by:")
    message = "found_by names whose findings fire the rule, and its condition reads none"
    assert any(p.startswith(w) and message in p for p in problems for w in places), problems
    text, problems = _problems(reward_data({"joint_body": "nobody"}))
    places = _lines(text, "joint_body: nobody")
    message = "'nobody' is not a joint body"
    assert any(p.startswith(w) and message in p for p in problems for w in places), problems
