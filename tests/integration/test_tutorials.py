"""The tutorials' command blocks run as written.

A block is runnable when the line before its opening fence is ``<!-- runnable -->``.
Each tutorial's runnable blocks run in order in one empty directory, with ``bash -euo
pipefail``, each bounded in time; a block that needs a service starts it itself and
stops it before it ends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.conftest import postgres_base_url

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
MARK = "<!-- runnable -->"
BLOCK = re.compile(r"^<!-- runnable -->\n```(?:sh|bash)\n(.*?)^```$", re.M | re.S)


def runnable_blocks(text: str) -> list[str]:
    """The runnable blocks of a tutorial, in order."""
    blocks = BLOCK.findall(text)
    assert len(blocks) == text.count(MARK), "a runnable mark is not followed by a sh block"
    return blocks


def _tutorials() -> list[Path]:
    return sorted(TUTORIALS.glob("*.md"))


NEEDS_POSTGRES = {"run-for-real"}


def _cases() -> list[object]:
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.postgres] if p.stem in NEEDS_POSTGRES else [])
        for p in _tutorials()
    ]


@contextmanager
def _databases(names: list[str]) -> Iterator[dict[str, str]]:
    """Fresh empty databases on the tests' server, one per name, dropped afterwards."""
    base = postgres_base_url()
    made = {name: f"cvid_tutorial_{uuid.uuid4().hex[:12]}" for name in names}
    with psycopg.connect(base, autocommit=True) as admin:
        for database in made.values():
            admin.execute(f'CREATE DATABASE "{database}"')
        try:
            head, _, _ = base.rpartition("/")
            yield {name: f"{head}/{database}" for name, database in made.items()}
        finally:
            for database in made.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_every_tutorial_has_runnable_blocks() -> None:
    names = {p.stem for p in _tutorials()}
    assert {"first-roadmap", "replay", "run-for-real", "audit", "design"} <= names
    for path in _tutorials():
        assert runnable_blocks(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize("tutorial", _cases())
def test_the_tutorial_runs(tutorial: Path, tmp_path: Path) -> None:
    if tutorial.stem in NEEDS_POSTGRES:
        with _databases(["DATABASE_URL", "RESTORE_URL"]) as urls:
            _run(tutorial, tmp_path, urls)
    else:
        _run(tutorial, tmp_path, {})


def _run(tutorial: Path, tmp_path: Path, extra: dict[str, str]) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "src"),
        "CVID_REPO": str(ROOT),
        **extra,
    }
    for n, block in enumerate(runnable_blocks(tutorial.read_text(encoding="utf-8"))):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert result.returncode == 0, (
            f"{tutorial.name}, block {n + 1}:\n{block}\n--- stdout\n{result.stdout[-3000:]}"
            f"\n--- stderr\n{result.stderr[-3000:]}"
        )


def test_the_templates_point_editors_at_the_schema() -> None:
    templates = ROOT / "src" / "cvid" / "roadmap" / "templates"
    roadmaps = [p for p in templates.glob("*.yaml") if not p.name.endswith(".history.yaml")]
    assert roadmaps
    for path in roadmaps:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema.json", path.name
        assert (path.parent / "../schema.json").resolve().is_file()
    tutorial = (TUTORIALS / "first-roadmap.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=roadmap.schema.json" in tutorial
