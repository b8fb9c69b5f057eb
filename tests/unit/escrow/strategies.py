"""Declarations for the escrow tests: hypothesis strategies and a seeded RNG."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from cvid.escrow.commit import Escrow, Item, Partition, commit

RandomBytes = Callable[[int], bytes]

scalars = st.one_of(
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not (f.is_integer() and 2**53 <= abs(f) < 1e21)  # refused: see Item
    ),
    st.text(max_size=6),
)
attributes = st.dictionaries(st.sampled_from(["mass", "count", "site", "a.b", "z-9"]), scalars)


def seeded(seed: int = 7) -> RandomBytes:
    """Deterministic bytes, so that a failing example replays exactly."""
    return random.Random(seed).randbytes


@st.composite
def declarations(
    draw: st.DrawFn, max_cells: int = 6, max_items: int = 24
) -> tuple[Partition, list[Item]]:
    """A partition whose order is not alphabetical, and items in some of its cells."""
    count = draw(st.integers(1, max_cells))
    names = draw(st.permutations([f"cell-{n}" for n in range(count)]))
    partition = Partition(tuple(names))
    numbers = draw(st.lists(st.integers(0, 999), max_size=max_items, unique=True))
    items = [
        Item(
            f"it-{n}",
            draw(st.sampled_from(["warhead", "reactor", "missile"])),
            draw(st.sampled_from(names)),
            draw(attributes),
        )
        for n in numbers
    ]
    return partition, items


def escrow_of(partition: Partition, items: list[Item], seed: int = 7) -> Escrow:
    return commit(items, partition, random_bytes=seeded(seed))
