"""``include_phases``: a shipped phase expanded into a road map, with parties mapped in.

A good inclusion becomes an ordinary phase (the digest is of the expansion); every
mistake is named where the user made it, in the road map or in the phase file.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from cvid.errors import RoadmapError
from cvid.reference import cbm_ids
from cvid.roadmap import digest, from_json, loads, to_json
from cvid.roadmap import phases as included_phases
from cvid.roadmap.loader import schema
from tests.kit import MINI

BASE = MINI.read_text(encoding="utf-8")
PHASE_FILE = included_phases.PHASES_DIR / "nea-nwfz.yaml"

INCLUDE = """\
include_phases:
  - phase: nea-nwfz
    with:
      regional_states: [north]
      p5: [usa, chn]
      verifier: iaea
      depositary: north
      after: disable
"""


def _text(include: str = INCLUDE) -> str:
    return BASE + include


def _line_of(text: str, needle: str, nth: int = -1) -> int:
    """1-based line number of the ``nth`` line containing ``needle`` (default: the last)."""
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def _problems(text: str) -> list[str]:
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    return info.value.problems


# --- a good inclusion --------------------------------------------------------------------


def test_the_shipped_phases_are_listed() -> None:
    assert "nea-nwfz" in included_phases.phase_names()
    assert included_phases.phase_path("nea-nwfz") == PHASE_FILE
    assert included_phases.phase_path("nowhere") is None


def test_an_included_phase_is_appended_with_the_parties_mapped_in() -> None:
    roadmap = loads(_text(), name="rm.yaml")
    assert [p.id for p in roadmap.phases] == ["freeze", "disable", "nea-nwfz"]
    steps = {s.id: s for s in roadmap.phases[-1].steps}
    assert list(steps) == [
        "nwfz-notify-exercises-north",
        "nwfz-treaty-signed-north",
        "nwfz-treaty-ratified-north",
        "nwfz-treaty-in-force",
        "nwfz-verification-north",
        "nwfz-protocol-signed-usa",
        "nwfz-protocol-signed-chn",
        "nwfz-protocol-ratified-usa",
        "nwfz-protocol-ratified-chn",
    ]
    # for_each: one step per party, {party} and {party_name} replaced.
    signed = steps["nwfz-protocol-signed-chn"]
    assert signed.actor == "chn"
    assert signed.title.endswith("(China)")
    # $parameters: a milestone, a party, a party inside a list.
    assert steps["nwfz-treaty-signed-north"].deadline is not None
    assert steps["nwfz-treaty-signed-north"].deadline.after == "disable"
    assert steps["nwfz-treaty-in-force"].actor == "north"
    verification = steps["nwfz-verification-north"].verification
    assert verification is not None
    assert verification.by == ["iaea"]
    # x-{*}: every step a for_each template became; x-{party}: that party's own one.
    assert steps["nwfz-treaty-in-force"].depends_on == ["nwfz-treaty-ratified-north"]
    ratified = steps["nwfz-protocol-ratified-usa"]
    assert ratified.depends_on == ["nwfz-protocol-signed-usa"]
    assert ratified.deadline is not None
    assert ratified.deadline.after == "nwfz-protocol-signed-usa"
    # A parameter left out takes its default.
    notify = steps["nwfz-notify-exercises-north"]
    assert notify.deadline is not None
    assert notify.deadline.after == "adoption"
    assert notify.cica_measure in cbm_ids()
    assert all(s.source for s in steps.values())


def test_several_regional_states_each_get_their_steps() -> None:
    text = _text(INCLUDE.replace("regional_states: [north]", "regional_states: [north, usa]"))
    roadmap = loads(text)
    phase = roadmap.phases[-1]
    assert len(phase.steps) == 13
    in_force = next(s for s in phase.steps if s.id == "nwfz-treaty-in-force")
    assert in_force.depends_on == ["nwfz-treaty-ratified-north", "nwfz-treaty-ratified-usa"]


def test_the_digest_is_of_the_expansion_as_if_written_out() -> None:
    included = loads(_text())
    data = yaml.safe_load(BASE)
    data["phases"].append(included.phases[-1].model_dump(mode="json", exclude_defaults=True))
    written_out = loads(yaml.safe_dump(data, sort_keys=False))
    assert digest(written_out) == digest(included)
    # The canonical JSON is of the expansion; it reads back without the phase file.
    assert from_json(to_json(included)) == included


def test_the_milestone_may_be_a_step_of_an_earlier_inclusion() -> None:
    roadmap = loads(_text(INCLUDE.replace("after: disable", "after: declare")))
    treaty = next(s for s in roadmap.phases[-1].steps if s.id == "nwfz-treaty-signed-north")
    assert treaty.deadline is not None
    assert treaty.deadline.after == "declare"


def test_the_schema_knows_include_phases() -> None:
    validator = jsonschema.Draft202012Validator(schema())
    data = yaml.safe_load(_text())
    data["agreement"]["start"] = str(data["agreement"]["start"])
    for phase in data["phases"]:
        for step in phase["steps"]:
            if "date" in step.get("deadline", {}):
                step["deadline"]["date"] = str(step["deadline"]["date"])
    assert list(validator.iter_errors(data)) == []
    data["include_phases"][0]["phase"] = "Not An Id"
    assert list(validator.iter_errors(data))


# --- mistakes in the inclusion, named where the user made them ---------------------------


def test_an_unknown_phase_is_refused_at_its_line() -> None:
    text = _text(INCLUDE.replace("phase: nea-nwfz", "phase: nowhere"))
    (problem,) = _problems(text)
    line = _line_of(text, "phase: nowhere")
    assert problem.startswith(f"rm.yaml:{line}:5: ")
    assert problem.endswith("no phase 'nowhere'; known: drm, nea-nwfz")


def test_a_parameter_mapped_to_a_non_party_is_refused_at_its_line() -> None:
    text = _text(INCLUDE.replace("verifier: iaea", "verifier: nobody"))
    (problem,) = _problems(text)
    assert problem == (
        f"rm.yaml:{_line_of(text, 'verifier: nobody')}:7: 'nobody' is not a party to the agreement"
    )


def test_a_party_in_a_list_parameter_is_refused_at_its_position() -> None:
    text = _text(INCLUDE.replace("p5: [usa, chn]", "p5: [usa, ghost]"))
    (problem,) = _problems(text)
    line = _line_of(text, "p5: [usa, ghost]")
    assert problem == f"rm.yaml:{line}:17: 'ghost' is not a party to the agreement"


def test_a_party_without_the_role_the_parameter_needs_is_refused() -> None:
    text = _text(INCLUDE.replace("p5: [usa, chn]", "p5: [usa, iaea]"))
    (problem,) = _problems(text)
    assert "party 'iaea' needs one of the roles guarantor" in problem
    text = _text(INCLUDE.replace("verifier: iaea", "verifier: usa"))
    assert "party 'usa' needs one of the roles verifier" in _problems(text)[0]


def test_missing_unknown_and_misshapen_parameters_are_each_named() -> None:
    text = _text(
        INCLUDE.replace("      verifier: iaea\n", "      verfier: iaea\n").replace(
            "depositary: north", "depositary: [north]"
        )
    )
    problems = _problems(text)
    assert len(problems) == 3
    assert any(
        p.startswith(f"rm.yaml:{_line_of(text, 'verfier')}:7: ")
        and "no parameter 'verfier'; it takes: regional_states, p5, verifier" in p
        for p in problems
    )
    assert any("missing parameter 'verifier'" in p for p in problems)
    assert any(
        p.startswith(f"rm.yaml:{_line_of(text, 'depositary')}:")
        and "'depositary' is one party id, not a list" in p
        for p in problems
    )


def test_an_unknown_milestone_is_refused() -> None:
    text = _text(INCLUDE.replace("after: disable", "after: someday"))
    (problem,) = _problems(text)
    assert problem == (
        f"rm.yaml:{_line_of(text, 'after: someday')}:7: "
        "'someday' is not a step, a phase, 'start' or 'adoption'"
    )


def test_a_malformed_inclusion_is_refused_with_its_key() -> None:
    text = _text(INCLUDE.replace("    with:\n", "    using: 1\n    with:\n"))
    (problem,) = _problems(text)
    assert problem == f"rm.yaml:{_line_of(text, 'using: 1')}:5: unknown key 'using'"
    (problem,) = _problems(BASE + "include_phases: nea-nwfz\n")
    assert "include_phases is a list of inclusions" in problem


def test_a_clash_with_the_road_map_names_both_places() -> None:
    # The road map already has a step named like one of the phase's: the duplicate is in
    # the included phase, reported at the inclusion and at the step in the phase file.
    text = _text().replace("      - id: declare\n", "      - id: nwfz-treaty-in-force\n")
    problems = _problems(text)
    phase_line = _line_of(PHASE_FILE.read_text("utf-8"), "- id: nwfz-treaty-in-force")
    include_line = _line_of(text, "- phase: nea-nwfz")
    expected = (
        f"rm.yaml:{include_line}:5: in the included phase 'nea-nwfz' "
        f"({PHASE_FILE}:{phase_line}:5): duplicate milestone (phase or step) id "
        "'nwfz-treaty-in-force'"
    )
    assert expected in problems


# --- mistakes in a phase file, named in it -----------------------------------------------

CUSTOM = """\
cvid_phase: 1
id: custom
title: A custom phase
parameters:
  who: {title: The actor, kind: party}
  many: {title: Some parties, kind: parties}
steps:
  - id: first
    title: First
    actor: $who
    action: Do it
    deadline: {after: adoption, days: 10}
    source: test
"""


@pytest.fixture
def phase_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(included_phases, "PHASES_DIR", tmp_path)
    return tmp_path


def _include_custom(phase_dir: Path, phase: str) -> tuple[str, Path]:
    path = phase_dir / "custom.yaml"
    path.write_text(phase, encoding="utf-8")
    include = "include_phases:\n  - phase: custom\n    with: {who: north, many: [usa, chn]}\n"
    return _text(include), path


def test_a_custom_phase_expands(phase_dir: Path) -> None:
    text, _ = _include_custom(phase_dir, CUSTOM)
    roadmap = loads(text)
    assert [s.actor for s in roadmap.phases[-1].steps] == ["north"]
    assert included_phases.phase_names() == ["custom"]


def test_a_bad_value_in_a_phase_file_is_named_in_both_files(phase_dir: Path) -> None:
    text, path = _include_custom(phase_dir, CUSTOM.replace("days: 10", "days: -10"))
    (problem,) = _problems(text)
    include_line = _line_of(text, "- phase: custom")
    assert problem.startswith(
        f"rm.yaml:{include_line}:5: in the included phase 'custom' ({path}:12:"
    )
    assert "greater than or equal to 0" in problem


def test_a_phase_file_mistake_is_named_in_the_phase_file(phase_dir: Path) -> None:
    bad = CUSTOM.replace("actor: $who", "actor: $whom").replace("title: First", "title: '{party}'")
    text, path = _include_custom(phase_dir, bad)
    problems = _problems(text)
    assert len(problems) == 2
    include_line = _line_of(text, "- phase: custom")
    prefix = f"rm.yaml:{include_line}:5: in the phase file {path}:"
    assert f"{prefix}10:5: no parameter 'whom' in this phase" in problems
    assert f"{prefix}9:5: {{party}} is only meaningful in a for_each step" in problems


def test_for_each_must_name_a_parties_parameter(phase_dir: Path) -> None:
    bad = CUSTOM.replace("  - id: first\n", "  - id: first-{party}\n    for_each: who\n")
    text, path = _include_custom(phase_dir, bad)
    (problem,) = _problems(text)
    assert re.search(rf"in the phase file {re.escape(str(path))}:9:5: for_each names", problem)


def test_a_malformed_phase_file_is_refused(phase_dir: Path) -> None:
    text, path = _include_custom(phase_dir, CUSTOM.replace("cvid_phase: 1", "cvid_phase: 2"))
    (problem,) = _problems(text)
    assert f"in the phase file {path}:1:" in problem
