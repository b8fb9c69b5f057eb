"""Reusable phases that a road map includes by name, with its own parties mapped in.

A phase file (``<name>.yaml`` in this directory) holds one phase written against
*parameters* instead of a road map's party ids and milestones::

    cvid_phase: 1
    id: nea-nwfz
    title: ...
    parameters:
      regional_states: {title: ..., kind: parties}
      verifier: {title: ..., kind: party, roles: [verifier]}
      after: {title: ..., kind: milestone, default: adoption}
    steps:
      - id: nwfz-treaty-signed-{party}
        for_each: regional_states
        actor: '{party}'
        deadline: {after: $after, days: 365}
        ...

A road map includes it with ``include_phases: [{phase: nea-nwfz, with: {...}}]``; the
loader expands each inclusion into an ordinary phase, appended after the road map's
own ``phases``, before anything is validated (ADR 0008). In a phase file:

- a string ``$name`` is the value of parameter ``name``; in a list, a ``parties``
  parameter is spliced in (``by: [$verifier]``, ``guarantors: $p5``);
- a step with ``for_each: <parties parameter>`` becomes one step per party, with
  ``{party}`` (the party's id) and ``{party_name}`` (its name) replaced in every string;
- in a list, a reference ``x-{*}`` to such a step stands for all the steps it became
  (``depends_on: [nwfz-treaty-ratified-{*}]``).

This module is pure: the loader reads the file and gives positions; here the data is
checked and expanded, and every problem comes with a path into the inclusion (what
the road map wrote) or into the phase file (what the phase says).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from cvid._ids import Id, Text
from cvid.roadmap.model import Model, Role

PHASES_DIR = Path(__file__).parent

Loc = tuple[str | int, ...]

_PARAM = re.compile(r"^\$([a-z0-9_]+)$")
_EACH_REF = "{*}"


def phase_names() -> list[str]:
    """The names of the shipped phases (their file names without ``.yaml``)."""
    return sorted(p.stem for p in PHASES_DIR.glob("*.yaml"))


def phase_path(name: str) -> Path | None:
    """The file of a shipped phase, or None when there is no such phase."""
    return PHASES_DIR / f"{name}.yaml" if name in phase_names() else None


class Parameter(Model):
    """What a phase needs from the road map that includes it.

    ``party``: one party id; ``parties``: a non-empty list of distinct party ids;
    ``milestone``: ``start``, ``adoption`` or a step or phase of the road map;
    ``joint_body``: one of the road map's ``joint_bodies``. A party must hold one of
    ``roles`` when any are listed.
    """

    title: Text
    kind: Literal["party", "parties", "milestone", "joint_body"]
    roles: list[Role] = Field(default_factory=list)
    default: Id | None = None


class PhaseFile(Model):
    """A ``cvid_phase: 1`` file: one phase and the parameters it is written against.

    The steps are road-map steps (see :class:`cvid.roadmap.model.Step`) plus an optional
    ``for_each``; they are validated as steps once expanded.
    """

    cvid_phase: Literal[1]
    id: Id
    title: Text
    source: Text | None = None
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    steps: list[dict[str, Any]] = Field(min_length=1)


class Include(Model):
    """One entry of a road map's ``include_phases``: a shipped phase and its parameters."""

    phase: Id
    with_: dict[str, Id | list[Id]] = Field(default_factory=dict, alias="with")


@dataclass(frozen=True)
class Problem:
    """A problem with an inclusion: ``in_phase`` locates it in the phase file, else in
    the road map's inclusion entry."""

    in_phase: bool
    loc: Loc
    message: str


@dataclass
class Expansion:
    """An included phase as road-map data, and where each of its steps came from.

    ``origins[k]`` is the index in the phase file of the step template that became
    step ``k`` (a ``for_each`` template becomes several steps).
    """

    phase: dict[str, Any] | None
    origins: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _pydantic(error: ValidationError, in_phase: bool) -> list[Problem]:
    out = []
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            message = f"missing key {loc[-1]!r}"
        else:
            message = f"{'.'.join(map(str, loc)) or '(document)'}: {err['msg']}"
            if "input" in err and not isinstance(err["input"], dict | list):
                message += f" (got {err['input']!r})"
        out.append(Problem(in_phase, loc, message))
    return out


class _Expander:
    def __init__(
        self,
        include: Include,
        spec: PhaseFile,
        parties: Mapping[str, tuple[str, list[str]]],
        milestones: Iterable[str],
        joint_bodies: Iterable[str] = (),
    ) -> None:
        self.include = include
        self.joint_bodies = set(joint_bodies)
        self.spec = spec
        self.parties = parties
        self.milestones = set(milestones)
        self.values: dict[str, str | list[str]] = {}
        self.problems: list[Problem] = []
        # "nwfz-treaty-signed-{*}" -> the parties its for_each template iterates over
        self.each_refs: dict[str, str] = {}

    def _bad(self, loc: Loc, message: str, *, in_phase: bool = False) -> None:
        self.problems.append(Problem(in_phase, loc, message))

    def bind(self) -> None:
        """Give every parameter its value, and check it against the road map."""
        params = self.spec.parameters
        for name in self.include.with_:
            if name not in params:
                self._bad(
                    ("with", name),
                    f"phase {self.spec.id!r} has no parameter {name!r}; "
                    f"it takes: {', '.join(params) or 'none'}",
                )
        for name, param in params.items():
            value = self.include.with_.get(name, param.default)
            if value is None:
                self._bad(("with",), f"missing parameter {name!r} ({param.title})")
                continue
            loc: Loc = ("with", name)
            if param.kind == "parties":
                if not isinstance(value, list) or not value:
                    self._bad(loc, f"{name!r} is a list of party ids")
                    continue
                if len(set(value)) != len(value):
                    self._bad(loc, "a party is listed twice")
                for k, party in enumerate(value):
                    self._party((*loc, k), party, param.roles)
            elif isinstance(value, list):
                self._bad(loc, f"{name!r} is one {param.kind} id, not a list")
                continue
            else:
                self._one(loc, param, value)
            self.values[name] = value

    def _one(self, loc: Loc, param: Parameter, value: str) -> None:
        if param.kind == "party":
            self._party(loc, value, param.roles)
        elif param.kind == "joint_body":
            if value not in self.joint_bodies:
                self._bad(loc, f"{value!r} is not one of the road map's joint_bodies")
        elif value not in self.milestones:
            self._bad(loc, f"{value!r} is not a step, a phase, 'start' or 'adoption'")

    def _party(self, loc: Loc, party: str, roles: Sequence[str]) -> None:
        if party not in self.parties:
            self._bad(loc, f"{party!r} is not a party to the agreement")
        elif roles and not set(roles) & set(self.parties[party][1]):
            self._bad(loc, f"party {party!r} needs one of the roles {', '.join(roles)}")

    def expand(self) -> Expansion:
        self.bind()
        if self.problems:
            return Expansion(None, problems=self.problems)
        for template in self.spec.steps:
            each = template.get("for_each")
            if isinstance(each, str) and isinstance(template.get("id"), str):
                self.each_refs[template["id"].replace("{party}", _EACH_REF)] = each
        steps: list[dict[str, Any]] = []
        origins: list[int] = []
        for t, template in enumerate(self.spec.steps):
            for step in self._step(t, template):
                steps.append(step)
                origins.append(t)
        phase: dict[str, Any] = {"id": self.spec.id, "title": self.spec.title}
        if self.spec.source is not None:
            phase["source"] = self.spec.source
        phase["steps"] = steps
        return Expansion(phase, origins, self.problems)

    def _step(self, t: int, template: dict[str, Any]) -> list[dict[str, Any]]:
        body = {k: v for k, v in template.items() if k != "for_each"}
        if "for_each" not in template:
            return [self._sub(body, ("steps", t), None)]
        each = template["for_each"]
        param = self.spec.parameters.get(each) if isinstance(each, str) else None
        if param is None or param.kind != "parties":
            self._bad(
                ("steps", t, "for_each"),
                f"for_each names a 'parties' parameter, not {each!r}",
                in_phase=True,
            )
            return []
        members = self.values[each]
        assert isinstance(members, list)
        return [self._sub(body, ("steps", t), party) for party in members]

    def _sub(self, value: Any, loc: Loc, party: str | None) -> Any:
        if isinstance(value, dict):
            return {k: self._sub(v, (*loc, k), party) for k, v in value.items()}
        if isinstance(value, list):
            out: list[Any] = []
            for k, v in enumerate(value):
                spliced = self._splice(v, (*loc, k))
                out.extend(spliced if spliced is not None else [self._sub(v, (*loc, k), party)])
            return out
        if not isinstance(value, str):
            return value
        if (match := _PARAM.match(value)) is not None:
            name = match.group(1)
            bound = self.values.get(name)
            if name not in self.spec.parameters:
                self._bad(loc, f"no parameter {name!r} in this phase", in_phase=True)
            elif isinstance(bound, list):
                self._bad(loc, f"{value} is a list: use it as a list", in_phase=True)
            return bound if isinstance(bound, str) else value
        if "{party" in value:
            if party is None:
                self._bad(loc, "{party} is only meaningful in a for_each step", in_phase=True)
                return value
            return value.replace("{party}", party).replace("{party_name}", self.parties[party][0])
        return value

    def _splice(self, value: Any, loc: Loc) -> list[str] | None:
        """The ids a list element stands for, when it is a list parameter or ``x-{*}``."""
        if not isinstance(value, str):
            return None
        match = _PARAM.match(value)
        if match is not None and isinstance(self.values.get(match.group(1)), list):
            bound = self.values[match.group(1)]
            assert isinstance(bound, list)
            return list(bound)
        if _EACH_REF in value:
            each = self.each_refs.get(value)
            if each is None:
                self._bad(loc, f"{value!r} names no for_each step", in_phase=True)
                return []
            members = self.values[each]
            assert isinstance(members, list)
            return [value.replace(_EACH_REF, p) for p in members]
        return None


def parse_include(raw: Any) -> Include | list[Problem]:
    """An entry of ``include_phases`` as the road map wrote it, or what is wrong with it."""
    try:
        return Include.model_validate(raw)
    except ValidationError as e:
        return _pydantic(e, in_phase=False)


def expand(
    entry: Include,
    spec: Any,
    *,
    parties: Mapping[str, tuple[str, list[str]]],
    milestones: Iterable[str],
    joint_bodies: Iterable[str] = (),
) -> Expansion:
    """Expand one inclusion: ``entry`` from the road map, ``spec`` the phase file's data.

    ``parties`` maps each party id of the road map to its name and roles; ``milestones``
    are the names a ``milestone`` parameter may take, ``joint_bodies`` the ids a
    ``joint_body`` parameter may take. Returns the phase as road-map data
    (None when the inclusion cannot be expanded) with every problem found.
    """
    try:
        phase_file = PhaseFile.model_validate(spec)
    except ValidationError as e:
        return Expansion(None, problems=_pydantic(e, in_phase=True))
    return _Expander(entry, phase_file, parties, milestones, joint_bodies).expand()
