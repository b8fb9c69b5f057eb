"""Signed events in bulk for the service's load tests: one party's, in sequence order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cvid import agreement as ag
from cvid.events.envelope import Event, sign_event


def adopted_yesterday(directory: Path) -> ag.Agreement:
    """A dprk-phased agreement in ``directory``, adopted a day ago, opened."""
    adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return ag.create_from_template(directory, "dprk-phased", adopt_at=adopted)


def tablings(a: ag.Agreement, party: str, count: int, *, tag: str, seq: int = 0) -> list[bytes]:
    """``count`` drafts tabled by ``party``, signed, numbered from ``seq`` (default: its
    next sequence number in ``a``'s view of the log), all dated now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seq = seq or a.history.seq.get(party, 0) + 1
    return [
        sign_event(
            Event(
                agreement=a.roadmap.agreement.id,
                roadmap=a.gate.digest,
                type="council.draft.tabled",
                party=party,
                seq=seq + i,
                time=now,
                body={"draft": f"{tag}-{seq + i}", "title": "Load", "purpose": "other"},
            ),
            a.signer(party),
        ).to_bytes()
        for i in range(count)
    ]
