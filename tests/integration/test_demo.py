"""`make demo` as a user runs it: the walkthrough completes and its files verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvid import demo
from cvid.log.audit import verify_tiles
from cvid.log.note import Signer


def test_demo_walkthrough(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo.main(tmp_path / "demo-out")
    said = capsys.readouterr().out
    for step in ("1. Log key", "4. Checkpoint", "5. Inclusion", "7. Audit", "8. Published"):
        assert step in said
    signer = Signer.generate(demo.ORIGIN, seed=demo._seed("log"))
    report = verify_tiles(tmp_path / "demo-out" / "tiles", signer.verifier)
    assert report.tree_size == 1005
    assert "missing: witness-3.example" in said
