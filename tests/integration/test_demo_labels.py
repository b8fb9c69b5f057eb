"""The demo says what each line is: commands are labelled, witness logs carry their
witness's name, and cosignatures are dated on the scenario's clock, not the machine's."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from cvid import demo
from cvid.agreement import Agreement
from cvid.log.cosignature import Cosignature
from cvid.log.note import Note


def test_the_walkthrough_labels_its_commands_and_dates_cosignatures_in_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-out"
    demo.main(out, serve=False)
    said = capsys.readouterr().out
    commands = [line for line in said.splitlines() if ".venv/bin/cvid" in line]
    assert commands, said
    assert all(line.startswith("Try: .venv/bin/cvid ") for line in commands), commands
    with Agreement.open(out / "agreement") as agreement:
        last = agreement.events[-1].time
    note = Note.from_bytes((out / "tiles" / "checkpoint").read_bytes())
    stamps = [
        Cosignature.from_signature(sig).timestamp
        for sig in note.signatures
        if sig.name.startswith("witness.")
    ]
    assert len(stamps) == 2
    assert all(stamp == int(last.timestamp()) for stamp in stamps), (stamps, last)
    assert dt.datetime.fromtimestamp(stamps[0], dt.UTC).year == 2027


def test_witness_log_lines_are_relayed_under_the_witness_name(
    capfd: pytest.CaptureFixture[str],
) -> None:
    script = "import sys; sys.stderr.write('cosigned o size 53\\n\\x1b]0;t\\x07done\\n')"
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    relay = demo._relay(process, "witness ch (port 8001)")
    process.wait(timeout=30)
    relay.join(timeout=30)  # the pipe ends with the process
    assert not relay.is_alive()
    err = capfd.readouterr().err
    assert err.splitlines() == [
        "   witness ch (port 8001): cosigned o size 53",
        "   witness ch (port 8001): ]0;tdone",
    ]
