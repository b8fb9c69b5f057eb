"""Reading a moment a person typed: a date (midnight UTC) or RFC 3339 with an offset."""

from __future__ import annotations

import datetime as dt

from cvid.errors import InputError


def parse_when(text: str, what: str = "time") -> dt.datetime:
    """Read a date (midnight UTC) or an RFC 3339 time with an offset or ``Z``.

    Raises:
        InputError: anything else, including a time without an offset.
    """
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as e:
        raise InputError(f"{what} {text!r} is not a date or an RFC 3339 time") from e
    if when.tzinfo is None:
        raise InputError(f"{what} {text!r} has no time zone; add 'Z' for UTC")
    return when.astimezone(dt.UTC)
