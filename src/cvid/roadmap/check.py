"""Checks that span a whole road map: references, roles, thresholds and cycles.

The model classes check each value alone; this module checks that the values fit
together: every reference names something that exists and is of the right kind,
every actor is a party with a role that allows the act, every threshold can be
met by its signers, no step depends on itself through any chain of dependencies
or deadlines. Each problem comes with the path of the value at fault, so the
loader can give its line and column. No I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from cvid import calendar, units
from cvid.errors import KeyFormatError
from cvid.event_types import EVENT_TYPES
from cvid.log.cosignature import CosignatureVerifier
from cvid.log.note import Verifier
from cvid.reference import cbm_ids
from cvid.roadmap import finders, translations
from cvid.roadmap import model as m
from cvid.roadmap import obligations as ob
from cvid.roadmap.devices_check import check_condition, check_monitoring
from cvid.roadmap.membership import COUNCIL_ROLES

Loc = tuple[str | int, ...]

MILESTONES = ("start", "adoption")
"""Milestones every road map has, besides its steps and phases."""


@dataclass(frozen=True)
class Problem:
    """One inconsistency: where it is (a path into the document) and what is wrong."""

    loc: Loc
    message: str


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def _ids(prefix: Loc, objs: Iterable[_HasId]) -> list[tuple[Loc, str]]:
    return [((*prefix, i, "id"), o.id) for i, o in enumerate(objs)]


def lifecycle_of(roadmap: m.RoadMap, category_id: str) -> list[str]:
    """Return the lifecycle of a category (its own, else the road map's default)."""
    for category in roadmap.inventory.categories:
        if category.id == category_id and category.lifecycle is not None:
            return category.lifecycle
    return roadmap.lifecycle


def check(roadmap: m.RoadMap) -> list[Problem]:
    """Return every cross-reference problem in ``roadmap`` (empty when it is sound)."""
    return list(_Checker(roadmap).run())


class _Checker:
    def __init__(self, roadmap: m.RoadMap) -> None:
        self.rm = roadmap
        self.parties = {p.id: p for p in roadmap.parties}
        self.steps = {s.id: s for ph in roadmap.phases for s in ph.steps}
        self.phases = {ph.id: ph for ph in roadmap.phases}
        self.items = {i.id: i for i in roadmap.inventory.items}
        self.categories = {c.id: c for c in roadmap.inventory.categories}
        self.measures = {x.id: x for x in roadmap.measures}
        self.guarantees = {g.id: g for g in roadmap.guarantees}
        self.declarations = {d.id for d in roadmap.escrow.declarations} if roadmap.escrow else set()
        self.joint_bodies = {j.id: j for j in roadmap.joint_bodies}

    def run(self) -> Iterator[Problem]:
        yield from self._unique_ids()
        yield from self._zone()
        yield from self._imposers()
        yield from self._parties()
        yield from self._council()
        yield from self._inventory()
        yield from self._guarantees()
        yield from self._steps()
        yield from self._cica_measures()
        yield from self._cycles()
        yield from self._rules()
        yield from self._snapback()
        yield from self._escrow()
        yield from self._permissions()
        yield from self._witnesses()
        yield from self._joint_bodies()
        yield from self._limits()
        yield from self._obligations()
        yield from self._quotas()
        yield from self._life()
        yield from (Problem(loc, msg) for loc, msg in check_monitoring(self.rm))
        yield from (Problem(loc, msg) for loc, msg in translations.check(self.rm))

    def _has_role(self, party_id: str, *roles: str) -> bool:
        party = self.parties.get(party_id)
        return party is not None and any(r in party.roles for r in roles)

    def _party_ref(self, loc: Loc, party_id: str, *roles: str) -> Iterator[Problem]:
        if party_id not in self.parties:
            yield Problem(loc, f"{party_id!r} is not a party to the agreement")
        elif roles and not self._has_role(party_id, *roles):
            yield Problem(loc, f"party {party_id!r} needs one of the roles {', '.join(roles)}")

    def _unique_ids(self) -> Iterator[Problem]:
        rm = self.rm
        steps: list[tuple[Loc, str]] = []
        for i, ph in enumerate(rm.phases):
            steps += _ids(("phases", i, "steps"), ph.steps)
        groups: list[tuple[str, list[tuple[Loc, str]]]] = [
            ("party", _ids(("parties",), rm.parties)),
            (
                "item or category",
                _ids(("inventory", "items"), rm.inventory.items)
                + _ids(("inventory", "categories"), rm.inventory.categories),
            ),
            ("measure", _ids(("measures",), rm.measures)),
            ("guarantee", _ids(("guarantees",), rm.guarantees)),
            ("milestone (phase or step)", _ids(("phases",), rm.phases) + steps),
            (
                "rule (reward or consequence)",
                _ids(("rewards",), rm.rewards) + _ids(("consequences",), rm.consequences),
            ),
        ]
        for kind, entries in groups:
            seen: set[str] = set()
            for loc, ident in entries:
                if ident in seen:
                    yield Problem(loc, f"duplicate {kind} id {ident!r}")
                elif kind.startswith("milestone") and ident in MILESTONES:
                    yield Problem(loc, f"{ident!r} is a reserved milestone name")
                seen.add(ident)

    def _imposers(self) -> Iterator[Problem]:
        for i, measure in enumerate(self.rm.measures):
            if measure.imposed_by != "council":
                yield from self._party_ref(("measures", i, "imposed_by"), measure.imposed_by)
        for key, rules in (("rewards", self.rm.rewards), ("consequences", self.rm.consequences)):
            for i, rule in enumerate(rules):
                of = "suspend_measures_of" if key == "rewards" else "reimpose_measures_of"
                for k, imposer in enumerate(getattr(rule, of)):
                    if imposer != "council":
                        yield from self._party_ref((key, i, of, k), imposer)
        for i, finder in enumerate(self.rm.findings.by):
            yield from self._party_ref(("findings", "by", i), finder)
        named = self.rm.findings.by or [p.id for p in self.rm.parties if "verifier" in p.roles]
        if self.rm.findings.threshold > max(len(named), 1):
            yield Problem(
                ("findings", "threshold"),
                f"threshold {self.rm.findings.threshold} is above the {len(named)} finders",
            )

    def _zone(self) -> Iterator[Problem]:
        try:
            calendar.zone(self.rm.agreement.zone)
        except calendar.ZoneError as e:
            yield Problem(("agreement", "zone"), str(e))
        if self.rm.snapback is not None and self.rm.snapback.zone is not None:
            try:
                calendar.zone(self.rm.snapback.zone)
            except calendar.ZoneError as e:
                yield Problem(("snapback", "zone"), str(e))

    def _parties(self) -> Iterator[Problem]:
        for i, party in enumerate(self.rm.parties):
            if len(set(party.roles)) != len(party.roles):
                yield Problem(("parties", i, "roles"), "a role is listed twice")
            key_ids: set[bytes] = set()
            for j, text in enumerate(party.keys):
                loc: Loc = ("parties", i, "keys", j)
                try:
                    verifier = Verifier.from_text(text)
                except KeyFormatError as e:
                    yield Problem(loc, f"not a verifier key: {e}")
                    continue
                if verifier.name != party.id:
                    yield Problem(
                        loc, f"key is named {verifier.name!r}, not after the party {party.id!r}"
                    )
                if verifier.key_id in key_ids:
                    yield Problem(loc, "the same key is listed twice")
                key_ids.add(verifier.key_id)
        for j, party_id in enumerate(self.rm.agreement.adopted_by):
            yield from self._party_ref(("agreement", "adopted_by", j), party_id)

    def _council(self) -> Iterator[Problem]:
        members = [p.id for p in self.rm.parties if self._has_role(p.id, *COUNCIL_ROLES)]
        both = [p.id for p in self.rm.parties if all(r in p.roles for r in COUNCIL_ROLES)]
        for party_id in both:
            yield Problem(
                ("parties",), f"{party_id!r} cannot be both a permanent and an elected member"
            )
        council = self.rm.council
        if council is None:
            if members:
                yield Problem(
                    ("parties",), "parties have Council roles but there is no 'council' section"
                )
            return
        if council.affirmative_votes > council.size:
            yield Problem(
                ("council", "affirmative_votes"),
                f"{council.affirmative_votes} affirmative votes cannot be reached "
                f"by {council.size} members",
            )
        if not council.terms and len(members) != council.size:
            yield Problem(
                ("council", "size"),
                f"the Council has {council.size} members "
                f"but {len(members)} parties hold a Council role",
            )
        yield from self._terms(council)

    def _terms(self, council: m.Council) -> Iterator[Problem]:
        for i, term in enumerate(council.terms):
            yield from self._party_ref(
                ("council", "terms", i, "party"), term.party, "council_elected"
            )
        for i, chair in enumerate(council.presidency):
            yield from self._party_ref(
                ("council", "presidency", i, "party"), chair.party, *COUNCIL_ROLES
            )
        if council.terms:
            permanent = sum(1 for p in self.rm.parties if "council_permanent" in p.roles)
            for i, term in enumerate(council.terms):
                seated = sum(
                    1
                    for t in council.terms
                    if t.from_ <= term.from_ and (t.until is None or term.from_ <= t.until)
                )
                if permanent + seated > council.size:
                    yield Problem(
                        ("council", "terms", i),
                        f"on {term.from_.isoformat()} the Council would have "
                        f"{permanent + seated} members, more than {council.size}",
                    )

    def _inventory(self) -> Iterator[Problem]:
        for i, category in enumerate(self.rm.inventory.categories):
            lifecycle = category.lifecycle or []
            if len(set(lifecycle)) != len(lifecycle):
                yield Problem(
                    ("inventory", "categories", i, "lifecycle"), "a lifecycle state is repeated"
                )
        if len(set(self.rm.lifecycle)) != len(self.rm.lifecycle):
            yield Problem(("lifecycle",), "a lifecycle state is repeated")
        for i, item in enumerate(self.rm.inventory.items):
            if item.category not in self.categories:
                yield Problem(
                    ("inventory", "items", i, "category"), f"no category {item.category!r}"
                )
            elif item.state is not None and item.state not in lifecycle_of(self.rm, item.category):
                yield Problem(
                    ("inventory", "items", i, "state"),
                    f"{item.state!r} is not a state of the lifecycle of {item.category!r}: "
                    + " → ".join(lifecycle_of(self.rm, item.category)),
                )

    def _guarantees(self) -> Iterator[Problem]:
        for i, guarantee in enumerate(self.rm.guarantees):
            for j, party_id in enumerate(guarantee.guarantors):
                yield from self._party_ref(
                    ("guarantees", i, "guarantors", j), party_id, "guarantor"
                )
            if len(set(guarantee.guarantors)) != len(guarantee.guarantors):
                yield Problem(("guarantees", i, "guarantors"), "a guarantor is listed twice")
            if guarantee.threshold > len(set(guarantee.guarantors)):
                yield Problem(
                    ("guarantees", i, "threshold"),
                    f"threshold {guarantee.threshold} is above "
                    f"the {len(set(guarantee.guarantors))} "
                    "guarantors who can sign",
                )

    def _milestone(self, loc: Loc, ref: str) -> Iterator[Problem]:
        if ref not in self.steps and ref not in self.phases and ref not in MILESTONES:
            yield Problem(loc, f"{ref!r} is not a step, a phase, 'start' or 'adoption'")

    def _steps(self) -> Iterator[Problem]:
        for i, phase in enumerate(self.rm.phases):
            for j, step in enumerate(phase.steps):
                base: Loc = ("phases", i, "steps", j)
                yield from self._step_parties(base, step)
                for k, dep in enumerate(step.depends_on):
                    if dep not in self.steps and dep not in self.phases:
                        yield Problem((*base, "depends_on", k), f"{dep!r} is not a step or a phase")
                yield from self._step_timing(base, step)
                if step.verification is not None:
                    ver = step.verification
                    for k, party_id in enumerate(ver.by):
                        yield from self._party_ref(
                            (*base, "verification", "by", k), party_id, "verifier"
                        )
                    if ver.threshold > len(set(ver.by)):
                        yield Problem(
                            (*base, "verification", "threshold"),
                            f"threshold {ver.threshold} is above "
                            f"the {len(set(ver.by))} verifiers named",
                        )
                for k, transition in enumerate(step.items):
                    yield from self._transition((*base, "items", k), transition)
                if step.reveals is not None and step.reveals.declaration not in self.declarations:
                    yield Problem(
                        (*base, "reveals", "declaration"),
                        f"{step.reveals.declaration!r} is not a declaration in 'escrow'",
                    )

    def _step_parties(self, base: Loc, step: m.Step) -> Iterator[Problem]:
        if step.actor not in self.joint_bodies:  # a joint body performs joint acts
            yield from self._party_ref((*base, "actor"), step.actor)
        if step.owed_to is not None:
            yield from self._party_ref((*base, "owed_to"), step.owed_to)
            if step.owed_to == step.actor:
                yield Problem((*base, "owed_to"), "a step is owed to another party than its actor")

    def _right(self, base: Loc, step: m.Step) -> Iterator[Problem]:
        """A right is never owed: nothing about it may say otherwise."""
        if step.kind != "right":
            return
        why = {
            "deadline": "a right is never due: it has no deadline",
            "verification": "a right is never found not done: it has no verification",
            "owed_to": "a right is owed to nobody: it has no owed_to",
            "automatic": "a right is an act its actor may perform: it cannot be automatic",
        }
        values = {
            "deadline": step.deadline,
            "verification": step.verification,
            "owed_to": step.owed_to,
            "automatic": step.automatic or None,
        }
        for key, message in why.items():
            if values[key] is not None:
                yield Problem((*base, key), message)
        if step.actor in self.joint_bodies:
            yield Problem(
                (*base, "kind"),
                f"a right is a party's: {step.actor!r} is a joint body, whose act is owed by "
                "its members (one that blocks it is in default)",
            )

    def _step_timing(self, base: Loc, step: m.Step) -> Iterator[Problem]:
        yield from self._right(base, step)
        deadline = step.deadline
        if deadline is not None:
            yield from self._deadline((*base, "deadline"), deadline)
            if deadline.after is not None and not deadline.has_duration and not step.automatic:
                yield Problem(
                    (*base, "deadline"),
                    "a deadline at the very moment of its milestone leaves no time to act: "
                    "give days, months or years (or make the step automatic)",
                )
        if step.automatic:
            if deadline is None:
                yield Problem(
                    (*base, "automatic"), "an automatic step needs a deadline: when it happens"
                )
            if step.verification is not None:
                yield Problem(
                    (*base, "verification"), "an automatic step happens by itself: no verification"
                )

    def _deadline(self, loc: Loc, deadline: m.Deadline) -> Iterator[Problem]:
        """Every anchor of a deadline exists (through earliest_of and latest_of)."""
        after = deadline.after
        if isinstance(after, str):
            yield from self._milestone((*loc, "after"), after)
        elif isinstance(after, m.FirstEventAnchor) and after.first not in EVENT_TYPES:
            yield Problem((*loc, "after", "first"), f"unknown event type {after.first!r}")
        for key in ("earliest_of", "latest_of"):
            for k, operand in enumerate(getattr(deadline, key) or []):
                yield from self._deadline((*loc, key, k), operand)

    def _cica_measures(self) -> Iterator[Problem]:
        """A step's ``cica_measure`` must name a measure of the CICA CBM catalogue.

        The catalogue is the packaged reference data (read once, cached), not I/O on
        anything the road map names.
        """
        known: tuple[str, ...] | None = None
        for i, phase in enumerate(self.rm.phases):
            for j, step in enumerate(phase.steps):
                if step.cica_measure is None:
                    continue
                known = known if known is not None else cbm_ids()
                if step.cica_measure not in known:
                    yield Problem(
                        ("phases", i, "steps", j, "cica_measure"),
                        f"{step.cica_measure!r} is not a CICA confidence-building measure; "
                        f"known: {', '.join(known)}",
                    )

    def _transition(self, loc: Loc, transition: m.Transition) -> Iterator[Problem]:
        if transition.item is not None:
            item = self.items.get(transition.item)
            if item is None:
                yield Problem((*loc, "item"), f"no item {transition.item!r}")
                return
            category = item.category
        else:
            category = transition.category or ""
            if category not in self.categories:
                yield Problem((*loc, "category"), f"no category {category!r}")
                return
        lifecycle = lifecycle_of(self.rm, category)
        if transition.to not in lifecycle:
            yield Problem(
                (*loc, "to"),
                f"{transition.to!r} is not a state of the lifecycle of {category!r}: "
                + " → ".join(lifecycle),
            )

    def _step_edges(self, step: m.Step) -> list[str]:
        """Steps ``step`` waits for: its dependencies and its deadline's anchor."""
        refs = list(step.depends_on)
        if step.deadline is not None:
            refs += [ref for kind, ref in step.deadline.anchors() if kind == "milestone"]
        out: list[str] = []
        for ref in refs:
            if ref in self.phases:
                out.extend(s.id for s in self.phases[ref].steps)
            elif ref in self.steps:
                out.append(ref)
        return out

    def _cycles(self) -> Iterator[Problem]:
        where = {
            s.id: ("phases", i, "steps", j)
            for i, ph in enumerate(self.rm.phases)
            for j, s in enumerate(ph.steps)
        }
        edges = {sid: self._step_edges(step) for sid, step in self.steps.items()}
        state: dict[str, int] = {}  # 1: on the stack, 2: done
        reported: set[frozenset[str]] = set()
        for root, root_edges in edges.items():
            if state.get(root):
                continue
            stack: list[tuple[str, Iterator[str]]] = [(root, iter(root_edges))]
            path = [root]
            state[root] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                elif state.get(child) == 1:
                    cycle = path[path.index(child) :]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        chain = " → ".join([*cycle, child])
                        yield Problem(where[child], f"cyclic dependency: {chain}")
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(edges[child])))

    def _condition(self, loc: Loc, cond: m.Condition) -> Iterator[Problem]:
        """Every problem of a condition, by its kind's check (:data:`CHECKS`)."""
        yield from CHECKS[type(cond)](self, loc, cond)

    def _any_ref(
        self, loc: Loc, key: str, ref: str, pool: Iterable[str], noun: str
    ) -> Iterator[Problem]:
        """A condition naming one thing of a kind, or ``any``."""
        if ref != "any" and ref not in set(pool):
            yield Problem((*loc, key), f"{ref!r} is not {noun} (or 'any')")

    def _refs(
        self, loc: Loc, refs: list[str], pool: dict[str, object], kind: str
    ) -> Iterator[Problem]:
        for k, ref in enumerate(refs):
            if ref not in pool:
                yield Problem((*loc, k), f"{ref!r} is not a {kind}")

    def _rules(self) -> Iterator[Problem]:
        measures: dict[str, object] = dict(self.measures)
        guarantees: dict[str, object] = dict(self.guarantees)
        for i, reward in enumerate(self.rm.rewards):
            yield from self._condition(("rewards", i, "when"), reward.when)
            yield from self._refs(
                ("rewards", i, "suspend_measures"), reward.suspend_measures, measures, "measure"
            )
            yield from self._refs(
                ("rewards", i, "bring_into_force"), reward.bring_into_force, guarantees, "guarantee"
            )
            if reward.found_by is not None:
                yield from self._found_by(("rewards", i, "found_by"), reward)
        for i, cons in enumerate(self.rm.consequences):
            yield from self._condition(("consequences", i, "when"), cons.when)
            yield from self._refs(
                ("consequences", i, "reimpose_measures"),
                cons.reimpose_measures,
                measures,
                "measure",
            )
            yield from self._refs(
                ("consequences", i, "suspend_guarantees"),
                cons.suspend_guarantees,
                guarantees,
                "guarantee",
            )
            if cons.found_by is not None:
                yield from self._found_by(("consequences", i, "found_by"), cons)

    def _found_by(self, loc: Loc, cons: m.Reward | m.Consequence) -> Iterator[Problem]:
        """A rule's finder exists and its condition reads findings."""
        found_by = cons.found_by
        assert found_by is not None
        if found_by.joint_body is not None and found_by.joint_body not in self.joint_bodies:
            yield Problem((*loc, "joint_body"), f"{found_by.joint_body!r} is not a joint body")
        if found_by.council and not (
            self.rm.council is not None
            or any(set(p.roles) & set(COUNCIL_ROLES) for p in self.rm.parties)
        ):
            yield Problem((*loc, "council"), "the road map has no Council to determine findings")
        if found_by.verifiers is not None:
            spec = found_by.verifiers
            for k, party in enumerate(spec.by):
                yield from self._party_ref((*loc, "verifiers", "by", k), party)
            named = spec.by or finders.default_verifiers(self.rm)
            if spec.threshold > len(set(named)):
                yield Problem(
                    (*loc, "verifiers", "threshold"),
                    f"threshold {spec.threshold} is above the {len(set(named))} finders",
                )
        if not any(finders.looks_at_allegations(cons.when)):
            yield Problem(
                loc,
                "found_by names whose findings fire the rule, and its condition reads "
                "none: use allegation_confirmed or custody_flagged",
            )

    def _snapback(self) -> Iterator[Problem]:
        snapback = self.rm.snapback
        if snapback is None:
            return
        for k, party_id in enumerate(snapback.entitled):
            yield from self._party_ref(("snapback", "entitled", k), party_id)
        yield from self._refs(
            ("snapback", "measures"), snapback.measures, dict(self.measures), "measure"
        )
        if self.rm.council is None:
            yield Problem(
                ("snapback",), "snapback needs a 'council' to vote on continuing the relief"
            )

    def _escrow(self) -> Iterator[Problem]:
        if self.rm.escrow is not None:
            seen: set[str] = set()
            for i, declaration in enumerate(self.rm.escrow.declarations):
                if declaration.id in seen:
                    yield Problem(
                        ("escrow", "declarations", i, "id"),
                        f"duplicate declaration {declaration.id!r}",
                    )
                seen.add(declaration.id)
                yield from self._party_ref(("escrow", "declarations", i, "by"), declaration.by)
        if self.rm.beacon is not None:
            for k, party_id in enumerate(self.rm.beacon.participants):
                yield from self._party_ref(("beacon", "participants", k), party_id)
            if len(set(self.rm.beacon.participants)) != len(self.rm.beacon.participants):
                yield Problem(("beacon", "participants"), "a participant is listed twice")

    def _permissions(self) -> Iterator[Problem]:
        for event_type, grantees in self.rm.permissions.items():
            if event_type not in EVENT_TYPES:
                yield Problem(("permissions", event_type), f"unknown event type {event_type!r}")
            for k, who in enumerate(grantees):
                if who not in m.ROLES and who not in self.parties:
                    yield Problem(
                        ("permissions", event_type, k), f"{who!r} is neither a role nor a party"
                    )

    def _witnesses(self) -> Iterator[Problem]:
        witnesses = self.rm.witnesses
        if witnesses is None:
            return
        if witnesses.threshold > len(witnesses.members):
            yield Problem(
                ("witnesses", "threshold"),
                f"threshold {witnesses.threshold} is above the {len(witnesses.members)} witnesses",
            )
        seen: set[str] = set()
        key_ids: set[bytes] = set()
        for i, witness in enumerate(witnesses.members):
            if witness.id in seen:
                loc_id: Loc = ("witnesses", "members", i, "id")
                yield Problem(loc_id, f"duplicate witness {witness.id!r}")
            seen.add(witness.id)
            if witness.key is None:
                continue
            loc: Loc = ("witnesses", "members", i, "key")
            try:
                verifier = CosignatureVerifier.from_text(witness.key)
            except KeyFormatError as e:
                yield Problem(loc, f"not a cosignature/v1 verifier key: {e}")
                continue
            if verifier.name != witness.id:
                yield Problem(loc, f"key is named {verifier.name!r}, not {witness.id!r}")
            if verifier.key_id in key_ids:
                yield Problem(loc, "the same key is listed twice")
            key_ids.add(verifier.key_id)

    def _joint_bodies(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for i, body in enumerate(self.rm.joint_bodies):
            loc: Loc = ("joint_bodies", i)
            if body.id in seen:
                yield Problem((*loc, "id"), f"duplicate joint body id {body.id!r}")
            elif body.id in self.parties:
                yield Problem((*loc, "id"), f"{body.id!r} is already a party's id")
            seen.add(body.id)
            for k, member in enumerate(body.members):
                yield from self._party_ref((*loc, "members", k), member)
            if len(set(body.members)) != len(body.members):
                yield Problem((*loc, "members"), "a member is listed twice")
            if isinstance(body.rule, m.AtLeast) and body.rule.at_least > len(set(body.members)):
                yield Problem(
                    (*loc, "rule", "at_least"),
                    f"at_least {body.rule.at_least} is above the {len(set(body.members))} "
                    "members named",
                )

    def _limits(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for i, limit in enumerate(self.rm.limits):
            base: Loc = ("limits", i)
            if limit.id in seen:
                yield Problem((*base, "id"), f"duplicate limit id {limit.id!r}")
            seen.add(limit.id)
            yield from self._party_ref((*base, "party"), limit.party)
            for k, party_id in enumerate(limit.verifiers):
                yield from self._party_ref((*base, "verifiers", k), party_id, "verifier")
            if limit.item is not None and limit.item not in self.items:
                yield Problem((*base, "item"), f"no item {limit.item!r} in the inventory")
            yield from self._limit_unit(base, limit)
            for key, moment in (("from", limit.from_), ("until", limit.until)):
                if moment is None:
                    continue
                if (
                    not isinstance(moment.after, str | None)
                    or moment.earliest_of
                    or moment.latest_of
                ):
                    yield Problem(
                        (*base, key),
                        "a limit's interval is a date, or days, months or years after start, "
                        "adoption, a step or a phase",
                    )
                elif moment.after is not None:
                    yield from self._milestone((*base, key, "after"), moment.after)
            start, end = limit.from_, limit.until
            if (
                start is not None
                and end is not None
                and start.date is not None
                and end.date is not None
                and end.date < start.date
            ):
                yield Problem(
                    (*base, "until"),
                    f"the limit would end on {end.date.isoformat()}, "
                    f"before it starts on {start.date.isoformat()}",
                )
            after = start.after if start is not None else "adoption"
            from_days = (start.days or 0) if start is not None else 0
            if (
                end is not None
                and end.after is not None
                and end.after == after
                and (end.days or 0) <= from_days
            ):
                yield Problem(
                    (*base, "until"),
                    f"the limit would end {end.days} days after {after}, "
                    f"before it starts ({from_days} days after it)",
                )

    def _limit_unit(self, base: Loc, limit: m.Limit) -> Iterator[Problem]:
        try:
            units.check_unit(limit.unit)
        except units.UnitError as e:
            yield Problem((*base, "unit"), str(e))
            return
        item = self.items.get(limit.item or "")
        if item is None or item.unit is None:
            return
        try:
            if not units.convertible(item.unit, limit.unit):
                yield Problem(
                    (*base, "unit"),
                    f"item {item.id!r} is declared in {item.unit!r}, "
                    f"which cannot be converted to {limit.unit!r}",
                )
        except units.UnitError as e:
            yield Problem((*base, "unit"), f"item {item.id!r} is declared in an {e}")

    # --- recurring obligations, inspection types and quotas ------------------------------

    def _anchor(self, loc: Loc, ref: str, *, start: bool) -> Iterator[Problem]:
        allowed = ("start", "adoption") if start else ("adoption",)
        if ref not in self.steps and ref not in self.phases and ref not in allowed:
            names = "'start', 'adoption'" if start else "'adoption'"
            yield Problem(loc, f"unknown anchor {ref!r}: not a step, a phase or {names}")

    def _obligations(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for i, spec in enumerate(self.rm.obligations):
            base: Loc = ("obligations", i)
            if spec.id in seen:
                yield Problem((*base, "id"), f"duplicate obligation id {spec.id!r}")
            seen.add(spec.id)
            yield from self._obliged(base, spec)
            yield from self._recurrence(base, spec)
            yield from self._obligation_verification(base, spec)
        for oid, duty in ob.expand(self.rm).items():
            if duty.declared != oid and oid in seen:
                yield Problem(
                    ("obligations",), f"{oid!r} is both an obligation and the expansion of another"
                )

    def _obliged(self, base: Loc, spec: m.Obligation) -> Iterator[Problem]:
        if spec.party is not None:
            yield from self._party_ref((*base, "party"), spec.party)
        elif isinstance(spec.for_each, m.ForEachRole):
            if not ob.parties_of(self.rm, spec):
                yield Problem(
                    (*base, "for_each", "role"), f"no party holds the role {spec.for_each.role!r}"
                )
        else:
            for k, party_id in enumerate(spec.for_each or []):
                yield from self._party_ref((*base, "for_each", k), party_id)
            if len(set(spec.for_each or [])) != len(spec.for_each or []):
                yield Problem((*base, "for_each"), "a party is listed twice")
        for k, party_id in enumerate(spec.owed_to):
            yield from self._party_ref((*base, "owed_to", k), party_id)

    def _recurrence(self, base: Loc, spec: m.Obligation) -> Iterator[Problem]:
        if isinstance(spec.from_, m.After):
            yield from self._anchor((*base, "from", "after"), spec.from_.after, start=True)
        if isinstance(spec.until, m.Reached):
            yield from self._anchor(
                (*base, "until", "milestone"), spec.until.milestone, start=False
            )
        elif (
            isinstance(spec.until, dt.date)
            and isinstance(spec.from_, dt.date)
            and spec.until <= spec.from_
        ):
            yield Problem((*base, "until"), "'until' is not after 'from'")
        for k, text in enumerate(spec.on_dates or []):
            try:
                ob.month_day(text)
            except ValueError:
                yield Problem((*base, "on_dates", k), f"{text!r} is not a day of every year")
        if spec.on_dates is not None and len(set(spec.on_dates)) != len(spec.on_dates):
            yield Problem((*base, "on_dates"), "a date is listed twice")

    def _obligation_verification(self, base: Loc, spec: m.Obligation) -> Iterator[Problem]:
        ver = spec.verification
        if ver is None:
            return
        for k, party_id in enumerate(ver.by):
            yield from self._party_ref((*base, "verification", "by", k), party_id, "verifier")
        for party in ob.parties_of(self.rm, spec):
            others = {v for v in ver.by if v != party}
            if ver.threshold > len(others):
                yield Problem(
                    (*base, "verification", "threshold"),
                    f"threshold {ver.threshold} is above the {len(others)} verifiers "
                    f"who can confirm {party}'s occurrences (a party never verifies itself)",
                )
                return

    def _quotas(self) -> Iterator[Problem]:
        types: set[str] = set()
        for i, kind in enumerate(self.rm.inspection_types):
            base: Loc = ("inspection_types", i)
            if kind.id in types:
                yield Problem((*base, "id"), f"duplicate inspection type {kind.id!r}")
            types.add(kind.id)
            for key, refs in (("by", kind.by), ("of", kind.of)):
                for k, party_id in enumerate(refs):
                    yield from self._party_ref((*base, key, k), party_id)
        quotas: set[str] = set()
        for i, quota in enumerate(self.rm.quotas):
            base = ("quotas", i)
            if quota.id in quotas:
                yield Problem((*base, "id"), f"duplicate quota id {quota.id!r}")
            quotas.add(quota.id)
            yield from self._party_ref((*base, "party"), quota.party)
            for k, ref in enumerate(quota.types):
                if ref not in types:
                    yield Problem((*base, "types", k), f"{ref!r} is not an inspection type")
            if not self.rm.inspection_types:
                yield Problem((*base,), "a quota counts inspections: list 'inspection_types'")

    def _quorum(self, loc: Loc, by: list[str], at_least: int | None) -> Iterator[Problem]:
        for k, party_id in enumerate(by):
            yield from self._party_ref((*loc, "by", k), party_id)
        if at_least is not None and at_least > len(by or self.rm.agreement.adopted_by):
            yield Problem((*loc, "at_least"), f"at_least {at_least} is more than the parties named")

    def _life(self) -> Iterator[Problem]:
        agreement = self.rm.agreement
        loc: Loc = ("agreement",)
        eif = agreement.entry_into_force
        if eif is not None and eif.ratifications is not None:
            ratifications = eif.ratifications
            yield from self._quorum(
                (*loc, "entry_into_force", "ratifications"),
                ratifications.by,
                ratifications.at_least,
            )
        if eif is not None and eif.date is not None and eif.date < agreement.start:
            yield Problem((*loc, "entry_into_force", "date"), "entry into force before the start")
        if agreement.extensions is not None:
            if agreement.duration is None:
                yield Problem((*loc, "extensions"), "extensions need a 'duration' to extend")
            yield from self._quorum((*loc, "extensions"), agreement.extensions.by, None)
        yield from self._quorum(
            (*loc, "termination"), agreement.termination.by, agreement.termination.at_least
        )
        for k, event_type in enumerate(agreement.after_end):
            if event_type not in EVENT_TYPES:
                yield Problem((*loc, "after_end", k), f"unknown event type {event_type!r}")
        if self.rm.amendments is not None:
            consent = self.rm.amendments.consent
            yield from self._quorum(
                ("amendments",),
                self.rm.amendments.by,
                consent.at_least if isinstance(consent, m.AmendmentQuorum) else None,
            )


# --- each condition kind's load check, registered once ----------------------------------
# The engine registers each condition class's evaluator (cvid.engine.conditions.KINDS);
# here each class gets its load check, in the layer below the engine.

C = TypeVar("C", bound=BaseModel)
ConditionCheck = Callable[[_Checker, Loc, Any], Iterator[Problem]]

CHECKS: dict[type[BaseModel], ConditionCheck] = {}
"""Every condition class of the road-map language (:data:`cvid.roadmap.model.CONDITION_CLASSES`),
mapped to the function that checks it against the whole road map."""


def _checks(
    *classes: type[C],
) -> Callable[[Callable[[_Checker, Loc, C], Iterator[Problem]]], Any]:
    def register(fn: Callable[[_Checker, Loc, C], Iterator[Problem]]) -> Any:
        for cls in classes:
            if cls in CHECKS:
                raise ImportError(f"condition {cls.__name__} has two load checks")
            CHECKS[cls] = fn
        return fn

    return register


def unchecked(registry: dict[type[BaseModel], ConditionCheck]) -> list[str]:
    """The condition classes a registry misses or has beyond the model's, by name."""
    return sorted(c.__name__ for c in set(registry) ^ set(m.CONDITION_CLASSES))


@_checks(m.All)
def _all(ck: _Checker, loc: Loc, cond: m.All) -> Iterator[Problem]:
    for k, sub in enumerate(cond.all):
        yield from ck._condition((*loc, "all", k), sub)


@_checks(m.AnyOf)
def _any_of(ck: _Checker, loc: Loc, cond: m.AnyOf) -> Iterator[Problem]:
    for k, sub in enumerate(cond.any):
        yield from ck._condition((*loc, "any", k), sub)


@_checks(m.Not)
def _not(ck: _Checker, loc: Loc, cond: m.Not) -> Iterator[Problem]:
    yield from ck._condition((*loc, "not"), cond.not_)


@_checks(m.Verified)
def _verified(ck: _Checker, loc: Loc, cond: m.Verified) -> Iterator[Problem]:
    if cond.verified not in ck.steps and cond.verified not in ck.phases:
        yield Problem((*loc, "verified"), f"{cond.verified!r} is not a step or a phase")


@_checks(m.Reported)
def _reported(ck: _Checker, loc: Loc, cond: m.Reported) -> Iterator[Problem]:
    if cond.reported not in ck.steps and cond.reported not in ck.phases:
        yield Problem((*loc, "reported"), f"{cond.reported!r} is not a step or a phase")


@_checks(m.Overdue)
def _overdue(ck: _Checker, loc: Loc, cond: m.Overdue) -> Iterator[Problem]:
    step = ck.steps.get(cond.overdue.step)
    where = (*loc, "overdue", "step")
    if step is None:
        yield Problem(where, f"{cond.overdue.step!r} is not a step")
    elif step.kind == "right":
        yield Problem(where, f"step {step.id!r} is a right: it is never overdue")
    elif step.deadline is None:
        yield Problem(where, f"step {step.id!r} has no deadline")


@_checks(m.Violated)
def _violated(ck: _Checker, loc: Loc, cond: m.Violated) -> Iterator[Problem]:
    yield from ck._any_ref(loc, "violated", cond.violated, ck.steps, "a step")
    step = ck.steps.get(cond.violated)
    if step is not None and step.kind == "right":
        yield Problem(
            (*loc, "violated"),
            f"step {step.id!r} is a right: not exercising it is never a violation",
        )


@_checks(m.IrreversibilityViolated)
def _irreversibility(ck: _Checker, loc: Loc, cond: m.IrreversibilityViolated) -> Iterator[Problem]:
    yield from ck._any_ref(
        loc, "irreversibility_violated", cond.irreversibility_violated, ck.items, "an item"
    )


@_checks(m.PartyWithdrawn)
def _withdrawn(ck: _Checker, loc: Loc, cond: m.PartyWithdrawn) -> Iterator[Problem]:
    yield from ck._any_ref(loc, "party_withdrawn", cond.party_withdrawn, ck.parties, "a party")


@_checks(m.LimitExceeded)
def _exceeded(ck: _Checker, loc: Loc, cond: m.LimitExceeded) -> Iterator[Problem]:
    limits = [x.id for x in ck.rm.limits]
    yield from ck._any_ref(loc, "limit_exceeded", cond.limit_exceeded, limits, "a limit")


@_checks(m.LimitViolated)
def _limit_violated(ck: _Checker, loc: Loc, cond: m.LimitViolated) -> Iterator[Problem]:
    limits = [x.id for x in ck.rm.limits]
    yield from ck._any_ref(loc, "limit_violated", cond.limit_violated, limits, "a limit")


@_checks(m.GuaranteeInForce)
def _guarantee(ck: _Checker, loc: Loc, cond: m.GuaranteeInForce) -> Iterator[Problem]:
    if cond.guarantee_in_force not in ck.guarantees:
        yield Problem(
            (*loc, "guarantee_in_force"), f"{cond.guarantee_in_force!r} is not a guarantee"
        )


@_checks(m.ObligationMissed)
def _missed(ck: _Checker, loc: Loc, cond: m.ObligationMissed) -> Iterator[Problem]:
    ref = cond.obligation_missed
    if isinstance(ref, str):
        ref_id, party, where = ref, None, (*loc, "obligation_missed")
    else:
        ref_id, party, where = ref.obligation, ref.party, (*loc, "obligation_missed", "obligation")
    declared = {o.id for o in ck.rm.obligations}
    duties = ob.expand(ck.rm)
    if ref_id != "any" and ref_id not in declared and ref_id not in duties:
        yield Problem(where, f"{ref_id!r} is not an obligation (or 'any')")
    elif party is not None:
        bound = {d.party for d in duties.values() if ref_id in ("any", d.declared, d.id)}
        if party not in bound:
            yield Problem(
                (*loc, "obligation_missed", "party"), f"{party!r} is not bound by {ref_id!r}"
            )


@_checks(m.QuotaShort)
def _quota_short(ck: _Checker, loc: Loc, cond: m.QuotaShort) -> Iterator[Problem]:
    ref = cond.quota_short
    quotas = {q.id: q for q in ck.rm.quotas}
    if ref != "any" and ref not in quotas:
        yield Problem((*loc, "quota_short"), f"{ref!r} is not a quota (or 'any')")
    elif ref != "any" and quotas[ref].at_least is None:
        yield Problem((*loc, "quota_short"), f"quota {ref!r} has no 'at_least'")


@_checks(m.CellsRevealed)
def _cells(ck: _Checker, loc: Loc, cond: m.CellsRevealed) -> Iterator[Problem]:
    declaration = cond.cells_revealed.declaration
    if declaration not in ck.declarations:
        where = (*loc, "cells_revealed", "declaration")
        yield Problem(where, f"{declaration!r} is not a declaration in 'escrow'")


@_checks(m.Confidence)
def _confidence(ck: _Checker, loc: Loc, cond: m.Confidence) -> Iterator[Problem]:
    declaration = cond.confidence.declaration
    if declaration not in ck.declarations:
        where = (*loc, "confidence", "declaration")
        yield Problem(where, f"{declaration!r} is not a declaration in 'escrow'")


@_checks(
    m.ResolutionAdopted,  # a draft's id or purpose: drafts are tabled on the log
    m.DateAfter,
    m.Adopted,
    m.SnapbackCompleted,
    m.DeclarationViolated,  # a declaration's subject found on inspection, or any
    m.BeaconMissed,
    m.CustodyFlagged,  # an item, or a custody allegation's subject
    m.AllegationConfirmed,
)
def _model_only(_ck: _Checker, _loc: Loc, _cond: BaseModel) -> Iterator[Problem]:
    """No check beyond the model's own: what these name is not checked against the
    rest of the road map when it loads (as before this registry)."""
    yield from ()


@_checks(m.ContinuityLost, m.BalanceFlagged)
def _monitoring(ck: _Checker, loc: Loc, cond: BaseModel) -> Iterator[Problem]:
    """A covered item or facility, a balance area (:mod:`cvid.roadmap.devices_check`)."""
    yield from (Problem(at, msg) for at, msg in check_condition(ck.rm, loc, cond))


if unchecked(CHECKS):  # a condition kind that would load unchecked
    raise ImportError("condition classes without a load check: " + ", ".join(unchecked(CHECKS)))
