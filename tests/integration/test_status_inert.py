"""Logged text reaches the terminal inert: ``cvid status`` prints notes literally.

A party's note can hold Rich markup, terminal escape sequences and bidirectional
overrides; the status shows its words, never crashes, links or drives the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_agreement_cli import ok
from tests.kit import MINI

NOTE = (
    "a [/] b [link=http://x]click[/link] [bold red]loud[/] "
    "\x1b]0;t\x07 \x1b[31mred \x9b31m C1\x85next \u202eevil\u202c end\\"
)
SHOWN = "a [/] b [link=http://x]click[/link] [bold red]loud[/] ]0;t [31mred 31m C1 next evil end\\"


def test_status_prints_logged_markup_and_escapes_inertly(tmp_path: Path) -> None:
    directory = tmp_path / "mini"
    ok("agreement", "init", directory, "--roadmap", MINI, "--adopt-at", "2027-01-02T00:00:00Z")
    for party, event_type, body in (
        ("ops", "step.waived", {"step": "declare", "reason": NOTE}),
        ("usa", "snapback.notified", {"reason": NOTE}),
    ):
        ok(
            "event", "submit", directory, "--party", party, "--type", event_type,
            "--body", json.dumps(body), "--time", "2027-01-03", "--now", "2027-01-03",
        )  # fmt: skip
    printed = ok("status", directory, "--at", "2027-02-01")
    assert "\x1b" not in printed
    assert not set(printed) & {"\x07", "\x85", "\x9b", "\u202e", "\u202c"}
    assert f"waived by ops: {SHOWN}" in " ".join(printed.split()).replace("│ │", "")
    assert "snapback: notified by usa" in printed
    # The JSON is the data as logged, unchanged.
    data = json.loads(ok("status", directory, "--at", "2027-02-01", "--json"))
    assert NOTE in data["steps"]["declare"]["reason"]
