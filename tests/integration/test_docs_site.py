"""The documentation site: every page is in the nav, and ``make docs`` builds it strictly.

The site is built in a copy of docs/ (with the reference pages generated into it), by the
command the Makefile's ``docs`` target runs, so a page left out of the nav, a broken link
or a flag that silences the warnings strict mode counts fails here, not only in CI.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GENERATED = {"events.md", "conditions.md", "roadmap-schema.md", "http-api.md", "cli.md"}


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages(nav: Any) -> list[str]:
    if isinstance(nav, list):
        return [page for item in nav for page in _pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _pages(value)]
    return [nav]


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return config


def test_every_page_of_docs_is_in_the_nav_once() -> None:
    nav = _script("docs_nav").expand(_config()["nav"], DOCS)
    pages = _pages(nav)
    assert len(pages) == len(set(pages)), sorted(p for p in pages if pages.count(p) > 1)
    written = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if p.relative_to(DOCS).parts[0] != "reference"  # generated, not kept in git
    }
    assert set(pages) == written | {f"reference/{name}" for name in GENERATED}
    decisions = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "adr").glob("*.md"))
    assert [p for p in pages if p.startswith("adr/")] == decisions
    assert "adr/0016-road-map-identity-leaves-out-defaults.md" in decisions


def test_a_nav_pattern_lists_every_match_in_order(tmp_path: Path) -> None:
    docs_nav = _script("docs_nav")
    (tmp_path / "adr").mkdir()
    for name in ("0002-b.md", "0010-c.md", "0001-a.md", "notes.txt"):
        (tmp_path / "adr" / name).write_text("# x\n", encoding="utf-8")
    nav = [{"Home": "index.md"}, {"Concepts": [{"Decisions": "adr/*.md"}, "adr/0001-a.md"]}]
    assert docs_nav.expand(nav, tmp_path) == [
        {"Home": "index.md"},
        {
            "Concepts": [
                {"Decisions": ["adr/0001-a.md", "adr/0002-b.md", "adr/0010-c.md"]},
                "adr/0001-a.md",
            ]
        },
    ]
    assert docs_nav.expand(["adr/*.md"], tmp_path) == [
        "adr/0001-a.md",
        "adr/0002-b.md",
        "adr/0010-c.md",
    ]
    with pytest.raises(ValueError, match="matches no page"):
        docs_nav.expand([{"Specs": "spec/*.md"}], tmp_path)


def _make_docs_command() -> list[str]:
    """The mkdocs command of the Makefile's ``docs`` target, run by this interpreter."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ndocs:", 1)[1]
    line = next(line for line in recipe.splitlines() if "mkdocs build" in line)
    args = line.split("mkdocs build", 1)[1].split()
    return [sys.executable, "-m", "mkdocs", "build", *args]


@pytest.fixture
def site_source(tmp_path: Path) -> Path:
    """A copy of the site's sources, with the reference pages generated into it."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "docs_nav.py", tmp_path / "scripts" / "docs_nav.py")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("reference"))
    reference = tmp_path / "docs" / "reference"
    assert _script("docs_reference").main(["docs_reference", str(reference)]) == 0
    return tmp_path


def _build(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _make_docs_command(),
        cwd=source,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
def test_make_docs_builds_the_site_strictly(site_source: Path) -> None:
    assert "--strict" in _make_docs_command()
    built = _build(site_source)
    assert built.returncode == 0, built.stdout + built.stderr
    site = site_source / "site"
    for page in ("index.html", "reference/events.html", "mirror.html", "api-pagination.html"):
        assert (site / page).is_file(), page
    index = (site / "index.html").read_text(encoding="utf-8")
    for record in (DOCS / "adr").glob("*.md"):
        assert f'href="adr/{record.stem}.html"' in index, record.name  # in the nav

    # A page that no nav entry lists fails the same build.
    (site_source / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    refused = _build(site_source)
    assert refused.returncode != 0
    assert re.search(r"not included in the \"nav\"[\s\S]*orphan\.md", refused.stderr), (
        refused.stderr
    )
