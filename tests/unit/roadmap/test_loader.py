"""The road-map loader: valid files load, every mistake is named with its line and column."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.errors import RoadmapError
from cvid.roadmap import digest, from_json, load, loads, to_json
from cvid.roadmap.loader import schema, schema_text
from cvid.roadmap.model import RoadMap
from tests.kit import MINI, mini_data, with_keys

TEXT = MINI.read_text(encoding="utf-8")
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "src" / "cvid" / "roadmap" / "schema.json"


def _line_of(text: str, needle: str, nth: int = -1) -> int:
    """1-based line number of the ``nth`` line containing ``needle`` (default: the last)."""
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def _problems(text: str) -> list[str]:
    with pytest.raises(RoadmapError) as info:
        loads(text, name="rm.yaml")
    return info.value.problems


def test_the_fixture_loads_with_its_parts() -> None:
    roadmap = load(MINI)
    assert roadmap.agreement.id == "mini"
    assert [p.id for p in roadmap.phases] == ["freeze", "disable"]
    assert sum(len(p.steps) for p in roadmap.phases) == 4
    assert roadmap.council is not None
    assert roadmap.council.affirmative_votes == 3


def test_digest_is_of_the_meaning_not_the_formatting() -> None:
    reformatted = "# another comment\n" + yaml.safe_dump(
        yaml.safe_load(TEXT), sort_keys=True, indent=4
    )
    assert digest(loads(reformatted)) == digest(load(MINI))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest(load(MINI)))
    changed = TEXT.replace("days: 30}", "days: 31}", 1)
    assert digest(loads(changed)) != digest(load(MINI))


def test_canonical_json_round_trip() -> None:
    roadmap = load(MINI)
    data = to_json(roadmap)
    again = from_json(data)
    assert again == roadmap
    assert to_json(again) == data


def test_from_json_refuses_duplicate_keys() -> None:
    with pytest.raises(RoadmapError, match="duplicate key"):
        from_json(b'{"cvid_roadmap": 1, "cvid_roadmap": 1}')


def test_a_default_written_out_or_left_out_is_the_same_road_map() -> None:
    explicit = TEXT.replace("  clock_skew_seconds: 300\n", "")
    assert digest(loads(explicit)) == digest(load(MINI))  # 300 is the default


# The identity of tests/fixtures/mini-roadmap.yaml. It changes only when the road map
# does: a release that adds optional language must leave it as it is, or every
# agreement adopted under an earlier release stops opening (ADR 0016).
MINI_DIGEST = "sha256:94882fe9a529310576e4006af44e3bc7a7ea55ca240347babea1c627f23d8451"


def test_the_identity_of_a_road_map_survives_new_optional_language() -> None:
    assert digest(load(MINI)) == MINI_DIGEST
    # A release that adds a field with a default: the same text, the same identity.
    later = pydantic.create_model(
        "LaterRoadMap",
        __base__=RoadMap,
        review_every_months=(int, 0),
    )
    roadmap = later.model_validate(yaml.safe_load(TEXT))
    assert digest(roadmap) == MINI_DIGEST
    # Stating the new field (not its default) is another road map.
    stated = later.model_validate({**yaml.safe_load(TEXT), "review_every_months": 6})
    assert digest(stated) != MINI_DIGEST


# Each case: (old text, new text, marker on the problem's line (its last occurrence), message)
CASES: list[tuple[str, str, str, str]] = [
    (
        "        actor: north\n",
        "        actor: nobody\n",
        "actor: nobody",
        "'nobody' is not a party",
    ),
    (
        "        title: Freeze reactor A\n",
        "        title: Freeze reactor A\n        colour: red\n",
        "colour",
        "unknown key 'colour'",
    ),
    ("  title: A small phased road map\n", "", "agreement:", "missing key 'title'"),
    (
        "  clock_skew_seconds: 300",
        "  clock_skew_seconds: soon",
        "clock_skew_seconds",
        "valid integer",
    ),
    (
        "        depends_on: [freeze]\n",
        "        depends_on: [thaw]\n",
        "depends_on: [thaw]",
        "'thaw' is not a step or a phase",
    ),
    (
        "    threshold: 2\n",
        "    threshold: 3\n",
        "threshold: 3",
        "threshold 3 is above the 2 guarantors",
    ),
    (
        "        verification: {by: [iaea]}\n",
        "        verification: {by: [iaea], threshold: 2}\n",
        "iaea], threshold: 2",
        "above the 1 verifiers",
    ),
    (
        "        verification: {by: [iaea]}\n",
        "        verification: {by: [north]}\n",
        "by: [north]",
        "needs one of the roles verifier",
    ),
    (
        "        items: [{item: reactor-a, to: frozen}]\n",
        "        items: [{item: reactor-a, to: melted}]\n",
        "melted",
        "'melted' is not a state",
    ),
    (
        "  affirmative_votes: 3\n",
        "  affirmative_votes: 6\n",
        "affirmative_votes",
        "6 affirmative votes cannot be reached by 5",
    ),
    (
        "  - {id: e3, name: Elected member 3, roles: [council_elected]}\n",
        "",
        "size: 5",
        "5 members but 4 parties",
    ),
    ("  step.waived: [ops]\n", "  step.exploded: [ops]\n", "step.exploded", "unknown event type"),
    (
        "  step.waived: [ops]\n",
        "  step.waived: [janitor]\n",
        "janitor",
        "neither a role nor a party",
    ),
    (
        "    when: {verified: freeze}\n",
        "    when: {verified: freeze, adopted: true}\n",
        "verified: freeze, adopted",
        "expected a condition",
    ),
    (
        "    when: {verified: freeze}\n",
        "    when: {approved: freeze}\n",
        "approved",
        "expected a condition",
    ),
    (
        "    when: {verified: freeze}\n",
        "    when: {overdue: {step: declare2}}\n",
        "declare2",
        "'declare2' is not a step",
    ),
    (
        "        deadline: {date: 2028-12-31}\n",
        "        deadline: {date: 2028-12-31, after: adoption, days: 3}\n",
        "2028-12-31, after",
        "either 'date' or 'after'",
    ),
    (
        "      - id: declare\n",
        "      - id: freeze-reactor\n",
        "id: freeze-reactor",
        "duplicate milestone",
    ),
    ("      - id: declare\n", "      - id: adoption\n", "id: adoption", "reserved milestone name"),
    (
        "        deadline: {after: adoption, days: 60}\n",
        "        deadline: {after: adoption, days: 60}\n        depends_on: [declare]\n",
        "id: declare",
        "cyclic dependency: declare → declare",
    ),
    (
        "  entitled: [usa, chn]\n",
        "  entitled: [usa, nobody]\n",
        "entitled",
        "'nobody' is not a party",
    ),
    (
        "    - {id: reactor-a, title: Reactor A, category: reactor}\n",
        "    - {id: reactor-a, title: Reactor A, category: reactors}\n",
        "category: reactors",
        "no category 'reactors'",
    ),
    ("      - id: declare\n", "      - id: Declare\n", "id: Declare", "should match pattern"),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "fragment"), CASES, ids=[c[3][:40] for c in CASES]
)
def test_each_mistake_is_named_with_its_position(
    old: str, new: str, marker: str, fragment: str
) -> None:
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    problems = _problems(text)
    matching = [p for p in problems if fragment in p]
    assert matching, problems
    line = _line_of(text, marker)
    assert re.match(rf"rm\.yaml:{line}:\d+: ", matching[0]), (matching[0], line)


def test_every_problem_is_reported_at_once() -> None:
    text = TEXT.replace("actor: north", "actor: nobody").replace("threshold: 2", "threshold: 9")
    problems = _problems(text)
    assert sum("'nobody' is not a party" in p for p in problems) == 4
    assert any("threshold 9" in p for p in problems)
    assert len(problems) >= 5


def test_cycle_through_a_phase_and_a_deadline_anchor() -> None:
    text = TEXT.replace(
        "        deadline: {after: adoption, days: 60}\n",
        "        deadline: {after: disable-reactor, days: 60}\n",
    )
    problems = _problems(text)
    assert any("cyclic dependency" in p and "declare" in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: [1, 2\n", "malformed YAML"),
        ("base: &x {a: 1}\nother: *x\n", "aliases are not allowed"),
        ("a: !!python/object:os.system {}\n", "is not allowed"),
        ("? [1, 2]\n: 3\n", "is not a plain string"),
        ("cvid_roadmap: 1\ncvid_roadmap: 1\n", "duplicate key 'cvid_roadmap'"),
        ("- 1\n- 2\n", "a mapping at the top level"),
        ("", "a mapping at the top level"),
        ("on: 1\n", "is not a plain string (quote it)"),
    ],
)
def test_yaml_that_is_not_plain_data_is_refused(text: str, fragment: str) -> None:
    problems = _problems(text)
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("rm.yaml") for p in problems)


def test_keys_must_be_named_for_their_party() -> None:
    data, _ = with_keys(mini_data())
    data["parties"][0]["keys"] = list(data["parties"][1]["keys"])
    problems = _problems(yaml.safe_dump(data))
    assert any("not after the party 'north'" in p for p in problems), problems
    data["parties"][0]["keys"] = ["north+00000000+AAAA"]
    assert any("not a verifier key" in p for p in _problems(yaml.safe_dump(data)))


def test_reading_a_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(RoadmapError, match="cannot read"):
        load(tmp_path / "absent.yaml")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(RoadmapError, match="not UTF-8"):
        load(binary)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_edit_loads_or_fails_with_a_road_map_error(data: st.DataObject) -> None:
    lines = TEXT.splitlines(keepends=True)
    n = data.draw(st.integers(0, len(lines) - 1))
    edit = data.draw(st.sampled_from(["delete", "duplicate", "garble", "indent"]))
    if edit == "delete":
        del lines[n]
    elif edit == "duplicate":
        lines.insert(n, lines[n])
    elif edit == "garble":
        pos = data.draw(st.integers(0, max(0, len(lines[n]) - 1)))
        ch = data.draw(st.sampled_from(list(":{}[],-&*!|>'\"%@` \tx9")))
        lines[n] = lines[n][:pos] + ch + lines[n][pos + 1 :]
    else:
        lines[n] = " " + lines[n]
    text = "".join(lines)
    problems: list[str] = []
    try:
        loads(text, name="rm.yaml")
    except RoadmapError as e:  # the only exception a bad file may cause
        problems = e.problems or ["(no problem listed)"]
    assert all(p.startswith("rm.yaml") for p in problems), problems


def test_the_shipped_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_the_schema_accepts_the_fixture_and_refuses_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(schema())
    document = _as_json(yaml.safe_load(TEXT))
    assert list(validator.iter_errors(document)) == []
    document["phases"][0]["steps"][0]["colour"] = "red"
    assert list(validator.iter_errors(document))
    document = _as_json(yaml.safe_load(TEXT))
    document["rewards"][0]["when"] = {"approved": "freeze"}
    assert list(validator.iter_errors(document))
