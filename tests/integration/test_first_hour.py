"""What a newcomer meets first on the command line: refusals that say what to do.

Replaying a dated history needs ``--now``; an agreement initialised with ``--replay``
refuses to run a submission without it, so a forgotten ``--now`` cannot log today's
date into the past. An unknown event type lists the known ones; a bad ``--at`` is
named ``--at``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from cvid._jcs import canonical
from cvid.events.bodies import EVENT_TYPES
from cvid.events.envelope import Event, sign_event
from cvid.log.note import Signer
from cvid.roadmap import loader
from tests.integration.test_agreement_cli import ok, refused, run
from tests.kit import MINI

REPORT = ["--party", "north", "--type", "step.reported", "--body", '{"step": "declare"}']


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("first-hour") / "mini"
    ok("agreement", "init", directory, "--roadmap", MINI, "--adopt-at", "2027-01-02")
    return directory


def _size(directory: Path) -> int:
    return int(json.loads(ok("status", directory, "--json", "--at", "2100-01-01"))["events_seen"])


def test_a_past_dated_event_without_now_says_replays_use_now(adopted: Path) -> None:
    before = _size(adopted)
    err = refused(2, "event", "submit", adopted, *REPORT, "--time", "2027-01-05")
    assert "from the time of receipt" in err
    assert "to replay a dated history, give --now" in err
    assert _size(adopted) == before
    # With --now the same replayed event is logged.
    ok("event", "submit", adopted, *REPORT, "--time", "2027-01-05", "--now", "2027-01-05")
    assert _size(adopted) == before + 1


def test_a_replay_agreement_refuses_every_submission_without_now(tmp_path: Path) -> None:
    directory = tmp_path / "history"
    err = refused(2, "agreement", "init", directory, "--roadmap", MINI, "--replay")
    assert "--replay needs --adopt-at" in err
    assert not directory.exists()
    said = ok(
        "agreement", "init", directory, "--roadmap", MINI, "--replay", "--adopt-at", "2027-01-02"
    )
    assert "needs --now" in said
    before = _size(directory)
    # The mistake that poisons a history: no --time and no --now, so "today".
    err = refused(2, "event", "submit", directory, *REPORT)
    assert "replays a dated history" in err
    assert "give --now" in err
    entry = tmp_path / "entry.json"
    entry.write_text(
        ok(
            "event", "sign", "--roadmap", directory / "roadmap.yaml",
            "--key", directory / "keys" / "north.key", "--type", "step.reported",
            "--seq", "2", "--body", '{"step": "declare"}',
        )
    )  # fmt: skip
    assert "give --now" in refused(2, "event", "submit", directory, "--entry", entry)
    assert _size(directory) == before
    ok("event", "submit", directory, *REPORT, "--time", "2027-01-05", "--now", "2027-01-05")
    assert _size(directory) == before + 1
    # Going live: delete the marker, and the clock is the time of receipt again.
    (directory / "replay").unlink()
    err = refused(2, "event", "submit", directory, *REPORT, "--time", "2027-01-06")
    assert "from the time of receipt" in err


def test_a_template_with_its_own_history_can_be_replayed_on(tmp_path: Path) -> None:
    directory = tmp_path / "kz"
    assert "needs --now" in ok(
        "agreement", "init", directory, "--template", "kazakhstan-1991", "--replay"
    )
    assert (directory / "replay").is_file()


def _listed(err: str) -> None:
    assert "unknown event type 'step.reportd'" in err
    assert "the types are: " + ", ".join(EVENT_TYPES) in err


def test_an_unknown_event_type_lists_the_types(adopted: Path, tmp_path: Path) -> None:
    before = _size(adopted)
    bad = ["--type", "step.reportd", "--body", '{"step": "declare"}', "--now", "2027-01-05"]
    _listed(refused(2, "event", "submit", adopted, "--party", "north", *bad))
    signing: list[str | Path] = [
        "event", "sign", "--roadmap", adopted / "roadmap.yaml",
        "--key", adopted / "keys" / "north.key", "--seq", "9",
    ]  # fmt: skip
    _listed(refused(2, *signing, *bad[:-2]))
    # An entry signed elsewhere with an unknown type: admission refuses it, the list follows.
    roadmap = loader.load(adopted / "roadmap.yaml")
    signer = Signer.from_text((adopted / "keys" / "north.key").read_text().strip())
    event = Event(
        agreement=roadmap.agreement.id,
        roadmap=loader.digest(roadmap),
        type="step.reportd",
        party="north",
        seq=9,
        time=dt.datetime(2027, 1, 5, tzinfo=dt.UTC),
        body={"step": "declare"},
    )
    entry = tmp_path / "entry.json"
    entry.write_bytes(canonical(json.loads(sign_event(event, signer).to_bytes())))
    _listed(refused(2, "event", "submit", adopted, "--entry", entry, "--now", "2027-01-05"))
    assert _size(adopted) == before


def test_a_bad_at_is_named_at(adopted: Path) -> None:
    result = run("status", adopted, "--at", "31/12/2026")
    assert result.returncode == 2
    assert "--at '31/12/2026'" in result.stderr
    assert "--now" not in result.stderr


def test_road_map_problems_are_one_per_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINI.read_text()
        .replace("  start: 2027-01-01", "  start: 2027-01-01T10:00:00")
        .replace("depends_on: [freeze]", "depend_on: [freeze]")
    )
    commands: list[list[str | Path]] = [
        ["roadmap", "validate", bad],
        ["agreement", "init", tmp_path / "a", "--roadmap", bad],
    ]
    for command in commands:
        result = run(*command)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"cvid: error: {bad}:7:3: agreement.start: expected a date, YYYY-MM-DD "
            "(got 2027-01-01T10:00:00)",
            f"cvid: error: {bad}:64:9: unknown key 'depend_on'; did you mean 'depends_on'?",
        ]
