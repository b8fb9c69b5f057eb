"""Road-map versions through the CLI: an edited roadmap.yaml is refused with a pointer
to the amendment procedure, never an unreadable agreement."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.test_agreement_cli import ok, refused, status
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


def test_amend_through_the_cli_keeps_every_version_and_the_past(tmp_path: Path) -> None:
    directory = tmp_path / "agreement"
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["amendments"] = {"consent": {"at_least": 2}, "by": ["north", "usa", "chn"]}
    source = tmp_path / "mini.yaml"
    source.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ok("agreement", "init", directory, "--roadmap", source, "--adopt-at", "2027-01-02")
    adopted = (directory / "roadmap.yaml").read_text(encoding="utf-8")
    new = tmp_path / "v2.yaml"
    new.write_text(adopted.replace("days: 60", "days: 90"), encoding="utf-8")
    when = ["--time", "2027-01-05", "--now", "2027-01-05"]
    # A version that removes a step already reported is refused, and nothing is kept.
    ok("event", "submit", directory, "--party", "north", "--type", "step.reported",
       "--body", '{"step": "freeze-reactor"}', *when)  # fmt: skip
    rewritten = tmp_path / "bad.yaml"
    rewritten.write_text(
        adopted.replace("freeze-reactor", "freeze-reactor-2"), encoding="utf-8"
    )  # a step renamed after it was reported
    message = refused(
        2, "agreement", "amend", directory, "--roadmap", rewritten, "--effective", "2027-02-01",
        "--party", "north", *when,
    )  # fmt: skip
    assert "step 'freeze-reactor' has logged events and cannot be removed" in message
    assert not (directory / "versions").exists() or not any((directory / "versions").iterdir())
    out = ok("agreement", "amend", directory, "--roadmap", new, "--effective", "2027-02-01",
             "--party", "north", "--id", "a1", *when)  # fmt: skip
    assert "proposed amendment 'a1' by north" in out
    assert len(list((directory / "versions").glob("*.yaml"))) == 1
    ok("agreement", "consent", directory, "--id", "a1", "--party", "usa", *when)
    assert roadmap_yaml_unchanged(directory, adopted)
    past = status(directory, "2027-01-20")
    assert past["steps"]["declare"]["due"].startswith("2027-03-03")
    present = status(directory, "2027-02-10")
    assert present["steps"]["declare"]["due"].startswith("2027-04-02")
    assert present["life"]["status"] == "in_force"


def roadmap_yaml_unchanged(directory: Path, text: str) -> bool:
    return (directory / "roadmap.yaml").read_text(encoding="utf-8") == text


def test_status_says_when_the_agreement_expires_and_that_it_expired(tmp_path: Path) -> None:
    directory = tmp_path / "agreement"
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["agreement"]["duration"] = {"years": 1}
    source = tmp_path / "mini.yaml"
    source.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ok("agreement", "init", directory, "--roadmap", source, "--adopt-at", "2027-01-02")
    assert "in force since 2027-01-02, until 2028-01-02" in ok(
        "status", directory, "--at", "2027-06-01"
    )
    text = ok("status", directory, "--at", "2028-02-01")
    assert "expired on 2028-01-02 (its duration ran out)" in text
    message = refused(
        2, "event", "submit", directory, "--party", "north", "--type", "step.reported",
        "--body", '{"step": "declare"}', "--time", "2028-02-01", "--now", "2028-02-01",
    )  # fmt: skip
    assert "the agreement expired on 2028-01-02 00:00 UTC" in message
