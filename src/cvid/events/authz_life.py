"""Admission rules for an agreement's life and its amendments.

The companion of :mod:`cvid.events.authz` for entry into force (on a date, or when
the required ratifications are deposited), the agreement's duration, its extensions
(each signed by every required party), its termination, and amendments (a new
road-map version proposed by one party and adopted by the consents the road map
requires). :class:`LifeHistory` remembers what these rules need and answers, for a
moment, whether the agreement had entered into force or had ended; the engine folds
the same record (:mod:`cvid.engine.life_fold`), so admission and the state agree.

Once the agreement has ended, only what is needed to record history is admitted:
Council events, acts on measures by their imposers, answers and findings on earlier
allegations, and the types the road map lists in ``agreement.after_end``
(:data:`AFTER_END`). Nothing here reads a clock or a file: whether a proposed
version's file exists and keeps the logged history is checked by the caller
(:mod:`cvid.amendment`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cvid import calendar
from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.roadmap import model as m
from cvid.sentences import say

LifeStatus = Literal["pending", "in_force", "expired", "terminated"]

AFTER_END = frozenset(
    {
        "council.draft.tabled",
        "council.vote.cast",
        "council.vote.closed",
        "measure.reimposed",
        "measure.suspended",
        "measure.lifted",
        "allegation.answered",
        "finding.made",
    }
)
"""What may still be logged after the agreement has ended, whatever the road map says."""


@dataclass
class AmendmentRecord:
    """A proposed amendment: who proposed it, the version, when it takes effect."""

    proposer: str
    digest: str
    effective: dt.date
    proposed_at: dt.datetime
    consents: dict[str, dt.datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class End:
    """How and when the agreement ended."""

    at: dt.datetime
    status: Literal["expired", "terminated"]
    reason: str


@dataclass
class LifeHistory:
    """Adoptions, ratifications, extension and termination signatures, amendments."""

    adoptions: dict[str, dt.datetime] = field(default_factory=dict)
    ratifications: dict[str, dt.datetime] = field(default_factory=dict)
    extension_signers: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)
    terminations: dict[str, dt.datetime] = field(default_factory=dict)
    amendments: dict[str, AmendmentRecord] = field(default_factory=dict)

    def observe(self, event_type: str, party: str, body: b.Body, when: dt.datetime) -> None:
        """Remember a logged event (types other than the life's are ignored)."""
        if event_type == "agreement.adopted":
            self.adoptions.setdefault(party, when)
        elif event_type == "ratification.deposited":
            self.ratifications.setdefault(party, when)
        elif isinstance(body, b.AgreementExtended):
            self.extension_signers.setdefault(body.extension, {}).setdefault(party, when)
        elif isinstance(body, b.AgreementTerminated):
            self.terminations.setdefault(party, when)
        elif isinstance(body, b.AmendmentProposed):
            effective = dt.date.fromisoformat(body.effective)
            record = AmendmentRecord(party, body.digest, effective, when, {party: when})
            self.amendments[body.amendment] = record
        elif isinstance(body, b.AmendmentConsented):
            self.amendments[body.amendment].consents.setdefault(party, when)

    def extended(self, rm: m.RoadMap) -> list[tuple[str, dt.datetime]]:
        """The extensions every required party has signed, with when, in that order."""
        need = extenders(rm)
        done = [
            (max(signers[p] for p in need), ext)
            for ext, signers in self.extension_signers.items()
            if set(need) <= set(signers)
        ]
        return [(ext, when) for when, ext in sorted(done)]

    def entered_at(self, rm: m.RoadMap) -> dt.datetime | None:
        """When the agreement entered into force, or None while it has not."""
        agreement = rm.agreement
        eif = agreement.entry_into_force
        if eif is not None and eif.ratifications is not None:
            by = eif.ratifications.by
            need = eif.ratifications.at_least or len(by)
            times = sorted(self.ratifications[p] for p in by if p in self.ratifications)
            return times[need - 1] if len(times) >= need else None
        if not set(agreement.adopted_by) <= set(self.adoptions):
            return None
        adopted = max(self.adoptions[p] for p in agreement.adopted_by)
        if eif is not None and eif.date is not None:
            return max(adopted, calendar.start_of_day(eif.date, agreement.zone))
        return adopted

    def until(self, rm: m.RoadMap) -> dt.datetime | None:
        """When the agreement expires (its duration and adopted extensions), or None."""
        entered = self.entered_at(rm)
        duration = rm.agreement.duration
        if entered is None or duration is None:
            return None
        until = _add(rm, entered, duration)
        extensions = rm.agreement.extensions
        if extensions is not None:
            for _ in self.extended(rm):
                until = _add(rm, until, extensions.length)
        return until

    def terminated_at(self, rm: m.RoadMap) -> dt.datetime | None:
        """When enough parties had signed the termination, or None."""
        by, need = terminators(rm)
        times = sorted(self.terminations[p] for p in by if p in self.terminations)
        return times[need - 1] if len(times) >= need else None

    def end(self, rm: m.RoadMap) -> End | None:
        """How the agreement ends as far as the log knows (expiry may lie ahead)."""
        until = self.until(rm)
        terminated = self.terminated_at(rm)
        if terminated is not None and (until is None or terminated < until):
            by, _ = terminators(rm)
            signed = [p for p in by if p in self.terminations]
            return End(
                terminated, "terminated", say("terminated by {parties}", parties=", ".join(signed))
            )
        if until is not None:
            n = len(self.extended(rm))
            why = (
                say("its duration ran out after {n} extension(s)", n=n)
                if n
                else say("its duration ran out")
            )
            return End(until, "expired", why)
        return None

    def ended(self, rm: m.RoadMap, when: dt.datetime) -> End | None:
        """The agreement's end if it had ended at ``when``."""
        end = self.end(rm)
        return end if end is not None and end.at <= when else None

    def version_at(self, when: dt.datetime, rm: m.RoadMap) -> str | None:
        """The digest of the latest amendment in effect at ``when`` (None: the original)."""
        latest: tuple[dt.datetime, str] | None = None
        for record in self.amendments.values():
            effective = amendment_effective(rm, record)
            if effective is None or effective > when:
                continue
            if latest is None or effective >= latest[0]:
                latest = (effective, record.digest)
        return latest[1] if latest else None


def _add(rm: m.RoadMap, moment: dt.datetime, length: m.Duration) -> dt.datetime:
    return length.after(moment, rm.agreement.zone)


def extenders(rm: m.RoadMap) -> list[str]:
    """Who must sign an extension (every one of them)."""
    extensions = rm.agreement.extensions
    return (extensions.by if extensions else []) or rm.agreement.adopted_by


def terminators(rm: m.RoadMap) -> tuple[list[str], int]:
    """Who may terminate the agreement, and how many of them must sign."""
    termination = rm.agreement.termination
    by = termination.by or rm.agreement.adopted_by
    return by, termination.at_least or len(by)


def amenders(rm: m.RoadMap) -> tuple[list[str], int]:
    """Who proposes and consents to amendments, and how many consents adopt one."""
    assert rm.amendments is not None
    by = rm.amendments.by or rm.agreement.adopted_by
    consent = rm.amendments.consent
    return by, len(by) if consent == "all" else consent.at_least


def adopted_at(rm: m.RoadMap, record: AmendmentRecord) -> dt.datetime | None:
    """When an amendment had the consents the road map requires, or None."""
    if rm.amendments is None:
        return None
    by, need = amenders(rm)
    times = sorted(record.consents[p] for p in by if p in record.consents)
    return times[need - 1] if len(times) >= need else None


def amendment_effective(rm: m.RoadMap, record: AmendmentRecord) -> dt.datetime | None:
    """When an adopted amendment takes effect: the start of its effective date, or its
    adoption if later; None while it is not adopted."""
    adopted = adopted_at(rm, record)
    if adopted is None:
        return None
    return max(adopted, calendar.start_of_day(record.effective, rm.agreement.zone))


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


def not_in_force_message(rm: m.RoadMap) -> str:
    """Why an event that needs the agreement in force is refused before it is."""
    return say("the agreement is {reason}", reason=not_in_force_reason(rm))


def not_in_force_reason(rm: m.RoadMap) -> str:
    """Until when the agreement is not in force, in words (``not in force until ...``)."""
    eif = rm.agreement.entry_into_force
    if eif is not None and eif.ratifications is not None:
        need = eif.ratifications.at_least or len(eif.ratifications.by)
        return say("not in force until {n} ratifications are deposited", n=need)
    if eif is not None and eif.date is not None:
        return say(
            "not in force before {date} and until every adopting party adopts it",
            date=eif.date.isoformat(),
        )
    return say("not in force until every adopting party adopts it")


def check_after_end(
    rm: m.RoadMap, event_type: str, history: LifeHistory, when: dt.datetime
) -> None:
    """Refuse what the road map does not allow once the agreement has ended.

    Raises:
        EventRejectedError: ``ended``, with the date and how it ended.
    """
    end = history.ended(rm, when)
    if end is None or event_type in AFTER_END or event_type in rm.agreement.after_end:
        return
    raise _reject(
        "ended",
        f"the agreement {end.status} on {end.at.strftime('%Y-%m-%d %H:%M UTC')} ({end.reason}): "
        f"{event_type} is no longer accepted",
    )


def check_life_event(
    rm: m.RoadMap, party: str, body: b.Body, history: LifeHistory, when: dt.datetime
) -> None:
    """Ratifications, extensions, terminations, amendment proposals and consents.

    Raises:
        EventRejectedError: a party the road map does not name, a second signature,
            an extension beyond the road map's maximum, an amendment taking effect in
            the past or naming the version already in force.
    """
    if isinstance(body, b.RatificationDeposited):
        eif = rm.agreement.entry_into_force
        if eif is None or eif.ratifications is None or party not in eif.ratifications.by:
            raise _reject("unauthorised", f"{party} is not among the road map's ratifying parties")
        if party in history.ratifications:
            raise _reject("duplicate", f"{party} has already deposited its ratification")
    elif isinstance(body, b.AgreementExtended):
        _check_extension(rm, party, body, history)
    elif isinstance(body, b.AgreementTerminated):
        by, _ = terminators(rm)
        if party not in by:
            raise _reject("unauthorised", f"{party} is not among the parties that terminate")
        if party in history.terminations:
            raise _reject("duplicate", f"{party} has already signed the termination")
    else:
        _check_amendment(rm, party, body, history, when)


def _check_extension(
    rm: m.RoadMap, party: str, body: b.AgreementExtended, history: LifeHistory
) -> None:
    extensions = rm.agreement.extensions
    if extensions is None:
        raise _reject("unauthorised", "the road map provides for no extension")
    if party not in extenders(rm):
        raise _reject("unauthorised", f"{party} is not among the parties that extend")
    signers = history.extension_signers.get(body.extension, {})
    if party in signers:
        raise _reject("duplicate", f"{party} has already signed extension {body.extension!r}")
    # Every required party signs: an extension in effect was signed by this party too.
    if len(history.extended(rm)) >= extensions.max:
        raise _reject(
            "no-extensions-left",
            f"the road map allows {extensions.max} extension(s); all have been made",
        )


def _check_amendment(
    rm: m.RoadMap, party: str, body: b.Body, history: LifeHistory, when: dt.datetime
) -> None:
    if rm.amendments is None:
        raise _reject("unauthorised", "the road map provides for no amendment")
    by, _ = amenders(rm)
    if party not in by:
        raise _reject("unauthorised", f"{party} is not among the parties that amend")
    if isinstance(body, b.AmendmentProposed):
        if body.amendment in history.amendments:
            raise _reject("duplicate", f"an amendment {body.amendment!r} was already proposed")
        try:
            effective = dt.date.fromisoformat(body.effective)
        except ValueError:
            raise _reject("bad-body", f"effective {body.effective!r} is not a date") from None
        if effective < calendar.local_date(when, rm.agreement.zone):
            raise _reject(
                "bad-body", f"an amendment cannot take effect in the past ({body.effective})"
            )
        return
    assert isinstance(body, b.AmendmentConsented)
    record = history.amendments.get(body.amendment)
    if record is None:
        raise _reject("unknown-reference", f"no amendment {body.amendment!r} was proposed")
    if party in record.consents:
        raise _reject("duplicate", f"{party} has already consented to {body.amendment!r}")
