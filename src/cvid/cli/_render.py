"""Make outside text inert before Rich prints it.

Logged notes, reasons, titles and ids come from the parties (and road-map authors),
not from us: printed as Rich markup, ``[/]`` crashes the command, ``[link=…]`` becomes
a hyperlink, and an ESC sequence retitles or recolours the reader's terminal. Every
such string reaches a Rich console or table as :func:`inert` text: a ``rich.text.Text``
(never parsed as markup) without control characters. This module does not decide
what is printed, only how safely.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls, DEL, and the Unicode bidirectional controls (LRM/RLM, embeddings,
# overrides, isolates, ALM): each can make the printed text differ from the logged text.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Line breaks are shown as spaces: a note must not fake a line of the report.
_BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")


def plain(text: str) -> str:
    """``text`` without control characters (line breaks and tabs become one space)."""
    return _CONTROLS.sub("", _BREAKS.sub(" ", text))


def inert(text: object, style: str = "") -> Text:
    """``text`` (or ``str(text)``) as Rich text printed literally, in ``style``.

    Brackets, backslashes and anything that looks like markup are shown as they are;
    control characters are removed (see :func:`plain`).
    """
    return Text(plain(str(text)), style=style)
