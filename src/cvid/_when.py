"""Reading a moment a person typed: a date (midnight UTC) or RFC 3339 with an offset."""

from __future__ import annotations

import datetime as dt

from cvid.errors import InputError

EARLIEST, LATEST = 1900, 9000  # what a road map's history and its deadlines can need


def parse_when(text: str, what: str = "time") -> dt.datetime:
    """Read a date (midnight UTC) or an RFC 3339 time with an offset or ``Z``.

    Raises:
        InputError: anything else, a time without an offset, or a year outside
            1900-9000.
    """
    try:
        if len(text) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        elif len(text) > 40:
            raise ValueError("too long")
        else:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if when.tzinfo is None:
                raise InputError(f"{what} {text!r} has no time zone; add 'Z' for UTC")
            when = when.astimezone(dt.UTC)
    except (ValueError, OverflowError) as e:
        raise InputError(f"{what} {text[:64]!r} is not a date or an RFC 3339 time") from e
    if not EARLIEST <= when.year <= LATEST:
        raise InputError(f"{what} {text!r} is not between {EARLIEST} and {LATEST}")
    return when
