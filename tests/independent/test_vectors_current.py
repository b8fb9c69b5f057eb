"""The shipped test vectors are what cvid computes today: regenerating them gives the same
bytes (``python scripts/spec_vectors.py`` rewrites them after a deliberate change)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_regenerating_the_vectors_gives_the_shipped_bytes() -> None:
    spec = importlib.util.spec_from_file_location("spec_vectors", ROOT / "scripts/spec_vectors.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered: dict[str, bytes] = module.render()
    shipped = {p.name: p.read_bytes() for p in (ROOT / "docs/spec/vectors").glob("*.json")}
    assert set(rendered) == set(shipped)
    for name, data in rendered.items():
        assert data == shipped[name], (
            f"docs/spec/vectors/{name} differs: run scripts/spec_vectors.py"
        )
