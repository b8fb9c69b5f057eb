"""``cvid monitor`` end to end: a simulated stream with a gap beyond tolerance is
committed, the status says continuity of knowledge of the reactor is lost and why, a
re-verification brings it back; records revealed later match their commitments."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cvid import agreement as ag
from cvid.cli import app
from cvid.monitor.records import parse_time, time_text
from cvid.monitor.store import load_period
from tests.monitor_kit import T0, monitoring_data

runner = CliRunner()
START = T0 + dt.timedelta(hours=1)
END = START + dt.timedelta(hours=72)


def cvid(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"CVID_RECORDS_PASSPHRASE": "held by north"})
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    data = monitoring_data()
    for device in data["monitoring"]["devices"]:
        del device["key"]  # the agreement generates each device's key
    ag.create(tmp_path / "agr", data, adopt_at=T0).close()
    return tmp_path / "agr"


def test_simulate_commit_lose_and_re_establish_continuity(directory: Path, tmp_path: Path) -> None:
    for device in ("cam-1", "seal-1"):
        code, text = cvid(
            "monitor", "install", str(directory), "--device", device,
            "--party", "iaea", "--time", time_text(START),
        )  # fmt: skip
        assert code == 0, text
    sim = tmp_path / "sim"
    args = ["monitor", "simulate", str(directory), "--start", time_text(START), "--hours", "72"]
    args += ["--seed", "4", "--devices", "2", "--gap-rate", "0.02", "--removal-rate", "0"]
    code, text = cvid(*args, "--tamper-rate", "0", "--out", str(sim))
    assert code == 0, text
    again = tmp_path / "again"
    assert cvid(*args, "--tamper-rate", "0", "--out", str(again))[0] == 0
    for name in ("cam-1.ndjson", "seal-1.ndjson", "injected.ndjson"):
        assert (sim / name).read_bytes() == (again / name).read_bytes()  # same seed, same data
    injected = [json.loads(x) for x in (sim / "injected.ndjson").read_text().splitlines()]
    beyond = [
        g
        for g in injected
        if g["kind"] == "gap"
        and parse_time(g["end"]) - parse_time(g["start"]) > dt.timedelta(hours=24)
    ]
    assert beyond, "the seed injects a gap beyond the 24 h tolerance"
    gap = min(beyond, key=lambda g: g["start"])

    code, text = cvid(
        "monitor", "commit", str(directory), str(sim / "cam-1.ndjson"), str(sim / "seal-1.ndjson")
    )
    assert code == 0, text
    records = sum(len((sim / f"{d}.ndjson").read_text().splitlines()) for d in ("cam-1", "seal-1"))
    assert f"({records} records)" in text
    hours = {
        json.loads(line)["time"][:13] for line in (sim / "cam-1.ndjson").read_text().splitlines()
    }
    kept = list((directory / "records" / "cam-1").iterdir())  # one encrypted file a period
    assert len(kept) == len(hours)
    assert b"value" not in kept[0].read_bytes()

    code, text = cvid("status", str(directory), "--at", time_text(END), "--json")
    assert code == 0, text
    state: dict[str, Any] = json.loads(text)
    lost_at = parse_time(gap["start"]) + dt.timedelta(hours=24)
    reactor = state["continuity"]["reactor-a"]
    assert reactor["status"] == "lost"
    assert reactor["since"] == time_text(lost_at)
    silent_since = parse_time(gap["start"]).strftime("%Y-%m-%d %H:%M UTC")
    assert reactor["cause"] == (
        f"{gap['device']} silent since {silent_since}, beyond its tolerance of 1 day"
    )
    assert reactor["gap"]["start"] == gap["start"]
    code, text = cvid("status", str(directory), "--at", time_text(END))
    assert code == 0, text
    assert "Continuity of knowledge" in text
    assert f"{gap['device']} silent since" in " ".join(text.split())

    code, text = cvid(
        "monitor", "reverify", str(directory), "--items", "reactor-a",
        "--party", "iaea", "--time", time_text(END),
    )  # fmt: skip
    assert code == 0, text
    code, text = cvid("monitor", "continuity", str(directory), "--at", time_text(END), "--json")
    assert code == 0, text
    assert json.loads(text)["reactor-a"]["status"] == "maintained"
    assert json.loads(text)["reactor-a"]["baseline_by"] == "iaea"

    code, text = cvid(
        "monitor", "reveal", str(directory), "--device", "cam-1",
        "--start", time_text(START), "--from", "2", "--to", "7", "--time", time_text(END),
    )  # fmt: skip
    assert code == 0, text
    assert "5 records of cam-1" in text
    code, text = cvid("monitor", "verify", str(directory), "--at", time_text(END))
    assert code == 0, text
    assert "5 revealed and matching" in text


def test_commit_reads_csv_and_refuses_a_period_overlapping_one_logged(
    directory: Path, tmp_path: Path
) -> None:
    assert cvid(
        "monitor", "install", str(directory), "--device", "cam-1",
        "--party", "iaea", "--time", time_text(START),
    )[0] == 0  # fmt: skip
    csv = tmp_path / "cam-1.csv"
    rows = [f"{time_text(START + dt.timedelta(minutes=10 * k))},{k}" for k in range(6)]
    csv.write_text("time,flow\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, text = cvid("monitor", "commit", str(directory), str(csv))
    assert code == 0, text
    assert "committed 1 periods (6 records)" in text
    code, text = cvid("monitor", "commit", str(directory), str(csv))
    assert code == 2
    assert "before the end of 'cam-1''s previous period (2027-01-10T02:00:00Z)" in text
    assert not list((directory / "records" / "cam-1").glob("*.pending"))


def test_verify_reports_a_reveal_that_does_not_match_as_a_finding(
    directory: Path, tmp_path: Path
) -> None:
    assert cvid(
        "monitor", "install", str(directory), "--device", "cam-1",
        "--party", "iaea", "--time", time_text(START),
    )[0] == 0  # fmt: skip
    rows = tmp_path / "cam-1.ndjson"
    rows.write_text(
        "".join(
            json.dumps({"time": time_text(START + dt.timedelta(minutes=15 * k)), "v": k}) + "\n"
            for k in range(4)
        ),
        encoding="utf-8",
    )
    assert cvid("monitor", "commit", str(directory), str(rows))[0] == 0
    with ag.Agreement.open(directory) as agreement:
        (kept,) = (directory / "records" / "cam-1").iterdir()
        body = load_period(kept, "held by north").reveal()
        body["records"][1]["record"]["v"] = 99  # not what was committed
        agreement.act(agreement.signer("north"), "records.revealed", body, time=END)
    code, text = cvid("monitor", "verify", str(directory), "--at", time_text(END))
    assert code == 3
    assert "cam-1: 1 periods, 4 records committed, 0 revealed and matching" in text
    assert "finding: " in text
    assert "do not match their commitment" in text
