"""Calendar arithmetic and time zones: the one place where dates become instants.

A road map speaks in dates ("by 31 August 2026", "from 1 January") and durations
("90 days", "3 months", "8 years"); the engine works in UTC instants. A date-only
moment is read in the road map's time zone (an IANA name, ``UTC`` by default): a
deadline on a date ends when that day ends there, a term that starts on a date
starts when that day starts there. Months and years are calendar months and years
counted on the local date (31 January + 1 month = 28 or 29 February). Pure: zone data
comes from the IANA database, nothing reads the clock.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import functools
import zoneinfo

from cvid.errors import InputError


class ZoneError(InputError):
    """A time zone name that is not in the IANA database."""


@functools.cache
def zone(name: str) -> dt.tzinfo:
    """The time zone named ``name`` (``UTC`` or an IANA name such as ``America/New_York``).

    Raises:
        ZoneError: no such zone.
    """
    if name == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ZoneError(f"unknown time zone {name!r} (an IANA name such as 'Europe/Vienna')") from e


def start_of_day(date: dt.date, zone_name: str = "UTC") -> dt.datetime:
    """The instant (UTC) at which ``date`` begins in the zone."""
    local = dt.datetime.combine(date, dt.time(), tzinfo=zone(zone_name))
    return local.astimezone(dt.UTC)


def end_of_day(date: dt.date, zone_name: str = "UTC") -> dt.datetime:
    """The instant (UTC) at which ``date`` ends in the zone: the next day's start."""
    return start_of_day(date + dt.timedelta(days=1), zone_name)


def local_date(moment: dt.datetime, zone_name: str = "UTC") -> dt.date:
    """The date it is in the zone at ``moment``."""
    return moment.astimezone(zone(zone_name)).date()


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` plus whole calendar months; a day past the month's end becomes its last day."""
    month0 = date.month - 1 + months
    year, month = date.year + month0 // 12, month0 % 12 + 1
    return date.replace(year=year, month=month, day=min(date.day, _cal.monthrange(year, month)[1]))


def add(
    moment: dt.datetime, *, days: int = 0, months: int = 0, years: int = 0, zone_name: str = "UTC"
) -> dt.datetime:
    """``moment`` plus a duration: years and months first, on the local calendar (the
    local time of day kept; 31 January + 1 month = 28 or 29 February), then days as
    whole local days (a day across a daylight-saving change is still a day)."""
    tz = zone(zone_name)
    local = moment.astimezone(tz)
    date = add_months(local.date(), months + 12 * years) + dt.timedelta(days=days)
    return dt.datetime.combine(date, local.time().replace(tzinfo=None), tzinfo=tz).astimezone(
        dt.UTC
    )


def window_end(opened: dt.datetime, days: int, zone_name: str = "UTC") -> dt.datetime:
    """When a window of ``days`` whole days opened at ``opened`` closes.

    The rule (UNSCR 2231 ¶11-12 as the Council applied it in 2025): take the date on
    which the window opened, in the window's zone; count ``days`` calendar days on
    from it; the window closes when that day ends in that zone. A notice received on
    28 Aug 2025 (any hour, UTC) with 30 days: 28 Aug + 30 days = 27 Sep, which ends
    at 2025-09-28T00:00Z, the instant the sanctions returned (20:00 EDT 27 Sep).
    """
    return end_of_day(local_date(opened, zone_name) + dt.timedelta(days=days), zone_name)
