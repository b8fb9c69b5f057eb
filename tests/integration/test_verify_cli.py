"""``cvid verify``: the reference figures through the command line (Typer's runner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from cvid.cli.verify import verify_app

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(verify_app, list(args))


def test_sample_size_facts_example() -> None:
    result = run("sample-size", "--N", "100", "--M", "10", "--beta", "0.1")
    assert result.exit_code == 0, result.output
    assert "IAEA formula ceil(N(1 - beta^(1/M))): 21 inspections" in result.stdout
    assert "exact (hypergeometric):               20 inspections" in result.stdout


def test_sample_size_json() -> None:
    result = run("sample-size", "--N", "100", "--M", "10", "--beta", "0.1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"N": 100, "M": 10, "beta": 0.1, "iaea": 21, "exact": 20}


@pytest.mark.parametrize(("k", "n"), [(1, 127), (5, 52), (14, 21)])
def test_sample_size_141_sites(k: int, n: int) -> None:
    result = run("sample-size", "--N", "141", "--M", str(k), "--beta", "0.1", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["exact"] == n
    assert figures["iaea"] >= n


@pytest.mark.parametrize(
    ("k", "n", "shown"), [(1, 127, "0.900709"), (5, 52, "0.903983"), (14, 21, "0.907376")]
)
def test_detect_141_sites(k: int, n: int, shown: str) -> None:
    result = run("detect", "--N", "141", "--k", str(k), "--n", str(n))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"P(detect) = {shown}\n")


def test_detect_json() -> None:
    result = run("detect", "--N", "141", "--k", "1", "--n", "127", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["probability"] == 127 / 141
    assert data == {"N": 141, "k": 1, "n": 127, "per_inspection": 1.0, "probability": 127 / 141}


def test_detect_imperfect_inspections() -> None:
    result = run("detect", "--N", "5", "--k", "5", "--n", "5", "--per-inspection", "0.3")
    assert result.exit_code == 0, result.output
    assert "P(detect) = 0.831930" in result.stdout  # 1 - 0.7^5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("detect", "--N", "10", "--k", "11", "--n", "2"), "k (falsified cells) = 11"),
        (("detect", "--N", "10", "--k", "1", "--n", "2", "--per-inspection", "2"), "probability"),
        (("sample-size", "--N", "10", "--M", "0", "--beta", "0.1"), "M (falsified items) = 0"),
        (("sample-size", "--N", "10", "--M", "2", "--beta", "1.5"), "beta = 1.5"),
    ],
)
def test_bad_arguments_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("cvid: error: ")
    assert message in result.stderr


def test_help_lists_both_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "sample-size" in result.stdout
    assert "detect" in result.stdout
