"""Road maps with joint bodies, steps owed to a party, and the shipped ``drm`` phase:
what loads, and every mistake named with its place in the file."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import RoadmapError
from cvid.roadmap import joint, loads
from cvid.roadmap import model as m
from cvid.roadmap import phases as included_phases
from tests.joint_kit import joint_data


def _text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RoadmapError) as info:
        loads(_text(data), name="rm.yaml")
    return info.value.problems


def test_the_road_map_loads_with_its_joint_bodies_and_the_drm() -> None:
    rm = loads(_text(joint_data()), name="rm.yaml")
    bodies = {j.id: j for j in rm.joint_bodies}
    assert bodies["jc"].rule == "consensus"
    assert bodies["jc2"].rule == m.AtLeast(at_least=2)
    drm = next(ph for ph in rm.phases if ph.id == "drm")
    steps = {s.id: s for s in drm.steps}
    assert list(steps) == [
        "drm-joint-commission",
        "drm-ministers",
        "drm-advisory-opinion",
        "drm-opinion-considered",
        "drm-referral",
    ]
    first = steps["drm-joint-commission"]
    assert (first.actor, first.depends_on) == ("jc", ["e3-complaint"])
    assert first.deadline == m.Deadline(after="e3-complaint", days=15)
    assert steps["drm-advisory-opinion"].actor == "board"
    assert steps["drm-opinion-considered"].deadline == m.Deadline(
        after="drm-advisory-opinion", days=5
    )
    assert steps["drm-referral"].actor == "e3"
    assert all(s.source and "facts" in s.source for s in drm.steps)
    assert "drm" in included_phases.phase_names()


def _edit(change: Any) -> dict[str, Any]:
    data = joint_data()
    change(data)
    return data


def _one(data: dict[str, Any], line_text: str, message: str) -> None:
    problems = _problems(data)
    text = _text(data)
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if line_text in line]
    assert any(f"rm.yaml:{n}:" in p and message in p for p in problems for n in lines), problems


CASES: list[tuple[str, Any, str, str]] = [
    (
        "member not a party",
        lambda d: d["joint_bodies"][0]["members"].append("nobody"),
        "- nobody",
        "'nobody' is not a party to the agreement",
    ),
    (
        "member twice",
        lambda d: d["joint_bodies"][3]["members"].append("irn"),
        "members:",
        "a member is listed twice",
    ),
    (
        "at_least above members",
        lambda d: d["joint_bodies"][1].update(rule={"at_least": 4}),
        "at_least: 4",
        "at_least 4 is above the 3 members named",
    ),
    (
        "duplicate body",
        lambda d: d["joint_bodies"].append(copy.deepcopy(d["joint_bodies"][0])),
        "id: jc",
        "duplicate joint body id 'jc'",
    ),
    (
        "body named as a party",
        lambda d: d["joint_bodies"].append({"id": "irn", "title": "x", "members": ["irn"]}),
        "id: irn",
        "'irn' is already a party's id",
    ),
    (
        "owed to nobody",
        lambda d: d["phases"][0]["steps"][0].update(owed_to="nobody"),
        "owed_to: nobody",
        "'nobody' is not a party to the agreement",
    ),
    (
        "owed to its actor",
        lambda d: d["phases"][0]["steps"][0].update(owed_to="irn"),
        "owed_to: irn",
        "a step is owed to another party than its actor",
    ),
    (
        "actor neither party nor body",
        lambda d: d["phases"][0]["steps"][1].update(actor="nobody"),
        "actor: nobody",
        "'nobody' is not a party to the agreement",
    ),
    (
        "drm with a party for the joint body",
        lambda d: d["include_phases"][0]["with"].update(joint_body="rus"),
        "joint_body: rus",
        "'rus' is not one of the road map's joint_bodies",
    ),
    (
        "drm started by a date",
        lambda d: d["include_phases"][0]["with"].update(complaint="adoption"),
        "- phase: drm",
        "'adoption' is not a step or a phase",
    ),
]


@pytest.mark.parametrize(
    ("change", "line_text", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_mistake_is_named_where_it_is(change: Any, line_text: str, message: str) -> None:
    _one(_edit(change), line_text, message)


def test_an_unknown_rule_is_refused() -> None:
    data = _edit(lambda d: d["joint_bodies"][0].update(rule="majority"))
    assert any("rule" in p for p in _problems(data))


@settings(max_examples=200, deadline=None)
@given(
    members=st.lists(st.sampled_from("abcdef"), min_size=1, unique=True),
    k=st.integers(min_value=1, max_value=6),
    consensus=st.booleans(),
    data=st.data(),
)
def test_a_decision_never_both_passes_and_cannot_pass(
    members: list[str], k: int, consensus: bool, data: st.DataObject
) -> None:
    rule: Any = "consensus" if consensus else m.AtLeast(at_least=min(k, len(members)))
    body = m.JointBody(id="jb", title="Body", members=members, rule=rule)
    signers = data.draw(st.lists(st.sampled_from(members), unique=True))
    blockers = [p for p in members if p not in signers and data.draw(st.booleans())]
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    passes = joint.passes(body, signers, now)
    assert not (passes and joint.cannot_pass(body, blockers, now))
    assert passes == (len(signers) >= (len(members) if consensus else min(k, len(members))))
    # every member signing always passes; every member blocking never can
    assert joint.passes(body, members, now)
    assert joint.cannot_pass(body, members, now)
