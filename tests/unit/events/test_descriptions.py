"""Every field of every event body says what it means (cvid.events.descriptions)."""

from __future__ import annotations

import inspect
import typing

from pydantic import BaseModel

from cvid.events.bodies import BODIES
from cvid.events.descriptions import FIELDS, PARTS, describe, describe_part, table


def _nested(annotation: object) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested(arg)]


def _json_names(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _parts() -> dict[str, type[BaseModel]]:
    """Every model nested in a body, at any depth, by class name."""
    found: dict[str, type[BaseModel]] = {}
    queue = [
        m
        for body in BODIES.values()
        for f in body.model_fields.values()
        for m in _nested(f.annotation)
    ]
    while queue:
        model = queue.pop()
        if model.__name__ in found:
            assert found[model.__name__] is model, f"two nested models named {model.__name__}"
            continue
        found[model.__name__] = model
        queue += [m for f in model.model_fields.values() for m in _nested(f.annotation)]
    return found


def test_every_body_field_of_every_event_type_is_described() -> None:
    missing = [
        f"{kind}: {name}"
        for kind, body in sorted(BODIES.items())
        for name in sorted(_json_names(body))
        if not (describe(kind, name) or "").strip()
    ]
    assert not missing, "event body fields without a description: " + ", ".join(missing)


def test_every_field_of_a_nested_model_is_described() -> None:
    parts = _parts()
    assert {"Finding", "Discrepancy", "Undeclared", "Extension", "Determination"} <= set(parts)
    missing = [
        f"{model}: {name}"
        for model, cls in sorted(parts.items())
        for name in sorted(_json_names(cls))
        if not (describe_part(model, name) or "").strip()
    ]
    assert not missing, "nested fields without a description: " + ", ".join(missing)


def test_every_description_names_a_field_that_exists() -> None:
    assert set(FIELDS) <= set(BODIES), sorted(set(FIELDS) - set(BODIES))
    for kind, fields in FIELDS.items():
        assert set(fields) <= _json_names(BODIES[kind]), (
            kind,
            set(fields) - _json_names(BODIES[kind]),
        )
    parts = _parts()
    assert set(PARTS) <= set(parts), sorted(set(PARTS) - set(parts))
    for model, fields in PARTS.items():
        assert set(fields) <= _json_names(parts[model]), (model, fields)


def test_descriptions_are_sentences_of_one_line() -> None:
    for owner, fields in [*FIELDS.items(), *PARTS.items()]:
        for name, text in fields.items():
            assert text == " ".join(text.split()), (owner, name)
            assert text[0].isupper() or text[0] == "`", (owner, name, text)
            assert text.endswith("."), (owner, name, text)
            assert "|" not in text, (owner, name)  # they go into Markdown tables


def test_the_alias_is_the_name_described() -> None:
    assert describe("custody.received", "from") == table("custody.received")["from"]
    assert describe("custody.received", "from_") is None
    assert describe("no.such.type", "note") is None
    assert describe_part("NoSuchModel", "cell") is None
