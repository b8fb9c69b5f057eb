"""The engine's view of an agreement's life: entry into force, expiry, extension,
termination, and nothing owed once it has ended."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvid.errors import EventRejectedError
from tests.kit import Kit, at
from tests.unit.events.test_authz_life import T0, life_data, ratifying


def test_by_default_in_force_on_the_last_adoption_with_no_end() -> None:
    kit = Kit()
    assert kit.evaluate(T0).life.status == "pending"
    kit.adopt(T0)
    state = kit.evaluate(at("2040-01-01"))
    assert state.in_force
    assert (state.life.status, state.life.since, state.life.until) == ("in_force", T0, None)


def test_in_force_on_the_kth_ratification_and_deadlines_count_from_it() -> None:
    kit = ratifying()
    kit.act("north", "ratification.deposited", time=T0)
    assert not kit.evaluate(T0).in_force
    assert kit.evaluate(T0).steps["declare"].status == "blocked"
    entry = T0 + dt.timedelta(days=10)
    kit.act("chn", "ratification.deposited", time=entry)
    state = kit.evaluate(entry)
    assert state.in_force
    assert state.adopted_at == entry
    assert (state.life.status, state.life.since) == ("in_force", entry)
    assert state.life.until == at("2037-01-12T09:00:00")  # ten calendar years
    assert state.steps["declare"].due == entry + dt.timedelta(days=60)


def test_entry_into_force_on_a_date_by_timer() -> None:
    kit = Kit(life_data(entry_into_force={"date": dt.date(2027, 3, 1)}))
    kit.adopt(T0)
    assert not kit.evaluate(at("2027-02-28T23:59:59")).in_force
    state = kit.evaluate(at("2027-03-01"))
    assert state.in_force
    assert state.life.since == at("2027-03-01")


def test_expiry_on_time_closes_what_is_owed() -> None:
    kit = ratifying()
    kit.act("north", "ratification.deposited", time=T0)
    kit.act("usa", "ratification.deposited", time=T0)
    end = at("2037-01-02T09:00:00")
    before = kit.evaluate(end - dt.timedelta(seconds=1))
    assert before.in_force
    assert before.steps["declare"].status == "overdue"
    state = kit.evaluate(end)
    assert not state.in_force
    assert (state.life.status, state.life.since, state.life.until) == ("expired", end, end)
    assert state.life.reason == "its duration ran out"
    assert state.steps["declare"].status == "ended"
    assert "the agreement ended on 2037-01-02 09:00 UTC" in state.steps["declare"].reason
    assert state.phases["freeze"].status == "ended"
    assert state.owed == ()
    assert any("the agreement expired" in a for a in state.alerts)


def test_one_extension_signed_by_all_moves_the_expiry() -> None:
    kit = ratifying()
    kit.act("north", "ratification.deposited", time=T0)
    kit.act("usa", "ratification.deposited", time=T0)
    kit.act("usa", "agreement.extended", {"extension": "x1"}, time=at("2036-01-01"))
    assert kit.evaluate(at("2037-06-01")).life.status == "expired"  # one signature only
    kit.act("north", "agreement.extended", {"extension": "x1"}, time=at("2036-02-01"))
    state = kit.evaluate(at("2037-06-01"))
    assert state.in_force
    assert state.life.until == at("2042-01-02T09:00:00")
    later = kit.evaluate(at("2042-01-02T09:00:00"))
    assert later.life.status == "expired"
    assert later.life.reason == "its duration ran out after 1 extension(s)"
    # Before the extension was signed, the state showed the original expiry.
    assert kit.evaluate(at("2036-01-15")).life.until == at("2037-01-02T09:00:00")


def test_termination_by_all_adopting_parties() -> None:
    kit = Kit()
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "declare"}, time=T0)
    when = T0 + dt.timedelta(days=5)
    for party in ["north", "usa", "chn"]:
        kit.act(party, "agreement.terminated", {"reason": "Superseded"}, time=when)
    state = kit.evaluate(when + dt.timedelta(days=400))
    assert (state.life.status, state.life.since) == ("terminated", when)
    assert state.life.reason == "terminated by north, usa, chn"
    assert state.steps["declare"].status == "reported"  # done before the end stays done
    assert state.steps["freeze-reactor"].status == "ended"
    assert not state.in_force
    assert kit.evaluate(when - dt.timedelta(seconds=1)).in_force


ACTS = st.lists(
    st.tuples(
        st.integers(0, 20 * 366),  # days after T0
        st.sampled_from(["north", "usa", "chn"]),
        st.sampled_from(["ratification.deposited", "agreement.extended", "agreement.terminated"]),
    ),
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(acts=ACTS, at_least=st.integers(1, 3), probe=st.integers(0, 25 * 366))
def test_admission_and_the_engine_agree_on_the_life(
    acts: list[tuple[int, str, str]], at_least: int, probe: int
) -> None:
    """Whatever is signed when, the state's life is what admission's record says, and
    nothing but history is admitted after the end."""
    kit = Kit(
        life_data(
            entry_into_force={
                "ratifications": {"by": ["north", "usa", "chn"], "at_least": at_least}
            },
            duration={"years": 10},
            extensions={"max": 2, "length": {"years": 5}, "by": ["north", "usa"]},
            termination={"by": ["north", "usa", "chn"], "at_least": 2},
        )
    )
    for days, party, event_type in sorted(acts):
        body = {"extension": f"x{days // 1000}"} if event_type == "agreement.extended" else {}
        if event_type == "agreement.terminated":
            body = {"reason": "x"}
        try:
            kit.act(party, event_type, body, time=T0 + dt.timedelta(days=days))
        except EventRejectedError:
            continue
    end = kit.history.life.end(kit.roadmap)
    for ev in kit.events:  # only the signature that ends it is logged at the end
        assert end is None or ev.time < end.at or ev.type == "agreement.terminated"
        assert end is None or ev.time <= end.at
    when = T0 + dt.timedelta(days=probe)
    state = kit.evaluate(when)
    entered = kit.history.life.entered_at(kit.roadmap)
    if entered is None or entered > when:
        assert state.life.status == "pending"
    elif end is not None and end.at <= when:
        assert (state.life.status, state.life.since) == (end.status, end.at)
    else:
        assert state.life.status == "in_force"
        assert state.in_force
