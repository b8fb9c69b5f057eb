"""Every YAML file cvid reads from outside goes through :mod:`cvid._yaml`.

A file nested past :data:`cvid._yaml.MAX_DEPTH`, or holding a character YAML does not
allow, is refused with the reader's own error type (a :class:`cvid.errors.Error`)
naming the line and column: never a bare ``yaml`` error or a ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cvid import _yaml
from cvid import agreement as ag
from cvid.errors import AgreementError, Error, ReferenceDataError, RoadmapError, ScenarioError
from cvid.reference import load_cica, load_zones
from cvid.sim import scenario as sc

# Far past the bound, and past Python's recursion limit for a loader without one.
DEEP = "a:\n  b: " + "[" * 5000 + "]" * 5000 + "\n"
BAD_CHARACTER = "a: 1\nb: \x07\n"  # line 2, column 4


def _history(path: Path) -> None:
    made = ag.create_from_template(path.parent / "ag", "dprk-phased", adopt_at=None)
    try:
        ag.replay_history(made, path)
    finally:
        made.close()


READERS: dict[str, tuple[Callable[[Path], Any], type[Error]]] = {
    "scenario": (sc.load, ScenarioError),
    "zones": (load_zones, ReferenceDataError),
    "cica": (load_cica, ReferenceDataError),
    "road map, keyless": (ag.read_keyless, RoadmapError),
    "history": (_history, AgreementError),
}


@pytest.mark.parametrize("reader", READERS)
def test_deep_nesting_is_refused_with_the_readers_error(reader: str, tmp_path: Path) -> None:
    read, error = READERS[reader]
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP, "utf-8")
    with pytest.raises(error) as caught:
        read(path)
    assert f"nested more than {_yaml.MAX_DEPTH} deep" in str(caught.value)
    assert f"{path}:2:" in str(caught.value)


@pytest.mark.parametrize("reader", READERS)
def test_a_bad_character_is_refused_at_its_line_and_column(reader: str, tmp_path: Path) -> None:
    read, error = READERS[reader]
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CHARACTER, "utf-8")
    with pytest.raises(error) as caught:
        read(path)
    assert f"{path}:2:4: malformed YAML: character #x0007 is not allowed" in str(caught.value)


def test_a_scenario_as_text_is_bounded_too() -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:2:.*nested more than"):
        sc.loads(DEEP, name="s.yaml")
