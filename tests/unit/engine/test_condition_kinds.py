"""Every condition class is registered once, with its evaluator and its words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cvid.engine import conditions as cond
from cvid.roadmap import model as m

SAMPLES: dict[str, tuple[Any, str, str]] = {
    # tag: (the condition's value, the fact it asks (none: an attribute or its parts'),
    # how it reads)
    "all": (
        [{"verified": "freeze"}, {"adopted": True}],
        "",
        "all of (freeze verified, agreement in force)",
    ),
    "any": ([{"reported": "freeze"}], "", "any of (freeze reported)"),
    "not": ({"violated": "any"}, "", "not (any step violated)"),
    "verified": ("freeze", "done", "freeze verified"),
    "reported": ("freeze", "reported", "freeze reported"),
    "overdue": ({"step": "s1", "grace_days": 3}, "overdue", "s1 overdue by more than 3 days"),
    "violated": ("s1", "violated", "s1 violated"),
    "irreversibility_violated": ("any", "irreversibility_violated", "any item moved backward"),
    "guarantee_in_force": ("g", "guarantee_in_force", "guarantee g in force"),
    "resolution_adopted": ("r", "resolution_adopted", "Council resolution r adopted"),
    "date_after": (dt.date(2027, 1, 1), "now", "after 2027-01-01"),
    "adopted": (True, "", "agreement in force"),
    "snapback_completed": (True, "", "snapback completed"),
    "cells_revealed": ({"declaration": "d", "cells": ["c1"]}, "cells_revealed", "d: c1 revealed"),
    "confidence": (
        {"declaration": "d", "at_least": 0.9},
        "confidence",
        "confidence in d at least 90%",
    ),
    "declaration_violated": ("d", "declaration_violated", "d found false"),
    "beacon_missed": ("any", "beacon_missed", "a beacon secret not revealed"),
    "custody_flagged": ("i", "custody_flagged", "custody of i broken"),
    "allegation_confirmed": ("custody", "allegation_confirmed", "a custody allegation confirmed"),
    "party_withdrawn": ("p", "party_withdrawn", "p withdrawn"),
    "limit_exceeded": ("any", "limit_exceeded", "a limit exceeded"),
    "limit_violated": ("l", "limit_violated", "limit l ever exceeded"),
    "obligation_missed": ({"obligation": "o", "party": "p"}, "obligation_missed", "o missed by p"),
    "quota_short": ("q", "quota_short", "quota q ended short"),
    "continuity_lost": (
        {"item": "workshop", "grace_days": 2},
        "continuity_lost",
        "continuity of knowledge of workshop lost for more than 2 days",
    ),
    "muf_flagged": ("any", "muf_flagged", "a MUF flagged"),
}


class _Asked:
    """Facts that answer True and remember what they were asked."""

    in_force = True
    snapback_completed = True
    zone = "UTC"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def fact(*_args: Any) -> Any:
            self.asked.append(name)
            return 1.0 if name == "confidence" else True

        return fact

    def now(self) -> dt.datetime:
        self.asked.append("now")
        return dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _condition(tag: str) -> m.Condition:
    value = SAMPLES[tag][0]
    rule = m.Reward.model_validate({"id": "r", "title": "R", "when": {tag: value}})
    return rule.when


def test_every_condition_class_has_its_evaluator_and_a_sample_here() -> None:
    tags = [m._TAG_OF_CLASS[c] for c in m.CONDITION_CLASSES]
    assert set(cond.KINDS) == set(m.CONDITION_CLASSES)
    assert sorted(SAMPLES) == sorted(tags)


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_each_condition_reads_in_words_and_asks_its_fact(tag: str) -> None:
    condition = _condition(tag)
    _, fact, words = SAMPLES[tag]
    assert type(condition) in cond.KINDS
    assert cond.describe(condition) == words
    facts = _Asked()
    result = cond.holds(condition, facts)
    if tag == "not":
        assert (result, facts.asked) == (False, ["violated"])
    elif tag in ("all", "any"):
        assert (result, facts.asked) == (True, ["done"] if tag == "all" else ["reported"])
    else:
        assert (result, facts.asked) == (True, [fact] if fact else [])
