"""The shipped road maps, used as a user uses them: created from the template on disk.

Every template loads and cites a source for each commitment; the JCPOA template
replays the real 2015-2025 record up to the snapback of September 2025; the DPRK
template rewards a verified freeze and punishes a missed deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from cvid.agreement import Agreement, create, create_from_template, template_names, template_path
from cvid.roadmap.loader import load
from cvid.roadmap.membership import Membership
from cvid.roadmap.model import Consequence, Reward
from tests.kit import at

P5 = {"chn", "fra", "rus", "gbr", "usa"}


def act(agreement: Agreement, party: str, event_type: str, when: str, **body: Any) -> None:
    """``party`` signs and submits an event at ``when``, received at that same moment."""
    agreement.act(agreement.signer(party), event_type, body, time=at(when))


def vote(agreement: Agreement, draft: str, when: str, votes: dict[str, list[str]]) -> None:
    """Every member named in ``votes`` casts its vote on ``draft`` at ``when``."""
    for choice, members in votes.items():
        for member in members:
            act(agreement, member, "council.vote.cast", when, draft=draft, vote=choice)


# --- every template -----------------------------------------------------------------------


def test_the_shipped_templates_are_there() -> None:
    assert {"dprk-phased", "jcpoa-2231"} <= set(template_names())


@pytest.mark.parametrize("name", template_names())
def test_template_loads_without_keys_and_cites_its_sources(name: str) -> None:
    roadmap = load(template_path(name))

    assert [p.id for p in roadmap.parties if p.keys] == []
    steps = [step for phase in roadmap.phases for step in phase.steps]
    assert [s.id for s in steps if not s.source] == []
    assert [m.id for m in roadmap.measures if not m.source.strip()] == []
    rules: list[Reward | Consequence] = [*roadmap.rewards, *roadmap.consequences]
    assert [r.id for r in rules if not r.source] == []
    assert [g.id for g in roadmap.guarantees if not g.source] == []
    assert [i.id for i in roadmap.inventory.items if not i.source] == []


COUNCIL_TEMPLATES = ["dprk-phased", "jcpoa-2231"]  # the Kazakhstan history involves no vote


def test_the_council_templates_are_known() -> None:
    assert set(COUNCIL_TEMPLATES) <= set(template_names())


@pytest.mark.parametrize(
    ("name", "when"),
    [
        ("dprk-phased", "2027-03-02"),
        ("jcpoa-2231", "2015-07-20"),
        ("jcpoa-2231", "2025-09-19"),
    ],
)
def test_template_council_is_the_p5_and_ten_elected_seats(name: str, when: str) -> None:
    """The Council of the day: the P5 and ten elected members (the JCPOA's 2015 and
    2025 Councils both exist in one road map, their seats held for two years)."""
    roadmap = load(template_path(name))
    assert roadmap.council is not None
    council = Membership.of(roadmap)
    members = council.members(at(when))
    assert council.permanent == P5
    assert len(members - P5) == 10
    assert roadmap.council.size == 15
    assert roadmap.council.affirmative_votes == 9


# --- JCPOA / UNSCR 2231: the 2025 snapback --------------------------------------------------


@pytest.fixture
def jcpoa(tmp_path: Path) -> Iterator[Agreement]:
    """The JCPOA road map without its shipped history (tests/integration/
    test_jcpoa_replay.py replays that), adopted on Finalisation Day (14 Jul 2015)."""
    data = yaml.safe_load(template_path("jcpoa-2231").read_text(encoding="utf-8"))
    with create(tmp_path / "jcpoa", data, adopt_at=at("2015-07-14T12:00:00")) as agreement:
        yield agreement


def replay_2015_to_2023(agreement: Agreement) -> None:
    """Endorsement and Implementation Day as they happened. Adoption Day and Transition
    Day arrive by themselves (automatic milestones): nobody reports them."""
    act(
        agreement,
        "unsc-secretariat",
        "step.reported",
        "2015-07-20T15:00:00",
        step="unsc-endorsement",
        note="UNSCR 2231",
    )
    act(agreement, "irn", "step.reported", "2016-01-16T00:00:00", step="annex-v-steps")
    act(
        agreement,
        "iaea",
        "step.verified",
        "2016-01-16T12:00:00",
        step="annex-v-steps",
        outcome="confirmed",
        note="IAEA report on Implementation Day",
    )


def test_jcpoa_milestones_fall_on_their_real_dates(jcpoa: Agreement) -> None:
    replay_2015_to_2023(jcpoa)
    state = jcpoa.state(at=at("2023-10-19"))

    due = {sid: st.due.date() for sid, st in state.steps.items() if st.due is not None}
    # Adoption Day: 90 days after the endorsement of 20 Jul 2015; Transition and
    # Termination Day: 8 and 10 years after Adoption Day (18 Oct 2015).
    assert due == {
        "record-adoption-day": dt.date(2015, 10, 18),
        "record-transition-day": dt.date(2023, 10, 18),
        "record-termination-day": dt.date(2025, 10, 18),
    }
    # Adoption and Transition Day happened by themselves (no report was logged): the
    # endorsement's moment (15:00 UTC) plus 90 days, then plus 8 years.
    for sid, day in (
        ("record-adoption-day", "2015-10-18"),
        ("record-transition-day", "2023-10-18"),
    ):
        step = state.steps[sid]
        assert (step.status, step.done_at, step.late) == ("verified", at(f"{day}T15:00:00"), False)
        assert step.reason == f"occurred on {day}, by the road map"
        assert step.events == ()
    assert state.phases["transition-day"].status == "complete"
    assert state.steps["record-termination-day"].status == "open"
    assert not [o for o in state.owed if o.subject.startswith("record-")]
    assert state.steps["annex-v-steps"].status == "verified"
    later = jcpoa.state(at=at("2025-10-19")).steps["record-termination-day"]
    assert (later.status, later.reason) == ("verified", "occurred on 2025-10-18, by the road map")
    relief = state.measures["prior-un-sanctions"]
    assert relief.status == "suspended"
    assert relief.since == at("2016-01-16T12:00:00")
    assert "implementation-day-relief" in relief.reason


def test_jcpoa_transition_day_comes_earlier_with_a_broader_conclusion(jcpoa: Agreement) -> None:
    # Counterfactual (the IAEA reached no Broader Conclusion before 18 Oct 2023 in the
    # real record): a Broader Conclusion in 2020 brings Transition Day forward to it,
    # "whichever is earlier" (JCPOA ¶34).
    replay_2015_to_2023(jcpoa)
    act(jcpoa, "iaea", "step.reported", "2020-03-02T10:00:00", step="broader-conclusion")
    state = jcpoa.state(at=at("2020-03-03"))
    transition = state.steps["record-transition-day"]
    assert (transition.due, transition.done_at) == (at("2020-03-02T10:00:00"),) * 2
    assert transition.reason == "occurred on 2020-03-02, by the road map"
    # Before it, Transition Day was not known yet: a Broader Conclusion could come first.
    assert jcpoa.state(at=at("2020-03-01")).steps["record-transition-day"].due is None


def test_jcpoa_2025_snapback_replay(jcpoa: Agreement) -> None:
    replay_2015_to_2023(jcpoa)

    # The E3 (France, Germany, the UK) notified on 28 Aug 2025; one notice opens the
    # window, so France signs it for the three. Its hour in the day does not matter: the
    # window counts whole days in GMT (see the window test below).
    act(
        jcpoa,
        "fra",
        "snapback.notified",
        "2025-08-28T15:00:00",
        reason="E3 notification of significant non-performance by Iran (France, Germany, UK)",
    )
    act(
        jcpoa,
        "elected-2025-1",
        "council.draft.tabled",
        "2025-09-19T14:00:00",
        draft="continue-relief-2025",
        title="Continuing the relief under UNSCR 2231 ¶11",
        purpose="continue_relief",
    )
    # The per-member allocation of these votes is illustrative: the facts file gives
    # only the tally, 4-9-2 (SC/16175, 19 Sep 2025), and the 2025 elected seats are
    # placeholders in the template.
    vote(
        jcpoa,
        "continue-relief-2025",
        "2025-09-19T15:00:00",
        {
            "yes": ["chn", "rus", "elected-2025-1", "elected-2025-2"],
            "no": ["fra", "gbr", "usa", *(f"elected-2025-{n}" for n in range(5, 11))],
            "abstain": ["elected-2025-3", "elected-2025-4"],
        },
    )
    act(
        jcpoa,
        "elected-2025-1",
        "council.vote.closed",
        "2025-09-19T15:30:00",
        draft="continue-relief-2025",
    )

    draft = jcpoa.state(at=at("2025-09-19T16:00:00")).drafts["continue-relief-2025"]
    assert draft.tally is not None
    assert not draft.adopted
    assert draft.tally.counts == "4-9-2"
    assert set(draft.tally.vetoed_by) == {"fra", "gbr", "usa"}

    # The window: 28 Aug + 30 days = 27 Sep, closing when 27 Sep ends in GMT, at
    # 00:00 GMT 28 Sep 2025 (20:00 EDT 27 Sep), the real hour (facts §9 "Snapback hour").
    # Until then (a second before it) the relief holds.
    reimposed_at = at("2025-09-28T00:00:00")
    before = jcpoa.state(at=reimposed_at - dt.timedelta(seconds=1))
    (window,) = before.snapbacks
    assert window.outcome == "open"
    assert window.closes_at == reimposed_at
    assert before.measures["prior-un-sanctions"].status == "suspended"
    assert not before.rules["snapback-reimposition"].fired

    # At that instant the prior UN sanctions are back.
    after = jcpoa.state(at=reimposed_at)
    (window,) = after.snapbacks
    assert window.outcome == "reimposed"
    sanctions = after.measures["prior-un-sanctions"]
    assert sanctions.status == "in_force"
    assert sanctions.since == reimposed_at
    assert sanctions.since.astimezone(ZoneInfo("America/New_York")).isoformat() == (
        "2025-09-27T20:00:00-04:00"
    )
    assert sanctions.reason.startswith("snapback: fra's notice of 2025-08-28")
    assert sanctions.source == "UNSCR 2231 ¶11-12"
    assert after.rules["snapback-reimposition"].fired_at == reimposed_at
    assert any("re-imposed: prior-un-sanctions" in alert for alert in after.alerts)


# --- DPRK phased road map ----------------------------------------------------------------------


@pytest.fixture
def dprk(tmp_path: Path) -> Iterator[Agreement]:
    """The DPRK road map, adopted by the DPRK, the ROK and the P5 on 1 Mar 2027 (hypothetical)."""
    with create_from_template(
        tmp_path / "dprk", "dprk-phased", adopt_at=at("2027-03-01T09:00:00")
    ) as agreement:
        yield agreement


def endorse_and_freeze(agreement: Agreement) -> None:
    """The Council endorses the road map; both sides carry out the freeze phase."""
    # An illustrative unanimous endorsement by placeholder Council members.
    act(
        agreement,
        "elected-1",
        "council.draft.tabled",
        "2027-03-02T14:00:00",
        draft="endorse-roadmap",
        title="Endorsing the phased road map",
        purpose="endorse",
    )
    members = [*sorted(P5), *(f"elected-{n}" for n in range(1, 11))]
    vote(agreement, "endorse-roadmap", "2027-03-02T15:00:00", {"yes": members})
    act(
        agreement,
        "elected-1",
        "council.vote.closed",
        "2027-03-02T15:30:00",
        draft="endorse-roadmap",
    )

    act(agreement, "usa", "step.reported", "2027-03-10T00:00:00", step="exercises-suspended-usa")
    act(agreement, "rok", "step.reported", "2027-03-10T00:00:00", step="exercises-suspended-rok")
    for step in ("test-moratorium", "yongbyon-freeze", "complete-declaration"):
        act(agreement, "dprk", "step.reported", "2027-03-20T00:00:00", step=step)
    act(
        agreement,
        "observers",
        "step.verified",
        "2027-03-25T10:00:00",
        step="test-moratorium",
        outcome="confirmed",
    )
    act(
        agreement,
        "iaea",
        "step.verified",
        "2027-03-25T10:00:00",
        step="complete-declaration",
        outcome="confirmed",
    )
    act(
        agreement,
        "iaea",
        "step.verified",
        "2027-03-25T11:00:00",
        step="yongbyon-freeze",
        outcome="confirmed",
    )
    for guarantor in sorted(P5):
        act(agreement, guarantor, "guarantee.signed", "2027-03-26T00:00:00", guarantee="g-nsa")


def test_dprk_verified_freeze_brings_first_tranche_and_assurance(dprk: Agreement) -> None:
    endorse_and_freeze(dprk)
    state = dprk.state(at=at("2027-03-27"))

    assert state.drafts["endorse-roadmap"].adopted
    assert state.phases["freeze"].status == "complete"
    assert state.phases["freeze"].complete_at == at("2027-03-25T11:00:00")
    assert state.rules["tranche-1"].fired_at == at("2027-03-25T11:00:00")
    assert state.measures["unsc-tranche-1"].status == "suspended"
    assert {
        m: state.measures[m].status for m in ("unsc-tranche-2", "unsc-tranche-3", "unsc-remaining")
    } == dict.fromkeys(("unsc-tranche-2", "unsc-tranche-3", "unsc-remaining"), "in_force")
    assert state.guarantees["g-nsa"].status == "in_force"
    assert state.guarantees["g-non-aggression"].status == "pending"
    yongbyon = {i: s.state for i, s in state.items.items() if i.startswith("yongbyon-")}
    assert set(yongbyon.values()) == {"frozen"}
    assert not any(r.fired for r in state.rules.values() if r.kind == "consequence")


def test_dprk_missed_disablement_deadline_reimposes_and_suspends(dprk: Agreement) -> None:
    endorse_and_freeze(dprk)
    # Disablement is due 180 days after the freeze phase completed (25 Mar 2027 11:00);
    # its consequence allows 30 days of grace. The DPRK does nothing more.
    due = at("2027-03-25T11:00:00") + dt.timedelta(days=180)
    assert dprk.state(at=at("2027-04-01")).steps["disable-5mwe"].due == due

    within_grace = dprk.state(at=due + dt.timedelta(days=29))
    assert within_grace.steps["disable-5mwe"].status == "overdue"
    assert not within_grace.rules["disablement-missed"].fired
    assert within_grace.measures["unsc-tranche-1"].status == "suspended"

    state = dprk.state(at=due + dt.timedelta(days=30))
    assert state.rules["disablement-missed"].fired_at == due + dt.timedelta(days=30)
    measure = state.measures["unsc-tranche-1"]
    assert measure.status == "in_force"
    assert measure.reason.startswith("consequence disablement-missed")
    assert state.guarantees["g-nsa"].status == "suspended"
    assert any("disablement-missed opens a Council procedure" in a for a in state.alerts)
    assert not state.rules["breach"].fired


def test_dprk_moratorium_and_fissile_ceilings_hold_as_limits(dprk: Agreement) -> None:
    endorse_and_freeze(dprk)
    state = dprk.state(at=at("2027-03-27"))
    # The moratorium holds as a limit of zero from its verification; the fissile
    # ceilings from the freeze (phase complete); the zero ceilings only after removal.
    tests = state.limits["nuclear-tests"]
    assert (tests.status, tests.bound) == ("unverified", "≤ 0 test")
    assert tests.in_effect_from == at("2027-03-25T10:00:00")
    assert state.limits["long-range-launches"].in_effect_from == at("2027-03-25T10:00:00")
    for ceiling, bound in (("plutonium-ceiling", "≤ 50 kg"), ("heu-ceiling", "≤ 800 kg")):
        assert (state.limits[ceiling].bound, state.limits[ceiling].in_effect_from) == (
            bound,
            at("2027-03-25T11:00:00"),
        )
    assert {state.limits[z].status for z in ("plutonium-removed", "heu-removed")} == {
        "not-in-effect"
    }

    act(
        dprk,
        "iaea",
        "quantity.measured",
        "2027-05-01T10:00:00",
        quantity="separated_plutonium",
        value=40,
        unit="kg",
        uncertainty=2,
    )
    assert dprk.state(at=at("2027-05-02")).limits["plutonium-ceiling"].status == "in-compliance"
    assert not dprk.state(at=at("2027-05-02")).rules["breach"].fired

    # A nuclear test after the moratorium: the observers measure one; the limit is
    # exceeded, the DPRK is in breach, and all relief ends.
    act(
        dprk,
        "observers",
        "quantity.measured",
        "2027-06-01T03:00:00",
        limit="nuclear-tests",
        value=1,
        unit="test",
    )
    state = dprk.state(at=at("2027-06-02"))
    assert state.limits["nuclear-tests"].status == "exceeded"
    assert [(b.obligation, b.kind) for b in state.breaches["dprk"]] == [("nuclear-tests", "limit")]
    assert state.rules["breach"].fired_at == at("2027-06-01T03:00:00")
    assert state.measures["unsc-tranche-1"].status == "in_force"
    assert state.guarantees["g-nsa"].status == "suspended"
