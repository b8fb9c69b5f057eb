"""The scenario file: how a road map is played out in a simulation.

A scenario says how long steps take and how often they slip, how the disarming
party behaves (comply, hide items, divert at a phase, refuse a reveal), what the
inspectorate does in each phase and how good its inspections are. Like the road
map, it is a strict, frozen pydantic model that refuses unknown keys; a scenario
is checked against the road map it is run on (:func:`check`), so a step or phase
that the road map does not have is an error before anything runs.

This module reads YAML text and validates; it does not draw random numbers
(:mod:`cvid.sim.montecarlo`) and does not read files other than the one it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from cvid import _yaml
from cvid._ids import Id
from cvid.errors import ScenarioError
from cvid.roadmap.model import RoadMap

STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)
Days = Annotated[float, Field(ge=0, le=36_500, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = STRICT


# --- durations --------------------------------------------------------------------------


class Fixed(_Model):
    """Always ``days`` days."""

    dist: Literal["fixed"]
    days: Days


class Uniform(_Model):
    """Uniform between ``low`` and ``high`` days."""

    dist: Literal["uniform"]
    low: Days
    high: Days

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.high < self.low:
            raise ValueError("uniform: 'high' must be at least 'low'")
        return self


class Triangular(_Model):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: Days
    mode: Days
    high: Days

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.low <= self.mode <= self.high:
            raise ValueError("triangular: need low <= mode <= high")
        return self


class Exponential(_Model):
    """Exponential with mean ``mean`` days."""

    dist: Literal["exponential"]
    mean: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)]


class LogNormal(_Model):
    """Log-normal with median ``median`` days and log-scale spread ``sigma``."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)]
    sigma: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)]


def _dist_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        tag = value.get("dist")
        return tag if isinstance(tag, str) else None
    return getattr(value, "dist", None)


Duration = Annotated[
    Annotated[Fixed, Tag("fixed")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[LogNormal, Tag("lognormal")],
    Discriminator(
        _dist_tag,
        custom_error_type="duration",
        custom_error_message=(
            "expected a duration: a mapping with 'dist' one of "
            "fixed, uniform, triangular, exponential, lognormal"
        ),
    ),
]


class Durations(_Model):
    """How long each step takes once it can start (its dependencies done)."""

    default: Duration = Field(default_factory=lambda: Fixed(dist="fixed", days=30))
    steps: dict[Id, Duration] = Field(default_factory=dict)


class Delays(_Model):
    """Slips: with ``probability`` a step is late by a further ``days``."""

    probability: Probability = 0.0
    days: Duration = Field(default_factory=lambda: Fixed(dist="fixed", days=90))
    steps: dict[Id, Probability] = Field(default_factory=dict)


# --- the disarming party ----------------------------------------------------------------


class Behaviour(_Model):
    """What the disarming party does.

    ``comply``: everything declared and carried out. ``hide``: ``items`` items are
    kept back from the outset, each in a cell drawn at random. ``divert``: ``items``
    items are diverted when ``phase`` starts. ``refuse_reveal``: the reveal ``step``
    is never carried out.
    """

    kind: Literal["comply", "hide", "divert", "refuse_reveal"] = "comply"
    items: int = Field(default=0, ge=0, le=1_000_000)
    phase: Id | None = None
    step: Id | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind in ("hide", "divert") and self.items < 1:
            raise ValueError(f"behaviour {self.kind!r} needs 'items' of at least 1")
        if self.kind in ("comply", "refuse_reveal") and self.items:
            raise ValueError(f"behaviour {self.kind!r} takes no 'items'")
        if (self.kind == "divert") != (self.phase is not None):
            raise ValueError("'phase' is given with behaviour 'divert', and only then")
        if (self.kind == "refuse_reveal") != (self.step is not None):
            raise ValueError("'step' is given with behaviour 'refuse_reveal', and only then")
        return self


# --- inspections ------------------------------------------------------------------------


class Round(_Model):
    """A round of ``inspections`` distinct cells, drawn at random, ``after_days`` after
    the phase starts."""

    phase: Id
    inspections: int = Field(ge=0, le=10_000_000)
    after_days: Days = 0.0


class Inspections(_Model):
    """The inspection plan and how good inspections are.

    ``cells`` is the number of cells the declaration is partitioned into;
    ``per_inspection`` the probability that inspecting a cell with a hidden item
    finds it (1 - beta for one cell); ``false_alarm`` the probability that inspecting a
    clean cell raises a false alarm (alpha).
    """

    cells: int = Field(ge=1, le=10_000_000)
    per_inspection: Probability = 1.0
    false_alarm: Probability = 0.0
    plan: list[Round] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for r in self.plan:
            if r.inspections > self.cells:
                raise ValueError(
                    f"round in phase {r.phase!r}: {r.inspections} inspections of only "
                    f"{self.cells} cells"
                )
        return self


class Detection(_Model):
    """What a detection is on the record, and whether it stops the road map.

    The engine is told that the verifiers found ``step`` not carried out at the time
    of the detecting inspection; with ``halts``, no step is done after it.
    """

    step: Id | None = None
    halts: bool = True


class Council(_Model):
    """When the Council endorses the road map, in days after adoption (None: never)."""

    endorse_after: Duration | None = Field(default_factory=lambda: Fixed(dist="fixed", days=0))
    guarantees_signed: bool = True


class Scenario(_Model):
    """A whole scenario, as written in a ``cvid_scenario: 1`` file."""

    cvid_scenario: Literal[1]
    title: str = Field(default="", max_length=400)
    roadmap: Id | None = None
    horizon_days: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)] = 3650.0
    adoption: Duration = Field(default_factory=lambda: Fixed(dist="fixed", days=0))
    council: Council = Field(default_factory=Council)
    durations: Durations = Field(default_factory=Durations)
    delays: Delays = Field(default_factory=Delays)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    inspections: Inspections | None = None
    detection: Detection = Field(default_factory=Detection)
    engine_runs: int = Field(default=20, ge=0, le=100_000)

    def with_values(self, **changes: Any) -> Scenario:
        """A copy with sweep axes set (see :data:`AXES`), validated again.

        Raises:
            ScenarioError: an unknown axis, or a value the scenario cannot take.
        """
        data = self.model_dump(mode="python")
        for axis, value in changes.items():
            if axis not in AXES:
                raise ScenarioError(f"unknown sweep axis {axis!r}; there are: {', '.join(AXES)}")
            AXES[axis](data, value)
        return _validate(data, "<sweep point>")


def _set_inspections(data: dict[str, Any], value: Any) -> None:
    if data["inspections"] is None:
        raise ScenarioError("axis 'inspections' needs a scenario with an inspection plan")
    for r in data["inspections"]["plan"]:
        r["inspections"] = value


def _set_items(data: dict[str, Any], value: Any) -> None:
    if data["behaviour"]["kind"] not in ("hide", "divert"):
        raise ScenarioError("axis 'items' needs behaviour 'hide' or 'divert'")
    data["behaviour"]["items"] = value


def _set_in(section: str, key: str) -> Any:
    def setter(data: dict[str, Any], value: Any) -> None:
        if data[section] is None:
            raise ScenarioError(f"axis {key!r} needs a scenario with {section!r}")
        data[section][key] = value

    return setter


AXES: dict[str, Any] = {
    "inspections": _set_inspections,
    "items": _set_items,
    "delay_probability": _set_in("delays", "probability"),
    "per_inspection": _set_in("inspections", "per_inspection"),
    "false_alarm": _set_in("inspections", "false_alarm"),
    "cells": _set_in("inspections", "cells"),
}
"""The scenario values a sweep may vary, by name."""


# --- reading ----------------------------------------------------------------------------


def _problems(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"] if not str(p).startswith("function-"))
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{where or 'top level'}: {message}")
    return "; ".join(lines)


def _validate(data: Any, name: str) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: a scenario is a mapping with 'cvid_scenario: 1'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{name}: {_problems(e)}") from e


def from_data(data: Any, *, name: str = "<scenario>") -> Scenario:
    """Validate parsed YAML data as a scenario (not yet checked against a road map).

    Raises:
        ScenarioError: the data is not a valid scenario; the message names each problem.
    """
    return _validate(data, name)


def loads(text: str, *, name: str = "<scenario>") -> Scenario:
    """Read a scenario from YAML text.

    Raises:
        ScenarioError: not YAML, or not a valid scenario.
    """
    try:
        data = _yaml.load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(_yaml.describe(e, name)) from None
    return _validate(data, name)


def load(path: str | Path) -> Scenario:
    """Read a scenario file.

    Raises:
        ScenarioError: the file cannot be read or is not a valid scenario.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"cannot read scenario {path}: {e}") from e
    return loads(text, name=str(path))


def to_text(scenario: Scenario) -> str:
    """The scenario as YAML text that :func:`loads` reads back to an equal scenario."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)


def check(scenario: Scenario, roadmap: RoadMap) -> Scenario:
    """Check that every step and phase the scenario names is in the road map.

    Returns:
        The scenario, unchanged.

    Raises:
        ScenarioError: a name the road map does not have, or a behaviour it cannot
            carry (refusing a step that reveals nothing).
    """
    steps = {st.id: st for ph in roadmap.phases for st in ph.steps}
    phases = {ph.id for ph in roadmap.phases}
    problems: list[str] = []
    if scenario.roadmap is not None and scenario.roadmap != roadmap.agreement.id:
        problems.append(
            f"the scenario is for road map {scenario.roadmap!r}, not {roadmap.agreement.id!r}"
        )

    def need_step(where: str, sid: str) -> None:
        if sid not in steps:
            problems.append(f"{where}: step {sid!r} is not in road map {roadmap.agreement.id!r}")

    def need_phase(where: str, pid: str) -> None:
        if pid not in phases:
            problems.append(f"{where}: phase {pid!r} is not in road map {roadmap.agreement.id!r}")

    for sid in scenario.durations.steps:
        need_step("durations.steps", sid)
    for sid in scenario.delays.steps:
        need_step("delays.steps", sid)
    behaviour = scenario.behaviour
    if behaviour.phase is not None:
        need_phase("behaviour.phase", behaviour.phase)
    if behaviour.step is not None:
        need_step("behaviour.step", behaviour.step)
        if behaviour.step in steps and steps[behaviour.step].reveals is None:
            problems.append(f"behaviour.step: step {behaviour.step!r} reveals nothing")
    if scenario.inspections is not None:
        for r in scenario.inspections.plan:
            need_phase("inspections.plan", r.phase)
    if scenario.detection.step is not None:
        need_step("detection.step", scenario.detection.step)
    if behaviour.kind in ("hide", "divert") and scenario.inspections is None:
        problems.append(f"behaviour {behaviour.kind!r} needs an 'inspections' section")
    if problems:
        raise ScenarioError("; ".join(problems))
    return scenario


SHIPPED = Path(__file__).parent / "scenarios"


def shipped_names() -> list[str]:
    """The example scenarios that ship with cvid."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def load_named(ref: str | Path) -> Scenario:
    """Read a scenario from a file path, or a shipped scenario by name.

    Raises:
        ScenarioError: neither a readable file nor a shipped name, or not valid.
    """
    path = Path(ref)
    if not path.exists() and str(ref) in shipped_names():
        path = SHIPPED / f"{ref}.yaml"
    if not path.exists():
        raise ScenarioError(
            f"no scenario file {str(ref)!r}, nor a shipped scenario of that name "
            f"(there are: {', '.join(shipped_names())})"
        )
    return load(path)
