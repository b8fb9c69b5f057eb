"""Continuity of knowledge, devices and material balances as the engine folds them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cvid.engine.monitoring import muf
from cvid.report import state_to_dict
from tests.monitor_kit import T0, H, MonitorKit, adopted_kit, device_signer, monitoring_data

DAY = dt.timedelta(days=1)


def running(*devices: str, hours: int = 3) -> MonitorKit:
    """Devices installed at T0 + 1 h, each committing hourly for ``hours`` hours."""
    kit = adopted_kit()
    for ident in devices:
        kit.install(ident, T0 + H)
    for h in range(hours):
        for ident in devices:
            kit.commit(ident, T0 + (1 + h) * H)
    return kit


def continuity(kit: MonitorKit, item: str, when: dt.datetime) -> Any:
    return kit.evaluate(when).continuity[item]


def test_continuity_is_not_established_before_a_device_is_installed() -> None:
    kit = adopted_kit()
    state = kit.evaluate(T0 + H)
    assert state.continuity["reactor-a"].status == "not-established"
    assert state.devices["cam-1"].status == "not-installed"


def test_reporting_within_tolerance_maintains_continuity() -> None:
    kit = running("cam-1", "seal-1")
    rec = continuity(kit, "reactor-a", T0 + 4 * H)
    assert (rec.status, rec.since, rec.baseline_by) == ("maintained", T0 + H, "iaea")
    assert rec.devices == ("cam-1", "seal-1")


def test_a_gap_within_tolerance_puts_continuity_at_risk_then_a_report_restores_it() -> None:
    kit = running("cam-1", "seal-1", hours=1)  # reported until T0 + 2 h
    for h in range(1, 8):
        kit.commit("seal-1", T0 + (1 + h) * H)
    rec = continuity(kit, "reactor-a", T0 + 6 * H)  # cam-1 silent for 4 h (> 3 h)
    assert rec.status == "at-risk"
    assert rec.since == T0 + 5 * H
    assert rec.device == "cam-1"
    assert rec.cause == "cam-1 silent since 2027-01-10 02:00 UTC, past 3 hours"
    assert rec.gap.start == T0 + 2 * H
    kit.commit("cam-1", T0 + 8 * H, time=T0 + 9 * H)
    rec = continuity(kit, "reactor-a", T0 + 9 * H)
    assert rec.status == "maintained"
    gaps = kit.evaluate(T0 + 9 * H).devices["cam-1"].gaps
    assert [(g.start, g.end, g.beyond) for g in gaps] == [(T0 + 2 * H, T0 + 8 * H, "at-risk")]


def test_a_gap_beyond_tolerance_loses_continuity_until_re_verification() -> None:
    kit = running("cam-1", hours=1)
    lost_at = T0 + 2 * H + DAY
    assert continuity(kit, "reactor-a", lost_at - dt.timedelta(seconds=1)).status == "at-risk"
    rec = continuity(kit, "reactor-a", lost_at)
    assert (rec.status, rec.since, rec.device) == ("lost", lost_at, "cam-1")
    assert rec.cause == ("cam-1 silent since 2027-01-10 02:00 UTC, beyond its tolerance of 1 day")
    kit.commit("cam-1", lost_at + H)  # reporting again does not bring knowledge back
    assert continuity(kit, "reactor-a", lost_at + 3 * H).status == "lost"
    kit.act("iaea", "continuity.reverified", {"items": ["reactor-a"]}, time=lost_at + 3 * H)
    rec = continuity(kit, "reactor-a", lost_at + 3 * H)
    assert (rec.status, rec.baseline_at, rec.baseline_by) == ("maintained", lost_at + 3 * H, "iaea")
    assert "re-verified by iaea (a new baseline)" in rec.cause


def test_a_removal_by_the_host_loses_continuity_a_verifiers_removal_with_cover_does_not() -> None:
    kit = running("cam-1", "seal-1")
    kit.act("iaea", "device.removed", {"device": "seal-1", "reason": "moved"}, time=T0 + 4 * H)
    assert continuity(kit, "reactor-a", T0 + 4 * H).status == "maintained"  # cam-1 still covers
    assert continuity(kit, "stock-1", T0 + 4 * H).status == "lost"  # nothing else covers it
    kit.act("north", "device.removed", {"device": "cam-1", "reason": "censure"}, time=T0 + 5 * H)
    rec = continuity(kit, "reactor-a", T0 + 5 * H)
    assert rec.status == "lost"
    assert rec.cause == ("cam-1 removed by north: censure (by its host, on 2027-01-10 05:00 UTC)")


def test_a_replacement_keeps_continuity() -> None:
    data = monitoring_data()
    data["monitoring"]["devices"].append(
        data["monitoring"]["devices"][0]
        | {"id": "cam-2", "key": device_signer("cam-2").verifier.to_text()}
    )
    kit = MonitorKit(data)
    kit.adopt(T0)
    kit.install("cam-1", T0 + H)
    kit.act("iaea", "device.replaced", {"device": "cam-1", "replacement": "cam-2"}, time=T0 + 2 * H)
    state = kit.evaluate(T0 + 3 * H)
    assert state.continuity["reactor-a"].status == "maintained"
    assert state.devices["cam-1"].status == "removed"
    assert state.devices["cam-2"].status == "reporting"
    assert state.devices["cam-1"].unacknowledged == ("installed", "replaced")
    ack = {"device": "cam-1", "act": "replaced"}
    kit.act("north", "device.acknowledged", ack, time=T0 + 3 * H)
    assert kit.evaluate(T0 + 3 * H).devices["cam-1"].unacknowledged == ("installed",)


def test_a_tamper_alarm_and_a_seal_opened_without_inspector_lose_continuity() -> None:
    kit = running("seal-1")
    kit.seal("seal.opened", "seal-1", T0 + 4 * H, inspector="iaea")
    kit.seal("seal.closed", "seal-1", T0 + 4 * H + H / 2)
    assert continuity(kit, "stock-1", T0 + 5 * H).status == "maintained"
    kit.seal("seal.opened", "seal-1", T0 + 5 * H)
    rec = continuity(kit, "stock-1", T0 + 5 * H)
    assert rec.status == "lost"
    assert rec.cause == "seal seal-1 opened at 2027-01-10T05:00:00Z without an inspector present"
    other = running("seal-1")
    other.seal("seal.tampered", "seal-1", T0 + 4 * H)
    state = other.evaluate(T0 + 4 * H)
    assert state.continuity["reactor-a"].cause == "tamper alarm on seal-1 at 2027-01-10T04:00:00Z"
    assert state.devices["seal-1"].seal == "tampered"


def test_a_failed_reveal_is_a_finding_and_loses_continuity() -> None:
    kit = adopted_kit()
    kit.install("cam-1", T0 + H)
    period, _ = kit.commit("cam-1", T0 + H)
    reveal = period.reveal()
    reveal["records"][0]["record"]["value"] = 7
    kit.act("north", "records.revealed", reveal, time=T0 + 3 * H)
    state = kit.evaluate(T0 + 3 * H)
    assert state.continuity["reactor-a"].status == "lost"
    assert state.continuity["reactor-a"].cause.startswith("failed reveal: records 0 to 3 of cam-1")
    (violation,) = state.violations
    assert (violation.kind, violation.subject, violation.party) == ("monitoring", "cam-1", "north")


def test_records_not_released_by_the_arrangements_date_are_a_finding() -> None:
    kit = running("cam-1", hours=2)
    deadline = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # the end of 28 Feb 2027 (UTC)
    assert not kit.evaluate(deadline - dt.timedelta(seconds=1)).violations
    (violation,) = kit.evaluate(deadline).violations
    assert violation.detail == (
        "8 of 8 records of cam-1 that the arrangement 'held-data' says are released by "
        "2027-02-28 were not released"
    )
    assert violation.at == deadline


def test_records_released_in_full_by_the_date_are_no_finding() -> None:
    kit = adopted_kit()
    kit.install("cam-1", T0 + H)
    period, _ = kit.commit("cam-1", T0 + H)
    kit.act("north", "records.revealed", period.reveal(0, 2), time=T0 + 3 * H)
    kit.act("north", "records.revealed", period.reveal(2, 4), time=T0 + 4 * H)
    state = kit.evaluate(dt.datetime(2027, 3, 2, tzinfo=dt.UTC))
    assert state.devices["cam-1"].records_revealed == 4
    assert not state.violations


def test_a_consequence_on_continuity_lost_waits_for_its_days_of_grace() -> None:
    data = monitoring_data()
    data["consequences"].append(
        {
            "id": "cok-lost",
            "title": "Continuity lost for a week",
            "when": {"continuity_lost": {"item": "reactor-a", "grace_days": 7}},
            "reimpose_measures": ["m-banking"],
        }
    )
    kit = MonitorKit(data)
    kit.adopt(T0)
    kit.install("cam-1", T0 + H)
    kit.act("north", "device.removed", {"device": "cam-1", "reason": "x"}, time=T0 + 2 * H)
    lost = T0 + 2 * H
    assert kit.evaluate(lost + 7 * DAY - dt.timedelta(seconds=1)).rules["cok-lost"].fired_at is None
    assert kit.evaluate(lost + 8 * DAY).rules["cok-lost"].fired_at == lost + 7 * DAY
    assert "continuity of knowledge of reactor-a lost for more than 7 days" in (
        kit.evaluate(lost).rules["cok-lost"].condition
    )


def test_status_json_carries_continuity_per_item() -> None:
    kit = running("cam-1", hours=1)
    doc = state_to_dict(kit.evaluate(T0 + 2 * H + DAY))
    assert doc["continuity"]["reactor-a"]["status"] == "lost"
    assert doc["continuity"]["reactor-a"]["since"] == "2027-01-11T02:00:00Z"
    assert doc["continuity"]["reactor-a"]["cause"].startswith("cam-1 silent since")
    assert doc["devices"]["cam-1"]["records_committed"] == 4


# --- material balance -------------------------------------------------------------------


def balance(kit: MonitorKit, party: str, period: str, **values: float) -> None:
    body: dict[str, Any] = {"area": "mba-1", "period": period} | values
    kit.act(party, "balance.reported", body, time=T0 + 30 * DAY)


def test_muf_is_beginning_plus_increases_minus_decreases_minus_ending() -> None:
    assert muf(100.0, 20.0, 30.0, 89.5) == 0.5


def test_a_muf_beyond_three_sigma_is_flagged_and_usable_in_conditions() -> None:
    data = monitoring_data()
    data["consequences"].append(
        {
            "id": "muf",
            "title": "MUF",
            "when": {"muf_flagged": "mba-1"},
            "reimpose_measures": ["m-oil"],
        }
    )
    kit = MonitorKit(data)
    kit.adopt(T0)
    balance(kit, "north", "2027-01-31", pb=100, x=20, y=30, pe=89.5, sigma=0.5)  # 1 sigma
    state = kit.evaluate(T0 + 31 * DAY)
    assert not state.balances["mba-1"].flagged
    assert state.rules["muf"].fired_at is None
    balance(kit, "iaea", "2027-01-31", pb=100, x=20, y=30, pe=88.0, sigma=0.5)  # 4 sigma
    balance(kit, "north", "2027-01-31", pb=100, x=20, y=30, pe=90, sigma=0.5)  # ignored
    state = kit.evaluate(T0 + 31 * DAY)
    (period,) = state.balances["mba-1"].periods
    assert (period.basis, period.muf, period.flagged) == ("verified", 2.0, True)
    assert period.reason == "|MUF| 2 vs 3 sigma(MUF) = 1.5 kg"
    assert state.rules["muf"].fired_at == T0 + 30 * DAY
