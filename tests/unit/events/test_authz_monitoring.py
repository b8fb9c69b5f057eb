"""Admission of continuous-monitoring events: device acts by the right parties, device
data signed by the device's current key, and every bad commitment or reveal refused
with its reason and nothing logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.errors import EventRejectedError
from cvid.events.authz_monitoring import MONITORING_TYPES, RevealCheck
from cvid.monitor.records import commit_period, time_text
from tests.monitor_kit import T0, H, MonitorKit, adopted_kit, device_signer


def refused(kit: MonitorKit, party: str, event_type: str, body: dict[str, Any], time: Any) -> str:
    """Submit and expect a refusal; check nothing was logged; return the reason."""
    size, logged = kit.history.size, kit.log.size()
    with pytest.raises(EventRejectedError) as e:
        kit.act(party, event_type, body, time=time)
    assert (kit.history.size, kit.log.size()) == (size, logged)
    return f"{e.value.reason}: {e.value}"


def installed() -> MonitorKit:
    kit = adopted_kit()
    for ident in ("cam-1", "seal-1", "mon-1"):
        kit.install(ident, T0 + H)
    return kit


# --- device acts ------------------------------------------------------------------------


def test_a_verifier_installs_and_the_host_acknowledges() -> None:
    kit = adopted_kit()
    kit.install("cam-1", T0 + H)
    kit.act("north", "device.acknowledged", {"device": "cam-1", "act": "installed"}, time=T0 + H)
    state = kit.evaluate(T0 + 2 * H)
    assert state.devices["cam-1"].status == "reporting"
    assert state.devices["cam-1"].unacknowledged == ()


@pytest.mark.parametrize(
    ("party", "event_type", "body", "reason"),
    [
        ("north", "device.installed", {"device": "cam-1"}, "unauthorised: north is not a verifier"),
        ("iaea", "device.installed", {"device": "cam-9"}, "unknown-device: no device 'cam-9'"),
        ("iaea", "device.acknowledged", {"device": "cam-1", "act": "installed"}, "unauthorised"),
        ("iaea", "device.serviced", {"device": "cam-1", "note": "x"}, "device-not-installed"),
        ("usa", "device.removed", {"device": "cam-1", "reason": "x"}, "unauthorised"),
    ],
)
def test_device_acts_by_the_wrong_party_or_on_the_wrong_device_are_refused(
    party: str, event_type: str, body: dict[str, Any], reason: str
) -> None:
    kit = adopted_kit()
    assert reason in refused(kit, party, event_type, body, T0 + H)


def test_monitoring_events_wait_for_entry_into_force() -> None:
    kit = MonitorKit()
    assert refused(kit, "iaea", "device.installed", {"device": "cam-1"}, T0).startswith(
        "not-in-force"
    )
    assert len(MONITORING_TYPES) == 13


def test_installing_twice_and_replacing_with_an_installed_device_are_refused() -> None:
    kit = installed()
    assert refused(kit, "iaea", "device.installed", {"device": "cam-1"}, T0 + H).startswith(
        "duplicate"
    )
    body = {"device": "cam-1", "replacement": "seal-1"}
    assert "already installed" in refused(kit, "iaea", "device.replaced", body, T0 + H)


def test_the_host_may_remove_a_device_and_it_is_recorded_as_such() -> None:
    kit = installed()
    kit.act("north", "device.removed", {"device": "cam-1", "reason": "ours"}, time=T0 + 2 * H)
    state = kit.evaluate(T0 + 3 * H)
    assert state.devices["cam-1"].removed_by == "north"
    assert "removed by its host north" in " ".join(state.alerts)


# --- commitments ------------------------------------------------------------------------


def test_a_signed_commitment_is_admitted() -> None:
    kit = installed()
    _, ev = kit.commit("cam-1", T0 + H)
    assert ev.type == "records.committed"
    assert kit.evaluate(T0 + 2 * H).devices["cam-1"].records_committed == 4


def test_non_monotonic_times_are_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    body = period.commitment()
    swapped = body | {"first": body["last"], "last": body["first"]}
    reason = refused(
        kit,
        "north",
        "records.committed",
        kit.sign_body("records.committed", swapped, kit.keys["cam-1"]),
        T0 + 2 * H,
    )
    assert reason.startswith("non-monotonic-times: a period's times go start ≤ first ≤ last < end")
    late = body | {"last": body["end"]}
    reason = refused(
        kit,
        "north",
        "records.committed",
        kit.sign_body("records.committed", late, kit.keys["cam-1"]),
        T0 + 2 * H,
    )
    assert reason.startswith("non-monotonic-times")


def test_a_period_that_ends_after_it_is_logged_is_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    reason = refused(kit, "north", "records.committed", kit.commit_body(period), T0 + H + H / 2)
    assert "after it is logged" in reason


def test_overlapping_periods_are_refused() -> None:
    kit = installed()
    kit.commit("cam-1", T0 + H)
    period = kit.period("cam-1", T0 + H + H / 2)
    reason = refused(kit, "north", "records.committed", kit.commit_body(period), T0 + 3 * H)
    assert reason.startswith("overlapping-period: the period starts at 2027-01-10T01:30:00Z")


def test_a_commitment_for_an_unknown_device_is_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    body = kit.sign_body(
        "records.committed", period.commitment() | {"device": "cam-9"}, kit.keys["cam-1"]
    )
    assert refused(kit, "north", "records.committed", body, T0 + 2 * H).startswith(
        "unknown-device: no device 'cam-9'"
    )


def test_another_devices_key_is_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    body = kit.commit_body(period, key=kit.keys["seal-1"])
    reason = refused(kit, "north", "records.committed", body, T0 + 2 * H)
    assert reason == ("device-key: data for device 'cam-1' is signed with device 'seal-1''s key")


def test_a_bad_device_signature_is_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    body = kit.commit_body(period) | {"count": 5}  # changed after signing
    assert refused(kit, "north", "records.committed", body, T0 + 2 * H).startswith(
        "bad-device-signature"
    )


def test_data_signed_by_a_removed_device_is_refused() -> None:
    kit = installed()
    period = kit.period("cam-1", T0 + H)
    kit.act("iaea", "device.removed", {"device": "cam-1", "reason": "end"}, time=T0 + H + H / 2)
    reason = refused(kit, "north", "records.committed", kit.commit_body(period), T0 + 2 * H)
    assert reason.startswith("device-removed: device 'cam-1' was removed")
    assert "data signed by a removed device is refused" in reason


def test_only_the_party_that_logs_a_devices_data_commits_it() -> None:
    kit = installed()
    period = kit.period("mon-1", T0 + H)
    reason = refused(kit, "north", "records.committed", kit.commit_body(period), T0 + 2 * H)
    assert reason == "unauthorised: 'mon-1''s data is logged by ops, not north"
    kit.act("ops", "records.committed", kit.commit_body(period), time=T0 + 2 * H)


def test_a_rotated_key_replaces_the_old_one() -> None:
    kit = installed()
    new = device_signer("cam-1", 1)
    kit.act(
        "iaea",
        "device.key_rotated",
        {"device": "cam-1", "key": new.verifier.to_text()},
        time=T0 + H,
    )
    period = kit.period("cam-1", T0 + H)
    assert refused(
        kit, "north", "records.committed", kit.commit_body(period), T0 + 2 * H
    ).startswith("bad-device-signature")
    kit.act("north", "records.committed", kit.commit_body(period, key=new), time=T0 + 2 * H)


def test_a_rotation_to_another_devices_key_is_refused() -> None:
    kit = installed()
    body = {"device": "cam-1", "key": kit.roadmap.monitoring.devices[1].key}  # type: ignore[union-attr]
    assert "bad-body" in refused(kit, "iaea", "device.key_rotated", body, T0 + H)  # seal-1's name
    stolen = device_signer("seal-1")
    from cvid.log.note import Verifier

    renamed = Verifier("cam-1", stolen.public_key).to_text()
    reason = refused(kit, "iaea", "device.key_rotated", {"device": "cam-1", "key": renamed}, T0 + H)
    assert reason == "device-key: the new key is already device 'seal-1''s key"


# --- seals ------------------------------------------------------------------------------


def test_a_seal_names_only_one_of_its_verifiers_as_inspector() -> None:
    kit = installed()
    kit.seal("seal.opened", "seal-1", T0 + 2 * H, inspector="iaea")
    body = kit.sign_body(
        "seal.opened",
        {"device": "seal-1", "at": time_text(T0 + 3 * H), "inspector": "usa"},
        kit.keys["seal-1"],
    )
    assert refused(kit, "north", "seal.opened", body, T0 + 3 * H).startswith("bad-body")


# --- reveals ----------------------------------------------------------------------------


def test_a_matching_reveal_is_admitted_and_a_count_mismatch_refused() -> None:
    kit = installed()
    period, _ = kit.commit("cam-1", T0 + H)
    reveal = period.reveal(1, 3)
    wrong = reveal | {"count": 5}
    assert refused(kit, "north", "records.revealed", wrong, T0 + 3 * H) == (
        "count-mismatch: the reveal says the period holds 5 records; its commitment says 4"
    )
    ev = kit.act("north", "records.revealed", reveal, time=T0 + 3 * H)
    assert isinstance(ev.checked, RevealCheck)
    assert ev.checked.matched


def test_a_reveal_of_records_beyond_the_count_is_refused() -> None:
    kit = installed()
    period, _ = kit.commit("cam-1", T0 + H)
    reveal = period.reveal(2) | {"index": 3}
    assert refused(kit, "north", "records.revealed", reveal, T0 + 3 * H).startswith(
        "count-mismatch: records 3 to 4"
    )


def test_a_reveal_that_does_not_match_is_logged_as_such() -> None:
    kit = installed()
    period, _ = kit.commit("cam-1", T0 + H)
    reveal = period.reveal()
    reveal["records"][2]["record"]["value"] = -1
    ev = kit.act("north", "records.revealed", reveal, time=T0 + 3 * H)
    assert isinstance(ev.checked, RevealCheck)
    assert not ev.checked.matched
    assert "do not match the commitment" in ev.checked.reason


def test_records_committed_before_a_removal_may_still_be_revealed() -> None:
    kit = installed()
    period, _ = kit.commit("cam-1", T0 + H)
    kit.act("north", "device.removed", {"device": "cam-1", "reason": "ours"}, time=T0 + 3 * H)
    ev = kit.act("north", "records.revealed", period.reveal(), time=T0 + 4 * H)
    assert isinstance(ev.checked, RevealCheck)
    assert ev.checked.matched
    assert kit.evaluate(T0 + 4 * H).devices["cam-1"].records_revealed == 4


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(-90, 90), st.integers(1, 120)), min_size=1, max_size=8))
def test_periods_are_admitted_exactly_when_each_starts_after_the_last_ended(
    steps: list[tuple[int, int]],
) -> None:
    """Random period starts (minutes after the previous end, negative: overlapping) and
    lengths: admitted iff no overlap (nor a start before the installation); a refusal
    leaves the history as it was."""
    kit = installed()
    end = T0 + H  # installed at T0 + 1 h
    for shift, length in steps:
        start = end + dt.timedelta(minutes=shift)
        period = commit_period(
            "cam-1",
            start,
            start + dt.timedelta(minutes=length),
            [{"time": time_text(start)}],
            random_bytes=bytes,
        )
        body = kit.commit_body(period)
        when = max(period.end, kit.history.last_time["north"])
        if shift < 0:
            before_installation = start < T0 + H
            reason = "non-monotonic-times" if before_installation else "overlapping-period"
            assert refused(kit, "north", "records.committed", body, when).startswith(reason)
        else:
            kit.act("north", "records.committed", body, time=when)
            end = period.end
