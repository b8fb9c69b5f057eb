"""Recurring obligations and quotas in the road map: load-time problems with their
positions, ``for_each`` expansion, and the calendar of occurrences (against a walk
through every day)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid import calendar
from cvid.errors import RoadmapError
from cvid.roadmap import loads
from cvid.roadmap import model as m
from cvid.roadmap.obligations import Recurrence, expand, period_bounds, period_of
from tests.kit import MINI, Kit
from tests.recurring_kit import recurring_data

TEXT = MINI.read_text(encoding="utf-8")

OBLIGATIONS = """\
obligations:
  - id: exchange
    title: Exchange of data
    for_each: [north, usa]
    action: Hand over the data
    every: {months: 6}
    from: {after: adoption}
    verification: {by: [iaea]}
  - id: report
    title: Report
    party: north
    action: Report
    on_dates: ["03-15", "09-15"]
inspection_types:
  - {id: type-one, title: Type one, by: [usa], of: [north]}
quotas:
  - {id: q, title: At most, party: usa, at_most: 3, types: [type-one]}
"""


def _load(extra: str) -> m.RoadMap:
    return loads(TEXT + extra, name="rm.yaml")


def _problems(old: str, new: str) -> list[str]:
    text = OBLIGATIONS.replace(old, new, 1)
    assert text != OBLIGATIONS, old
    with pytest.raises(RoadmapError) as info:
        _load(text)
    return info.value.problems


def _line_of(fragment: str, extra: str) -> int:
    whole = (TEXT + extra).splitlines()
    return next(n for n, line in enumerate(whole, 1) if fragment in line)


def test_the_example_loads_and_expands_per_party() -> None:
    roadmap = _load(OBLIGATIONS)
    duties = expand(roadmap)
    assert list(duties) == ["exchange.north", "exchange.usa", "report"]
    assert duties["exchange.usa"].party == "usa"
    assert duties["exchange.usa"].owed_to == ("north",)  # for_each: owed to the others
    assert duties["report"].owed_to == ()
    assert duties["exchange.north"].verifiers == ("iaea",)


def test_for_each_a_role_expands_to_every_party_holding_it() -> None:
    roadmap = _load(OBLIGATIONS.replace("for_each: [north, usa]", "for_each: {role: guarantor}"))
    assert [d.party for d in expand(roadmap).values() if d.declared == "exchange"] == [
        "usa",
        "chn",
    ]


@pytest.mark.parametrize(
    ("old", "new", "fragment", "said"),
    [
        (
            "for_each: [north, usa]",
            "for_each: [north, nobody]",
            "for_each: [north, nobody]",
            "'nobody' is not a party to the agreement",
        ),
        (
            "for_each: [north, usa]",
            "for_each: {role: witness}",
            "for_each: {role: witness}",
            "no party holds the role 'witness'",
        ),
        (
            "from: {after: adoption}",
            "from: {after: signing}",
            "from: {after: signing}",
            "unknown anchor 'signing': not a step, a phase or 'start', 'adoption'",
        ),
        (
            "every: {months: 6}",
            "every: {months: 0}",
            "every: {months: 0}",
            "greater than or equal to 1",
        ),
        (
            'on_dates: ["03-15", "09-15"]',
            'on_dates: ["03-15", "02-30"]',
            '"02-30"',
            "'02-30' is not a day of every year",
        ),
        (
            'on_dates: ["03-15", "09-15"]',
            'on_dates: ["03-15", "02-29"]',
            '"02-29"',
            "'02-29' is not a day of every year",
        ),
        (
            'on_dates: ["03-15", "09-15"]',
            'on_dates: ["03-15", "13-01"]',
            '"13-01"',
            "should match pattern",
        ),
        (
            'on_dates: ["03-15", "09-15"]',
            'on_dates: ["03-15", "03-15"]',
            'on_dates: ["03-15", "03-15"]',
            "a date is listed twice",
        ),
        (
            "verification: {by: [iaea]}",
            "verification: {by: [usa]}",
            "verification: {by: [usa]}",
            "party 'usa' needs one of the roles verifier",
        ),
        (
            "party: north\n",
            "party: north\n    until: {milestone: nowhere}\n",
            "until: {milestone: nowhere}",
            "unknown anchor 'nowhere': not a step, a phase or 'adoption'",
        ),
        (
            "types: [type-one]",
            "types: [type-three]",
            "types: [type-three]",
            "'type-three' is not an inspection type",
        ),
        (
            "by: [usa], of: [north]",
            "by: [usa], of: [nobody]",
            "of: [nobody]",
            "'nobody' is not a party to the agreement",
        ),
    ],
)
def test_bad_input_is_refused_where_it_is(old: str, new: str, fragment: str, said: str) -> None:
    problems = _problems(old, new)
    line = _line_of(fragment, OBLIGATIONS.replace(old, new, 1))
    assert any(p.startswith(f"rm.yaml:{line}:") and said in p for p in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("    every: {months: 6}\n", "", "either 'every' period or on listed 'on_dates'"),
        ("    party: north\n", "", "either 'party' or 'for_each'"),
        ("at_most: 3", "at_most: 3, at_least: 4", "'at_least' is above 'at_most'"),
        ("every: {months: 6}", "every: {months: 6, days: 3}", "exactly one of 'days'"),
    ],
)
def test_malformed_obligations_are_refused(old: str, new: str, said: str) -> None:
    assert any(said in p for p in _problems(old, new))


def test_a_threshold_the_other_verifiers_cannot_meet_is_refused() -> None:
    data = recurring_data()
    data["parties"][6]["roles"].append("party")  # iaea bound as well: it cannot verify itself
    data["obligations"][0]["for_each"] = ["north", "iaea"]
    with pytest.raises(RoadmapError, match="above the 0 verifiers who can confirm iaea's"):
        Kit(data)


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ({"obligation_missed": "nothing"}, "'nothing' is not an obligation (or 'any')"),
        (
            {"obligation_missed": {"obligation": "exchange", "party": "chn"}},
            "'chn' is not bound by 'exchange'",
        ),
        ({"quota_short": "nothing"}, "'nothing' is not a quota (or 'any')"),
        ({"quota_short": "usa-at-most"}, "quota 'usa-at-most' has no 'at_least'"),
    ],
)
def test_conditions_must_name_obligations_and_quotas(when: object, said: str) -> None:
    data = recurring_data()
    data["consequences"].append({"id": "c", "title": "C", "when": when})
    with pytest.raises(RoadmapError, match=re.escape(said)):
        Kit(data)


# --- the calendar of occurrences --------------------------------------------------------


def _recurrence(
    every: m.Every | None, on: list[str], anchor: dt.date, until: dt.date | None = None
) -> Recurrence:
    spec = m.Obligation.model_validate(
        {
            "id": "o",
            "title": "O",
            "party": "p",
            "action": "A",
            **({"every": every.model_dump(exclude_none=True)} if every else {"on_dates": on}),
        }
    )
    return Recurrence.of(spec, calendar.start_of_day(anchor), "UTC", until)


def test_every_six_months_from_31_january_keeps_the_31st_when_it_can() -> None:
    rec = _recurrence(m.Every(months=6), [], dt.date(2027, 1, 31))
    assert [rec.date(k) for k in (1, 2, 3)] == [
        dt.date(2027, 7, 31),
        dt.date(2028, 1, 31),
        dt.date(2028, 7, 31),
    ]
    one = _recurrence(m.Every(months=1), [], dt.date(2027, 1, 31))
    assert [one.date(k) for k in (1, 2, 3)] == [
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
    ]
    assert rec.index(dt.date(2028, 1, 31)) == 2
    assert rec.index(dt.date(2028, 1, 30)) is None
    assert rec.due(1) == dt.datetime(2027, 8, 1, tzinfo=dt.UTC)
    assert rec.opens(2) == rec.due(1)


def test_listed_dates_twice_a_year_follow_the_anchor() -> None:
    rec = _recurrence(None, ["09-15", "03-15"], dt.date(2027, 5, 1))
    assert [rec.date(k) for k in (1, 2, 3)] == [
        dt.date(2027, 9, 15),
        dt.date(2028, 3, 15),
        dt.date(2028, 9, 15),
    ]
    assert rec.index(dt.date(2028, 3, 15)) == 2
    assert rec.index(dt.date(2027, 3, 15)) is None  # before the anchor


def test_until_ends_the_occurrences() -> None:
    rec = _recurrence(m.Every(years=1), [], dt.date(2027, 1, 1), until=dt.date(2029, 6, 1))
    assert [rec.date(k) for k in (1, 2, 3)] == [dt.date(2028, 1, 1), dt.date(2029, 1, 1), None]
    assert rec.first_after(dt.date(2029, 1, 1)) is None


def test_a_daily_obligation_far_ahead_costs_a_search_not_a_list() -> None:
    rec = _recurrence(m.Every(days=1), [], dt.date(2027, 1, 1))
    assert rec.first_after(dt.date(8000, 1, 1)) == (dt.date(8000, 1, 2) - dt.date(2027, 1, 1)).days
    assert rec.index(dt.date(8000, 1, 1)) == (dt.date(8000, 1, 1) - dt.date(2027, 1, 1)).days


def _walk(
    rec: Recurrence, every: m.Every | None, on: list[str], anchor: dt.date, end: dt.date
) -> list[dt.date]:
    """Occurrences found day by day: a listed date, or a whole number of periods."""
    out = []
    day = anchor + dt.timedelta(days=1)
    k = 1
    while day <= end:
        if every is None:
            hit = day.strftime("%m-%d") in on
        elif every.days is not None:
            hit = (day - anchor).days % every.days == 0
        else:
            months = every.months or 12 * (every.years or 0)
            hit = day == calendar.add_months(anchor, k * months)
        if hit:
            out.append(day)
            k += 1
        day += dt.timedelta(days=1)
    return out


EVERY = st.one_of(
    st.builds(m.Every, days=st.integers(1, 400)),
    st.builds(m.Every, months=st.integers(1, 30)),
    st.builds(m.Every, years=st.integers(1, 3)),
    st.none(),
)
MONTH_DAYS = st.lists(
    st.dates(dt.date(2001, 1, 1), dt.date(2001, 12, 31)).map(lambda d: d.strftime("%m-%d")),
    min_size=1,
    max_size=4,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(
    every=EVERY,
    on=MONTH_DAYS,
    anchor=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    span=st.integers(0, 3 * 366),
)
def test_occurrences_up_to_a_date_match_a_walk_through_the_calendar(
    every: m.Every | None, on: list[str], anchor: dt.date, span: int
) -> None:
    rec = _recurrence(every, on, anchor)
    end = anchor + dt.timedelta(days=span)
    walked = _walk(rec, every, on, anchor, end)
    computed = []
    k = 1
    while (when := rec.date(k)) is not None and when <= end:
        computed.append(when)
        k += 1
    assert computed == walked
    assert all(rec.index(d) == n for n, d in enumerate(walked, 1))
    nxt = rec.first_after(end)
    assert nxt == len(walked) + 1


def test_quota_periods_are_calendar_years_by_default() -> None:
    roadmap = Kit(recurring_data()).roadmap
    quota = roadmap.quotas[0]
    assert period_of(quota, roadmap, dt.datetime(2026, 12, 31, tzinfo=dt.UTC)) is None
    assert period_of(quota, roadmap, dt.datetime(2028, 12, 31, 23, tzinfo=dt.UTC)) == 1
    assert period_bounds(quota, roadmap, 1) == (
        dt.datetime(2028, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2029, 1, 1, tzinfo=dt.UTC),
    )
    six = quota.model_copy(
        update={"period": m.Period.model_validate({"months": 6, "from": dt.date(2027, 3, 31)})}
    )
    # 31 March + 6 months is 30 September; the next period starts on 31 March again.
    assert period_of(six, roadmap, dt.datetime(2027, 9, 29, 23, tzinfo=dt.UTC)) == 0
    assert period_of(six, roadmap, dt.datetime(2027, 9, 30, tzinfo=dt.UTC)) == 1
    assert period_of(six, roadmap, dt.datetime(2028, 3, 30, tzinfo=dt.UTC)) == 1
    assert period_of(six, roadmap, dt.datetime(2028, 3, 31, tzinfo=dt.UTC)) == 2
