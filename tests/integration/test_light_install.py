"""A core install (``pip install cvid``, no extras) audits a published agreement.

The core wheel's own check (a fresh virtual environment, the wheel alone) is
``scripts/check-install.sh``, run by CI after the tests. Here every module of every extra
is refused on import in a child process, which finds the same mistakes in seconds: a
heavy import on the path of an offline command, or a command that needs an extra and
does not say which.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import cvid
from cvid.errors import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "audit"
HEAVY = sorted({name for modules in EXTRAS.values() for name in modules})

# Runs ``cvid ARGS…`` with every module of the extras hidden from imports, and prints the
# heavy modules that are loaded anyway (none should be) on its last line of stderr.
CHILD = """
import importlib.machinery, sys
HEAVY = set(sys.argv[1].split(","))
class Hide:
    # The path finder, blind to the extras' modules: they look uninstalled.
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            return None
        return importlib.machinery.PathFinder.find_spec(name, path, target)
    @staticmethod
    def invalidate_caches():
        importlib.machinery.PathFinder.invalidate_caches()
sys.meta_path = [Hide if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
from cvid.cli import main
sys.argv = ["cvid", *sys.argv[2:]]
try:
    main()
finally:
    loaded = sorted({m.partition(".")[0] for m in sys.modules} & HEAVY)
    sys.stderr.write("loaded: " + ",".join(loaded) + "\\n")
"""


def _core(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(HEAVY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A copy of the shipped published agreement (opening it may write beside its log)."""
    target = tmp_path / "audit"
    shutil.copytree(FIXTURE, target)
    return target


def test_the_offline_commands_audit_without_any_extra(published: Path) -> None:
    vkey = (published / "vkey").read_text(encoding="utf-8").strip()
    tiles = _core("log", "verify-tiles", "tiles", "--vkey", vkey, cwd=published)
    assert tiles.returncode == 0, tiles.stderr
    assert "tiles of 'cvid.example/dprk-phased' verified: 271 entries" in tiles.stdout
    assert tiles.stderr.splitlines()[-1] == "loaded: "

    status = _core("status", "agreement", "--at", "2027-09-15", "--json", cwd=published)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["agreement"] == "dprk-phased"
    assert state["at"] == "2027-09-15T00:00:00Z"
    assert status.stderr.splitlines()[-1] == "loaded: "
    # The escrow confidence is folded without NumPy: the IAEA inspected cells came back clean.
    confidences = [d["confidence"] for d in state["declarations"].values()]
    assert confidences
    assert any(0.0 < c < 1.0 for c in confidences)

    table = _core("status", "agreement", "--at", "2027-09-15", cwd=published)
    assert table.returncode == 0, table.stderr
    assert "(dprk-phased) at 2027-09-15" in table.stdout


def test_the_report_is_written_without_any_extra(published: Path) -> None:
    result = _core(
        "report", "agreement", "--out", "report.html", "--at", "2027-09-15", cwd=published
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "loaded: "
    page = (published / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or page.startswith("<!doctype html>"), page[:40]
    assert "dprk-phased" in page
    assert "<svg" in page  # the phase timeline


def test_the_inspection_game_is_played_without_any_extra(tmp_path: Path) -> None:
    solved = _core("game", "solve", "--d", "1", "--b", "4", "--beta", "0.2", "--json", cwd=tmp_path)
    assert solved.returncode == 0, solved.stderr
    assert solved.stderr.splitlines()[-1] == "loaded: "
    answer = json.loads(solved.stdout)
    # p* = d / ((1 - beta)(b + d)) = 1 / (0.8 · 5) = 0.25, with no false alarms.
    assert answer["deterring_inspection_probability"] == pytest.approx(0.25)

    args = ["--cells", "141", "--hidden", "5", "--inspections", "30", "--d", "1", "--b", "4"]
    plan = _core("game", "plan", *args, "--json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr.splitlines()[-1] == "loaded: "
    verdict = json.loads(plan.stdout)
    # 1 - C(136, 30) / C(141, 30), computed exactly without NumPy; deterrence needs 1/5.
    assert verdict["detection"] == pytest.approx(1 - math.comb(136, 30) / math.comb(141, 30))
    assert verdict["required"] == pytest.approx(0.2)
    assert verdict["deters"] is True


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["serve", "agreement"], "service"),
        (["mirror", "http://127.0.0.1:9", "copy", "--vkey", "k", "--serve", "8000"], "service"),
        (["sim", "run", "dprk-phased", "--scenario", "dprk-phased-hide", "--runs", "5"], "sim"),
        (
            [
                "game",
                "plan",
                "--cells",
                "20",
                "--hidden",
                "1",
                "--inspections",
                "5",
                "--d",
                "1",
                "--b",
                "4",
                "--per-inspection",
                "0.5",
            ],
            "sim",
        ),
        (
            ["verify", "detect", "--N", "20", "--k", "1", "--n", "5", "--per-inspection", "0.5"],
            "sim",
        ),
    ],
)
def test_a_command_that_needs_an_extra_says_which(
    published: Path, args: list[str], extra: str
) -> None:
    result = _core(*args, cwd=published)
    assert result.returncode == 5, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("cvid: error: ")
    assert f"pip install 'cvid[{extra}]'" in first
    assert "Traceback" not in result.stderr


def test_the_version_is_kept_in_one_place(tmp_path: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cvid.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", cvid.__version__)
    result = _core("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"cvid {cvid.__version__}\n"


def _distribution(requirement: str) -> str:
    return re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_extras_hold_what_the_commands_ask_for() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    core = {_distribution(r) for r in project["dependencies"]}
    owners = packages_distributions()
    for extra, modules in EXTRAS.items():
        listed = {_distribution(r) for r in extras[extra]}
        for module in modules:
            dists = {d.lower().replace("_", "-") for d in owners.get(module, [])}
            # dask[distributed] brings the distributed module; starlette comes with FastAPI.
            assert dists & (listed | {"distributed", "starlette"}), (extra, module, dists)
            assert not dists & core, (module, "is in the core")
    assert extras["all"] == ["cvid[service,sim,postgres]"]
    # The report's templates are rendered in the core install.
    assert {"jinja2", "markupsafe"} <= core


def test_check_install_fails_loudly_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    """CI's install check stops at the first failure, says so, and cleans up after itself."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check-install.sh")],
        env={**os.environ, "CVID_VENV": str(tmp_path / "no-such-venv"), "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "check-install: FAILED: building the sdist and the wheel" in result.stderr
    assert "installing the core wheel" not in result.stdout  # it stopped there
    assert list(scratch.iterdir()) == []
