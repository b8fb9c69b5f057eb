"""The shipped bilateral template (``bilateral-ceilings``), used as a user uses it.

A fictional treaty between Alpha and Beta: ceilings on deployed warheads and launchers,
data exchanges on 1 March and 1 September, at most 10 inspections a year by each side
and at least 2 received, withdrawal on three months' notice. Each test scripts a
history through the Agreement API and reads the state at dated points.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cvid.agreement import Agreement, create_from_template, template_names, template_path
from cvid.errors import EventRejectedError
from cvid.roadmap.loader import load
from tests.kit import at

NAME = "bilateral-ceilings"
ADOPTED = at("2027-01-15T09:00:00")
CVID = Path(sys.executable).parent / "cvid"


def act(agreement: Agreement, party: str, event_type: str, when: str, **body: Any) -> None:
    """``party`` signs and submits an event at ``when``, received at that same moment."""
    agreement.act(agreement.signer(party), event_type, body, time=at(when))


def refused(agreement: Agreement, party: str, event_type: str, when: str, **body: Any) -> str:
    """The event is refused; its reason."""
    with pytest.raises(EventRejectedError) as e:
        act(agreement, party, event_type, when, **body)
    return e.value.reason


def inspect(agreement: Agreement, by: str, of: str, when: str, site: str = "Base 1") -> None:
    act(agreement, by, "inspection.conducted", when, type="on-site", inspected=of, site=site)


def breaches(state: Any, party: str, kind: str) -> list[tuple[str, dt.datetime]]:
    """A party's breaches of one kind (``limit``, ``obligation``, ``quota``), in order."""
    return [(b.obligation, b.since) for b in state.breaches.get(party, ()) if b.kind == kind]


@pytest.fixture
def treaty(tmp_path: Path) -> Iterator[Agreement]:
    """The treaty, adopted by both parties on 15 Jan 2027 (fictional)."""
    with create_from_template(tmp_path / "treaty", NAME, adopt_at=ADOPTED) as agreement:
        yield agreement


# --- the template -------------------------------------------------------------------------


def test_the_bilateral_template_loads_and_is_symmetric() -> None:
    assert NAME in template_names()
    roadmap = load(template_path(NAME))

    assert {p.id for p in roadmap.parties} == {"alpha", "beta"}
    assert [(b.id, b.members) for b in roadmap.joint_bodies] == [("jvc", ["alpha", "beta"])]
    ceilings = {(lim.party, lim.quantity, lim.unit, lim.max) for lim in roadmap.limits}
    assert ceilings == {
        (party, quantity, unit, cap)
        for party in ("alpha", "beta")
        for quantity, unit, cap in (
            ("deployed_warheads", "warhead", 1000),
            ("deployed_launchers", "launcher", 500),
        )
    }
    # Each ceiling is measured by the other party only.
    assert {lim.party: set(lim.verifiers) for lim in roadmap.limits} == {
        "alpha": {"beta"},
        "beta": {"alpha"},
    }
    (exchange,) = roadmap.obligations
    assert (exchange.for_each, exchange.on_dates) == (["alpha", "beta"], ["03-01", "09-01"])
    assert {(q.party, q.counts, q.at_least, q.at_most) for q in roadmap.quotas} == {
        ("alpha", "conducted", None, 10),
        ("beta", "conducted", None, 10),
        ("alpha", "received", 2, None),
        ("beta", "received", 2, None),
    }
    assert (roadmap.withdrawal.notice.months, roadmap.withdrawal.owed_to_withdrawn) == (3, "lapse")
    # Every commitment says where it comes from (here: mostly the design itself).
    sourced: list[tuple[str, str | None]] = [
        (c.id, c.source)
        for group in (roadmap.limits, roadmap.obligations, roadmap.quotas, roadmap.consequences)
        for c in group
    ]
    assert [cid for cid, source in sourced if not source] == []
    assert roadmap.withdrawal.source
    steps = [step for phase in roadmap.phases for step in phase.steps]
    assert [s.id for s in steps if not s.source] == []


def test_cvid_roadmap_validate_accepts_the_template() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run(
        [str(CVID), "roadmap", "validate", str(template_path(NAME))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid road map 'bilateral-ceilings': 2 parties" in result.stdout


# --- ceilings ---------------------------------------------------------------------------


def test_a_ceiling_exceeded_is_the_breach_of_that_party_alone(treaty: Agreement) -> None:
    # The ceilings hold from 180 days after entry into force (the reductions period).
    early = treaty.state(at=at("2027-07-01"))
    assert early.limits["beta-deployed-warheads"].status == "not-in-effect"
    assert early.limits["beta-deployed-warheads"].in_effect_from == ADOPTED + dt.timedelta(180)

    act(
        treaty,
        "alpha",
        "quantity.measured",
        "2027-08-01T10:00:00",
        limit="beta-deployed-warheads",
        value=1020,
        unit="warheads",
        uncertainty=0,
    )
    act(
        treaty,
        "beta",
        "quantity.measured",
        "2027-08-01T10:00:00",
        limit="alpha-deployed-warheads",
        value=990,
        unit="warhead",
    )
    # A party cannot measure its own ceiling.
    assert (
        refused(
            treaty,
            "beta",
            "quantity.measured",
            "2027-08-01T11:00:00",
            limit="beta-deployed-warheads",
            value=900,
            unit="warhead",
        )
        == "unauthorised"
    )

    state = treaty.state(at=at("2027-08-02"))
    beta = state.limits["beta-deployed-warheads"]
    assert (beta.status, beta.value, beta.bound) == ("exceeded", 1020, "≤ 1000 warhead")
    assert beta.since == at("2027-08-01T10:00:00")
    assert state.limits["alpha-deployed-warheads"].status == "in-compliance"
    assert state.limits["alpha-deployed-launchers"].status == "unverified"
    # (Both parties also missed the data exchanges nobody performed in this script.)
    assert breaches(state, "beta", "limit") == [
        ("beta-deployed-warheads", at("2027-08-01T10:00:00"))
    ]
    assert breaches(state, "alpha", "limit") == []
    assert state.rules["beta-over-ceiling"].fired_at == at("2027-08-01T10:00:00")
    assert not state.rules["alpha-over-ceiling"].fired

    # Back under the ceiling: the limit is restored; the breach stays on the record.
    act(
        treaty,
        "alpha",
        "quantity.measured",
        "2027-10-01T10:00:00",
        limit="beta-deployed-warheads",
        value=998,
        unit="warhead",
    )
    later = treaty.state(at=at("2027-10-02"))
    restored = later.limits["beta-deployed-warheads"]
    assert (restored.status, restored.restored_at) == ("in-compliance", at("2027-10-01T10:00:00"))
    assert restored.violated
    assert [b for b, _ in breaches(later, "beta", "limit")] == ["beta-deployed-warheads"]


# --- data exchanges -------------------------------------------------------------------------


def test_a_missed_data_exchange_is_that_partys_alone(treaty: Agreement) -> None:
    # Alpha hands over its data for 1 March 2027 and Beta confirms receipt; Beta sends
    # nothing.
    act(
        treaty,
        "alpha",
        "obligation.performed",
        "2027-02-27T10:00:00",
        obligation="data-exchange.alpha",
        occurrence="2027-03-01",
    )
    act(
        treaty,
        "beta",
        "obligation.confirmed",
        "2027-02-28T10:00:00",
        obligation="data-exchange.alpha",
        occurrence="2027-03-01",
        outcome="confirmed",
    )

    on_the_day = treaty.state(at=at("2027-03-01T23:59:59"))
    assert on_the_day.obligations["data-exchange.beta"].occurrences[0].status == "pending"
    assert not on_the_day.rules["beta-missed-exchange"].fired

    missed_at = at("2027-03-02T00:00:00")  # the end of 1 March, in UTC
    state = treaty.state(at=missed_at)
    alpha = state.obligations["data-exchange.alpha"].occurrences[0]
    beta = state.obligations["data-exchange.beta"]
    assert (alpha.due, alpha.status, alpha.confirmed_by) == ("2027-03-01", "done", ("beta",))
    assert (beta.occurrences[0].due, beta.occurrences[0].status) == ("2027-03-01", "missed")
    assert beta.next_due == "2027-09-01"
    assert breaches(state, "beta", "obligation") == [("data-exchange.beta", missed_at)]
    assert not state.breaches.get("alpha")
    assert state.rules["beta-missed-exchange"].fired_at == missed_at
    assert not state.rules["alpha-missed-exchange"].fired


# --- inspections -------------------------------------------------------------------------


def test_the_annual_quota_refuses_an_eleventh_inspection_and_judges_a_short_year(
    treaty: Agreement,
) -> None:
    # 2028: Alpha uses its ten inspections of Beta; the eleventh is refused.
    for month in range(1, 11):
        inspect(treaty, "alpha", "beta", f"2028-{month:02d}-10T08:00:00", site=f"Base {month}")
    assert (
        refused(
            treaty,
            "alpha",
            "inspection.conducted",
            "2028-11-10T08:00:00",
            type="on-site",
            inspected="beta",
            site="Base 11",
        )
        == "quota-exceeded"
    )
    # Beta inspects Alpha only once in 2028: Alpha received fewer than 2.
    inspect(treaty, "beta", "alpha", "2028-05-20T08:00:00")

    in_december = treaty.state(at=at("2028-12-31T23:59:59"))
    assert in_december.quotas["alpha-at-most"].periods[-1].count == 10
    assert in_december.quotas["alpha-accepts"].periods[-1].status == "open"
    assert not in_december.rules["alpha-inspections-short"].fired

    year_end = at("2029-01-01T00:00:00")
    state = treaty.state(at=year_end)
    periods = {p.start.year: (p.count, p.status) for p in state.quotas["alpha-accepts"].periods}
    # 2027 began before entry into force (15 Jan 2027): not judged.
    assert periods[2027] == (0, "not judged")
    assert periods[2028] == (1, "short")
    assert {p.start.year: p.status for p in state.quotas["beta-accepts"].periods}[2028] == "met"
    assert state.rules["alpha-inspections-short"].fired_at == year_end
    assert not state.rules["beta-inspections-short"].fired
    assert breaches(state, "alpha", "quota") == [("alpha-accepts", year_end)]
    assert breaches(state, "beta", "quota") == []

    # The count starts again with the next year.
    inspect(treaty, "alpha", "beta", "2029-01-10T08:00:00", site="Base 11")
    assert treaty.state(at=at("2029-01-11")).quotas["alpha-at-most"].periods[-1].count == 1


# --- withdrawal -------------------------------------------------------------------------


def test_a_withdrawal_takes_effect_after_three_months_and_ends_its_rights(
    treaty: Agreement,
) -> None:
    act(treaty, "beta", "party.withdrawal_notified", "2027-08-10T09:00:00", reason="Leaving")
    effective = at("2027-11-10T09:00:00")  # 10 Aug + 3 calendar months

    before = treaty.state(at=effective - dt.timedelta(seconds=1))
    assert before.parties["beta"].standing == "participant"
    assert before.parties["beta"].withdrawal_effective == effective
    # While the notice runs, Beta keeps its rights: it still inspects.
    inspect(treaty, "beta", "alpha", "2027-11-01T08:00:00")

    state = treaty.state(at=effective)
    beta = state.parties["beta"]
    assert (beta.standing, beta.since) == ("withdrawn", effective)
    assert state.parties["alpha"].standing == "participant"
    # Its open steps close as withdrawn, and it owes none of them any more.
    assert state.steps["baseline-beta"].status == "withdrawn"
    assert not [o for o in state.owed if o.party == "beta" and o.kind == "carry out"]

    # From then on it has no rights: no inspection, no part in the Commission's decisions.
    assert (
        refused(
            treaty,
            "beta",
            "inspection.conducted",
            "2027-11-11T08:00:00",
            type="on-site",
            inspected="alpha",
            site="Base 2",
        )
        == "withdrawn"
    )
    assert (
        refused(
            treaty,
            "beta",
            "decision.proposed",
            "2027-11-11T08:00:00",
            decision="d-1",
            body="jvc",
            subject="Extend the baseline exchange",
            extend={"step": "baseline-alpha", "days": 30},
        )
        == "withdrawn"
    )
    # Alpha, the remaining participant, still acts.
    inspect(treaty, "alpha", "beta", "2027-11-12T08:00:00")


def test_recurring_obligations_end_with_a_withdrawal(treaty: Agreement) -> None:
    act(treaty, "beta", "party.withdrawal_notified", "2027-08-10T09:00:00", reason="Leaving")
    state = treaty.state(at=at("2028-04-01"))
    owed = {(o.party, o.subject) for o in state.owed if o.kind == "perform"}
    assert ("beta", "data-exchange.beta") not in owed
    assert ("alpha", "data-exchange.alpha") not in owed


# --- the treaty's term ------------------------------------------------------------------


def test_after_its_ten_year_term_nothing_is_owed_and_events_are_refused(
    treaty: Agreement,
) -> None:
    roadmap = load(template_path(NAME))
    assert roadmap.agreement.duration is not None
    assert roadmap.agreement.duration.years == 10
    expiry = at("2037-01-15T09:00:00")  # ten calendar years after entry into force

    # The last day of the term: the treaty is in force and its obligations are owed.
    before = treaty.state(at=expiry - dt.timedelta(seconds=1))
    assert before.in_force
    assert before.life.status == "in_force"
    assert before.life.until == expiry
    assert before.limits["alpha-deployed-warheads"].status != "not-in-effect"
    assert {o.party for o in before.owed} >= {"alpha", "beta"}
    inspect(treaty, "alpha", "beta", "2037-01-14T08:00:00")

    after = treaty.state(at=expiry + dt.timedelta(days=200))
    assert not after.in_force
    assert (after.life.status, after.life.since) == ("expired", expiry)
    assert after.owed == ()
    # Nothing owed after the end: the steps never done end, no exchange is missed.
    assert after.steps["baseline-alpha"].status == "ended"
    assert after.phases["entry-into-force"].status == "ended"
    exchanges = after.obligations["data-exchange.alpha"].occurrences
    assert all(o.due <= "2037-01-15" for o in exchanges)
    assert not any(o.status == "missed" and o.due > "2037-01-15" for o in exchanges)
    assert after.limits["alpha-deployed-warheads"].status == "not-in-effect"

    # Events are refused once it has ended.
    assert (
        refused(
            treaty,
            "beta",
            "inspection.conducted",
            "2037-01-16T08:00:00",
            type="on-site",
            inspected="alpha",
            site="Base 1",
        )
        == "ended"
    )
    assert (
        refused(
            treaty,
            "alpha",
            "obligation.performed",
            "2037-02-27T10:00:00",
            obligation="data-exchange.alpha",
            occurrence="2037-03-01",
        )
        == "ended"
    )
