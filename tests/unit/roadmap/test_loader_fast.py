"""libyaml's parser reads a valid road map as the Python loader does, and every text it
refuses or that the Python loader would refuse gets the Python loader's own error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.agreement import TEMPLATES, template_names
from cvid.errors import RoadmapError
from cvid.roadmap import loader


def python_only(text: str, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(loader, "_FastLoader", None)
        try:
            return loader.loads(text, name="r.yaml")
        except RoadmapError as e:
            return e.problems


def either(text: str) -> object:
    try:
        return loader.loads(text, name="r.yaml")
    except RoadmapError as e:
        return e.problems


@pytest.mark.parametrize("name", template_names())
def test_a_template_reads_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8")
    assert loader._FastLoader is not None  # PyYAML is built with libyaml here
    fast = loader.loads(text, name="r.yaml")
    assert fast == python_only(text, monkeypatch)


def _template() -> str:
    return (TEMPLATES / "jcpoa-2231.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("agreement:", "agreement: &a", 1) + "\nextra: *a\n",  # an alias
        lambda t: t + "\n" + "deep: " + "[" * 150 + "]" * 150 + "\n",  # too deep
        lambda t: t + "\nbad: \x07\n",  # a character YAML does not allow
        lambda t: t + "\nagreement: again\n",  # a duplicate key
        lambda t: t + "\nwhen: 2027-02-30\n",  # not a date
        lambda t: t.replace("agreement:", "agreement: !!python/object:x", 1),  # a tag
        lambda t: t + "\n  : [\n",  # not YAML
        lambda t: t.replace("phases:", "phasez:", 1),  # an invalid road map
    ],
    ids=["alias", "deep", "character", "duplicate", "date", "tag", "malformed", "invalid"],
)
def test_a_refused_text_gets_the_python_loaders_error(
    change: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = change(_template())  # type: ignore[operator]
    expected = python_only(text, monkeypatch)
    assert isinstance(expected, list)  # refused
    assert either(text) == expected


@settings(max_examples=60, deadline=None)
@given(st.text(st.sampled_from("ab: -[]{},'\"\n\t#&*!|>%@`1.\x85\u2028"), max_size=60))
def test_any_text_gives_what_the_python_loader_gives(text: str) -> None:
    with pytest.MonkeyPatch.context() as m:
        expected = python_only(text, m)
    assert either(text) == expected
