"""A whole agreement walked through the CLI alone, as a user would, in subprocesses.

Init from a road map, adopt, report and verify steps, miss a deadline, notify
non-performance, let the window close, and see snapback in ``cvid status``; plus
the errors a user meets on the way, each one line and a stable exit code, with
nothing appended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cvid._jcs import canonical
from tests.kit import MINI

CVID = Path(sys.executable).parent / "cvid"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [str(CVID), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def ok(*args: str | Path) -> str:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(code: int, *args: str | Path) -> str:
    result = run(*args)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("cvid: error: ")
    assert result.stderr.count("\n") == 1
    return result.stderr


def submit(directory: Path, party: str, event_type: str, body: dict[str, Any], when: str) -> str:
    return ok(
        "event", "submit", directory, "--party", party, "--type", event_type,
        "--body", json.dumps(body), "--time", when, "--now", when,
    )  # fmt: skip


def status(directory: Path, at: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok("status", directory, "--at", at, "--json"))
    return data


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "mini"
    out = ok(
        "agreement", "init", directory, "--roadmap", MINI, "--adopt-at", "2027-01-02T00:00:00Z"
    )
    assert "created agreement 'mini'" in out
    assert "3 entries" in out  # three adopting parties
    return directory


def test_validate_and_schema() -> None:
    out = ok("roadmap", "validate", MINI)
    assert "valid road map 'mini'" in out
    assert "sha256:" in out
    schema = json.loads(ok("roadmap", "schema"))
    assert schema["title"] == "RoadMap"


def test_validate_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.read_text().replace("actor: north", "actor: nobody", 1))
    result = run("roadmap", "validate", bad)
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr
    assert "'nobody' is not a party" in result.stderr


def test_a_full_scenario_ends_in_snapback(scenario: Path) -> None:
    d = scenario
    first = status(d, "2027-01-03")
    assert first["in_force"] is True
    assert first["steps"]["freeze-reactor"]["status"] == "open"
    assert first["steps"]["disable-reactor"]["status"] == "blocked"

    # The freeze is reported and verified: the first relief tranche suspends the oil cap.
    assert "at index 3" in submit(
        d, "north", "step.reported", {"step": "freeze-reactor"}, "2027-01-10"
    )
    submit(
        d, "iaea", "step.verified", {"step": "freeze-reactor", "outcome": "confirmed"}, "2027-01-15"
    )
    mid = status(d, "2027-01-16")
    assert mid["steps"]["freeze-reactor"]["status"] == "verified"
    assert mid["measures"]["m-oil"]["status"] == "in_force"  # the phase is not complete yet
    submit(d, "north", "step.reported", {"step": "declare"}, "2027-01-20")
    after = status(d, "2027-01-21")
    assert after["phases"]["freeze"]["status"] == "complete"
    assert after["measures"]["m-oil"]["status"] == "suspended"
    assert after["rules"]["relief-1"]["fired_at"] == "2027-01-20T00:00:00Z"
    assert after["steps"]["disable-reactor"]["status"] == "open"
    assert (
        after["steps"]["disable-reactor"]["due"] == "2027-04-20T00:00:00Z"
    )  # 90 days after freeze

    # The disablement deadline passes.
    late = status(d, "2027-05-01")
    assert late["steps"]["disable-reactor"]["status"] == "overdue"
    assert late["owed"][0]["party"] == "north"

    # A guarantor notifies non-performance; the Council's continuation draft is vetoed.
    submit(d, "usa", "snapback.notified", {"reason": "disablement overdue"}, "2027-05-02")
    submit(
        d,
        "chn",
        "council.draft.tabled",
        {"draft": "continue-1", "title": "Continue relief", "purpose": "continue_relief"},
        "2027-05-10",
    )
    for party, vote in [
        ("chn", "yes"),
        ("e1", "yes"),
        ("e2", "yes"),
        ("e3", "abstain"),
        ("usa", "no"),
    ]:
        submit(d, party, "council.vote.cast", {"draft": "continue-1", "vote": vote}, "2027-05-11")
    submit(d, "chn", "council.vote.closed", {"draft": "continue-1"}, "2027-05-12")
    window = status(d, "2027-05-20")
    assert window["drafts"]["continue-1"]["tally"]["adopted"] is False
    assert "vetoed by a permanent member: usa" in window["drafts"]["continue-1"]["tally"]["reason"]
    assert window["snapbacks"][0]["outcome"] == "open"
    assert window["measures"]["m-oil"]["status"] == "suspended"

    # The window closes when the 30th day after the notice's date (2 May + 30 = 1 Jun)
    # ends: the relief ends at 00:00 UTC on 2 Jun.
    assert status(d, "2027-06-01T23:59:59Z")["snapbacks"][0]["outcome"] == "open"
    closed = status(d, "2027-06-02")
    assert closed["snapbacks"][0]["outcome"] == "reimposed"
    assert closed["measures"]["m-oil"]["status"] == "in_force"
    assert closed["measures"]["m-oil"]["since"] == "2027-06-02T00:00:00Z"
    table = ok("status", d, "--at", "2027-06-02")
    assert "reimposed" in table
    assert "snapback" in table

    # Time travel: the past is unchanged by what came later.
    assert status(d, "2027-01-21") == after

    report = d / "report.html"
    ok("report", d, "--out", report, "--at", "2027-06-02")
    html = report.read_text()
    assert "<svg" in html
    assert "re-imposed" in html
    assert "Disable reactor A" in html


def test_status_prints_the_newest_items_of_each_list_and_full_prints_all(
    scenario: Path,
) -> None:
    at = "2100-01-01"
    full = json.loads(ok("status", scenario, "--at", at, "--json", "--full"))
    assert "cut" not in full
    assert "drafts_total" not in full
    default = json.loads(ok("status", scenario, "--at", at, "--json"))
    assert default["cut"] == []  # a small agreement: nothing to cut at 100
    assert {k: v for k, v in default.items() if k != "cut" and not k.endswith("_total")} == full
    assert default["drafts_total"] == len(full["drafts"])
    one = json.loads(ok("status", scenario, "--at", at, "--json", "--keep", "1"))
    assert len(full["adopted_by"]) == 3
    assert "/adopted_by" in one["cut"]
    assert one["adopted_by"] == full["adopted_by"][-1:]
    assert one["adopted_by_total"] == 3
    assert full["alerts"]  # (more when the scenario test ran first in this process)
    assert one["alerts"] == full["alerts"][-1:]
    # the tables too: the newest, and how many earlier ones are left out
    table = ok("status", scenario, "--at", at, "--keep", "0")
    assert f"and {len(full['alerts'])} earlier alerts" in table
    assert "earlier" not in ok("status", scenario, "--at", at, "--full")
    assert "--keep" in refused(2, "status", scenario, "--keep", "-1").replace("'", "")


def test_offline_signing_then_submission(tmp_path: Path) -> None:
    directory = tmp_path / "agreement"
    ok("agreement", "init", directory, "--roadmap", MINI, "--adopt-at", "2027-01-02")
    entry = tmp_path / "entry.json"
    entry.write_text(
        ok(
            "event", "sign", "--roadmap", directory / "roadmap.yaml",
            "--key", directory / "keys" / "iaea.key",
            "--type", "inventory.observed", "--seq", "1",
            "--body", '{"items": {"reactor-a": "frozen"}}', "--time", "2027-07-01",
        )
    )  # fmt: skip
    out = ok("event", "submit", directory, "--entry", entry, "--now", "2027-07-01T00:02:00Z")
    assert "logged inventory.observed by iaea (seq 1) at index 3" in out
    assert status(directory, "2027-07-02")["items"]["reactor-a"]["state"] == "frozen"
    # The same entry again is a replay, and changes nothing.
    err = refused(2, "event", "submit", directory, "--entry", entry, "--now", "2027-07-01")
    assert "already used sequence number 1" in err
    # An entry signed with another party's key file, under that party's name, is not iaea's.
    forged = json.loads(entry.read_text())
    forged["event"]["party"] = "north"
    entry.write_bytes(canonical(forged))
    err = refused(3, "event", "submit", directory, "--entry", entry, "--now", "2027-07-01")
    assert "is not registered for party 'north'" in err


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (
            ["--party", "north", "--type", "step.reported", "--body", '{"step": "nope"}'],
            2,
            "no step 'nope'",
        ),
        (
            ["--party", "e1", "--type", "step.reported", "--body", '{"step": "declare"}'],
            2,
            "north's to report",
        ),
        (
            [
                "--party",
                "north",
                "--type",
                "council.vote.cast",
                "--body",
                '{"draft": "x", "vote": "yes"}',
            ],
            2,
            "may not submit",
        ),
        (["--party", "north", "--type", "step.reported", "--body", "{"], 2, "not valid JSON"),
        (
            [
                "--party",
                "north",
                "--type",
                "step.reported",
                "--body",
                '{"step": "declare", "x": 1}',
            ],
            2,
            "unknown body field",
        ),
        (["--party", "ghost", "--type", "step.reported", "--body", "{}"], 5, "no key for 'ghost'"),
        (
            ["--party", "north", "--type", "step.reported", "--body", "{}", "--time", "yesterday"],
            2,
            "not a date",
        ),
    ],
)
def test_refusals_change_nothing(scenario: Path, args: list[str], code: int, fragment: str) -> None:
    before = ok("status", scenario, "--json", "--at", "2100-01-01")
    err = refused(code, "event", "submit", scenario, *args, "--now", "2027-08-01")
    assert fragment in err
    assert ok("status", scenario, "--json", "--at", "2100-01-01") == before


def test_init_refuses_a_non_empty_directory_and_an_unknown_template(
    scenario: Path, tmp_path: Path
) -> None:
    assert "not empty" in refused(5, "agreement", "init", scenario, "--roadmap", MINI)
    assert "no template 'nope'" in refused(
        5, "agreement", "init", tmp_path / "x", "--template", "nope"
    )
    assert "exactly one of" in refused(2, "agreement", "init", tmp_path / "y")


def test_status_of_a_directory_that_is_not_an_agreement(tmp_path: Path) -> None:
    assert "not an agreement directory" in refused(5, "status", tmp_path)


def test_the_script_exits_with_the_command_code_and_all_its_output(scenario: Path) -> None:
    """The ``cvid`` script ends without freeing its objects one by one (cvid.cli.run):
    its output is still complete, its exit codes are the command's, and a reader that
    stops early (``| head``) gets no traceback."""
    schema = run("roadmap", "schema")
    assert schema.returncode == 0
    assert json.loads(schema.stdout)["title"] == "RoadMap"  # complete: it parses
    assert run("status", scenario / "missing").returncode == 5
    assert run("no-such-command").returncode == 2
    reader = subprocess.Popen(
        [str(CVID), "roadmap", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None
    assert reader.stderr is not None
    with reader.stderr:
        reader.stdout.read(10)
        reader.stdout.close()  # the reader stops
        reader.wait(timeout=60)
        assert "Traceback" not in reader.stderr.read().decode()
