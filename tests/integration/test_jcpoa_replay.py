"""The JCPOA's 2015-2025 record, replayed from the shipped history as a user gets it
(`cvid agreement init --template jcpoa-2231 DIR`), and checked at dated points.

What the record must show (facts §3 and §9): relief at Implementation Day; the United
States withdrawn from 8 May 2018 with its national measures back and its rights gone;
each of Iran's steps with the limit exceeded and the ground claimed beside it; the
E3's dispute of 14 Jan 2020 as an allegation that fires nothing, and as the complaint
that starts the Dispute Resolution Mechanism's stages (the Joint Commission's 15 days,
extended by its consensus, without the withdrawn United States); the Russia/China draft
of 26 Sep 2025 that failed; the snapback at the real hour (00:00 GMT 28 Sep 2025, 20:00
EDT 27 Sep); the EU's own measures back after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cvid.agreement import Agreement, create_from_template
from cvid.engine import AgreementState
from cvid.errors import EventRejectedError
from cvid.events.envelope import sign_event
from tests.kit import at


@pytest.fixture(scope="module")
def jcpoa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agreement]:
    directory: Path = tmp_path_factory.mktemp("jcpoa") / "agreement"
    with create_from_template(directory, "jcpoa-2231", adopt_at=None) as agreement:
        yield agreement


def state(agreement: Agreement, when: str) -> AgreementState:
    return agreement.state(at=at(when))


def test_the_whole_history_is_admitted(jcpoa: Agreement) -> None:
    assert len(jcpoa.events) == 97  # every record of jcpoa-2231.history.yaml
    assert state(jcpoa, "2015-07-15").in_force


def test_implementation_day_relief(jcpoa: Agreement) -> None:
    before = state(jcpoa, "2016-01-16T06:00:00")
    assert before.measures["prior-un-sanctions"].status == "in_force"
    after = state(jcpoa, "2016-01-17")
    for measure in ("prior-un-sanctions", "us-national-sanctions", "eu-sanctions"):
        assert after.measures[measure].status == "suspended"
        assert after.measures[measure].since == at("2016-01-16T12:00:00")
    assert after.measures["us-national-sanctions"].imposed_by == "usa"
    assert after.measures["prior-un-sanctions"].imposed_by == "council"
    assert after.steps["record-adoption-day"].reason == "occurred on 2015-10-18, by the road map"
    assert after.limits["leu-stockpile"].status != "not-in-effect"


def test_the_united_states_withdraws_on_8_may_2018(jcpoa: Agreement) -> None:
    before = state(jcpoa, "2018-05-07")
    assert before.parties["usa"].standing == "participant"
    after = state(jcpoa, "2018-05-09")
    usa = after.parties["usa"]
    assert (usa.standing, usa.since) == ("withdrawn", at("2018-05-08"))
    measure = after.measures["us-national-sanctions"]
    assert (measure.status, measure.since) == ("in_force", at("2018-05-08T12:00:00"))
    assert measure.reason.startswith("reimposed by usa, its imposer")
    # A notice the United States signs after it withdrew is refused: it has no right to
    # notify any more (in 2020 it tried; here, after the rest of the record).
    event = jcpoa.next_event("usa", "snapback.notified", {"reason": "x"}, time=at("2025-10-01"))
    entry = sign_event(event, jcpoa.signer("usa")).to_bytes()
    size = jcpoa.log.size()
    with pytest.raises(EventRejectedError) as e:
        jcpoa.submit(entry, now=at("2025-10-01"))
    assert e.value.reason == "withdrawn"
    assert jcpoa.log.size() == size


def test_irans_steps_show_the_limits_exceeded_and_the_ground_claimed(jcpoa: Agreement) -> None:
    s2019 = state(jcpoa, "2019-07-02")
    leu = s2019.limits["leu-stockpile"]
    assert leu.status == "exceeded"
    assert leu.since == at("2019-07-01")
    late = state(jcpoa, "2021-04-17")
    enrichment = late.limits["enrichment-level"]
    assert enrichment.status == "exceeded"
    assert [v.value for v in enrichment.history if v.basis == "measured"] == [4.5, 20, 60]
    assert late.limits["fordow-enrichment"].status == "exceeded"
    breaches = {b.obligation: b for b in late.breaches["irn"]}
    assert set(breaches) >= {"leu-stockpile", "enrichment-level", "fordow-enrichment"}
    assert breaches["leu-stockpile"].ground.startswith("Step 1, 8 May 2019")
    assert breaches["enrichment-level"].ground.startswith("Step 2, 8 Jul 2019")
    assert breaches["fordow-enrichment"].ground.startswith("Step 4")
    assert [n.at.date() for n in late.remedial] == [
        dt.date(2019, 5, 8),
        dt.date(2019, 7, 8),
        dt.date(2019, 9, 6),
        dt.date(2019, 11, 6),
        dt.date(2020, 1, 5),
    ]
    assert all(n.in_response_to == ("usa",) for n in late.remedial)
    # Who is in breach reads in order, and the United States is not (it withdrew).
    assert [b.since for b in late.breaches["irn"]] == sorted(b.since for b in late.breaches["irn"])
    assert "usa" not in late.breaches


def test_the_e3_dispute_is_an_allegation_that_fires_nothing(jcpoa: Agreement) -> None:
    s = state(jcpoa, "2020-02-01")
    (drm,) = s.allegations
    assert (drm.by, drm.against, drm.kind, drm.status) == ("fra", "irn", "non-performance", "open")
    assert s.measures["prior-un-sanctions"].status == "suspended"


def test_the_e3_complaint_starts_the_dispute_resolution_mechanism(jcpoa: Agreement) -> None:
    before = state(jcpoa, "2020-01-13")
    assert before.steps["drm-joint-commission"].status == "blocked"  # no complaint yet
    assert before.steps["drm-joint-commission"].due is None
    s = state(jcpoa, "2020-01-20")
    complaint = s.steps["e3-complaint"]
    assert (complaint.actor, complaint.done_at) == ("fra", at("2020-01-14T00:05:00"))
    stage = s.steps["drm-joint-commission"]
    assert (stage.actor, stage.status) == ("jc", "open")
    assert stage.due == at("2020-01-29T00:05:00")  # 15 days (facts §3)
    assert s.phases["drm"].status == "open"
    assert s.steps["drm-referral"].status == "blocked"  # only after the stages


def owed(s: AgreementState) -> set[tuple[str, str, str]]:
    return {(o.party, o.kind, o.subject) for o in s.owed}


@pytest.mark.parametrize(
    "when", ["2015-10-19", "2016-01-17", "2018-05-09", "2019-12-31", "2020-01-13T23:00:00"]
)
def test_the_complaint_is_a_right_never_owed(jcpoa: Agreement, when: str) -> None:
    s = state(jcpoa, when)
    assert s.steps["e3-complaint"].status == "open"  # France may refer, from Adoption Day
    assert s.steps["e3-complaint"].reason == "fra may carry it out (a right: never owed)"
    assert ("fra", "carry out", "e3-complaint") not in owed(s)
    assert not any(o.subject.startswith(("e3-", "drm-")) for o in s.owed)


def test_the_referral_to_the_council_is_a_right_never_owed(jcpoa: Agreement) -> None:
    for when in ("2020-01-20", "2020-03-01", "2025-08-27", "2025-09-29"):
        s = state(jcpoa, when)
        assert "drm-referral" not in {o.subject for o in s.owed}
        assert s.steps["drm-referral"].status in ("blocked", "open")
        assert s.steps["drm-referral"].due is None
    # The phase waits for its stages only; stage 1 shows overdue from 13 Feb 2020 because
    # the facts do not say how the stages ran after the extension ([U], template header).
    s = state(jcpoa, "2020-03-01")
    assert s.steps["drm-joint-commission"].status == "overdue"
    assert ("jc", "carry out", "drm-joint-commission") in owed(s)
    assert s.steps["drm-referral"].reason == "waiting for drm-opinion-considered"


def test_stage_one_is_extended_by_the_joint_commissions_consensus(jcpoa: Agreement) -> None:
    proposed = state(jcpoa, "2020-01-24T13:00:00")
    decision = proposed.decisions["drm-2020-extension"]
    assert (decision.status, decision.signed_by) == ("proposed", ("fra",))
    # Consensus of the participants then: six, the United States having withdrawn.
    assert decision.needed == 6
    assert proposed.steps["drm-joint-commission"].due == at("2020-01-29T00:05:00")
    adopted = state(jcpoa, "2020-01-24T15:00:00")
    decision = adopted.decisions["drm-2020-extension"]
    assert decision.status == "adopted"
    assert set(decision.signed_by) == {"fra", "irn", "chn", "deu", "rus", "gbr"}
    assert adopted.steps["drm-joint-commission"].due == at("2020-02-13T00:05:00")
    assert adopted.steps["drm-joint-commission"].status == "open"


def test_the_russia_china_delay_draft_fails_on_26_september_2025(jcpoa: Agreement) -> None:
    assert "delay-2025" not in state(jcpoa, "2025-09-26T13:00:00").drafts
    s = state(jcpoa, "2025-09-26T16:00:00")
    draft = s.drafts["delay-2025"]
    assert (draft.purpose, draft.tabled_by) == ("continue_relief", "rus")
    assert draft.tally is not None
    assert not draft.tally.adopted
    assert draft.tally.yes == ("chn", "rus")
    (window,) = s.snapbacks
    assert window.outcome == "open"  # not continued: it closes at its hour
    assert s.measures["prior-un-sanctions"].status == "suspended"


def test_snapback_at_the_real_hour_then_the_eu_measures(jcpoa: Agreement) -> None:
    vote = state(jcpoa, "2025-09-19T16:00:00").drafts["continue-relief-2025"]
    assert vote.tally is not None
    assert vote.tally.counts == "4-9-2"
    assert not vote.adopted
    reimposed = at("2025-09-28T00:00:00")
    before = jcpoa.state(at=reimposed - dt.timedelta(seconds=1))
    assert before.measures["prior-un-sanctions"].status == "suspended"
    (window,) = before.snapbacks
    assert window.joined_by == ("deu", "gbr")
    after = jcpoa.state(at=reimposed)
    sanctions = after.measures["prior-un-sanctions"]
    assert (sanctions.status, sanctions.since) == ("in_force", reimposed)
    assert reimposed.astimezone(ZoneInfo("America/New_York")).isoformat() == (
        "2025-09-27T20:00:00-04:00"
    )
    # The snapback re-imposes the Council's measures, not a state's or the EU's own.
    assert after.measures["eu-sanctions"].status == "suspended"
    eu = state(jcpoa, "2025-09-30").measures["eu-sanctions"]
    assert (eu.status, eu.since, eu.imposed_by) == ("in_force", at("2025-09-29"), "eu")


def test_termination_day_arrives_by_itself(jcpoa: Agreement) -> None:
    step = state(jcpoa, "2025-10-19").steps["record-termination-day"]
    assert (step.status, step.reason) == ("verified", "occurred on 2025-10-18, by the road map")


# --- continuous monitoring (facts §9) ------------------------------------------------------


def test_monitoring_data_is_held_and_committed_from_23_february_2021(jcpoa: Agreement) -> None:
    before = state(jcpoa, "2021-02-22")
    assert before.continuity["centrifuge-workshops"].status == "not-established"
    held = state(jcpoa, "2021-06-24")
    workshops = held.continuity["centrifuge-workshops"]
    assert (workshops.status, workshops.baseline_at) == ("maintained", at("2021-02-23"))
    cams = held.devices["cams-workshops"]
    assert (cams.periods, cams.records_revealed) == (4, 0)  # committed by Iran, not released


def test_the_arrangement_lapses_and_the_data_not_released_is_a_finding(jcpoa: Agreement) -> None:
    assert not [v for v in state(jcpoa, "2021-06-24T23:59:59").violations if v.kind == "monitoring"]
    found = [v for v in state(jcpoa, "2021-06-25").violations if v.kind == "monitoring"]
    assert {(v.subject, v.party, v.at) for v in found} == {
        (device, "irn", at("2021-06-25"))
        for device in ("cams-workshops", "cams-karaj", "olem-natanz")
    }
    assert all("were not released" in v.detail for v in found)


def test_tesa_karaj_loses_continuity_with_its_destroyed_camera(jcpoa: Agreement) -> None:
    karaj = state(jcpoa, "2021-06-24").continuity["tesa-karaj"]
    assert (karaj.status, karaj.since, karaj.device) == (
        "lost",
        at("2021-06-23T12:00:00"),
        "cams-karaj",
    )


def test_cameras_removed_on_9_june_2022_lose_continuity(jcpoa: Agreement) -> None:
    assert state(jcpoa, "2022-06-08").continuity["centrifuge-workshops"].status == "maintained"
    after = state(jcpoa, "2022-06-10")
    for item, device in (("centrifuge-workshops", "cams-workshops"), ("natanz-fep", "olem-natanz")):
        rec = after.continuity[item]
        assert (rec.status, rec.since, rec.device) == ("lost", at("2022-06-09"), device)
        assert "by its host" in rec.cause
        assert after.devices[device].removed_by == "irn"


def test_on_10_september_2024_continuity_of_the_workshops_is_still_lost(jcpoa: Agreement) -> None:
    late = state(jcpoa, "2024-09-10")
    workshops = late.continuity["centrifuge-workshops"]
    assert workshops.status == "lost"  # cameras back since May 2023, the inventory not re-verified
    assert workshops.since == at("2022-06-09")
    assert workshops.cause.startswith("cams-workshops removed by irn: From 9 Jun 2022")
    assert workshops.devices == ("cams-workshops",)
    assert late.devices["cams-workshops"].installed_at == at("2023-05-01")
