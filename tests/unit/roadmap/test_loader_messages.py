"""Road-map problems read as advice: close keys suggested, dates shown as dates, clean paths."""

from __future__ import annotations

import pytest

from cvid.errors import RoadmapError
from cvid.roadmap import loads
from tests.kit import MINI

TEXT = MINI.read_text(encoding="utf-8")


def _problems(old: str, new: str) -> list[str]:
    assert old in TEXT, old
    with pytest.raises(RoadmapError) as info:
        loads(TEXT.replace(old, new, 1), name="rm.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "        depends_on: [freeze]\n",
            "        depend_on: [freeze]\n",
            "rm.yaml:64:9: unknown key 'depend_on'; did you mean 'depends_on'?",
        ),
        ("phases:\n", "phase:\n", "unknown key 'phase'; did you mean 'phases'?"),
        ("  clock_skew_seconds: 300", "  clock_skew: 300", "did you mean 'clock_skew_seconds'?"),
        (
            "    when: {verified: freeze}\n",
            "    when: {verifed: freeze}\n",
            "rewards.0.when: expected a condition: a mapping with exactly one of the keys all,",
        ),
        ("    when: {verified: freeze}\n", "    when: {verifed: freeze}\n", "mean 'verified'?"),
        (
            "    when: {overdue: {step: freeze-reactor, grace_days: 10}}\n",
            "    when: {overdue: {step: freeze-reactor, grace_day: 10}}\n",
            "unknown key 'grace_day'; did you mean 'grace_days'?",
        ),
    ],
)
def test_a_misspelt_key_gets_the_closest_known_one(old: str, new: str, said: str) -> None:
    assert any(said in p for p in _problems(old, new)), _problems(old, new)


def test_a_key_like_no_other_gets_no_suggestion() -> None:
    (problem,) = _problems("        title: Freeze reactor A\n", "        title: A\n        zz: 1\n")
    assert problem.endswith("unknown key 'zz'")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "deadline: {date: 2028-12-31}",
            "deadline: {date: 2028-12-31T10:00:00}",
            "phases.1.steps.1.deadline.date: expected a date, YYYY-MM-DD (got 2028-12-31T10:00:00)",
        ),
        (
            "  start: 2027-01-01",
            "  start: 31/12/2026",
            "agreement.start: expected a date, YYYY-MM-DD (got '31/12/2026')",
        ),
    ],
)
def test_a_wrong_date_is_shown_as_the_file_has_it(old: str, new: str, said: str) -> None:
    problems = _problems(old, new)
    assert any(p.endswith(said) for p in problems), problems
    assert not any("datetime" in p for p in problems)


def test_a_path_through_nested_conditions_has_no_repeats() -> None:
    problems = _problems(
        "    when: {all: [{verified: freeze-reactor}, {adopted: true}]}\n",
        "    when: {any: [{any: [{verfied: x}]}]}\n",
    )
    assert any(": rewards.1.when.any.0.any.0: expected a condition" in p for p in problems)
    assert not any("any.any" in p for p in problems), problems


def test_a_missing_key_inside_a_condition_has_a_clean_path() -> None:
    problems = _problems("    when: {verified: freeze}\n", "    when: {overdue: {grace_days: 3}}\n")
    assert any("missing key 'step'" in p for p in problems), problems
    assert not any("overdue.overdue" in p for p in problems), problems


def test_a_duplicated_id_is_not_also_a_cycle() -> None:
    problems = _problems("      - id: dismantle-stock\n", "      - id: disable-reactor\n")
    assert any("duplicate milestone (phase or step) id 'disable-reactor'" in p for p in problems)
    assert not any("cyclic" in p for p in problems), problems


def test_a_real_self_dependency_is_still_a_cycle() -> None:
    problems = _problems(
        "        deadline: {after: adoption, days: 60}\n",
        "        deadline: {after: adoption, days: 60}\n        depends_on: [declare]\n",
    )
    assert any("cyclic dependency: declare → declare" in p for p in problems), problems
