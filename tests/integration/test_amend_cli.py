"""Road-map versions through the CLI: an edited roadmap.yaml is refused with a pointer
to the amendment procedure, never an unreadable agreement."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_agreement_cli import ok, refused
from tests.kit import MINI


def test_a_road_map_edited_in_place_is_refused_with_a_pointer_to_amend(tmp_path: Path) -> None:
    directory = tmp_path / "agreement"
    ok("agreement", "init", directory, "--roadmap", MINI, "--adopt-at", "2027-01-02")
    ok("status", directory, "--at", "2027-01-03")
    path = directory / "roadmap.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("days: 60", "days: 90"), encoding="utf-8")
    message = refused(5, "status", directory, "--at", "2027-01-03")
    assert "roadmap.yaml was changed after adoption (digest sha256:" in message
    assert "the log was signed under sha256:" in message
    assert "restore it, or propose the change with `cvid agreement amend`" in message
    assert "fails admission" not in message
    path.write_text(original, encoding="utf-8")  # restored, it reads again
    ok("status", directory, "--at", "2027-01-03")
