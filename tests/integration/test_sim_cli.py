"""``cvid sim`` and ``cvid game`` through the command line (Typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cvid.cli.sim import game_app, sim_app

app = typer.Typer()
app.add_typer(sim_app, name="sim")
app.add_typer(game_app, name="game")
runner = CliRunner()


def cvid(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_writes_results_and_the_same_seed_gives_the_same_numbers(tmp_path: Path) -> None:
    args = ["sim", "run", "dprk-phased", "--scenario", "dprk-phased-hide", "--runs", "2000"]
    code, stdout, _ = cvid(*args, "--seed", "7", "--out", str(tmp_path / "a"))
    assert code == 0, stdout
    assert "dprk-phased: 2000 runs, seed 7" in stdout
    assert "detected by end" in stdout
    code, _, _ = cvid(*args, "--seed", "7", "--out", str(tmp_path / "b"))
    assert code == 0
    for name in ("summary.json", "runs.csv", "trajectories.json", "completion.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["runs"] == 2000
    assert 0 < summary["detected"] < 1
    runs = pd.read_csv(tmp_path / "a" / "runs.csv")
    assert len(runs) == 2000
    assert summary["detected"] == pytest.approx(runs["detection_day"].notna().mean())
    code, other, _ = cvid(*args, "--seed", "8", "--json")
    assert code == 0
    assert json.loads(other)["detected"] != summary["detected"]


def test_run_from_files(tmp_path: Path) -> None:
    from cvid.agreement import template_path

    scenario = tmp_path / "s.yaml"
    scenario.write_text("cvid_scenario: 1\ndurations: {default: {dist: fixed, days: 10}}\n")
    code, stdout, _ = cvid(
        "sim",
        "run",
        str(template_path("dprk-phased")),
        "--scenario",
        str(scenario),
        "--runs",
        "10",
        "--json",
    )
    assert code == 0
    assert json.loads(stdout)["completed"] == 1.0


@pytest.mark.parametrize(
    ("roadmap", "scenario_text", "needle"),
    [
        ("dprk-phased", "cvid_scenario: 1\nbogus: 1\n", "bogus"),
        ("dprk-phased", "cvid_scenario: 1\ndelays: {probability: -0.5}\n", "delays.probability"),
        (
            "dprk-phased",
            "cvid_scenario: 1\ndurations: {steps: {nope: {dist: fixed, days: 1}}}\n",
            "step 'nope' is not in road map",
        ),
        ("no-such-roadmap", "cvid_scenario: 1\n", "no-such-roadmap"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, roadmap: str, scenario_text: str, needle: str
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(scenario_text)
    code, stdout, stderr = cvid("sim", "run", roadmap, "--scenario", str(scenario), "--runs", "5")
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("cvid: error: ")
    assert needle in stderr


def test_serial_sweep_to_csv_and_heatmap(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    code, stdout, stderr = cvid(
        "sim",
        "sweep",
        "dprk-phased",
        "--scenario",
        "dprk-phased-hide",
        "--axis",
        "inspections=2,20",
        "--axis",
        "items=1,4",
        "--runs",
        "300",
        "--seed",
        "3",
        "--serial",
        "--out",
        str(out),
        "--heatmap",
        str(tmp_path / "heat.html"),
    )
    assert code == 0, stderr
    assert "4 points x 300 runs" in stdout
    frame = pd.read_csv(out)
    assert list(frame["inspections"]) == [2, 2, 20, 20]
    assert (tmp_path / "heat.html").stat().st_size > 1_000_000


def test_sweep_refuses_a_bad_axis_or_output(tmp_path: Path) -> None:
    base = ["sim", "sweep", "dprk-phased", "--scenario", "dprk-phased-hide", "--serial"]
    code, _, stderr = cvid(*base, "--axis", "colour=1", "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "unknown sweep axis" in stderr
    code, _, stderr = cvid(*base, "--axis", "items=1", "--out", str(tmp_path / "x.txt"))
    assert code == 2
    assert ".parquet or .csv" in stderr
    code, _, stderr = cvid(*base, "--axis", "delay_probability=2", "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "delays.probability" in stderr


def test_game_solve_textbook() -> None:
    code, stdout, _ = cvid(
        "game", "solve", "--d", "1", "--b", "2", "--c", "2", "--e", "1", "--json"
    )
    assert code == 0
    doc = json.loads(stdout)
    assert doc["simultaneous"]["inspector_payoff"] == pytest.approx(-2 / 3)
    assert doc["leadership"]["inspector_payoff"] == pytest.approx(-1 / 3)
    assert doc["leadership"]["deters"] is True
    assert doc["deterring_inspection_probability"] == pytest.approx(1 / 3)
    code, stdout, _ = cvid("game", "solve", "--d", "1", "--b", "2", "--c", "2", "--e", "1")
    assert "leadership:   announce 0.333333, inspectee legal" in stdout


def test_game_plan_and_bad_payoffs() -> None:
    code, stdout, _ = cvid(
        "game",
        "plan",
        "--cells",
        "141",
        "--hidden",
        "3",
        "--inspections",
        "30",
        "--d",
        "1",
        "--b",
        "2",
        "--json",
    )
    assert code == 0
    doc = json.loads(stdout)
    assert doc["deters"] is True
    assert doc["smallest_deterring_n"] == 18
    code, _, stderr = cvid("game", "solve", "--d", "1", "--b", "2", "--alpha", "1.5")
    assert code == 2
    assert "alpha" in stderr
    code, _, stderr = cvid(
        "game",
        "plan",
        "--cells",
        "10",
        "--hidden",
        "11",
        "--inspections",
        "3",
        "--d",
        "1",
        "--b",
        "1",
    )
    assert code == 2
