"""cvid._yaml: every refusal is a marked YAML error, at its place in the text."""

from __future__ import annotations

import pytest
import yaml

from cvid import _yaml


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = _yaml.MAX_DEPTH - 1  # the innermost scalar is a level too
    assert _yaml.load("[" * depth + "1" + "]" * depth) is not None


def test_nesting_past_the_limit_is_refused_where_it_goes_too_deep() -> None:
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        _yaml.load("[" * (_yaml.MAX_DEPTH + 1) + "]" * (_yaml.MAX_DEPTH + 1))
    assert caught.value.problem == f"nested more than {_yaml.MAX_DEPTH} deep"


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ("a: 1\nb: \x07\n", 2, 4, "character #x0007 is not allowed"),
        ("a: 2027-02-30\n", 1, 4, "not a date: 2027-02-30"),
        ("- " + "9" * 5000, 1, 3, "an integer of 5000 characters is too long"),
    ],
)
def test_refusals_name_their_place(text: str, line: int, column: int, problem: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        _yaml.load(text)
    assert _yaml.describe(caught.value, "f") == f"f:{line}:{column}: malformed YAML: {problem}"
