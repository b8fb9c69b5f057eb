"""A joint body's decision rule: who must sign, and when a decision passes or cannot.

Shared by admission (:mod:`cvid.events.authz_bodies`) and the engine
(:mod:`cvid.engine.bodies_fold`), so both count signatures the same way. A decision
is one decision signed by several members: ``consensus`` needs every member that is
a participant at the time; ``at_least`` K needs K of them. Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from cvid.calendar import end_of_day
from cvid.roadmap import model as m
from cvid.sentences import say


def participants(body: m.JointBody, at: dt.datetime, absent: Collection[str] = ()) -> list[str]:
    """The members of ``body`` that take part in its decisions at ``at``: every member
    but those ``absent`` then (withdrawn, or with their participation suspended)."""
    del at  # a body's membership is fixed by the road map; standing comes as ``absent``
    return [p for p in body.members if p not in absent]


def needed(body: m.JointBody, at: dt.datetime, absent: Collection[str] = ()) -> int:
    """How many participant members must sign a decision for it to pass."""
    if isinstance(body.rule, m.AtLeast):
        return body.rule.at_least
    return len(participants(body, at, absent))


def passes(
    body: m.JointBody, signers: Collection[str], at: dt.datetime, absent: Collection[str] = ()
) -> bool:
    """Whether ``signers`` are enough for a decision of ``body`` at ``at``."""
    present = set(participants(body, at, absent))
    return len(present & set(signers)) >= needed(body, at, absent)


def cannot_pass(
    body: m.JointBody, blockers: Collection[str], at: dt.datetime, absent: Collection[str] = ()
) -> bool:
    """Whether the members that refuse to sign leave too few to pass a decision."""
    present = set(participants(body, at, absent))
    return len(present - set(blockers)) < needed(body, at, absent)


def rule_text(body: m.JointBody) -> str:
    """The rule as reasons show it."""
    if isinstance(body.rule, m.AtLeast):
        return say("at least {n} of {total} members", n=body.rule.at_least, total=len(body.members))
    return say("consensus of its members")


def lapse_time(by: str, zone_name: str) -> dt.datetime:
    """The instant a decision with ``by: YYYY-MM-DD`` lapses: the end of that day.

    Raises:
        ValueError: ``by`` is not a ``YYYY-MM-DD`` date.
    """
    if len(by) != 10:
        raise ValueError(f"{by!r} is not a date YYYY-MM-DD")
    return end_of_day(dt.date.fromisoformat(by), zone_name)
