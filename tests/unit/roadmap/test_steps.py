"""One step-done rule for admission and the engine (:mod:`cvid.roadmap.steps`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cvid.errors import EventRejectedError
from cvid.events.authz_obligations import milestone
from cvid.roadmap import model as m
from cvid.roadmap.steps import StepProgress, done_event
from tests.kit import Kit, at, mini_data

T0 = at("2027-01-02T09:00:00")


def step(threshold: int = 1, verified: bool = True) -> m.Step:
    verification = {"by": ["a", "b"], "threshold": threshold} if verified else None
    return m.Step.model_validate(
        {"id": "s", "title": "S", "actor": "x", "action": "Do", "verification": verification}
    )


def test_a_report_makes_done_only_a_step_without_verification() -> None:
    assert StepProgress(step(verified=False)).report()
    assert not StepProgress(step()).report()
    assert done_event(step(verified=False), [("x", "reported", None)]) == 0
    assert done_event(step(), [("x", "reported", None)]) is None
    assert done_event(step(), [("x", "reported", None), ("o", "waived", None)]) == 1


def test_a_failure_stands_until_every_verifier_that_spoke_confirms() -> None:
    events = [("b", "failed", 1), ("a", "confirmed", 2), ("b", "confirmed", 3)]
    assert done_event(step(threshold=1), events) == 2
    assert done_event(step(threshold=1), events[:2]) is None
    progress = StepProgress(step(threshold=2))
    assert not progress.verdict("a", "confirmed")
    assert progress.verdict("b", "confirmed")
    assert progress.confirmations == 2


def two_verifiers() -> dict[str, Any]:
    data = mini_data()
    data["agreement"]["early_steps"] = "refuse"
    data["parties"].append({"id": "ins2", "name": "Second inspectorate", "roles": ["verifier"]})
    freeze = data["phases"][0]["steps"][0]
    freeze["verification"] = {"by": ["iaea", "ins2"], "threshold": 1}
    data["obligations"] = [
        {
            "id": "reports",
            "title": "Reports after the freeze",
            "party": "north",
            "action": "Report",
            "every": {"months": 6},
            "from": {"after": "freeze-reactor"},
        }
    ]
    return data


def test_admission_and_the_engine_agree_a_contested_step_is_not_done() -> None:
    """One verifier finds it not carried out, another confirms: the engine shows it
    violated, and admission does not treat it as done either (a dependent step is
    refused under ``early_steps: refuse``, no obligation counts from it)."""
    kit = Kit(two_verifiers())
    kit.adopt(T0)
    t = T0 + dt.timedelta(days=1)
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=t)
    kit.act("north", "step.reported", {"step": "declare"}, time=t)
    kit.act("ins2", "step.verified", {"step": "freeze-reactor", "outcome": "failed"}, time=t)
    kit.act("iaea", "step.verified", {"step": "freeze-reactor", "outcome": "confirmed"}, time=t)
    state = kit.evaluate(t)
    assert state.steps["freeze-reactor"].status == "violated"
    assert state.steps["freeze-reactor"].done_at is None
    assert milestone(kit.roadmap, "freeze-reactor", kit.history.obligations) is None
    with pytest.raises(EventRejectedError) as e:
        kit.act("north", "step.reported", {"step": "disable-reactor"}, time=t)
    assert e.value.reason == "not-ready"
    # The second verifier looks again and confirms: done for both, at that moment.
    later = t + dt.timedelta(days=2)
    kit.act("ins2", "step.verified", {"step": "freeze-reactor", "outcome": "confirmed"}, time=later)
    assert kit.evaluate(later).steps["freeze-reactor"].done_at == later
    assert milestone(kit.roadmap, "freeze-reactor", kit.history.obligations) == later
    kit.act("north", "step.reported", {"step": "disable-reactor"}, time=later)
