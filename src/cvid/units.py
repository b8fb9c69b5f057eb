"""Units of measured quantities: the one place where a unit is read and converted.

A limit in a road map and the values declared and measured against it each carry a
unit as text (``kg``, ``t``, ``%``, ``centrifuges``, ``SWU``). This module reads them
with `pint <https://pint.readthedocs.io>`_ and converts values between units of the
same dimension (``g`` → ``kg``, ``%`` → ``fraction``). Besides pint's units it knows
the counts arms control speaks of, each its own dimension so that a number of
warheads never converts to a number of launchers: ``centrifuge``, ``warhead``,
``launcher``, ``missile``, ``test`` (plurals are read too), and separative work in
``SWU``. pint is imported on first use, so a road map without limits loads without it;
nor is it for the common units of :data:`KNOWN` (that pint reads: a test checks each)
while nothing is converted from one unit to another.
Pure: no I/O beyond pint's own definitions, no clock.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from cvid.errors import InputError

DOMAIN_UNITS = (
    "centrifuge = [centrifuge]",
    "warhead = [warhead]",
    "launcher = [launcher]",
    "missile = [missile]",
    "test = [nuclear_test]",
    "SWU = [separative_work] = swu",
    "tSWU = 1000 * SWU",
    "fraction = 1",
)
"""Units pint lacks, defined here once: counts of things, separative work, a fraction."""


KNOWN = frozenset(
    {"kg", "g", "t", "%", "fraction", "count", "SWU", "tSWU"}
    | {
        f"{thing}{s}"
        for thing in ("centrifuge", "warhead", "launcher", "missile", "test")
        for s in ("", "s")
    }
)
"""Units known to be read by pint (the common ones of road maps): naming one needs no pint."""


class UnitError(InputError):
    """A unit that is not known, or a value that cannot be expressed in another unit."""


@functools.cache
def _registry() -> Any:
    import pint  # heavy (about a second): only road maps with limits need it

    registry: Any = pint.UnitRegistry(on_redefinition="raise", cache_folder=None)
    for definition in DOMAIN_UNITS:
        registry.define(definition)
    return registry


_UNIT_TEXT = re.compile(r"^[A-Za-z_%][A-Za-z0-9_% ./*^-]{0,63}$")


@functools.cache
def _parse(text: str) -> Any:
    if not text.strip():
        raise UnitError("a unit is needed (e.g. 'kg', '%', 'centrifuges', 'count')")
    if not _UNIT_TEXT.match(text):
        raise UnitError(f"unknown unit {text[:64]!r}")
    try:
        unit = _registry().parse_units(text)
    except Exception as e:  # pint's parser raises assorted errors on malformed text
        raise UnitError(f"unknown unit {text!r}") from e
    return unit


def check_unit(text: str) -> None:
    """Raise unless ``text`` names a unit.

    Raises:
        UnitError: unknown or malformed unit.
    """
    if text not in KNOWN:
        _parse(text)


def convertible(source: str, target: str) -> bool:
    """Whether a value in ``source`` can be expressed in ``target`` (same dimension).

    Raises:
        UnitError: either unit is unknown.
    """
    if source == target and source in KNOWN:
        return True
    return bool(_parse(source).dimensionality == _parse(target).dimensionality)


def convert(value: float, source: str, target: str) -> float:
    """``value`` in ``source`` expressed in ``target``: ``convert(1500, "g", "kg") == 1.5``.

    Raises:
        UnitError: either unit is unknown, or the two have different dimensions.
    """
    if not convertible(source, target):
        raise UnitError(
            f"{source!r} cannot be converted to {target!r} "
            f"({_dimension(source)} is not {_dimension(target)})"
        )
    if source == target:
        return value
    registry = _registry()
    return float(registry.Quantity(value, _parse(source)).to(_parse(target)).magnitude)


def _dimension(text: str) -> str:
    dimensionality = _parse(text).dimensionality
    return str(dimensionality) if dimensionality else "a pure number"
