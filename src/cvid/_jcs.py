"""Canonical JSON (RFC 8785, JCS) and a strict JSON reader.

Everything cvid signs or hashes as JSON goes through :func:`canonical`, the one
function that makes those bytes. :func:`parse_json` is the matching reader: it
refuses what JCS cannot represent or what could be read two ways (duplicate
keys, NaN and infinities, integers beyond IEEE 754 precision, invalid UTF-8).
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

from cvid.errors import JSONFormatError

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 §3.2.2.3: numbers are IEEE 754 doubles


def canonical(value: Any) -> bytes:
    """Return the RFC 8785 canonical bytes of a JSON value.

    Raises:
        JSONFormatError: the value holds something JCS cannot represent.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as e:
        raise JSONFormatError(f"cannot canonicalise: {e}") from e
    except UnicodeEncodeError as e:  # rfc8785 sorts keys by UTF-16: a lone surrogate key
        raise JSONFormatError("cannot canonicalise: a key is not valid Unicode") from e


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JSONFormatError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise JSONFormatError(f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONFormatError(f"number {text} is beyond the range of a double")
    return value


def _integer(text: str) -> int:
    # Checked before int(): past 4,300 digits int() raises ValueError (CPython's limit).
    if len(text.lstrip("-")) > len(str(MAX_SAFE_INTEGER)):
        shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"
        raise JSONFormatError(f"integer {shown} is beyond ±2^53-1")
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise JSONFormatError(f"integer {text} is beyond ±2^53-1")
    return value


def parse_json(data: bytes, *, what: str = "JSON") -> Any:
    """Parse strict JSON from UTF-8 bytes.

    Raises:
        JSONFormatError: not UTF-8, not JSON, a duplicate key, NaN or an unsafe integer.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JSONFormatError(f"{what} is not UTF-8") from e
    try:
        return json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_int=_integer,
            parse_float=_float,
        )
    except JSONFormatError as e:
        raise JSONFormatError(f"{what}: {e}") from e
    except (json.JSONDecodeError, RecursionError) as e:
        raise JSONFormatError(f"{what} is not valid JSON: {e}") from e
