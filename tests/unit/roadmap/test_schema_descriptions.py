"""Every property of the road-map schema says what it means."""

from __future__ import annotations

from typing import Any

from cvid.roadmap.descriptions import DESCRIPTIONS
from cvid.roadmap.loader import schema


def _nodes() -> list[tuple[str, dict[str, Any]]]:
    document = schema()
    return [("RoadMap", document), *document.get("$defs", {}).items()]


def test_every_property_has_a_description() -> None:
    properties = [
        (name, prop, value)
        for name, node in _nodes()
        for prop, value in node.get("properties", {}).items()
    ]
    assert len(properties) > 200
    missing = [
        f"{name}.{prop}"
        for name, prop, value in properties
        if not str(value.get("description", "")).strip()
    ]
    assert missing == [], f"properties without a description: {missing}"


def test_every_description_names_a_property() -> None:
    known = {name: set(node.get("properties", {})) for name, node in _nodes()}
    stale = [
        f"{cls}.{prop}"
        for cls, props in DESCRIPTIONS.items()
        for prop in props
        if prop not in known.get(cls, set())
    ]
    assert stale == [], f"descriptions of no property: {stale}"
