"""Recurring obligations and quotas in the engine: occurrences and their statuses,
grace, lateness, verification, ``for_each`` naming the party, quotas per period, the
conditions on them, and the status JSON.

The road map is ``tests.recurring_kit``'s, adopted at ``T0`` (2027-01-10).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid import calendar
from cvid.engine import AgreementState
from cvid.engine.state import Obligation, Violation
from cvid.report import state_to_dict
from tests.kit import Kit, at
from tests.recurring_kit import recurring_data

T0 = at("2027-01-10")
INSPECT = {"type": "type-one", "inspected": "north", "site": "Site A"}


def kit(data: dict[str, Any] | None = None) -> Kit:
    k = Kit(data or recurring_data())
    k.adopt(T0)
    return k


def statuses(state: AgreementState, oid: str) -> list[tuple[str, str]]:
    return [(o.due, o.status) for o in state.obligations[oid].occurrences]


def perform(k: Kit, oid: str, occurrence: str, when: str, party: str = "north") -> None:
    k.act(
        party, "obligation.performed", {"obligation": oid, "occurrence": occurrence}, time=at(when)
    )


def confirm(k: Kit, oid: str, occurrence: str, when: str, outcome: str = "confirmed") -> int:
    body = {"obligation": oid, "occurrence": occurrence, "outcome": outcome}
    return k.act("iaea", "obligation.confirmed", body, time=at(when)).index


def violations(state: AgreementState, kind: str) -> list[Violation]:
    return [v for v in state.violations if v.kind == kind]


def test_every_six_months_from_31_january() -> None:
    k = kit()
    perform(k, "exchange.north", "2027-07-31", "2027-07-20")
    confirm(k, "exchange.north", "2027-07-31", "2027-07-25")
    state = k.evaluate(at("2028-03-01"))
    assert statuses(state, "exchange.north") == [
        ("2027-07-31", "done"),
        ("2028-01-31", "missed"),
        ("2028-07-31", "pending"),
    ]
    occurrence = state.obligations["exchange.north"].occurrences[0]
    assert occurrence.due_at == at("2027-08-01")
    assert occurrence.performed_at == at("2027-07-20")
    assert occurrence.confirmed_by == ("iaea",)
    assert state.obligations["exchange.north"].next_due == "2028-07-31"


def test_at_bounds_the_occurrences_computed() -> None:
    k = kit()
    assert statuses(k.evaluate(at("2027-01-09")), "exchange.north") == []  # not in force
    assert statuses(k.evaluate(at("2027-02-01")), "exchange.north") == [("2027-07-31", "pending")]
    assert len(k.evaluate(at("2037-02-01")).obligations["exchange.north"].occurrences) == 21


def test_listed_dates_twice_a_year_with_grace() -> None:
    k = kit()
    assert statuses(k.evaluate(at("2027-03-15T12:00:00")), "report") == [("2027-03-15", "pending")]
    assert statuses(k.evaluate(at("2027-03-16")), "report") == [
        ("2027-03-15", "due"),
        ("2027-09-15", "pending"),
    ]
    just_before = k.evaluate(at("2027-03-25T23:59:59"))
    assert statuses(just_before, "report")[0] == ("2027-03-15", "due")
    assert not violations(just_before, "obligation")
    state = k.evaluate(at("2027-03-26"))
    assert statuses(state, "report")[0] == ("2027-03-15", "missed")
    (missed,) = violations(state, "obligation")
    assert (missed.subject, missed.party, missed.at) == ("report", "north", at("2027-03-26"))
    assert "did not perform report due 2027-03-15" in missed.detail
    assert "and 10 days of grace" in missed.detail
    later = k.evaluate(at("2028-04-01"))
    assert [d for d, _ in statuses(later, "report")] == [
        "2027-03-15",
        "2027-09-15",
        "2028-03-15",
        "2028-09-15",
    ]


def test_performed_within_the_grace_is_late_not_missed() -> None:
    k = kit()
    perform(k, "report", "2027-03-15", "2027-03-20")
    state = k.evaluate(at("2027-04-01"))
    assert statuses(state, "report")[0] == ("2027-03-15", "late")
    assert not violations(state, "obligation")
    perform(k, "report", "2027-09-15", "2027-09-15T23:59:59")
    assert statuses(k.evaluate(at("2027-10-01")), "report")[1] == ("2027-09-15", "done")


def test_verification_and_a_verifiers_delay() -> None:
    k = kit()
    perform(k, "exchange.north", "2027-07-31", "2027-07-30")
    state = k.evaluate(at("2027-09-01"))
    assert statuses(state, "exchange.north")[0] == ("2027-07-31", "performed")
    assert Obligation("iaea", "confirm", "exchange.north", at("2027-08-01"), ()) in state.owed
    assert not [v for v in violations(state, "obligation") if v.subject == "exchange.north"]
    confirm(k, "exchange.north", "2027-07-31", "2027-09-02")  # the verifier is late, not north
    state = k.evaluate(at("2027-09-03"))
    assert statuses(state, "exchange.north")[0] == ("2027-07-31", "done")
    assert not [o for o in state.owed if o.kind == "confirm"]


def test_a_failed_finding_is_a_violation_of_the_obliged_party() -> None:
    k = kit()
    perform(k, "exchange.north", "2027-07-31", "2027-07-30")
    index = confirm(k, "exchange.north", "2027-07-31", "2027-08-05", outcome="failed")
    state = k.evaluate(at("2027-08-06"))
    assert statuses(state, "exchange.north")[0] == ("2027-07-31", "failed")
    failed = [v for v in violations(state, "obligation") if v.subject == "exchange.north"]
    assert [(v.subject, v.event) for v in failed] == [("exchange.north", index)]
    assert "iaea found north's exchange due 2027-07-31 not performed" in failed[0].detail


def test_for_each_names_the_party_in_statuses_violations_and_consequences() -> None:
    data = recurring_data()
    data["consequences"].append(
        {
            "id": "south-missed",
            "title": "South missed an exchange",
            "when": {"obligation_missed": {"obligation": "exchange", "party": "south"}},
            "reimpose_measures": ["m-banking"],
        }
    )
    data["consequences"].append(
        {
            "id": "north-missed",
            "title": "North missed an exchange",
            "when": {"obligation_missed": {"obligation": "exchange", "party": "north"}},
            "reimpose_measures": ["m-oil"],
        }
    )
    k = kit(data)
    perform(k, "exchange.north", "2027-07-31", "2027-07-30")
    state = k.evaluate(at("2027-08-02"))
    assert state.obligations["exchange.south"].party == "south"
    assert state.obligations["exchange.south"].owed_to == ("north",)
    assert statuses(state, "exchange.south")[0] == ("2027-07-31", "missed")
    assert [(v.subject, v.party) for v in violations(state, "obligation")] == [
        ("report", "north"),
        ("exchange.south", "south"),
    ]
    assert state.rules["south-missed"].fired_at == at("2027-08-01")
    assert state.rules["south-missed"].condition == "exchange missed by south"
    assert not state.rules["north-missed"].fired


def test_obligation_missed_any() -> None:
    data = recurring_data()
    data["consequences"].append(
        {
            "id": "any",
            "title": "Any",
            "when": {"obligation_missed": "any"},
            "reimpose_measures": ["m-oil"],
        }
    )
    k = kit(data)
    assert not k.evaluate(at("2027-03-25")).rules["any"].fired
    assert k.evaluate(at("2027-03-26")).rules["any"].fired_at == at("2027-03-26")


def test_owed_lists_the_open_occurrences() -> None:
    state = kit().evaluate(at("2027-02-01"))
    recurring = [o for o in state.owed if o.kind == "perform"]
    assert recurring == [
        Obligation("north", "perform", "exchange.north", at("2027-08-01"), ()),
        Obligation("south", "perform", "exchange.south", at("2027-08-01"), ()),
        Obligation("north", "perform", "report", at("2027-03-16"), ()),
    ]


def test_nothing_is_owed_before_entry_into_force() -> None:
    data = recurring_data()
    data["obligations"][0]["from"] = dt.date(2026, 1, 31)
    data["obligations"][0]["every"] = {"months": 1}
    k = kit(data)
    state = k.evaluate(at("2027-03-01"))
    assert statuses(state, "exchange.north") == [
        ("2027-01-31", "missed"),
        ("2027-02-28", "missed"),
        ("2027-03-31", "pending"),
    ]


def test_until_a_date_and_until_a_milestone() -> None:
    data = recurring_data()
    data["obligations"][0]["until"] = dt.date(2028, 1, 31)
    data["obligations"][1]["until"] = {"milestone": "declare"}
    k = kit(data)
    k.act("north", "step.reported", {"step": "declare"}, time=at("2027-02-01"))
    state = k.evaluate(at("2030-01-01"))
    assert [d for d, _ in statuses(state, "exchange.north")] == ["2027-07-31", "2028-01-31"]
    assert statuses(state, "report") == []  # ended on 1 February, before its first date
    assert state.obligations["report"].reason == "no occurrence open"


def test_a_daily_obligation_for_ten_years_stays_cheap() -> None:
    data = recurring_data()
    data["obligations"].append(
        {"id": "daily", "title": "Daily", "party": "north", "action": "Log", "every": {"days": 1}}
    )
    k = kit(data)
    began = time.perf_counter()
    state = k.evaluate(at("2037-01-10"))
    assert time.perf_counter() - began < 10
    assert len(state.obligations["daily"].occurrences) == (at("2037-01-10") - T0).days
    assert len(k.evaluate(at("2027-02-10")).obligations["daily"].occurrences) == 31


# --- quotas -------------------------------------------------------------------------------


def test_quota_at_least_short_at_the_end_of_a_year() -> None:
    data = recurring_data()
    data["consequences"].append(
        {
            "id": "short",
            "title": "Short",
            "when": {"quota_short": "north-at-least"},
            "reimpose_measures": ["m-oil"],
        }
    )
    k = kit(data)
    k.act("usa", "inspection.conducted", INSPECT, time=at("2028-05-01"))
    first_year = k.evaluate(at("2028-01-01"))  # 2027 began before entry into force
    assert [p.status for p in first_year.quotas["north-at-least"].periods] == ["not judged", "open"]
    assert not violations(first_year, "quota")
    state = k.evaluate(at("2029-01-01"))
    (short,) = violations(state, "quota")
    assert (short.subject, short.party, short.at) == ("north-at-least", "north", at("2029-01-01"))
    assert "1 inspections received" in short.detail
    assert state.rules["short"].fired_at == at("2029-01-01")
    periods = state.quotas["north-at-least"].periods
    assert [(p.start, p.count, p.status) for p in periods] == [
        (at("2027-01-01"), 0, "not judged"),
        (at("2028-01-01"), 1, "short"),
        (at("2029-01-01"), 0, "open"),
    ]


def test_quota_at_least_met() -> None:
    k = kit()
    for day in ("2028-05-01", "2028-06-01"):
        k.act("usa", "inspection.conducted", INSPECT, time=at(day))
    state = k.evaluate(at("2029-06-01"))
    assert [p.status for p in state.quotas["north-at-least"].periods][1] == "met"
    assert not violations(state, "quota")
    at_most = state.quotas["usa-at-most"]
    assert [(p.count, p.status) for p in at_most.periods] == [
        (0, "closed"),
        (2, "closed"),
        (0, "open"),
    ]


# --- the status JSON ----------------------------------------------------------------------


def test_status_json_carries_the_occurrences() -> None:
    k = kit()
    perform(k, "exchange.north", "2027-07-31", "2027-07-30")
    index = confirm(k, "exchange.north", "2027-07-31", "2027-08-02")
    data = json.loads(json.dumps(state_to_dict(k.evaluate(at("2027-08-03")))))
    occurrences = data["obligations"]["exchange.north"]["occurrences"]
    assert occurrences[0] == {
        "due": "2027-07-31",
        "due_at": "2027-08-01T00:00:00Z",
        "status": "done",
        "performed_at": "2027-07-30T00:00:00Z",
        "confirmed_by": ["iaea"],
        "events": [index - 1, index],
    }
    assert occurrences[1]["status"] == "pending"
    assert data["obligations"]["exchange.north"]["party"] == "north"
    assert data["quotas"]["usa-at-most"]["at_most"] == 3
    assert {o["kind"] for o in data["owed"]} >= {"perform", "sign"}


def test_an_occurrence_due_before_entry_into_force_may_still_be_performed_late() -> None:
    data = recurring_data()
    data["obligations"][0]["from"] = dt.date(2026, 1, 31)
    data["obligations"][0]["every"] = {"months": 1}
    k = kit(data)
    perform(k, "exchange.north", "2026-12-31", "2027-01-11")
    perform(k, "exchange.north", "2027-01-31", "2027-01-12")
    confirm(k, "exchange.north", "2027-01-31", "2027-01-13")
    state = k.evaluate(at("2027-02-02"))
    assert statuses(state, "exchange.north") == [
        ("2026-12-31", "performed"),
        ("2027-01-31", "done"),
        ("2027-02-28", "pending"),
    ]


# --- a property: the engine's occurrences are the calendar's ------------------------------


def _calendar_walk(
    anchor: dt.date, every: dict[str, int] | None, on: list[str], until: dt.date
) -> list[dt.date]:
    """Every occurrence date after ``anchor`` up to ``until``, found day by day."""
    out, k, day = [], 1, anchor + dt.timedelta(days=1)
    while day <= until:
        if every is None:
            hit = day.strftime("%m-%d") in on
        elif "days" in every:
            hit = (day - anchor).days % every["days"] == 0
        else:
            months = every.get("months", 0) + 12 * every.get("years", 0)
            hit = day == calendar.add_months(anchor, k * months)
        if hit:
            out.append(day)
            k += 1
        day += dt.timedelta(days=1)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    every=st.one_of(
        st.builds(lambda n: {"days": n}, st.integers(1, 90)),
        st.builds(lambda n: {"months": n}, st.integers(1, 14)),
        st.builds(lambda n: {"years": n}, st.integers(1, 2)),
        st.none(),
    ),
    on=st.lists(
        st.dates(dt.date(2001, 1, 1), dt.date(2001, 12, 31)).map(lambda d: d.strftime("%m-%d")),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    anchor=st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)),
    days_after=st.integers(0, 3 * 366),
    hour=st.integers(0, 23),
)
def test_the_occurrences_up_to_at_are_the_calendars(
    every: dict[str, int] | None, on: list[str], anchor: dt.date, days_after: int, hour: int
) -> None:
    data = recurring_data()
    data["obligations"] = [
        {
            "id": "o",
            "title": "O",
            "party": "north",
            "action": "A",
            "from": anchor,
            **({"every": every} if every else {"on_dates": on}),
        }
    ]
    k = kit(data)
    when = T0 + dt.timedelta(days=days_after, hours=hour)
    got = [occ.due for occ in k.evaluate(when).obligations["o"].occurrences]
    today = when.date()
    walked = _calendar_walk(anchor, every, on, today + dt.timedelta(days=3 * 366))
    expected = [
        d
        for i, d in enumerate(walked)
        if d >= T0.date() and ((i == 0 and anchor <= today) or (i > 0 and walked[i - 1] < today))
    ]
    assert got == [d.isoformat() for d in expected]


def test_an_obligation_from_a_later_date_opens_its_first_occurrence_then() -> None:
    data = recurring_data()
    data["obligations"][0]["from"] = dt.date(2027, 6, 1)
    k = kit(data)
    before = k.evaluate(at("2027-05-31"))
    assert statuses(before, "exchange.north") == []
    assert before.obligations["exchange.north"].reason == "starts on 2027-06-01"
    assert statuses(k.evaluate(at("2027-06-01")), "exchange.north") == [("2027-12-01", "pending")]
