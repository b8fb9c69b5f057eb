"""The generated reference pages cover everything they are generated from."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from cvid.events.bodies import BODIES
from cvid.events.descriptions import describe, describe_part
from cvid.roadmap import model

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_pages_cover_the_code(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "docs_reference", ROOT / "scripts/docs_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["docs_reference", str(tmp_path)]) == 0
    events = (tmp_path / "events.md").read_text(encoding="utf-8")
    for kind in BODIES:
        assert f"## `{kind}`" in events, kind
    assert events.count("**Who may submit:**") == len(BODIES)
    # Every body field's row carries its description (cvid.events.descriptions).
    for kind, body in BODIES.items():
        section = events.split(f"## `{kind}`", 1)[1].split("\n## ", 1)[0]
        for name, field in body.model_fields.items():
            key = field.alias or name
            row = next(line for line in section.splitlines() if line.startswith(f"| `{key}` |"))
            text = describe(kind, key)
            assert text is not None, (kind, key)
            assert row.endswith(f"| {text} |"), (kind, key, row)
    finding = events.split("**`Finding`**", 1)[1]
    assert f"| {describe_part('Finding', 'cell')} |" in finding.split("**`", 1)[0]
    conditions = (tmp_path / "conditions.md").read_text(encoding="utf-8")
    for tag in model._TAG_OF_CLASS.values():
        assert f"## `{tag}`" in conditions, tag
    cli = (tmp_path / "cli.md").read_text(encoding="utf-8")
    for command in (
        "cvid status",
        "cvid log verify-tiles",
        "cvid log vkey",
        "cvid serve",
        "cvid sim sweep",
        "cvid escrow reveal",
        "cvid witness serve",
    ):
        assert f"`{command}`" in cli, command
    api = json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8"))
    page = (tmp_path / "http-api.md").read_text(encoding="utf-8")
    for path, operations in api["paths"].items():
        for method in operations:
            assert f"## `{method.upper()} {path}`" in page
    assert "/api/v1/events" in api["paths"]
    schema = (tmp_path / "roadmap-schema.md").read_text(encoding="utf-8")
    assert "| `clock_skew_seconds` |" in schema
    assert json.loads((tmp_path / "roadmap.schema.json").read_text(encoding="utf-8"))["$defs"]
