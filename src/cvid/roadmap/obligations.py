"""Recurring obligations and quotas as the engine and admission use them.

:func:`expand` turns the road map's ``obligations`` into one :class:`Duty` per
obliged party (``for_each`` becomes ``<id>.<party>``). :class:`Recurrence` answers,
in constant time, which date is an obligation's k-th occurrence, whether a date is
one, and when its window opens and its due time ends; nothing here builds a list of
occurrences, so a daily obligation over decades costs nothing until someone asks
for a date. :func:`period_of` places a moment in a quota's counting periods.
Calendar arithmetic is :mod:`cvid.calendar`'s. Pure: no clock, no I/O; checking the
road map (unknown parties, anchors, dates) is :mod:`cvid.roadmap.check`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from cvid import calendar
from cvid.roadmap import model as m

ADOPTION = "adoption"
START = "start"


@dataclass(frozen=True)
class Duty:
    """One party's recurring obligation, as expanded from the road map."""

    id: str
    declared: str
    party: str
    owed_to: tuple[str, ...]
    verifiers: tuple[str, ...]
    threshold: int
    spec: m.Obligation


def parties_of(roadmap: m.RoadMap, spec: m.Obligation) -> list[str]:
    """The parties an obligation binds: its ``party``, or those of ``for_each``."""
    if spec.party is not None:
        return [spec.party]
    if isinstance(spec.for_each, m.ForEachRole):
        role = spec.for_each.role
        return [p.id for p in roadmap.parties if role in p.roles]
    return list(dict.fromkeys(spec.for_each or []))


def expand(roadmap: m.RoadMap) -> dict[str, Duty]:
    """Every recurring obligation per obliged party, by id (``<id>.<party>`` for
    ``for_each``), in road-map order. A verifier never confirms its own obligation:
    the obliged party is left out of its verifiers."""
    out: dict[str, Duty] = {}
    for spec in roadmap.obligations:
        parties = parties_of(roadmap, spec)
        for party in parties:
            oid = spec.id if spec.party is not None else f"{spec.id}.{party}"
            owed_to = tuple(p for p in spec.owed_to if p != party)
            if spec.for_each is not None and not spec.owed_to:
                owed_to = tuple(p for p in parties if p != party)
            ver = spec.verification
            out[oid] = Duty(
                oid,
                spec.id,
                party,
                owed_to,
                tuple(v for v in ver.by if v != party) if ver else (),
                ver.threshold if ver else 0,
                spec,
            )
    return out


def month_day(text: str) -> tuple[int, int]:
    """``MM-DD`` as (month, day).

    Raises:
        ValueError: not a day that exists every year (02-29 does not).
    """
    month, day = int(text[:2]), int(text[3:])
    dt.date(2001, month, day)  # a common year: 02-29 and 04-31 raise
    return month, day


@dataclass(frozen=True)
class Recurrence:
    """The occurrences of one obligation, counted from its anchor's local date.

    Occurrence k (k ≥ 1) is ``anchor + k * every`` (months counted from the anchor
    each time, so 31 January + 6 months is 31 July, then 31 January again), or the
    k-th listed date after the anchor. It is due by the end of its date in the zone,
    and open (may be performed) from the previous occurrence's due time, the first
    from the anchor.
    """

    anchor: dt.datetime
    zone: str
    every: m.Every | None
    on: tuple[tuple[int, int], ...]
    until: dt.date | None

    @classmethod
    def of(
        cls, spec: m.Obligation, anchor: dt.datetime, zone: str, until: dt.date | None
    ) -> Recurrence:
        on = tuple(sorted({month_day(x) for x in spec.on_dates or []}))
        return cls(anchor, zone, spec.every, on, until)

    @functools.cached_property
    def anchor_date(self) -> dt.date:
        """The anchor's date in the zone, from which occurrences are counted."""
        return calendar.local_date(self.anchor, self.zone)

    def _raw(self, k: int) -> dt.date:
        a = self.anchor_date
        if self.every is not None:
            if self.every.days is not None:
                return a + dt.timedelta(days=k * self.every.days)
            months = self.every.months or 12 * (self.every.years or 0)
            return calendar.add_months(a, k * months)
        n = len(self.on)
        offset = sum(1 for md in self.on if md <= (a.month, a.day))
        g = offset + k - 1
        month, day = self.on[g % n]
        return dt.date(a.year + g // n, month, day)

    def date(self, k: int) -> dt.date | None:
        """The k-th occurrence's date (k ≥ 1), or None past ``until`` or the calendar."""
        if k < 1:
            return None
        try:
            when = self._raw(k)
        except (OverflowError, ValueError):
            return None
        if self.until is not None and when > self.until:
            return None
        return when

    def index(self, date: dt.date) -> int | None:
        """k such that ``date`` is the k-th occurrence, or None when it is none."""
        a = self.anchor_date
        if date <= a:
            return None
        k: int | None
        if self.every is not None and self.every.days is not None:
            gap = (date - a).days
            k = gap // self.every.days if gap % self.every.days == 0 else None
        elif self.every is not None:
            months = self.every.months or 12 * (self.every.years or 0)
            gap = (date.year - a.year) * 12 + date.month - a.month
            k = gap // months if gap % months == 0 else None
        elif (date.month, date.day) in self.on:
            n = len(self.on)
            offset = sum(1 for md in self.on if md <= (a.month, a.day))
            k = (date.year - a.year) * n + self.on.index((date.month, date.day)) - offset + 1
        else:
            k = None
        return k if k is not None and self.date(k) == date else None

    def first_after(self, date: dt.date) -> int | None:
        """The first k whose occurrence is after ``date`` (None: no more occurrences);
        a search in O(log k) over the increasing dates."""
        lo, hi = 0, 1  # date(lo) <= date (lo = 0: the anchor) < date(hi), or hi past the end
        while (when := self.date(hi)) is not None and when <= date:
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            when = self.date(mid)
            if when is not None and when <= date:
                lo = mid
            else:
                hi = mid
        return hi if self.date(hi) is not None else None

    def due(self, k: int) -> dt.datetime:
        """When occurrence k stops being on time: the end of its date in the zone."""
        date = self.date(k)
        assert date is not None
        return self.due_on(date)

    def due_on(self, date: dt.date) -> dt.datetime:
        """When the occurrence on ``date`` stops being on time."""
        return calendar.end_of_day(date, self.zone)

    def opens(self, k: int) -> dt.datetime:
        """From when occurrence k may be performed: the previous one's due time."""
        return self.anchor if k == 1 else self.due(k - 1)


def anchor_instant(anchor: dt.date | m.After, zone: str) -> dt.datetime | None:
    """The instant a date anchor starts (None for a milestone: known when reached)."""
    return calendar.start_of_day(anchor, zone) if isinstance(anchor, dt.date) else None


def period_start(quota: m.Quota, roadmap: m.RoadMap) -> dt.date:
    """The first day of a quota's first period."""
    return quota.period.from_ or dt.date(roadmap.agreement.start.year, 1, 1)


def period_of(quota: m.Quota, roadmap: m.RoadMap, moment: dt.datetime) -> int | None:
    """The index of the quota period holding ``moment`` (None before the first)."""
    first, months = period_start(quota, roadmap), quota.period.months
    day = calendar.local_date(moment, roadmap.agreement.zone)
    if day < first:
        return None
    i = ((day.year - first.year) * 12 + day.month - first.month) // months
    if calendar.add_months(first, i * months) > day:
        i -= 1
    return i


def period_bounds(quota: m.Quota, roadmap: m.RoadMap, i: int) -> tuple[dt.datetime, dt.datetime]:
    """Where quota period ``i`` starts and ends (the next one's start), as instants."""
    first, months, zone = period_start(quota, roadmap), quota.period.months, roadmap.agreement.zone
    return (
        calendar.start_of_day(calendar.add_months(first, i * months), zone),
        calendar.start_of_day(calendar.add_months(first, (i + 1) * months), zone),
    )


def counts(quota: m.Quota, *, by: str, inspected: str, kind: str) -> bool:
    """Whether an inspection (of type ``kind``, by ``by`` of ``inspected``) counts."""
    who = by if quota.counts == "conducted" else inspected
    return who == quota.party and (not quota.types or kind in quota.types)
