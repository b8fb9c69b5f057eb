"""Who turns an allegation into a finding, per rule: one rule for admission and the
engine.

Every consequence (and every reward) fires on findings by the finder its
``found_by`` names, else on
the road map's ``findings`` (``threshold`` of the parties ``by``, by default any one
verifier). A finder is one of: k of n named verifiers (each signs ``finding.made``),
a joint body (an adopted decision with ``find``), or the Council (an adopted
resolution that ``determines`` the allegation). Each finder decides an allegation
once, confirmed or rejected. Admission (:mod:`cvid.events.authz_parties`,
:mod:`cvid.events.authz_bodies`, the Council's drafts) lets only the finders a road
map names act; the engine (:mod:`cvid.engine.parties`) keeps each allegation's
decision per finder, which a consequence's condition reads. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from cvid.roadmap import model as m
from cvid.sentences import say

DEFAULT = "findings"
"""The key of the road map's own ``findings`` (a consequence with no ``found_by``)."""

COUNCIL = "council"
"""The key of the Council as a finder (and its name among an allegation's findings)."""


def key(found_by: m.FoundBy | None) -> str:
    """The finder a consequence names, as a key: ``findings``, ``verifiers:a,b/k``,
    ``joint_body:<id>`` or ``council``."""
    if found_by is None:
        return DEFAULT
    if found_by.joint_body is not None:
        return body_key(found_by.joint_body)
    if found_by.council:
        return COUNCIL
    assert found_by.verifiers is not None
    spec = found_by.verifiers
    return f"verifiers:{','.join(sorted(spec.by))}/{spec.threshold}"


def body_key(body: str) -> str:
    """The key of a joint body as a finder."""
    return f"joint_body:{body}"


def default_verifiers(rm: m.RoadMap) -> list[str]:
    """The road map's own finders: ``findings.by``, else every party with the
    ``verifier`` role."""
    return rm.findings.by or [p.id for p in rm.parties if "verifier" in p.roles]


def rules(rm: m.RoadMap) -> list[m.Reward | m.Consequence]:
    """The road map's rules, rewards then consequences: each may name a ``found_by``."""
    return [*rm.rewards, *rm.consequences]


def named(rm: m.RoadMap) -> dict[str, m.FoundBy | None]:
    """Every finder the road map names (its ``findings``, and each rule's
    ``found_by``), by key."""
    out: dict[str, m.FoundBy | None] = {DEFAULT: None}
    for rule in rules(rm):
        if rule.found_by is not None:
            out.setdefault(key(rule.found_by), rule.found_by)
    return out


def verifier_spec(rm: m.RoadMap, found_by: m.FoundBy | None) -> tuple[list[str], int] | None:
    """The verifiers of a finder and how many must agree (None: not a verifier finder)."""
    if found_by is None:
        return default_verifiers(rm), rm.findings.threshold
    if found_by.verifiers is None:
        return None
    return found_by.verifiers.by or default_verifiers(rm), found_by.verifiers.threshold


def finding_parties(rm: m.RoadMap) -> list[str]:
    """Every party whose ``finding.made`` counts for some finder the road map names."""
    out: list[str] = []
    for spec in named(rm).values():
        verifiers = verifier_spec(rm, spec)
        for party in verifiers[0] if verifiers else []:
            if party not in out:
                out.append(party)
    return out


def finding_bodies(rm: m.RoadMap) -> set[str]:
    """The joint bodies a rule (reward or consequence) names as its finder."""
    return {
        r.found_by.joint_body
        for r in rules(rm)
        if r.found_by is not None and r.found_by.joint_body is not None
    }


def council_finds(rm: m.RoadMap) -> bool:
    """Whether a rule (reward or consequence) names the Council as its finder."""
    return any(r.found_by is not None and r.found_by.council for r in rules(rm))


def decide(
    rm: m.RoadMap,
    found_by: m.FoundBy | None,
    findings: Mapping[str, str],
    determinations: Mapping[str, str],
) -> str | None:
    """A finder's decision on one allegation: ``confirmed``, ``rejected`` or None (not
    yet), from the verifiers' ``findings`` (party → outcome) and the joint bodies' and
    Council's ``determinations`` (finder key → outcome)."""
    verifiers = verifier_spec(rm, found_by)
    if verifiers is None:
        return determinations.get(key(found_by))
    by, threshold = verifiers
    outcomes = [findings[p] for p in by if p in findings]
    for outcome in ("confirmed", "rejected"):
        if outcomes.count(outcome) >= threshold:
            return outcome
    return None


def describe(found_by: m.FoundBy | None) -> str:
    """A finder in words, as rules show it."""
    if found_by is None:
        return say("the road map's finders")
    if found_by.joint_body is not None:
        return say("a decision of {body}", body=found_by.joint_body)
    if found_by.council:
        return say("a Council determination")
    assert found_by.verifiers is not None
    spec = found_by.verifiers
    if spec.by:
        return say("{n} of {parties}", n=spec.threshold, parties=", ".join(spec.by))
    return say("{n} of the road map's finders", n=spec.threshold)


def looks_at_allegations(cond: m.Condition) -> Iterator[m.Condition]:
    """The tests in ``cond`` that read findings (``allegation_confirmed``,
    ``custody_flagged``)."""
    if isinstance(cond, m.All | m.AnyOf):
        for sub in cond.all if isinstance(cond, m.All) else cond.any:
            yield from looks_at_allegations(sub)
    elif isinstance(cond, m.Not):
        yield from looks_at_allegations(cond.not_)
    elif isinstance(cond, m.AllegationConfirmed | m.CustodyFlagged):
        yield cond
