"""Findings of the fuzzing campaign in code this package does not own, as failing tests.

Each is expected to fail (strict: once fixed, the test passes and the xfail must go,
with its entry in ``tests.fuzz.targets.KNOWN_FINDINGS``). Every refusal of outside
bytes must be a :class:`cvid.errors.Error`; these are not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cvid.cli.escrow import _read_items, _read_partition
from cvid.errors import EventRejectedError, InputError, RoadmapError
from cvid.events.envelope import SignedEvent
from cvid.roadmap import loader
from tests.fuzz.targets import Refused, ServerError, open_service_http


@pytest.mark.xfail(
    strict=True,
    raises=yaml.YAMLError,
    reason="roadmap/loader.py: _Reader(text) is built outside the try that translates "
    "YAML errors, so a character YAML refuses (NUL, BEL, a lone surrogate) escapes as "
    "yaml.reader.ReaderError instead of RoadmapError",
)
@pytest.mark.parametrize("text", ["\x00", "cvid_roadmap: 1\nagreement: \x07\n"])
def test_roadmap_with_a_control_character_is_a_roadmap_error(text: str) -> None:
    with pytest.raises(RoadmapError):
        loader.loads(text)


@pytest.mark.xfail(
    strict=True,
    raises=yaml.YAMLError,
    reason="cli/escrow.py _read_items: yaml.safe_load is not inside a try, so malformed "
    "YAML item files escape as yaml.YAMLError instead of InputError",
)
@pytest.mark.parametrize("text", ["- {id: [\n", "- !foo {}\n", "- a\n\x00"])
def test_malformed_yaml_item_file_is_an_input_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "items.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError):
        _read_items(path)


@pytest.mark.xfail(
    strict=True,
    raises=TypeError,
    reason="cli/escrow.py _number: a CSV row with more fields than the header gives "
    "csv.DictReader's None key a list, and int(list) raises TypeError, not ValueError",
)
def test_csv_row_with_extra_fields_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,category,cell\nw-1,warhead,yongbyon,extra\n", encoding="utf-8")
    with pytest.raises(InputError):
        _read_items(path)


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="_jcs.py _integer: int(text) on a JSON integer of more than 4,300 digits "
    "raises ValueError (Python's conversion limit), which parse_json does not translate "
    "to JSONFormatError; the event API answers it with a 500",
)
def test_integer_of_5000_digits_is_bad_json() -> None:
    with pytest.raises(EventRejectedError):
        SignedEvent.from_bytes(b'{"event":' + b"1" * 5000 + b"}")


@pytest.mark.xfail(
    strict=True,
    raises=ServerError,
    reason="the same _jcs.py finding over HTTP: POST /api/v1/events with a 5,000-digit "
    "integer is answered 503 store-unavailable ('the store failed: Exceeds the limit "
    "(4300 digits)'), not 400: the writer takes the ValueError for a store failure",
)
def test_event_api_refuses_a_5000_digit_integer_with_a_400() -> None:
    with open_service_http() as run, pytest.raises(Refused):
        run(("event", ("bytes", b'{"event":' + b"1" * 5000 + b"}")))


NESTED = "[" * 600 + "]" * 600  # PyYAML composes nested nodes recursively


def _shallow(call: Callable[[], object]) -> None:
    """Run ``call``; a RecursionError is raised again without its thousand frames."""
    try:
        call()
    except RecursionError as e:
        raise RecursionError(str(e)) from None


@pytest.mark.xfail(
    strict=True,
    raises=RecursionError,
    reason="roadmap/loader.py loads: deeply nested YAML raises RecursionError, which is "
    "not a yaml.YAMLError and is not translated to RoadmapError",
)
def test_deeply_nested_roadmap_is_a_roadmap_error() -> None:
    with pytest.raises(RoadmapError):
        _shallow(lambda: loader.loads(NESTED))


@pytest.mark.xfail(
    strict=True,
    raises=RecursionError,
    reason="cli/escrow.py _read_items and _read_partition: deeply nested YAML raises "
    "RecursionError, which neither translates to InputError",
)
@pytest.mark.parametrize("read", [_read_items, _read_partition], ids=["items", "partition"])
def test_deeply_nested_item_file_is_an_input_error(
    tmp_path: Path, read: Callable[[Path], object]
) -> None:
    path = tmp_path / "items.yaml"
    path.write_text(NESTED, encoding="utf-8")
    with pytest.raises(InputError):
        _shallow(lambda: read(path))


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="roadmap/loader.py: YAML's timestamp constructor raises ValueError on an "
    "impossible date (2027-02-30, 2027-13-45), which is not translated to RoadmapError",
)
@pytest.mark.parametrize("day", ["2027-02-30", "2027-13-45"])
def test_impossible_date_in_a_roadmap_is_a_roadmap_error(day: str) -> None:
    with pytest.raises(RoadmapError):
        loader.loads(f"cvid_roadmap: 1\nagreement:\n  start: {day}\n")


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="cli/escrow.py _read_items: YAML's timestamp constructor raises ValueError on "
    "an impossible date, which is not translated to InputError",
)
def test_impossible_date_in_an_item_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "items.yaml"
    path.write_text("- {id: w-1, category: warhead, cell: 2027-13-45}\n", encoding="utf-8")
    with pytest.raises(InputError):
        _read_items(path)


@pytest.mark.xfail(
    strict=True,
    raises=RecursionError,
    reason="service/core.py _claimed_party: json.loads of a refused entry nested 5,000 deep "
    "raises RecursionError (it catches ValueError only), which escapes the handler: an "
    "unhandled error and a 500 on POST /api/v1/events and /api/v1/events/batch",
)
@pytest.mark.parametrize("kind", ["event", "batch"])
def test_deeply_nested_event_is_refused_with_a_400(kind: str) -> None:
    entry = ("bytes", b"[" * 5000)
    with open_service_http() as run, pytest.raises(Refused):
        _shallow(lambda: run(("event", entry) if kind == "event" else ("batch", [entry], b"")))
