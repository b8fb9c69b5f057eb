"""Each condition kind's load check is registered once (:data:`cvid.roadmap.check.CHECKS`),
for every class of the road-map language, checked when the module is imported; each
check finds what its kind names wrongly, wherever the condition is nested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cvid.errors import RoadmapError
from cvid.roadmap import check, loads
from cvid.roadmap import model as m
from tests.kit import mini_data

SRC = Path(check.__file__).resolve().parents[2]


def test_every_condition_class_has_one_load_check() -> None:
    assert set(check.CHECKS) == set(m.CONDITION_CLASSES)
    assert check.unchecked(check.CHECKS) == []


def test_unchecked_names_what_a_registry_misses_or_adds() -> None:
    partial = {cls: fn for cls, fn in check.CHECKS.items() if cls is not m.QuotaShort}
    assert check.unchecked(partial) == ["QuotaShort"]

    class Stray(m.Model):
        stray: str

    assert check.unchecked({**check.CHECKS, Stray: check.CHECKS[m.Adopted]}) == ["Stray"]


def test_a_condition_without_a_load_check_fails_at_import() -> None:
    # In a fresh interpreter: the module is loaded again after the language grew.
    program = (
        "import importlib\n"
        "from cvid.roadmap import check, model as m\n"
        "class Fresh(m.Model):\n"
        "    fresh: str\n"
        "m.CONDITION_CLASSES = (*m.CONDITION_CLASSES, Fresh)\n"
        "importlib.reload(check)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    run = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode != 0
    assert "ImportError: condition classes without a load check: Fresh" in run.stderr


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"verified": "nowhere"}, "'nowhere' is not a step or a phase"),
        ({"reported": "nowhere"}, "'nowhere' is not a step or a phase"),
        ({"overdue": {"step": "nowhere"}}, "'nowhere' is not a step"),
        ({"overdue": {"step": "disable"}}, "'disable' is not a step"),  # a phase
        ({"violated": "nowhere"}, "'nowhere' is not a step (or 'any')"),
        ({"irreversibility_violated": "nowhere"}, "'nowhere' is not an item (or 'any')"),
        ({"party_withdrawn": "nowhere"}, "'nowhere' is not a party (or 'any')"),
        ({"limit_exceeded": "nowhere"}, "'nowhere' is not a limit (or 'any')"),
        ({"limit_violated": "nowhere"}, "'nowhere' is not a limit (or 'any')"),
        ({"guarantee_in_force": "nowhere"}, "'nowhere' is not a guarantee"),
        ({"obligation_missed": "nowhere"}, "'nowhere' is not an obligation (or 'any')"),
        ({"quota_short": "nowhere"}, "'nowhere' is not a quota (or 'any')"),
        (
            {"cells_revealed": {"declaration": "nowhere"}},
            "'nowhere' is not a declaration in 'escrow'",
        ),
        (
            {"confidence": {"declaration": "nowhere", "at_least": 0.9}},
            "'nowhere' is not a declaration in 'escrow'",
        ),
    ],
)
def test_each_kind_checks_what_it_names_wherever_it_is_nested(
    condition: dict[str, Any], message: str
) -> None:
    data = mini_data()
    nested = {"all": [{"adopted": True}, {"any": [{"not": condition}]}]}
    data["consequences"].append({"id": "nested", "title": "Nested", "when": nested})
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if "nowhere" in line]
    lines += [n + 1 for n, line in enumerate(text.splitlines()) if "step: disable" in line]
    places = [f"rm.yaml:{n}:" for n in lines]
    problems = info.value.problems
    assert any(p.startswith(w) and message in p for p in problems for w in places), problems
