"""What the README says about road maps, pages and commands is true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cvid.agreement import template_names

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
NUMBERS = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}


def test_the_shipped_road_maps_are_counted_and_named() -> None:
    names = template_names()
    paragraph = README[README.index(f"{NUMBERS[len(names)]} road maps ship:") :].split("\n\n")[0]
    for name in names:
        assert f"`{name}`" in paragraph, name


def test_the_page_list_names_the_simulation_and_the_witness_ports() -> None:
    assert "- `/simulation`" in README
    assert "`--port N` uses N, N+1 and N+2" in README


def test_the_agreement_commands_run_as_written(tmp_path: Path) -> None:
    start = README.index("cvid agreement init --template dprk-phased agreement/")
    block = README[start : README.index("```", start)]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "logged step.reported by dprk (seq 3)" in result.stdout
    assert (tmp_path / "report.html").is_file()
