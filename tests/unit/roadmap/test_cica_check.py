"""A step's ``cica_measure`` names a measure of the CICA CBM catalogue, or is refused."""

from __future__ import annotations

import pytest

from cvid.agreement import template_path
from cvid.errors import RoadmapError
from cvid.reference import cbm_ids
from cvid.roadmap import load, loads
from cvid.roadmap.check import check
from tests.kit import MINI

BASE = MINI.read_text(encoding="utf-8")
DECLARE = "        action: Hand over a complete declaration\n"


def _with_measure(measure: str) -> str:
    assert BASE.count(DECLARE) == 1
    return BASE.replace(DECLARE, DECLARE + f"        cica_measure: {measure}\n")


def test_a_known_measure_is_accepted() -> None:
    roadmap = loads(_with_measure("info-armed-forces"))
    step = next(s for p in roadmap.phases for s in p.steps if s.id == "declare")
    assert step.cica_measure == "info-armed-forces"
    assert check(roadmap) == []


@pytest.mark.parametrize("measure", cbm_ids())
def test_every_catalogue_id_is_accepted(measure: str) -> None:
    loads(_with_measure(measure))


def test_an_unknown_measure_is_refused_with_its_position() -> None:
    text = _with_measure("foo")
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    (problem,) = info.value.problems
    line = next(n + 1 for n, row in enumerate(text.splitlines()) if "cica_measure: foo" in row)
    assert problem == (
        f"rm.yaml:{line}:9: 'foo' is not a CICA confidence-building measure; "
        f"known: {', '.join(cbm_ids())}"
    )


def test_the_check_is_on_the_model_with_a_path() -> None:
    roadmap = loads(_with_measure("info-armed-forces"))
    phases = list(roadmap.phases)
    steps = list(phases[0].steps)
    steps[1] = steps[1].model_copy(update={"cica_measure": "hotline"})
    phases[0] = phases[0].model_copy(update={"steps": steps})
    bad = roadmap.model_copy(update={"phases": phases})
    (problem,) = check(bad)
    assert problem.loc == ("phases", 0, "steps", 1, "cica_measure")
    assert problem.message.startswith("'hotline' is not a CICA confidence-building measure")


def test_the_dprk_template_names_a_cica_measure() -> None:
    roadmap = load(template_path("dprk-phased"))
    named = {s.cica_measure for p in roadmap.phases for s in p.steps if s.cica_measure}
    assert named == {"notify-military-activities"}
    assert named <= set(cbm_ids())
