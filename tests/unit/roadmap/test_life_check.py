"""Road-map checks of an agreement's life and amendments, each with its position."""

from __future__ import annotations

import re

import pytest

from tests.unit.roadmap.test_loader import TEXT, _line_of, _problems

ANCHOR = "  clock_skew_seconds: 300\n"
CASES = [
    (
        "  entry_into_force: {ratifications: {by: [north, nobody]}}\n",
        "nobody",
        "'nobody' is not a party",
    ),
    (
        "  entry_into_force: {ratifications: {by: [north], at_least: 2}}\n",
        "at_least",
        "at_least 2 is more than the parties named",
    ),
    (
        "  entry_into_force: {date: 2026-01-01}\n",
        "entry_into_force",
        "entry into force before the start",
    ),
    (
        "  entry_into_force: {date: 2027-02-01, ratifications: {by: [north]}}\n",
        "entry_into_force",
        "either 'date' or 'ratifications'",
    ),
    (
        "  extensions: {length: {years: 5}}\n",
        "extensions",
        "extensions need a 'duration'",
    ),
    (
        "  duration: {years: 10}\n  extensions: {length: {years: 5}, by: [ghost]}\n",
        "ghost",
        "'ghost' is not a party",
    ),
    (
        "  termination: {by: [usa], at_least: 3}\n",
        "termination",
        "at_least 3 is more than the parties named",
    ),
    ("  after_end: [step.teleported]\n", "after_end", "unknown event type 'step.teleported'"),
    ("  duration: {weeks: 3}\n", "duration", "weeks"),
]


@pytest.mark.parametrize(("insert", "marker", "fragment"), CASES, ids=[c[2] for c in CASES])
def test_each_life_mistake_is_named_with_its_position(
    insert: str, marker: str, fragment: str
) -> None:
    text = TEXT.replace(ANCHOR, ANCHOR + insert, 1)
    problems = _problems(text)
    matching = [p for p in problems if fragment in p]
    assert matching, problems
    line = _line_of(text, marker)
    assert re.match(rf"rm\.yaml:{line}:\d+: ", matching[0]), (matching[0], line)


def test_amendment_quorum_is_checked() -> None:
    text = TEXT + "amendments: {consent: {at_least: 4}, by: [north, usa, chn]}\n"
    assert any("at_least 4 is more than the parties named" in p for p in _problems(text))
    text = TEXT + "amendments: {by: [north, ghost]}\n"
    assert any("'ghost' is not a party" in p for p in _problems(text))
