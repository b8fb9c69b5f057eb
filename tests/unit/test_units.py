"""cvid.units: reading units, converting values, the domain counts; any text is either a
unit or a UnitError, never another exception."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvid import units
from cvid.errors import InputError


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1500, "g", "kg", 1.5),
        (0.3, "t", "kg", 300),
        (4.5, "%", "fraction", 0.045),
        (0.0367, "fraction", "percent", 3.67),
        (3, "warheads", "warhead", 3),
        (1044, "centrifuges", "centrifuge", 1044),
        (2, "tSWU", "SWU", 2000),
        (7, "kg", "kg", 7),
    ],
)
def test_convert(value: float, source: str, target: str, expected: float) -> None:
    assert units.convert(value, source, target) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("source", "target"),
    [("kg", "%"), ("warhead", "launcher"), ("missile", "test"), ("centrifuge", "count")],
)
def test_other_dimensions_do_not_convert(source: str, target: str) -> None:
    assert not units.convertible(source, target)
    with pytest.raises(units.UnitError, match="cannot be converted"):
        units.convert(1, source, target)


@pytest.mark.parametrize("text", ["", " ", "bananas", "kg of UF6", "3 kg", "kg**", "__import__"])
def test_unknown_units(text: str) -> None:
    with pytest.raises(units.UnitError):
        units.check_unit(text)
    assert issubclass(units.UnitError, InputError)


@given(st.text(max_size=80))
def test_any_text_is_a_unit_or_a_unit_error(text: str) -> None:
    with contextlib.suppress(units.UnitError):
        units.check_unit(text)


PAIRS = [("g", "kg"), ("%", "fraction"), ("t", "g"), ("SWU", "tSWU"), ("warheads", "warhead")]


@given(
    pair=st.sampled_from(PAIRS),
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
)
def test_conversion_round_trips(pair: tuple[str, str], value: float) -> None:
    source, target = pair
    back = units.convert(units.convert(value, source, target), target, source)
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-12)
