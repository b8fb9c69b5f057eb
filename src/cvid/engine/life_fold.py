"""The agreement's life in the engine: entry into force, expiry, extensions, termination.

It folds the same record admission keeps (:class:`cvid.events.authz_life.LifeHistory`)
and tells the engine when the agreement enters into force and when it ends; the
engine then anchors the deadlines counted from adoption, or closes what is still
owed. It sets timers for a date of entry into force and for the expiry. It does not
decide what may be logged after the end (that is admission's) and reads no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

from cvid import calendar
from cvid.engine import state as s
from cvid.events.authz import AdmittedEvent
from cvid.events.authz_life import LifeHistory, LifeStatus, not_in_force_reason
from cvid.roadmap import model as m
from cvid.sentences import say

Change = Literal["entered", "ended"]


class LifeFold:
    """Where the agreement is in its life, as events and timers arrive in time order."""

    def __init__(self, roadmap: m.RoadMap, push: Callable[[dt.datetime, str, str], None]) -> None:
        self.rm = roadmap
        self.history = LifeHistory()
        self._push = push
        self.status: LifeStatus = "pending"
        self.since: dt.datetime | None = None
        self.until: dt.datetime | None = None
        self.reason = not_in_force_reason(roadmap)
        self.alerts: list[str] = []
        eif = roadmap.agreement.entry_into_force
        if eif is not None and eif.date is not None:
            push(calendar.start_of_day(eif.date, roadmap.agreement.zone), "life", "enter")

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> list[Change]:
        """Fold a life event (adoption, ratification, extension, termination)."""
        self.history.observe(ev.type, ev.party, ev.body, ev.time)
        return self.sync(t)

    def sync(self, t: dt.datetime) -> list[Change]:
        """Bring the status up to ``t``; return what changed (entered, ended)."""
        changes: list[Change] = []
        if self.status == "pending":
            entered = self.history.entered_at(self.rm)
            if entered is not None and entered <= t:
                self.status, self.since = "in_force", t
                self.reason = say("in force since {when}", when=s.moment_text(t))
                changes.append("entered")
        if self.status == "in_force":
            until = self.history.until(self.rm)
            if until is not None and until != self.until:
                self.until = until
                self._push(until, "life", "expire")
            end = self.history.ended(self.rm, t)
            if end is not None:
                self.status, self.since, self.reason = end.status, t, end.reason
                self.until = t
                self.alerts.append(
                    say(
                        "{when}: the agreement {status}: {reason}; nothing more is owed under it",
                        when=s.moment_text(t),
                        status=end.status,
                        reason=end.reason,
                    )
                )
                changes.append("ended")
        return changes

    def result(self) -> s.LifeState:
        return s.LifeState(self.status, self.since, self.until, self.reason)
