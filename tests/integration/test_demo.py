"""`make demo` as a user runs it: the walkthrough completes and what it wrote verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvid import demo
from cvid.agreement import Agreement
from cvid.cli import app
from cvid.log.audit import verify_tiles


def test_demo_walkthrough(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo-out"
    demo.main(out, serve=False)
    said = capsys.readouterr().out
    for step in (
        "1. Agreement",
        "3. Declaration",
        "4. Refused",
        "5. Monitoring",
        "6. Deadline",
        "9. Checkpoint",
        "10. Inclusion",
        "12. Published",
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
    assert report.tree_size == size == 50 + MONITORING_EVENTS
    declaration = state.declarations["dprk-declaration"]
    assert declaration.revealed == ("yongbyon", "sohae")
    assert len(declaration.inspected_clean) == 2
    assert state.steps["reveal-yongbyon-sohae"].status == "verified"
    assert "<svg" in (out / "report.html").read_text()
    assert "tamper alarm: yongbyon-radiochemical-lab lost since 2027-02-26 15:15 UTC" in said
    assert "re-verified by iaea on 2027-02-27 09:00 UTC: continuity maintained" in said


# Installations and acknowledgements (6), hourly commitments (3 devices x 72 hours, less
# the camera's 5-hour gap and the seal's tamper hour), the tamper alarm, the
# re-verification, a reveal and two balances.
MONITORING_EVENTS = 6 + 3 * 72 - 5 - 1 + 1 + 1 + 1 + 2


def test_demo_monitoring_continuity(tmp_path: Path) -> None:
    """The demo's continuity over time, as `cvid status --json` reports it."""
    out = tmp_path / "demo-out"
    demo.main(out, serve=False)
    directory = out / "agreement"

    def continuity(hours: float) -> dict[str, dict[str, object]]:
        at = demo.monitored(hours).isoformat()
        result = CliRunner().invoke(app, ["status", str(directory), "--at", at, "--json"])
        assert result.exit_code == 0, result.output
        data: dict[str, dict[str, object]] = json.loads(result.output)["continuity"]
        return data

    before = continuity(-1)
    assert {c["status"] for c in before.values()} == {"not-established"}
    assert continuity(1)["yongbyon-radiochemical-lab"]["status"] == "maintained"
    gap = continuity(24.5)["yongbyon-5mwe"]
    assert gap["status"] == "at-risk"
    assert "cam-5mwe" in str(gap["cause"])
    assert continuity(27)["yongbyon-5mwe"]["status"] == "maintained"  # it reported again
    lost = continuity(demo.TAMPER_HOUR + 1)["yongbyon-radiochemical-lab"]
    assert lost["status"] == "lost"
    assert lost["since"] == "2027-02-26T15:15:00Z"
    assert "tamper alarm on seal-radiochemical" in str(lost["cause"])
    assert continuity(demo.REVERIFIED_HOUR - 0.5)["yongbyon-radiochemical-lab"]["status"] == "lost"
    back = continuity(demo.REVERIFIED_HOUR + 1)["yongbyon-radiochemical-lab"]
    assert back["status"] == "maintained"
    assert back["baseline_by"] == "iaea"
    after = continuity(demo.MONITOR_HOURS + 0.5)
    assert {c["status"] for c in after.values()} == {"maintained"}
    silent = continuity(demo.MONITOR_HOURS + 25)  # the devices stopped reporting
    assert {c["status"] for c in silent.values()} == {"lost"}
