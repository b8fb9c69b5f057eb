"""Escrow, beacon and inspections through the CLI alone, as the parties would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.kit import escrow_data

CVID = Path(sys.executable).parent / "cvid"
NOW = "2027-02-01T00:00:00Z"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [str(CVID), *map(str, args)],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


def ok(*args: str | Path, env: dict[str, str] | None = None) -> str:
    result = run(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def agreement(tmp_path: Path) -> Path:
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text(yaml.safe_dump(escrow_data(), sort_keys=False))
    directory = tmp_path / "agreement"
    ok("agreement", "init", directory, "--roadmap", roadmap, "--adopt-at", "2027-01-02")
    return directory


def test_commit_reveal_draw_inspect(agreement: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text(
        "id,category,cell,quantity\n"
        "reactor-a,reactor,n1,1\n"
        "stock-1,warhead,n1,10\n"
        "site-x,site,n2,3\n"
        "site-y,site,s1,12\n"
    )
    partition = tmp_path / "partition.yaml"
    partition.write_text("cells: [n1, n2, s1, s2]\n")
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    escrow = tmp_path / "decl.escrow"
    body = ok(
        "escrow", "commit", items, "--partition", partition, "--escrow", escrow,
        "--declaration", "decl", "--passphrase-file", secret,
    )  # fmt: skip
    committed = json.loads(body)
    assert committed["size"] == 5  # four items and the empty cell s2
    assert escrow.stat().st_mode & 0o777 == 0o600
    body_file = tmp_path / "commit.json"
    body_file.write_text(body)
    ok("event", "submit", agreement, "--party", "north", "--type", "declaration.committed",
       "--body-file", body_file, "--now", NOW)  # fmt: skip

    wrong = run(
        "escrow", "reveal", escrow, "--declaration", "decl", "--cells", "n1",
        "--out", tmp_path / "x", env={"CVID_ESCROW_PASSPHRASE": "wrong"},
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "passphrase" in wrong.stderr

    reveals = ok(
        "escrow", "reveal", escrow, "--declaration", "decl", "--cells", "n1,n2",
        "--out", tmp_path / "reveals",
        env={"CVID_ESCROW_PASSPHRASE": "correct horse battery staple"},
    ).split()  # fmt: skip
    for path in reveals:
        ok("event", "submit", agreement, "--party", "north", "--type", "declaration.revealed",
           "--body-file", path, "--now", NOW)  # fmt: skip
    assert "2 of 4 cells revealed" in ok("escrow", "verify", agreement, "--at", NOW)

    for party in ("north", "usa", "iaea"):
        ok("beacon", "commit", agreement, "--party", party, "--round", "r1", "--now", NOW)
    for party in ("north", "usa", "iaea"):
        ok("beacon", "reveal", agreement, "--party", party, "--round", "r1", "--now", NOW)
    drawn = ok(
        "beacon", "draw", agreement, "--round", "r1", "--declaration", "decl", "--n", "2"
    ).split()
    assert sorted(drawn) == ["n1", "n2"]
    planned = ok(
        "inspect", "plan", agreement, "--party", "iaea", "--inspection", "i1",
        "--declaration", "decl", "--round", "r1", "--n", "2", "--now", NOW,
    )  # fmt: skip
    assert ", ".join(drawn) in planned
    findings = tmp_path / "findings.json"
    findings.write_text(json.dumps([{"cell": c, "confirmed": []} for c in drawn]))
    ok("inspect", "report", agreement, "--party", "iaea", "--inspection", "i1",
       "--findings", findings, "--now", NOW)  # fmt: skip
    status = json.loads(ok("status", agreement, "--json", "--at", NOW))
    decl = status["declarations"]["decl"]
    assert decl["revealed"] == ["n1", "n2"]
    assert decl["inspected_clean"] == ["n1", "n2"]
    assert decl["confidence"] > 0.5
    assert status["steps"]["reveal-north"]["status"] == "verified"
    assert status["rules"]["confidence-relief"]["fired_at"] is not None
    table = ok("status", agreement, "--at", NOW)
    assert "Declarations" in table
    assert "Beacon rounds" in table


def test_sample_size_from_the_command_line() -> None:
    out = ok("verify", "sample-size", "--N", "100", "--M", "10", "--beta", "0.1")
    assert "21" in out
    assert "20" in out
