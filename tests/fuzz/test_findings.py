"""Regression tests for the findings of the fuzzing campaign, each with its reproducer.

Every refusal of outside bytes must be a :class:`cvid.errors.Error` (over HTTP, a 4xx);
each of these inputs once escaped as something else (see docs/fuzzing.md, Findings).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cvid.cli.escrow import _read_items, _read_partition
from cvid.errors import EventRejectedError, InputError, RoadmapError
from cvid.events.envelope import SignedEvent
from cvid.roadmap import loader
from tests.fuzz.targets import Refused, open_service_http

NESTED = "[" * 600 + "]" * 600  # PyYAML composes nested nodes recursively
LONG_INTEGER = "1" * 5000  # past CPython's 4,300-digit limit on int(str)


def _starts(text: str) -> str:
    """A ``match`` pattern: the message starts with ``text``."""
    return "^" + re.escape(text)


def _shallow(call: Callable[[], object]) -> None:
    """Run ``call``; a RecursionError is raised again without its thousand frames."""
    try:
        call()
    except RecursionError as e:
        raise RecursionError(str(e)) from None


# --- finding 1: a JSON integer of more than 4,300 digits (_jcs.py) ------------------------


def test_integer_of_5000_digits_is_bad_json() -> None:
    with pytest.raises(EventRejectedError):
        SignedEvent.from_bytes(b'{"event":' + LONG_INTEGER.encode() + b"}")


def test_event_api_refuses_a_5000_digit_integer_with_a_400() -> None:
    with open_service_http() as run, pytest.raises(Refused):
        run(("event", ("bytes", b'{"event":' + LONG_INTEGER.encode() + b"}")))


# --- finding 2: an entry nested 5,000 deep (service/core.py _claimed_party) --------------


@pytest.mark.parametrize("kind", ["event", "batch"])
def test_deeply_nested_event_is_refused_with_a_400(kind: str) -> None:
    entry = ("bytes", b"[" * 5000)
    with open_service_http() as run, pytest.raises(Refused):
        _shallow(lambda: run(("event", entry) if kind == "event" else ("batch", [entry], b"")))


# --- finding 3: YAML errors in escrow item files and partitions (cli/escrow.py) ----------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {id: [\n", ":2:1: malformed YAML: expected the node content"),
        ("- !foo {}\n", ":1:3: malformed YAML: could not determine a constructor"),
        ("- *a\n", ":1:3: malformed YAML: found undefined alias 'a'"),
        ("- a\n\x00", ":2:1: malformed YAML: character #x0000 is not allowed"),
        ("- {id: w-1, category: warhead, cell: 2027-13-45}\n", ":1:38: malformed YAML: not a date"),
        (f"- {LONG_INTEGER}\n", ":1:3: malformed YAML: an integer of 5000 characters"),
        (NESTED, ":1:101: malformed YAML: nested more than 100 deep"),
    ],
    ids=["syntax", "tag", "alias", "nul", "date", "integer", "nested"],
)
@pytest.mark.parametrize("read", [_read_items, _read_partition], ids=["items", "partition"])
def test_malformed_yaml_item_file_is_an_input_error(
    tmp_path: Path, read: Callable[[Path], object], text: str, message: str
) -> None:
    path = tmp_path / "items.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=_starts(f"{path}{message}")):
        _shallow(lambda: read(path))


# --- finding 4: a CSV row with more fields than the header (cli/escrow.py) ---------------


def test_csv_row_with_extra_fields_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,category,cell\nw-1,warhead,yongbyon,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match=_starts(f"{path}:2: more fields than the header")):
        _read_items(path)


# --- finding 5: road maps (roadmap/loader.py) ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [("\x00", "1:1"), ("cvid_roadmap: 1\nagreement: \x07\n", "2:12"), ("a: \ud800\n", "1:4")],
    ids=["nul", "bel", "surrogate"],
)
def test_roadmap_with_a_control_character_is_a_roadmap_error(text: str, where: str) -> None:
    with pytest.raises(RoadmapError, match=_starts(f"<road map>:{where}: malformed YAML: char")):
        loader.loads(text)


def test_deeply_nested_roadmap_is_a_roadmap_error() -> None:
    with pytest.raises(RoadmapError, match=_starts("<road map>:1:101: malformed YAML: nested")):
        _shallow(lambda: loader.loads(NESTED))


@pytest.mark.parametrize("day", ["2027-02-30", "2027-13-45"])
def test_impossible_date_in_a_roadmap_is_a_roadmap_error(day: str) -> None:
    with pytest.raises(RoadmapError, match=_starts(f"<road map>:3:10: not a date: {day}") + "$"):
        loader.loads(f"cvid_roadmap: 1\nagreement:\n  start: {day}\n")


def test_integer_of_5000_digits_in_a_roadmap_is_a_roadmap_error() -> None:
    with pytest.raises(RoadmapError, match=_starts("<road map>:1:4: an integer of 5000 char")):
        loader.loads(f"a: {LONG_INTEGER}\n")
