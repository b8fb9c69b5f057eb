"""The North-East Asia zone phase, used as a user uses it: through ``cvid`` in subprocesses.

A road map that includes the shipped ``nea-nwfz`` phase is initialised, adopted and
acted on; the engine shows the zone's steps with their deadlines; the shipped
``dprk-phased`` template carries the zone as its final phase.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.kit import MINI

CVID = Path(sys.executable).parent / "cvid"

INCLUDE = """\
include_phases:
  - phase: nea-nwfz
    with:
      regional_states: [north]
      p5: [usa, chn]
      verifier: iaea
      depositary: north
      after: freeze
"""


def ok(*args: str | Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run(
        [str(CVID), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def status(directory: Path, at: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok("status", directory, "--at", at, "--json"))
    return data


def test_init_of_a_road_map_including_the_zone(tmp_path: Path) -> None:
    roadmap = tmp_path / "with-zone.yaml"
    roadmap.write_text(MINI.read_text(encoding="utf-8") + INCLUDE, encoding="utf-8")
    assert "valid road map 'mini'" in ok("roadmap", "validate", roadmap)

    directory = tmp_path / "agreement"
    out = ok("agreement", "init", directory, "--roadmap", roadmap, "--adopt-at", "2027-01-02")
    assert "created agreement 'mini'" in out
    # The agreement keeps the inclusion as written; it reopens by expanding it again.
    kept = yaml.safe_load((directory / "roadmap.yaml").read_text(encoding="utf-8"))
    assert kept["include_phases"][0]["phase"] == "nea-nwfz"

    first = status(directory, "2027-01-03")
    assert first["phases"]["nea-nwfz"]["status"] != "complete"
    steps = first["steps"]
    zone = sorted(s for s in steps if s.startswith("nwfz-"))
    assert zone == sorted(
        [
            "nwfz-notify-exercises-north",
            "nwfz-treaty-signed-north",
            "nwfz-treaty-ratified-north",
            "nwfz-treaty-in-force",
            "nwfz-verification-north",
            "nwfz-protocol-signed-usa",
            "nwfz-protocol-signed-chn",
            "nwfz-protocol-ratified-usa",
            "nwfz-protocol-ratified-chn",
        ]
    )
    # The CICA notification runs from adoption (2 Jan 2027) + 90 days.
    assert steps["nwfz-notify-exercises-north"]["due"] == "2027-04-02T00:00:00Z"
    assert steps["nwfz-treaty-in-force"]["status"] == "blocked"

    ok(
        "event", "submit", directory, "--party", "north", "--type", "step.reported",
        "--body", json.dumps({"step": "nwfz-notify-exercises-north"}),
        "--time", "2027-01-20", "--now", "2027-01-20",
    )  # fmt: skip
    later = status(directory, "2027-01-21")
    assert later["steps"]["nwfz-notify-exercises-north"]["status"] == "reported"


def test_the_dprk_template_ends_with_the_zone(tmp_path: Path) -> None:
    directory = tmp_path / "dprk"
    ok("agreement", "init", directory, "--template", "dprk-phased", "--adopt-at", "2027-03-01")
    state = status(directory, "2027-03-02")
    assert list(state["phases"])[-1] == "nea-nwfz"
    steps = state["steps"]
    for party in ("dprk", "rok"):
        assert f"nwfz-treaty-signed-{party}" in steps
        assert f"nwfz-notify-exercises-{party}" in steps
    for member in ("chn", "fra", "rus", "gbr", "usa"):
        assert f"nwfz-protocol-ratified-{member}" in steps
    # Signing waits on the return to the NPT with safeguards: no deadline runs yet.
    assert steps["nwfz-treaty-signed-dprk"]["due"] is None
    assert steps["nwfz-notify-exercises-rok"]["due"] == "2027-05-30T00:00:00Z"
