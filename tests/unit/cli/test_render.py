"""Outside text printed through Rich is shown literally and cannot drive the terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cvid.cli._render import inert, plain

HOSTILE = [
    ("closing tag", "a [/] b", "a [/] b"),
    ("hyperlink", "[link=http://x]click[/link]", "[link=http://x]click[/link]"),
    ("style", "[bold red]loud[/]", "[bold red]loud[/]"),
    ("OSC title", "\x1b]0;t\x07after", "]0;tafter"),
    ("CSI colour", "\x1b[31mred", "[31mred"),
    ("C1 CSI and NEL", "x\x9b31m\x85y", "x31m y"),
    ("bidi override", "abc\u202edef\u2066g\u2069", "abcdefg"),
    ("line breaks", "one\ntwo\r\nthree\u2028four", "one two three four"),
    ("backslash before a tag", "path\\[/]", "path\\[/]"),
    ("trailing backslashes", "ends\\\\", "ends\\\\"),
    ("plain text", "waived by ops: moved to phase 2", "waived by ops: moved to phase 2"),
]


def _printed(text: Text) -> str:
    """What a colour terminal receives for ``text`` alone, in a line, and in a table."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, highlight=False, color_system=None)
    table = Table("text")
    table.add_row(text)
    console.print(text)
    console.print(Text.assemble("[bold]", text, ("[/]", "bold")))
    console.print(table)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("text", "shown"), [(t, s) for _, t, s in HOSTILE], ids=[n for n, *_ in HOSTILE]
)
def test_hostile_text_is_printed_literally(text: str, shown: str) -> None:
    printed = _printed(inert(text, "bold"))
    lines = printed.splitlines()
    assert lines[0] == shown
    assert lines[1] == f"[bold]{shown}[/]"
    assert f"│ {shown}" in printed
    assert "\x1b" not in printed  # no escape sequence reaches the terminal, no OSC 8 link


@pytest.mark.parametrize("text", [t for _, t, _ in HOSTILE], ids=[n for n, *_ in HOSTILE])
def test_plain_keeps_no_control_character(text: str) -> None:
    kept = plain(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in kept)
    assert not set(kept) & set("\u202e\u2066\u2069\u2028")


def test_inert_takes_any_object_and_keeps_its_style() -> None:
    text = inert(3, "red")
    assert text.plain == "3"
    assert str(text.style) == "red"
