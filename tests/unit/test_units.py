"""cvid.units: reading units, converting values, the domain counts; any text is either a
unit or a UnitError, never another exception."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys

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


@pytest.mark.parametrize("text", sorted(units.KNOWN))
def test_a_known_unit_is_one_pint_reads(text: str) -> None:
    """Naming a unit of KNOWN skips pint: each must be one pint reads, as itself."""
    unit = units._parse(text)  # pint's reading; raises if it does not know the unit
    assert units.convert(2.5, text, text) == 2.5
    assert units.convertible(text, text)
    assert unit is not None


def test_a_unit_of_known_needs_no_pint_until_a_conversion() -> None:
    code = (
        "import sys; from cvid import units; units.check_unit('kg'); "
        "assert units.convert(3.0, 'kg', 'kg') == 3.0; assert 'pint' not in sys.modules; "
        "assert units.convert(1500, 'g', 'kg') == 1.5; assert 'pint' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())
