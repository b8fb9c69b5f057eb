"""Deadlines and their anchors: when a deadline becomes known (cvid.engine.anchors), and
the engine using it: months, zones, resolutions, first events, earliest/latest-of and
milestones that happen by themselves.

Dates as in test_evaluate: the mini road map starts on 2027-01-01 and is adopted at T0
(2027-01-10).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvid.engine import anchors as anc
from cvid.roadmap.model import Deadline, FirstEventAnchor, ResolutionAnchor
from tests.kit import Kit, at, mini_data
from tests.unit.engine.test_evaluate import (
    T0,
    complete_freeze,
    days,
    report,
    resolve,
    verify,
)

A, B = ("milestone", "a"), ("milestone", "b")


def _resolve(deadline: Deadline, happened: dict[anc.AnchorKey, dt.datetime], now: str) -> Any:
    return anc.resolve(deadline, happened.get, now=at(now), zone="UTC")


# --- the rule, pure ----------------------------------------------------------------------


def test_a_date_is_known_from_the_start_and_ends_in_its_zone() -> None:
    none: dict[anc.AnchorKey, dt.datetime] = {}
    got = anc.resolve(
        Deadline(date=dt.date(2027, 3, 1)), none.get, now=at("2027-01-01"), zone="America/New_York"
    )
    assert got == anc.Resolved(at("2027-03-02T05:00:00"))  # midnight EST


def test_after_is_unknown_until_its_anchor_happens() -> None:
    deadline = Deadline(after="a", months=1, days=1)
    assert _resolve(deadline, {}, "2027-01-31") == anc.Resolved(None)
    assert _resolve(deadline, {A: at("2027-01-31")}, "2027-01-31") == anc.Resolved(
        at("2027-03-01")  # 31 Jan + 1 month = 28 Feb, + 1 day
    )


EARLIEST = Deadline(earliest_of=[Deadline(after="a", days=10), Deadline(after="b")])
LATEST = Deadline(latest_of=[Deadline(after="a", days=10), Deadline(after="b")])


def test_earliest_of_when_the_first_operand_happens_first() -> None:
    happened = {A: at("2027-01-01")}  # a + 10 days = 11 Jan; b has not happened
    # Not yet known: b could still happen before 11 Jan; look again then.
    assert _resolve(EARLIEST, happened, "2027-01-05") == anc.Resolved(None, at("2027-01-11"))
    # On 11 Jan nothing came earlier: known.
    assert _resolve(EARLIEST, happened, "2027-01-11") == anc.Resolved(at("2027-01-11"))
    # b happening later changes nothing.
    happened[B] = at("2027-01-20")
    assert _resolve(EARLIEST, happened, "2027-01-20") == anc.Resolved(at("2027-01-11"))


def test_earliest_of_when_the_second_operand_happens_first() -> None:
    assert _resolve(EARLIEST, {B: at("2027-01-03")}, "2027-01-03") == anc.Resolved(at("2027-01-03"))
    both = {A: at("2027-01-01"), B: at("2027-01-05")}
    assert _resolve(EARLIEST, both, "2027-01-05") == anc.Resolved(at("2027-01-05"))


@pytest.mark.parametrize(
    ("happened", "expected"),
    [
        ({A: at("2027-01-01")}, None),
        ({B: at("2027-01-03")}, None),
        ({A: at("2027-01-01"), B: at("2027-01-03")}, at("2027-01-11")),
        ({A: at("2027-01-01"), B: at("2027-02-03")}, at("2027-02-03")),
    ],
)
def test_latest_of_is_known_once_every_operand_is(
    happened: dict[anc.AnchorKey, dt.datetime], expected: dt.datetime | None
) -> None:
    assert _resolve(LATEST, happened, "2027-03-01").at == expected


def test_a_nested_earliest_of_asks_to_be_checked_again() -> None:
    nested = Deadline(latest_of=[EARLIEST, Deadline(date=dt.date(2027, 1, 1))])
    got = _resolve(nested, {A: at("2027-01-01")}, "2027-01-02")
    assert got == anc.Resolved(None, at("2027-01-11"))
    assert _resolve(nested, {A: at("2027-01-01")}, "2027-01-11").at == at("2027-01-11")


@given(
    st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=2, max_size=5),
    st.integers(0, 200),
)
def test_earliest_of_never_changes_once_known(operands: list[tuple[int, int]], now: int) -> None:
    """Known at ``now`` (anchors up to then have happened, the others happen later), the
    value is the one it has once every anchor has happened; a re-check is never in the
    past of the anchors seen."""
    start = at("2027-01-01")
    deadline = Deadline(
        earliest_of=[Deadline(after=f"s{i}", days=n) for i, (_, n) in enumerate(operands)]
    )
    anchor_at = {("milestone", f"s{i}"): start + days(t) for i, (t, _) in enumerate(operands)}
    clock = start + days(now)
    seen = {k: v for k, v in anchor_at.items() if v <= clock}
    got = anc.resolve(deadline, seen.get, now=clock, zone="UTC")
    final = anc.resolve(deadline, anchor_at.get, now=start + days(10_000), zone="UTC")
    if got.at is not None:
        assert got.at == final.at
    else:
        assert final.at is not None
        assert final.at > clock
        if got.recheck is not None:
            assert got.recheck > clock
            assert final.at <= got.recheck


def test_the_anchors_register() -> None:
    pushed: list[tuple[dt.datetime, str]] = []
    reg = anc.Anchors("UTC", lambda when, ref: pushed.append((when, ref)))
    assert reg.watch("x", EARLIEST, at("2027-01-01")) is None
    assert reg.happen(A, at("2027-01-01")) == []
    assert pushed == [(at("2027-01-11"), "x")]
    assert reg.recheck("x", at("2027-01-11")) == at("2027-01-11")
    assert reg.happen(B, at("2027-01-12")) == []  # already known: nothing new
    assert reg.happen(A, at("2027-02-01")) == []  # an anchor counts once


def test_deadlines_in_words() -> None:
    assert anc.describe(Deadline(after="a", years=8)) == "8 years after a"
    assert anc.describe(Deadline(after=ResolutionAnchor(resolution="r"), months=1)) == (
        "1 month after the adoption of resolution r"
    )
    assert anc.describe(EARLIEST) == "the earliest of 10 days after a, b"
    assert anc.describe(Deadline(after=FirstEventAnchor(first="snapback.notified"))) == (
        "the first snapback.notified event"
    )


# --- in the engine -----------------------------------------------------------------------


def _kit(declare: dict[str, Any], *, zone: str | None = None, **step: Any) -> Kit:
    """The mini road map with ``declare``'s deadline replaced (and more step keys)."""
    data = mini_data()
    if zone:
        data["agreement"]["zone"] = zone
    data["phases"][0]["steps"][1].update(deadline=declare, **step)
    kit = Kit(data)
    kit.adopt(T0)
    return kit


def test_a_deadline_in_months() -> None:
    state = _kit({"after": "adoption", "months": 1}).evaluate(at("2027-01-11"))
    assert state.steps["declare"].due == at("2027-02-10")


def test_a_date_deadline_ends_with_the_day_in_the_agreement_zone() -> None:
    data = mini_data()
    data["agreement"]["zone"] = "Asia/Tehran"  # UTC+03:30
    kit = Kit(data)
    kit.adopt(T0)
    state = kit.evaluate(at("2027-01-11"))
    assert state.steps["dismantle-stock"].due == at("2028-12-31T20:30:00")


def test_days_count_local_days_across_a_dst_change() -> None:
    # Adopted at midnight UTC on 10 Jan = 19:00 EST on 9 Jan; 90 local days later is
    # 19:00 on 9 Apr, after the change to EDT of 14 Mar 2027: 23:00 UTC, not midnight.
    state = _kit({"after": "adoption", "days": 90}, zone="America/New_York").evaluate(
        at("2027-01-11")
    )
    assert state.steps["declare"].due == at("2027-04-09T23:00:00")


def test_a_deadline_counted_from_a_resolution() -> None:
    kit = _kit({"after": {"resolution": "endorse"}, "days": 10})
    assert kit.evaluate(at("2027-01-20")).steps["declare"].due is None
    resolve(kit, "d-endorse", at("2027-01-20"), purpose="endorse")  # closed on 22 Jan
    state = kit.evaluate(at("2027-01-23"))
    assert state.steps["declare"].due == at("2027-02-01")


def test_a_deadline_counted_from_the_first_event_of_a_type() -> None:
    kit = _kit({"after": {"first": "snapback.notified"}, "days": 5})
    kit.act("usa", "snapback.notified", {"reason": "test"}, time=at("2027-02-01"))
    kit.act("chn", "snapback.notified", {"reason": "test"}, time=at("2027-02-02"))
    state = kit.evaluate(at("2027-02-07"))
    assert state.steps["declare"].due == at("2027-02-06")
    assert state.steps["declare"].status == "overdue"


EIGHT_OR_FREEZE = {
    "earliest_of": [{"after": "adoption", "days": 100}, {"after": "freeze-reactor", "days": 5}]
}


def test_earliest_of_in_the_engine_when_the_step_comes_first() -> None:
    kit = _kit(EIGHT_OR_FREEZE)
    assert kit.evaluate(at("2027-01-15")).steps["declare"].due is None
    report(kit, "freeze-reactor", at("2027-01-15"))
    verify(kit, "freeze-reactor", at("2027-01-16"))
    state = kit.evaluate(at("2027-01-17"))
    assert state.steps["declare"].due == at("2027-01-21")


def test_earliest_of_in_the_engine_when_the_date_comes_first() -> None:
    kit = _kit(EIGHT_OR_FREEZE)
    due = T0 + days(100)
    assert kit.evaluate(due - days(1)).steps["declare"].due is None
    state = kit.evaluate(due)
    assert state.steps["declare"].due == due
    assert state.steps["declare"].status == "overdue"
    # A later freeze does not move it.
    report(kit, "freeze-reactor", due + days(1))
    verify(kit, "freeze-reactor", due + days(2))
    assert kit.evaluate(due + days(3)).steps["declare"].due == due


def test_latest_of_in_the_engine() -> None:
    kit = _kit({"latest_of": [{"after": "adoption", "days": 5}, {"after": "freeze-reactor"}]})
    assert kit.evaluate(at("2027-01-20")).steps["declare"].due is None
    report(kit, "freeze-reactor", at("2027-01-20"))
    verify(kit, "freeze-reactor", at("2027-01-21"))
    assert kit.evaluate(at("2027-01-22")).steps["declare"].due == at("2027-01-21")


# --- automatic milestones ----------------------------------------------------------------


def test_an_automatic_step_happens_by_itself() -> None:
    kit = _kit({"after": "adoption", "days": 20}, automatic=True)
    before = kit.evaluate(at("2027-01-29"))
    assert before.steps["declare"].status == "open"
    assert before.steps["declare"].reason == "happens by itself at 2027-01-30"
    assert [o for o in before.owed if o.subject == "declare"] == []
    state = kit.evaluate(at("2027-02-01"))
    step = state.steps["declare"]
    assert (step.status, step.done_at, step.late, step.events) == (
        "verified",
        at("2027-01-30"),
        False,
        (),
    )
    assert step.reason == "occurred on 2027-01-30, by the road map"


def test_an_automatic_step_completes_its_phase_and_fires_rules() -> None:
    kit = _kit({"after": "adoption", "days": 20}, automatic=True)
    complete = at("2027-01-25")
    report(kit, "freeze-reactor", complete - days(1))
    verify(kit, "freeze-reactor", complete)
    state = kit.evaluate(at("2027-02-01"))
    assert state.phases["freeze"].complete_at == at("2027-01-30")
    assert state.rules["relief-1"].fired_at == at("2027-01-30")


def test_an_automatic_step_waits_for_its_dependencies() -> None:
    kit = _kit({"after": "adoption", "days": 5}, automatic=True, depends_on=["freeze-reactor"])
    waiting = kit.evaluate(at("2027-01-20"))
    assert (waiting.steps["declare"].status, waiting.steps["declare"].reason) == (
        "blocked",
        "waiting for freeze-reactor",
    )
    report(kit, "freeze-reactor", at("2027-01-20"))
    verify(kit, "freeze-reactor", at("2027-01-21"))
    state = kit.evaluate(at("2027-01-22"))
    assert state.steps["declare"].done_at == at("2027-01-21")
    assert not state.steps["declare"].late


def test_an_automatic_step_reported_earlier_happens_then() -> None:
    # "Adoption Day: 90 days after the endorsement, or earlier by mutual consent".
    kit = _kit({"after": "adoption", "days": 20}, automatic=True)
    report(kit, "declare", at("2027-01-15"))
    state = kit.evaluate(at("2027-02-01"))
    assert state.steps["declare"].done_at == at("2027-01-15")
    assert state.steps["declare"].status == "reported"


def test_an_automatic_step_on_an_unknown_anchor_says_what_it_waits_for() -> None:
    kit = _kit({"after": {"resolution": "endorse"}, "days": 5}, automatic=True)
    step = kit.evaluate(at("2027-02-01")).steps["declare"]
    assert (step.status, step.reason) == (
        "blocked",
        "happens by itself at 5 days after the adoption of resolution endorse",
    )


def test_a_freeze_done_in_time_is_still_in_time() -> None:
    """The mini road map's own deadlines keep their meaning (days from adoption)."""
    kit = Kit()
    kit.adopt(T0)
    complete_freeze(kit, at("2027-02-01"))
    state = kit.evaluate(at("2027-02-02"))
    assert state.steps["freeze-reactor"].due == at("2027-02-09")
    assert not state.steps["freeze-reactor"].late


# --- zones: date_after and the snapback window --------------------------------------------


def test_date_after_starts_with_the_next_day_in_the_agreement_zone() -> None:
    data = mini_data()
    data["agreement"]["zone"] = "Asia/Tehran"  # UTC+03:30
    data["rewards"].append(
        {"id": "r-date", "title": "From February", "when": {"date_after": dt.date(2027, 2, 1)}}
    )
    kit = Kit(data)
    kit.adopt(T0)
    assert not kit.evaluate(at("2027-02-01T20:29:59")).rules["r-date"].fired
    assert kit.evaluate(at("2027-02-02")).rules["r-date"].fired_at == at("2027-02-01T20:30:00")


@pytest.mark.parametrize(
    ("where", "closes"),
    [
        # 02:00 UTC on 1 Mar is 21:00 EST on 28 Feb: 28 Feb + 30 days = 30 Mar, which
        # ends at 04:00 UTC on 31 Mar (EDT since 14 Mar).
        ({"snapback": "America/New_York"}, at("2027-03-31T04:00:00")),
        ({"agreement": "America/New_York"}, at("2027-03-31T04:00:00")),
        # The snapback's own zone wins over the agreement's: 1 Mar + 30 days in UTC.
        ({"agreement": "America/New_York", "snapback": "UTC"}, at("2027-04-01T00:00:00")),
    ],
)
def test_the_snapback_window_counts_days_in_its_zone(
    where: dict[str, str], closes: dt.datetime
) -> None:
    data = mini_data()
    for section, zone in where.items():
        data[section]["zone"] = zone
    kit = Kit(data)
    kit.adopt(T0)
    kit.act("usa", "snapback.notified", {"reason": "test"}, time=at("2027-03-01T02:00:00"))
    (window,) = kit.evaluate(closes - dt.timedelta(seconds=1)).snapbacks
    assert (window.closes_at, window.outcome) == (closes, "open")
    assert kit.evaluate(closes).snapbacks[0].outcome == "reimposed"
