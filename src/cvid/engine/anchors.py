"""When a road map's deadlines fall: milestones, anchors and the rule for knowing.

A deadline (:class:`cvid.roadmap.model.Deadline`) counts from *anchors*: the start,
the adoption, a step done, a phase complete, a Council resolution adopted, the first
event of a type. :class:`Anchors` records when each anchor happened (the first time
only) and tells the engine when each watched deadline becomes **known**:

- ``date``: known from the start; it falls at the end of that day in the zone.
- ``after`` an anchor (+ days, months, years): unknown until the anchor happens at
  ``t``; then known, at ``t`` plus the duration on the zone's calendar
  (:func:`cvid.calendar.add`).
- ``latest_of``: known once every operand is known; the latest of them.
- ``earliest_of``: known once every operand is known (the earliest of them), or
  earlier: as soon as the earliest of the known operands has *passed* (is at or
  before now). That is sound because an operand still unknown waits on an anchor
  that has not happened, so it can only fall at or after now: nothing can come
  before a known value that is already past. Until then the engine re-checks at the
  earliest instant the answer could become known (:attr:`Resolved.recheck`): the
  earliest known operand, or a nested operand's own re-check instant.

A deadline never moves once known (durations are never negative and anchors happen
once), so a timer at it stays right. Everything here is pure: the engine says what
happened and when; nothing reads the clock. Other constructs (a limit's from/until,
a recurring obligation's first due date) watch their deadlines the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cvid import calendar
from cvid.roadmap import model as m
from cvid.sentences import say

AnchorKey = tuple[str, str]
"""An anchor as a key: ``("milestone", id)`` for start, adoption, steps and phases,
``("resolution", draft id or purpose)``, ``("first", event type)``."""

START: AnchorKey = ("milestone", "start")
ADOPTION: AnchorKey = ("milestone", "adoption")


def describe_anchor(anchor: m.Anchor) -> str:
    """An anchor in words, for reasons."""
    if isinstance(anchor, m.ResolutionAnchor):
        return say("the adoption of resolution {resolution}", resolution=anchor.resolution)
    if isinstance(anchor, m.FirstEventAnchor):
        return say("the first {event_type} event", event_type=anchor.first)
    if anchor == "start":
        return say("the start")
    if anchor == "adoption":
        return say("the adoption")
    return anchor


def describe(deadline: m.Deadline) -> str:
    """A deadline in words: "90 days after unsc-endorsement", "the earliest of ..."."""
    if deadline.date is not None:
        return say("the end of {date}", date=deadline.date.isoformat())
    if deadline.after is not None:
        parts = [
            (say("{n} year", n=n) if n == 1 else say("{n} years", n=n))
            if unit == "year"
            else (say("{n} month", n=n) if n == 1 else say("{n} months", n=n))
            if unit == "month"
            else (say("{n} day", n=n) if n == 1 else say("{n} days", n=n))
            for n, unit in (
                (deadline.years, "year"),
                (deadline.months, "month"),
                (deadline.days, "day"),
            )
            if n
        ]
        what = describe_anchor(deadline.after)
        return (
            say("{duration} after {anchor}", duration=" ".join(parts), anchor=what)
            if parts
            else what
        )
    operands = ", ".join(describe(x) for x in deadline.earliest_of or deadline.latest_of or [])
    if deadline.earliest_of is not None:
        return say("the earliest of {deadlines}", deadlines=operands)
    return say("the latest of {deadlines}", deadlines=operands)


@dataclass(frozen=True)
class Resolved:
    """A deadline as far as it is known now.

    ``at``: the instant, once known. ``recheck``: while unknown, the earliest instant
    at which it may become known by time passing alone (None: only an anchor
    happening can make it known).
    """

    at: dt.datetime | None
    recheck: dt.datetime | None = None


def resolve(
    deadline: m.Deadline,
    happened: Callable[[AnchorKey], dt.datetime | None],
    *,
    now: dt.datetime,
    zone: str,
) -> Resolved:
    """Resolve ``deadline`` at ``now`` given when anchors happened (the module's rule).

    Args:
        deadline: the road map's deadline.
        happened: when an anchor happened, or None if it has not (yet).
        now: the engine's current instant.
        zone: the IANA zone whose calendar counts dates, days, months and years.
    """
    if deadline.date is not None:
        return Resolved(calendar.end_of_day(deadline.date, zone))
    if deadline.after is not None:
        t = happened(m.anchor_key(deadline.after))
        if t is None:
            return Resolved(None)
        return Resolved(
            calendar.add(
                t,
                days=deadline.days or 0,
                months=deadline.months or 0,
                years=deadline.years or 0,
                zone_name=zone,
            )
        )
    earliest = deadline.earliest_of is not None
    parts = [
        resolve(x, happened, now=now, zone=zone)
        for x in (deadline.earliest_of if earliest else deadline.latest_of) or []
    ]
    known = [p.at for p in parts if p.at is not None]
    rechecks = [p.recheck for p in parts if p.at is None and p.recheck is not None]
    if len(known) == len(parts):
        return Resolved(min(known) if earliest else max(known))
    if earliest:
        if known and min(known) <= now:
            return Resolved(min(known))
        return Resolved(None, min([*known, *rechecks], default=None))
    return Resolved(None, min(rechecks, default=None))


@dataclass
class Anchors:
    """Anchors that happened and deadlines waiting on them, for one evaluation.

    The engine calls :meth:`watch` once per deadline, :meth:`happen` when an anchor
    happens and :meth:`recheck` when a re-check timer it was asked for falls due
    (``push(when, ref)``). Each returns the deadlines that became known, as
    ``(ref, instant)``, each ref once.
    """

    zone: str
    push: Callable[[dt.datetime, str], None]
    happened: dict[AnchorKey, dt.datetime] = field(default_factory=dict)
    pending: dict[str, m.Deadline] = field(default_factory=dict)
    waiting: dict[AnchorKey, set[str]] = field(default_factory=dict)
    known: dict[str, dt.datetime] = field(default_factory=dict)

    def watch(self, ref: str, deadline: m.Deadline, now: dt.datetime) -> dt.datetime | None:
        """Start watching ``deadline`` under ``ref``; its instant if already known."""
        self.pending[ref] = deadline
        for key in deadline.anchors():
            self.waiting.setdefault(key, set()).add(ref)
        return self._settle(ref, now)

    def happen(self, key: AnchorKey, t: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """Record that an anchor happened at ``t`` (only its first time counts)."""
        if key in self.happened:
            return []
        self.happened[key] = t
        out = []
        for ref in sorted(self.waiting.pop(key, set())):
            when = self._settle(ref, t)
            if when is not None:
                out.append((ref, when))
        return out

    def recheck(self, ref: str, now: dt.datetime) -> dt.datetime | None:
        """Look again at a deadline whose re-check instant has come."""
        return self._settle(ref, now)

    def _settle(self, ref: str, now: dt.datetime) -> dt.datetime | None:
        deadline = self.pending.get(ref)
        if deadline is None:
            return None
        got = resolve(deadline, self.happened.get, now=now, zone=self.zone)
        if got.at is not None:
            del self.pending[ref]
            self.known[ref] = got.at
            return got.at
        if got.recheck is not None:
            self.push(max(got.recheck, now), ref)
        return None
