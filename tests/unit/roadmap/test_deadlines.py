"""Deadlines in the road map: the forms that load, and each mistake named with its
position (unknown anchors, impossible combinations, cycles through anchors, zones)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cvid.roadmap import loads
from cvid.roadmap.model import Deadline, FirstEventAnchor, ResolutionAnchor
from tests.unit.roadmap.test_loader import TEXT, _line_of, _problems

DECLARE = "        deadline: {after: adoption, days: 60}\n"
FREEZE = "        deadline: {after: adoption, days: 30}\n"


def _with(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        ("{after: adoption, months: 3}", Deadline(after="adoption", months=3)),
        (
            "{after: freeze-reactor, years: 1, months: 2, days: 3}",
            Deadline(after="freeze-reactor", years=1, months=2, days=3),
        ),
        (
            "{after: {resolution: endorse}, days: 10}",
            Deadline(after=ResolutionAnchor(resolution="endorse"), days=10),
        ),
        (
            "{after: {first: snapback.notified}, months: 1}",
            Deadline(after=FirstEventAnchor(first="snapback.notified"), months=1),
        ),
        (
            "{earliest_of: [{after: adoption, years: 8}, {after: freeze-reactor}]}",
            Deadline(
                earliest_of=[Deadline(after="adoption", years=8), Deadline(after="freeze-reactor")]
            ),
        ),
        (
            "{latest_of: [{date: 2028-01-01}, {after: start, days: 5}]}",
            Deadline(
                latest_of=[
                    Deadline(date=dt.date(2028, 1, 1)),
                    Deadline(after="start", days=5),
                ]
            ),
        ),
    ],
)
def test_deadline_forms_load(deadline: str, expected: Deadline) -> None:
    roadmap = loads(_with(DECLARE, f"        deadline: {deadline}\n"), name="rm.yaml")
    assert roadmap.phases[0].steps[1].deadline == expected


def test_an_automatic_step_loads() -> None:
    text = _with(DECLARE, DECLARE + "        automatic: true\n")
    assert loads(text, name="rm.yaml").phases[0].steps[1].automatic


CASES: list[tuple[str, str, str, str]] = [
    # (replace this, by this, a line the problem must point at, the message)
    (
        DECLARE,
        "        deadline: {after: nowhere, days: 6}\n",
        "nowhere",
        "'nowhere' is not a step",
    ),
    (
        DECLARE,
        "        deadline: {earliest_of: [{after: adoption, days: 5}, {after: nowhere}]}\n",
        "nowhere",
        "'nowhere' is not a step",
    ),
    (
        DECLARE,
        "        deadline: {after: {first: snapback.notifed}, days: 6}\n",
        "notifed",
        "unknown event type 'snapback.notifed'",
    ),
    (
        DECLARE,
        "        deadline: {earliest_of: [{after: adoption, days: 5}]}\n",
        "earliest_of",
        "at least 2 items",
    ),
    (DECLARE, "        deadline: {latest_of: []}\n", "latest_of", "at least 2 items"),
    (
        DECLARE,
        "        deadline: {after: adoption, months: -1}\n",
        "months",
        "greater than or equal",
    ),
    (
        DECLARE,
        "        deadline: {date: 2028-01-01, days: 3}\n",
        "2028-01-01, days",
        "count from 'after'",
    ),
    (
        DECLARE,
        "        deadline: {date: 2028-01-01, latest_of: [{date: 2028-01-01}, {after: start}]}\n",
        "latest_of",
        "exactly one of them",
    ),
    (DECLARE, "        deadline: {after: adoption}\n", "after: adoption}", "leaves no time to act"),
    (DECLARE, "        automatic: true\n", "automatic", "an automatic step needs a deadline"),
    (
        FREEZE,
        FREEZE + "        automatic: true\n",
        "verification: {by: [iaea]}",
        "happens by itself: no verification",
    ),
    (
        "  window_days: 30\n",
        "  window_days: 30\n  zone: Mars/Olympus\n",
        "Mars",
        "unknown time zone",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"), CASES, ids=[c[3][:40] for c in CASES]
)
def test_each_deadline_mistake_is_named_with_its_position(
    old: str, new: str, marker: str, fragment: str
) -> None:
    text = _with(old, new)
    problems = _problems(text)
    matching = [p for p in problems if fragment in p]
    assert matching, problems
    line = _line_of(text, marker, 0)  # the first line with the marker
    assert re.match(rf"rm\.yaml:{line}:\d+: ", matching[0]), (matching[0], line)


def test_a_cycle_through_an_earliest_of_anchor() -> None:
    # declare would wait for disable-reactor, which waits for freeze (declare's phase).
    text = _with(
        DECLARE,
        "        deadline:\n"
        "          earliest_of:\n"
        "            - {after: adoption, days: 60}\n"
        "            - {after: disable-reactor, days: 1}\n",
    )
    problems = _problems(text)
    assert any("cyclic dependency" in p and "declare" in p for p in problems), problems
