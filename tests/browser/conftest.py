"""The browser tests' screenshots: where they are, and which files, in the test summary."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTEFACTS = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    where = terminalreporter.config.stash.get(ARTEFACTS, None)
    if where is None or not where.is_dir():
        return
    files = sorted(p.name for p in where.iterdir() if p.is_file())
    terminalreporter.section("dashboard screenshots")
    terminalreporter.write_line(f"{len(files)} files in {where}")
    for name in files:
        terminalreporter.write_line(f"  {name}")
