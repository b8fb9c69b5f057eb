"""The one record every reference fact is: a value, its source and a confidence mark.

Confidence follows the project's reference facts file: ``C`` confirmed with a source,
``D`` derived, ``U`` unconfirmed. A ``U`` fact must always be shown with its mark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cvid import _yaml
from cvid.errors import ReferenceDataError

CONFIDENCES = frozenset({"C", "D", "U"})
FactValue = str | int | tuple[str, ...]


@dataclass(frozen=True)
class Fact:
    """One sourced statement."""

    value: FactValue
    source: str
    confidence: str

    @property
    def unconfirmed(self) -> bool:
        """True for a ``U`` fact, which must never be shown as sourced."""
        return self.confidence == "U"

    def text(self) -> str:
        """The value as text, marked ``[U]`` when unconfirmed and ``[D]`` when derived."""
        body = ", ".join(self.value) if isinstance(self.value, tuple) else str(self.value)
        return f"{body} [{self.confidence}]" if self.confidence != "C" else body

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"value": value, "source": self.source, "confidence": self.confidence}


def read_yaml(name: str, path: Path | None) -> dict[str, Any]:
    """The mapping in a packaged data file, or in ``path`` when given."""
    try:
        if path is None:
            text = resources.files("cvid.reference").joinpath("data", name).read_text("utf-8")
            where = f"cvid/reference/data/{name}"
        else:
            text = path.read_text("utf-8")
            where = str(path)
    except (OSError, UnicodeDecodeError) as e:
        raise ReferenceDataError(f"cannot read reference data {name}: {e}") from e
    try:
        data = _yaml.load(text)
    except yaml.YAMLError as e:
        raise ReferenceDataError(_yaml.describe(e, where)) from None
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{where}: the top level must be a mapping")
    return data


def mapping(raw: object, where: str) -> dict[str, Any]:
    """``raw`` as a mapping with string keys, or a load error."""
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise ReferenceDataError(f"{where}: expected a mapping")
    return raw


def items(raw: object, where: str) -> list[Any]:
    """``raw`` as a list, or a load error."""
    if not isinstance(raw, list):
        raise ReferenceDataError(f"{where}: expected a list")
    return raw


def text(raw: object, where: str) -> str:
    """``raw`` as a non-empty string, or a load error."""
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if not isinstance(raw, str) or not raw.strip():
        raise ReferenceDataError(f"{where}: expected a non-empty string")
    return raw


def day(raw: object, where: str) -> dt.date:
    """``raw`` as an ISO date, or a load error."""
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(text(raw, where))
    except ValueError as e:
        raise ReferenceDataError(f"{where}: {raw!r} is not an ISO date") from e


def fact(raw: object, where: str) -> Fact:
    """Parse one fact record: exactly ``value``, ``source`` and ``confidence``."""
    record = mapping(raw, where)
    keys = set(record)
    if "source" not in record:
        raise ReferenceDataError(f"{where}: the fact has no source")
    if "value" not in record:
        raise ReferenceDataError(f"{where}: the fact has no value")
    if extra := keys - {"value", "source", "confidence"}:
        raise ReferenceDataError(f"{where}: unknown keys {sorted(extra)}")
    confidence = record.get("confidence")
    if confidence not in CONFIDENCES:
        raise ReferenceDataError(
            f"{where}: confidence {confidence!r} is not one of {sorted(CONFIDENCES)}"
        )
    source = text(record["source"], f"{where}.source")
    value = record["value"]
    parsed: FactValue
    if isinstance(value, bool):
        raise ReferenceDataError(f"{where}.value: a boolean is not a fact value")
    if isinstance(value, int):
        parsed = value
    elif isinstance(value, list):
        parsed = tuple(text(v, f"{where}.value[{i}]") for i, v in enumerate(value))
    else:
        parsed = text(value, f"{where}.value")
    return Fact(value=parsed, source=source, confidence=str(confidence))
