"""Security Council votes under the Charter: who may vote, and what a tally means.

Article 23: fifteen members, five of them permanent. Article 27: procedural
matters need nine affirmative votes; all other matters nine affirmative votes
"including the concurring votes of the permanent members", which practice reads
as no negative vote of a permanent member (an abstention does not block). The
numbers come from the road map's ``council`` section, whose defaults are these.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cvid.roadmap.model import Council
from cvid.sentences import say

VOTES = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Tally:
    """The outcome of a vote, with the reason in words."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    abstain: tuple[str, ...]
    absent: tuple[str, ...]
    adopted: bool
    reason: str
    vetoed_by: tuple[str, ...] = ()

    @property
    def counts(self) -> str:
        """``yes-no-abstain``, the way the Council reports a vote."""
        return f"{len(self.yes)}-{len(self.no)}-{len(self.abstain)}"


def tally(
    votes: Mapping[str, str],
    *,
    members: frozenset[str],
    permanent: frozenset[str],
    rule: Council,
    procedural: bool = False,
) -> Tally:
    """Count the votes cast by ``members`` and say whether the draft is adopted.

    Args:
        votes: member id → ``yes``, ``no`` or ``abstain``; members absent from it did
            not vote. Votes by non-members are ignored.
        members: every Council member.
        permanent: the permanent members among them.
        rule: the road map's vote rule.
        procedural: a procedural matter (Art. 27(2)): no veto applies.
    """
    cast = {m: v for m, v in votes.items() if m in members}
    yes = tuple(sorted(m for m, v in cast.items() if v == "yes"))
    no = tuple(sorted(m for m, v in cast.items() if v == "no"))
    abstain = tuple(sorted(m for m, v in cast.items() if v == "abstain"))
    absent = tuple(sorted(members - set(cast)))
    vetoed_by = (
        () if procedural or not rule.permanent_veto else tuple(m for m in no if m in permanent)
    )
    reasons = []
    if len(yes) < rule.affirmative_votes:
        reasons.append(
            say("{n} affirmative votes, {need} required", n=len(yes), need=rule.affirmative_votes)
        )
    if vetoed_by:
        reasons.append(say("vetoed by a permanent member: {parties}", parties=", ".join(vetoed_by)))
    adopted = not reasons
    counts = f"{len(yes)}-{len(no)}-{len(abstain)}"
    reason = (
        say("adopted {counts}", counts=counts)
        if adopted
        else say("not adopted {counts}: {why}", counts=counts, why="; ".join(reasons))
    )
    return Tally(yes, no, abstain, absent, adopted, reason, vetoed_by)
