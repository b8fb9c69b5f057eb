"""Who sits on the Council, and who presides it, at a given moment.

Read from the road map's ``council`` section: permanent members always; elected
members while one of their terms runs (every elected party always, when the road
map lists no terms); the presidency from each entry's day to the next. Term and
presidency days begin and end in the agreement's time zone. Pure.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from cvid.calendar import end_of_day, start_of_day
from cvid.roadmap import model as m

COUNCIL_ROLES = ("council_permanent", "council_elected")


@dataclass(frozen=True)
class Membership:
    """The Council of one road map over time."""

    permanent: frozenset[str]
    elected: frozenset[str]
    terms: tuple[tuple[str, dt.datetime, dt.datetime | None], ...]
    presidency: tuple[tuple[dt.datetime, str], ...]

    @classmethod
    def of(cls, roadmap: m.RoadMap) -> Membership:
        council = roadmap.council or m.Council()
        zone = roadmap.agreement.zone
        return cls(
            permanent=frozenset(p.id for p in roadmap.parties if "council_permanent" in p.roles),
            elected=frozenset(p.id for p in roadmap.parties if "council_elected" in p.roles),
            terms=tuple(
                (
                    t.party,
                    start_of_day(t.from_, zone),
                    end_of_day(t.until, zone) if t.until else None,
                )
                for t in council.terms
            ),
            presidency=tuple(
                sorted((start_of_day(p.from_, zone), p.party) for p in council.presidency)
            ),
        )

    @property
    def everyone(self) -> frozenset[str]:
        """Every party that sits on the Council at some time."""
        return self.permanent | self.elected

    def members(self, at: dt.datetime) -> frozenset[str]:
        """The members at ``at``."""
        if not self.terms:
            return self.everyone
        seated = {p for p, start, end in self.terms if start <= at and (end is None or at < end)}
        return self.permanent | (self.elected & seated)

    def president(self, at: dt.datetime) -> str | None:
        """The member holding the presidency at ``at`` (None: the road map names none then)."""
        starts = [when for when, _ in self.presidency]
        i = bisect.bisect_right(starts, at)
        return self.presidency[i - 1][1] if i else None
