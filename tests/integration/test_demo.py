"""`make demo` as a user runs it: the walkthrough completes and what it wrote verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvid import demo
from cvid.agreement import Agreement
from cvid.log.audit import verify_tiles


def test_demo_walkthrough(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo-out"
    demo.main(out, serve=False)
    said = capsys.readouterr().out
    for step in (
        "1. Agreement",
        "3. Declaration",
        "4. Refused",
        "5. Deadline",
        "8. Checkpoint",
        "9. Inclusion",
        "11. Published",
    ):
        assert step in said
    assert "missing: witness.se.example" in said
    with Agreement.open(out / "agreement") as agreement:  # replays and re-admits every entry
        size = agreement.log.size()
        signer = agreement.log_signer()
        state = agreement.state(at=demo.day(400))
    assert state.rules["disablement-missed"].fired
    assert state.measures["unsc-tranche-1"].status == "in_force"  # re-imposed
    report = verify_tiles(out / "tiles", signer.verifier)
    assert report.tree_size == size == 50
    declaration = state.declarations["dprk-declaration"]
    assert declaration.revealed == ("yongbyon", "sohae")
    assert len(declaration.inspected_clean) == 2
    assert state.steps["reveal-yongbyon-sohae"].status == "verified"
    assert "<svg" in (out / "report.html").read_text()
