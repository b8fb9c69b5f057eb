"""Calendar arithmetic and zones (cvid.calendar): months, years, days across DST,
the end of a day in a zone, and the rule that closes a window of whole days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvid import calendar
from tests.kit import at

NY = "America/New_York"
ZONES = ["UTC", NY, "Europe/Vienna", "Asia/Tehran", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


@pytest.mark.parametrize(
    ("date", "months", "expected"),
    [
        (dt.date(2027, 1, 31), 1, dt.date(2027, 2, 28)),  # clamped to the month's end
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),  # a year from 29 Feb
        (dt.date(2027, 3, 31), -1, dt.date(2027, 2, 28)),
        (dt.date(2027, 11, 15), 3, dt.date(2028, 2, 15)),  # across a year end
        (dt.date(2027, 5, 31), 1, dt.date(2027, 6, 30)),
    ],
)
def test_add_months(date: dt.date, months: int, expected: dt.date) -> None:
    assert calendar.add_months(date, months) == expected


def test_add_years_and_months_together() -> None:
    # JCPOA: Adoption Day 18 Oct 2015 (15:00 UTC) + 8 years = Transition Day 18 Oct 2023.
    adoption = at("2015-10-18T15:00:00")
    assert calendar.add(adoption, years=8) == at("2023-10-18T15:00:00")
    assert calendar.add(adoption, years=10) == at("2025-10-18T15:00:00")
    # Years and months first (29 Feb 2028 + 13 months = 29 Mar 2029), then days.
    assert calendar.add(at("2028-02-29T00:00:00"), years=1, months=1, days=1) == at(
        "2029-03-30T00:00:00"
    )
    # 31 Jan + 1 month + 1 day: 28 Feb, then 1 Mar (not 3 Mar).
    assert calendar.add(at("2027-01-31T00:00:00"), months=1, days=1) == at("2027-03-01T00:00:00")


def test_days_in_new_york_across_the_march_change() -> None:
    # 8 Mar 2026: clocks in New York go from 02:00 EST to 03:00 EDT. Noon EST on 7 Mar
    # plus 2 days is noon EDT on 9 Mar: 47 hours later, not 48.
    noon_est = dt.datetime(2026, 3, 7, 12, tzinfo=ZoneInfo(NY))
    later = calendar.add(noon_est, days=2, zone_name=NY)
    assert later.astimezone(ZoneInfo(NY)).replace(tzinfo=None) == dt.datetime(2026, 3, 9, 12)
    assert later - noon_est == dt.timedelta(hours=47)
    # In UTC the same two days are 48 hours.
    assert calendar.add(noon_est, days=2) - noon_est == dt.timedelta(hours=48)


def test_end_of_day_in_a_zone() -> None:
    assert calendar.end_of_day(dt.date(2025, 9, 27), "UTC") == at("2025-09-28T00:00:00")
    # In New York (EDT, UTC-4) 27 Sep ends at 04:00 UTC on 28 Sep.
    assert calendar.end_of_day(dt.date(2025, 9, 27), NY) == at("2025-09-28T04:00:00")
    # The day of the March change has 23 hours.
    day = dt.date(2026, 3, 8)
    assert calendar.end_of_day(day, NY) - calendar.start_of_day(day, NY) == dt.timedelta(hours=23)


@pytest.mark.parametrize("hour", [0, 9, 15, 23])
def test_the_2231_window_closes_at_00_00_gmt_on_28_september(hour: int) -> None:
    # Notice received 28 Aug 2025, at any hour: 28 Aug + 30 days = 27 Sep; the window
    # closes when 27 Sep ends in GMT, 00:00 GMT 28 Sep = 20:00 EDT 27 Sep.
    notice = at(f"2025-08-28T{hour:02}:00:00")
    closes = calendar.window_end(notice, 30, "UTC")
    assert closes == at("2025-09-28T00:00:00")
    assert closes.astimezone(ZoneInfo(NY)).isoformat() == "2025-09-27T20:00:00-04:00"


def test_a_window_counted_in_another_zone() -> None:
    # 02:00 UTC on 28 Aug is still 27 Aug in New York: the window counts from that date.
    closes = calendar.window_end(at("2025-08-28T02:00:00"), 30, NY)
    assert closes == calendar.end_of_day(dt.date(2025, 9, 26), NY)


def test_an_unknown_zone() -> None:
    with pytest.raises(calendar.ZoneError, match="unknown time zone 'Mars/Olympus'"):
        calendar.zone("Mars/Olympus")


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(8999, 1, 1))
# Since 1995: Pacific/Kiritimati skipped 31 Dec 1994 altogether (UTC-10 to UTC+14), a
# day that neither starts nor ends.
recent = st.datetimes(
    min_value=dt.datetime(1995, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
recent_dates = st.dates(min_value=dt.date(1995, 1, 2), max_value=dt.date(8999, 1, 1))
moments = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)


@given(dates, dates, st.integers(0, 1200))
def test_adding_months_is_monotonic(a: dt.date, b: dt.date, months: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert calendar.add_months(lo, months) <= calendar.add_months(hi, months)
    assert calendar.add_months(lo, months) >= lo


@given(moments, moments, st.integers(0, 1200), st.integers(0, 100), st.integers(0, 3650))
def test_adding_a_duration_in_utc_is_monotonic(
    a: dt.datetime, b: dt.datetime, months: int, years: int, days: int
) -> None:
    lo, hi = min(a, b), max(a, b)
    lo2 = calendar.add(lo, days=days, months=months, years=years)
    hi2 = calendar.add(hi, days=days, months=months, years=years)
    assert lo <= lo2 <= hi2


@given(recent_dates, st.sampled_from(ZONES))
def test_a_date_in_a_zone_ends_after_its_utc_start(date: dt.date, zone: str) -> None:
    end = calendar.end_of_day(date, zone)
    # Never before the UTC start of the local date, never past the end of the next UTC day.
    assert (
        calendar.start_of_day(date, "UTC")
        < end
        <= calendar.start_of_day(date + dt.timedelta(days=2), "UTC")
    )
    # The last instant before the end is still on that date there.
    assert calendar.local_date(end - dt.timedelta(microseconds=1), zone) == date
    assert calendar.local_date(end, zone) == date + dt.timedelta(days=1)


@given(recent, st.integers(1, 3650), st.sampled_from(ZONES))
def test_a_window_lasts_its_days(opened: dt.datetime, days: int, zone: str) -> None:
    closes = calendar.window_end(opened, days, zone)
    last = calendar.local_date(opened, zone) + dt.timedelta(days=days)
    # It closes when the last day ends there: the instant before is still that day.
    assert calendar.local_date(closes - dt.timedelta(microseconds=1), zone) == last
    assert calendar.local_date(closes, zone) == last + dt.timedelta(days=1)
    # Whole days from the notice's date: at least N days (give or take a DST hour),
    # at most N + 1.
    assert opened + dt.timedelta(days=days, hours=-1) <= closes
    assert closes <= opened + dt.timedelta(days=days + 1, hours=1)
