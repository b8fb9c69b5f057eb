"""Mutation strategies: valid samples, changed a few times, so that fuzzing goes deep.

Random bytes stop at a parser's first check. These strategies start from valid inputs
(seeds) and apply a few edits of the kinds that find parser bugs: flipped bits, cut or
repeated ranges, spliced seeds, and tokens a grammar gives a meaning to (separators,
signs, huge numbers, odd Unicode). Every choice is drawn from hypothesis, so a failing
input shrinks and replays like any other example.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

# Tokens that mean something to the formats fuzzed here (notes, checkpoints, JSON,
# YAML, CSV, tile paths) or that break naive code (huge numbers, lone surrogates).
TOKENS: tuple[bytes, ...] = (
    b"\n",
    b"\n\n",
    b"\r\n",
    b" ",
    b"\t",
    b"\x00",
    b"\x1b",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\x94 ",  # the signed-note em dash
    b"\xe2\x80\xa8",
    b"0",
    b"-1",
    b"+1",
    b"00",
    b"18446744073709551615",
    b"18446744073709551616",
    b"9" * 5000,
    b"1e999",
    b"NaN",
    b"-0.0",
    b"x000/",
    b"x999/",
    b".p/",
    b"/",
    b"=",
    b"==",
    b"+",
    b"AAAA",
    b"old ",
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"- ",
    b": ",
    b"&a ",
    b"*a",
    b"!!python/object:object {}",
    b"!!binary AAAA",
    b"<<: ",
    b"? ",
    b"|\n",
    b"#",
    b"...\n",
    b"---\n",
    b"2027-13-45",
    b"1970-01-01T00:00:00Z",
    b"9999-12-31T23:59:59Z",
)

_EDITS = ("flip", "delete", "duplicate", "insert", "replace", "splice", "truncate", "swap", "grow")

# Strategies built once: building one per draw costs more than drawing from it.
_ANY = st.integers(0, 2**16)
_EDIT = st.sampled_from(_EDITS)
_TOKEN = st.sampled_from(TOKENS)
_BIT = st.integers(0, 7)
_BYTE = st.integers(0, 255)
_SPAN = st.integers(0, 64)
_REPEAT = st.integers(1, 80)
_MANY = st.integers(100, 3000)  # past limits such as int()'s 4,300 digits
_FEW = st.integers(1, 3)
_NOISE = st.binary(max_size=512)


def _pick(draw: st.DrawFn, bound: int) -> int:
    """A number in ``[0, bound)`` (``bound`` > 0), from one cached strategy."""
    return draw(_ANY) % bound


@st.composite
def mutated_bytes(
    draw: st.DrawFn, seeds: Sequence[bytes], *, max_edits: int = 4, raw: int = 50
) -> bytes:
    """A seed after up to ``max_edits`` edits (sometimes none, sometimes pure noise).

    Args:
        seeds: valid inputs to start from; read at each draw, so a caller may refill it.
        max_edits: the most edits applied to one seed.
        raw: one input in ``raw`` is random bytes instead.
    """
    if _pick(draw, raw) == 0:
        return draw(_NOISE)
    data = bytearray(seeds[_pick(draw, len(seeds))])
    for _ in range(_pick(draw, max_edits + 1)):
        edit = draw(_EDIT)
        size = len(data)
        at = _pick(draw, size + 1)
        if edit == "flip" and size:
            data[min(at, size - 1)] ^= 1 << draw(_BIT)
        elif edit == "delete":
            del data[at : at + draw(_SPAN)]
        elif edit == "duplicate":
            data[at:at] = data[at : at + draw(_SPAN)] * draw(_REPEAT)
        elif edit == "insert":
            data[at:at] = draw(_TOKEN) * draw(_FEW)
        elif edit == "replace" and size:
            data[min(at, size - 1)] = draw(_BYTE)
        elif edit == "splice":
            other = seeds[_pick(draw, len(seeds))]
            data = data[:at] + bytearray(other[_pick(draw, len(other) + 1) :])
        elif edit == "truncate":
            del data[at:]
        elif edit == "grow":
            data[at:at] = data[at : at + 1 + draw(_SPAN)] * draw(_MANY)
        elif edit == "swap" and size > 1:
            other_at, at = _pick(draw, size), min(at, size - 1)
            data[at], data[other_at] = data[other_at], data[at]
    return bytes(data)


def mutated_text(seeds: Sequence[str], *, max_edits: int = 4) -> st.SearchStrategy[str]:
    """Like :func:`mutated_bytes`, decoded (invalid UTF-8 replaced) for str parsers."""
    encoded = [s.encode("utf-8") for s in seeds]
    return mutated_bytes(encoded, max_edits=max_edits).map(
        lambda b: b.decode("utf-8", "surrogateescape")
    )


# --- structure-aware: JSON values ----------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**53, 2**64, 10**400, -(10**30)]),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["", "\x00", "\ud800", "é", "A" * 300, "2027-01-05T00:00:00Z", "dprk"]),
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


_ACTION = st.sampled_from(("replace", "replace", "drop", "add", "copy"))
_KEY = st.text(max_size=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found.extend(_paths(item, (*prefix, n)))
    return found


@st.composite
def mutated_json(draw: st.DrawFn, seeds: Sequence[Any], *, max_edits: int = 3) -> Any:
    """A JSON seed (a deep copy) with values replaced, keys dropped or keys added."""
    value = json.loads(json.dumps(seeds[_pick(draw, len(seeds))]))
    for _ in range(_pick(draw, max_edits + 1)):
        paths = _paths(value)
        path = paths[_pick(draw, len(paths))]
        if not path:
            if _pick(draw, 10) == 0:
                value = draw(JSON_VALUES)
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(_ACTION)
        if action == "replace":
            parent[last] = draw(JSON_VALUES)
        elif action == "drop":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(_KEY)] = draw(JSON_VALUES)
        elif action == "add":
            parent.insert(last, draw(JSON_VALUES))
        elif action == "copy":
            other = paths[_pick(draw, len(paths))]
            source: Any = value
            for step in other:
                source = source[step]
            if source is not parent:
                parent[last] = json.loads(json.dumps(source))
    return value


# --- derived inputs: cheap neighbours of a hypothesis example --------------------------


def mutate_once(data: bytes, rng: random.Random) -> bytes:
    """``data`` after one or two random edits, drawn from ``rng`` (no hypothesis).

    The campaign runs a few of these around each hypothesis example: drawing from
    hypothesis costs milliseconds, far more than the parsers it feeds.
    """
    out = bytearray(data)
    for _ in range(rng.randint(1, 2)):
        at = rng.randint(0, len(out))
        edit = rng.randrange(5)
        if edit == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif edit == 1:
            del out[at : at + rng.randint(1, 16)]
        elif edit == 2:
            out[at:at] = rng.choice(TOKENS)
        elif edit == 3:
            out[at:at] = out[at : at + rng.randint(1, 32)] * rng.randint(1, 4)
        else:
            out[at:at] = bytes([rng.randrange(256)])
    return bytes(out)


def derive(data: Any, rng: random.Random) -> Any:
    """A neighbour of a target's input: bytes, str, or a ``(kind, bytes)`` pair."""
    if isinstance(data, bytes):
        return mutate_once(data, rng)
    if isinstance(data, str):
        encoded = data.encode("utf-8", "surrogateescape")
        return mutate_once(encoded, rng).decode("utf-8", "surrogateescape")
    kind, raw = data
    return kind, mutate_once(raw, rng)
