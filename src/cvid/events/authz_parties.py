"""Admission rules for parties over time, measures by their imposers, remedial
non-performance, and allegations and findings.

The companion of :mod:`cvid.events.authz` for the events that change who may act
(withdrawal, suspension of participation), who acts on a sanctions measure (only its
imposer), and how one party's claim against another becomes a finding (only the
finders the road map names: :mod:`cvid.roadmap.finders`). What admission must
remember is kept in :class:`PartiesHistory`.
Nothing here changes state on a refusal, and nothing reads a clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.events.envelope import format_time
from cvid.roadmap import finders
from cvid.roadmap.model import RoadMap

Standing = Literal["participant", "withdrawn", "suspended"]


@dataclass
class AllegationRecord:
    """An allegation as admission needs it: who, against whom, who answered and found."""

    by: str
    against: str
    answered: bool = False
    finders: set[str] = field(default_factory=set)


@dataclass
class PartiesHistory:
    """What admission remembers of withdrawals, suspensions and allegations."""

    withdrawals: dict[str, dt.datetime] = field(default_factory=dict)  # party → notified
    suspended: set[str] = field(default_factory=set)
    allegations: dict[str, AllegationRecord] = field(default_factory=dict)

    def standing(self, party: str, when: dt.datetime, rm: RoadMap) -> Standing:
        """The party's standing at ``when`` under road map ``rm``'s notice period."""
        notified = self.withdrawals.get(party)
        if notified is not None and when >= withdrawal_effective(rm, notified):
            return "withdrawn"
        return "suspended" if party in self.suspended else "participant"


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


def withdrawal_effective(rm: RoadMap, notified: dt.datetime) -> dt.datetime:
    """When a withdrawal notified at ``notified`` takes effect (the road map's notice)."""
    return rm.withdrawal.notice.after(notified, rm.agreement.zone)


def check_standing_change(party: str, body: b.Body, history: PartiesHistory) -> None:
    """Withdrawal and suspension of participation.

    Raises:
        EventRejectedError: a second withdrawal, a suspension while suspended, a
            resumption without a suspension.
    """
    if isinstance(body, b.WithdrawalNotified):
        if party in history.withdrawals:
            notified = format_time(history.withdrawals[party])
            raise _reject("duplicate", f"{party} already notified its withdrawal on {notified}")
    elif isinstance(body, b.ParticipationSuspended):
        if party in history.suspended:
            raise _reject("duplicate", f"{party} has already suspended its participation")
    elif party not in history.suspended:
        raise _reject("not-suspended", f"{party} has not suspended its participation")


def check_measure(rm: RoadMap, party: str, body: b.MeasureAct) -> None:
    """Only a measure's imposer acts on it by its own events.

    Raises:
        EventRejectedError: no such measure, a Council measure, another's measure.
    """
    measure = next((x for x in rm.measures if x.id == body.measure), None)
    if measure is None:
        raise _reject("unknown-reference", f"no measure {body.measure!r} in the road map")
    if measure.imposed_by == "council":
        raise _reject(
            "unauthorised",
            f"{body.measure!r} is a Council measure: only a Council resolution acts on it",
        )
    if measure.imposed_by != party:
        raise _reject(
            "unauthorised", f"{body.measure!r} is {measure.imposed_by}'s measure, not {party}'s"
        )


def check_ceased(rm: RoadMap, party: str, body: b.CommitmentsCeased) -> None:
    """A party ceases only its own commitments (steps, limits, recurring obligations),
    citing parties to the agreement.

    Raises:
        EventRejectedError: a commitment that is not the party's, an unknown party cited.
    """
    owners = {s.id: s.actor for ph in rm.phases for s in ph.steps}
    owners |= {limit.id: limit.party for limit in rm.limits}
    owners |= {o.id: o.party for o in rm.obligations if o.party is not None}
    for commitment in body.commitments:
        owner = owners.get(commitment)
        if owner is None:
            raise _reject("unknown-reference", f"no commitment {commitment!r} in the road map")
        if owner != party:
            raise _reject(
                "unauthorised", f"{commitment!r} is {owner}'s commitment: {party} cannot cease it"
            )
    parties = {p.id for p in rm.parties}
    for other in body.in_response_to:
        if other not in parties or other == party:
            raise _reject("unknown-reference", f"{other!r} is not another party to the agreement")


def check_allegation(rm: RoadMap, party: str, body: b.Body, history: PartiesHistory) -> None:
    """Allegations, answers and findings.

    Raises:
        EventRejectedError: an allegation against oneself or a non-party, a reused id,
            an answer by someone other than the accused or a second one, a finding by
            someone the road map does not name, by the accused, or a second one.
    """
    if isinstance(body, b.AllegationMade):
        if body.allegation in history.allegations:
            raise _reject("duplicate", f"an allegation {body.allegation!r} was already made")
        if body.against not in {p.id for p in rm.parties} or body.against == party:
            raise _reject(
                "unknown-reference", f"{body.against!r} is not another party to the agreement"
            )
        return
    assert isinstance(body, b.AllegationAnswered | b.FindingMade)
    record = history.allegations.get(body.allegation)
    if record is None:
        raise _reject("unknown-reference", f"no allegation {body.allegation!r}")
    if isinstance(body, b.AllegationAnswered):
        if party != record.against:
            raise _reject(
                "unauthorised", f"only {record.against}, the accused, answers {body.allegation!r}"
            )
        if record.answered:
            raise _reject("duplicate", f"{party} has already answered {body.allegation!r}")
        return
    named = finders.finding_parties(rm)  # the road map's, and its consequences' verifiers
    if party not in named:
        raise _reject(
            "unauthorised",
            f"{party} is not among the road map's finders ({', '.join(named) or 'none'})",
        )
    if party == record.against:
        raise _reject("unauthorised", f"{party} cannot make a finding on an allegation against it")
    if party in record.finders:
        raise _reject("duplicate", f"{party} has already made a finding on {body.allegation!r}")


def check_determines(rm: RoadMap, allegations: list[str], history: PartiesHistory) -> None:
    """A Council draft that would determine allegations: only when a consequence of
    the road map is ``found_by`` the Council, and only allegations made.

    Raises:
        EventRejectedError: the Council is no finder here, an unknown allegation.
    """
    if allegations and not finders.council_finds(rm):
        raise _reject(
            "unauthorised",
            "the Council determines no allegation here: no rule of the road map "
            "is found_by the Council",
        )
    for allegation in allegations:
        if allegation not in history.allegations:
            raise _reject("unknown-reference", f"no allegation {allegation!r}")
