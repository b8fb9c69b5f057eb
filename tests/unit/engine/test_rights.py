"""Rights: steps a party may perform (``kind: right``), never owed, never overdue, never a
violation for not being done; a phase's completion does not wait for them, and the
steps that depend on one wait until it is performed. A phase is complete from the
first moment its required steps are done and none of its steps stands violated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from cvid.errors import EventRejectedError, RoadmapError
from cvid.roadmap import loads
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


COMPLAIN: dict[str, Any] = {
    "id": "complain",
    "title": "The United States may refer a failure to the commission",
    "actor": "usa",
    "action": "Refer the failure to the commission",
    "kind": "right",
}
CONFIRMED = {"step": "freeze-reactor", "outcome": "confirmed"}
CONSULT: dict[str, Any] = {
    "id": "consult",
    "title": "The disarming state answers the referral",
    "actor": "north",
    "action": "Answer the referral",
    "depends_on": ["complain"],
    "deadline": {"after": "complain", "days": 10},
}


def rights_data() -> dict[str, Any]:
    """The mini road map with a right in the freeze phase, a step that depends on it
    in a phase of its own, and a phase of rights only."""
    data = mini_data()
    data["phases"][0]["steps"].append(dict(COMPLAIN))
    data["phases"].append({"id": "consultation", "title": "Consultation", "steps": [CONSULT]})
    data["phases"].append(
        {
            "id": "appeals",
            "title": "Appeals",
            "steps": [COMPLAIN | {"id": "appeal", "actor": "north", "title": "Appeal"}],
        }
    )
    return data


def owed(kit: Kit, when: dt.datetime) -> set[tuple[str, str, str]]:
    return {(o.party, o.kind, o.subject) for o in kit.evaluate(when).owed}


def test_a_right_is_never_owed_nor_overdue() -> None:
    kit = Kit(rights_data())
    kit.adopt(T0)
    for when in (T0 + days(1), T0 + days(400)):  # long after every deadline
        state = kit.evaluate(when)
        step = state.steps["complain"]
        assert (step.status, step.due) == ("open", None)
        assert step.reason == "usa may carry it out (a right: never owed)"
        assert ("usa", "carry out", "complain") not in owed(kit, when)
        assert ("north", "carry out", "consult") not in owed(kit, when)  # not yet opened
        assert state.steps["consult"].status == "blocked"
        assert state.steps["consult"].reason == "waiting for complain"
        assert not [v for v in state.violations if v.subject == "complain"]
    # Exercised, the right opens what depends on it, which is owed from then on.
    kit.act("usa", "step.reported", {"step": "complain"}, time=T0 + days(401))
    later = kit.evaluate(T0 + days(402))
    assert later.steps["complain"].done_at == T0 + days(401)
    assert later.steps["consult"].status == "open"
    assert later.steps["consult"].due == T0 + days(411)
    assert ("north", "carry out", "consult") in owed(kit, T0 + days(402))


def test_a_phase_is_complete_without_its_rights() -> None:
    kit = Kit(rights_data())
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "declare"}, time=T0 + days(1))
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T0 + days(2))
    kit.act("iaea", "step.verified", CONFIRMED, time=T0 + days(3))
    state = kit.evaluate(T0 + days(4))
    assert state.steps["complain"].status == "open"  # not exercised
    assert state.phases["freeze"].status == "complete"
    assert state.phases["freeze"].complete_at == T0 + days(3)
    assert state.rules["relief-1"].fired_at == T0 + days(3)  # {verified: freeze}
    # A phase of rights only is complete once they are exercised.
    assert state.phases["appeals"].status != "complete"
    kit.act("north", "step.reported", {"step": "appeal"}, time=T0 + days(5))
    assert kit.evaluate(T0 + days(6)).phases["appeals"].complete_at == T0 + days(5)


def test_a_phase_is_not_complete_while_a_step_stands_violated() -> None:
    kit = Kit(rights_data())
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=T0 + days(1))
    kit.act("iaea", "step.verified", CONFIRMED, time=T0 + days(2))
    failed = {"step": "freeze-reactor", "outcome": "failed", "note": "the seal is broken"}
    kit.act("iaea", "step.verified", failed, time=T0 + days(3))
    kit.act("north", "step.reported", {"step": "declare"}, time=T0 + days(4))
    state = kit.evaluate(T0 + days(5))
    assert state.steps["freeze-reactor"].status == "violated"
    assert state.phases["freeze"].status == "violated"
    assert not state.rules["relief-1"].fired
    kit.act("iaea", "step.verified", CONFIRMED, time=T0 + days(6))
    cleared = kit.evaluate(T0 + days(7))
    assert cleared.phases["freeze"].complete_at == T0 + days(6)
    assert cleared.rules["relief-1"].fired_at == T0 + days(6)


def test_a_right_cannot_be_refused() -> None:
    kit = Kit(rights_data())
    kit.adopt(T0)
    before = kit.history.size
    with pytest.raises(EventRejectedError) as e:
        kit.act(
            "usa", "obligation.refused", {"step": "complain", "reason": "no"}, time=T0 + days(1)
        )
    assert e.value.reason == "not-an-obligation"
    assert "is a right of usa" in str(e.value)
    assert kit.history.size == before


# --- load-time errors -------------------------------------------------------------------


def _problems(data: dict[str, Any]) -> tuple[str, list[str]]:
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    return text, info.value.problems


def _at_line(text: str, line_text: str, problems: list[str], message: str) -> bool:
    lines = [f"rm.yaml:{n + 1}:" for n, line in enumerate(text.splitlines()) if line_text in line]
    return any(p.startswith(w) and message in p for p in problems for w in lines)


@pytest.mark.parametrize(
    ("extra", "line_text", "message"),
    [
        ({"deadline": {"date": dt.date(2028, 1, 1)}}, "deadline:", "a right is never due"),
        ({"verification": {"by": ["iaea"]}}, "verification:", "a right is never found not done"),
        ({"owed_to": "north"}, "owed_to: north", "a right is owed to nobody"),
        (
            {"automatic": True, "deadline": {"date": dt.date(2028, 1, 1)}},
            "automatic: true",
            "it cannot be automatic",
        ),
    ],
)
def test_a_right_that_could_be_owed_is_a_load_error(
    extra: dict[str, Any], line_text: str, message: str
) -> None:
    data = rights_data()
    data["phases"][0]["steps"][-1].update(extra)
    text, problems = _problems(data)
    assert _at_line(text, line_text, problems, message), problems


def test_a_joint_bodys_act_is_no_right() -> None:
    data = rights_data()
    data["joint_bodies"] = [{"id": "jc", "title": "Commission", "members": ["usa", "chn"]}]
    data["phases"][0]["steps"][-1]["actor"] = "jc"
    text, problems = _problems(data)
    assert _at_line(text, "kind: right", problems, "'jc' is a joint body"), problems


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"overdue": {"step": "complain"}}, "step 'complain' is a right: it is never overdue"),
        ({"violated": "complain"}, "not exercising it is never a violation"),
    ],
)
def test_a_condition_that_reads_a_right_as_a_debt_is_a_load_error(
    when: dict[str, Any], message: str
) -> None:
    data = rights_data()
    data["consequences"].append({"id": "x", "title": "X", "when": when})
    text, problems = _problems(data)
    assert _at_line(text, "complain", problems, message), problems
