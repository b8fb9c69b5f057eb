"""Admission of an agreement's life: ratification, extension, termination, amendment,
and what is refused once the agreement has ended."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from cvid.errors import EventRejectedError
from cvid.events import authz_life
from cvid.events import bodies as b
from cvid.events.envelope import sign_event
from cvid.roadmap.loader import from_data
from cvid.roadmap.model import RoadMap
from cvid.service.problems import status_for_reason
from tests.kit import Kit, at, mini_data, with_keys
from tests.unit.events.test_authz import reasons_raised_in

T0 = at("2027-01-02T09:00:00")


def life_data(**agreement: Any) -> dict[str, Any]:
    data = mini_data()
    data["agreement"].update(agreement)
    return data


def ratifying() -> Kit:
    """Two of three ratifications bring it into force; ten years, one 5-year extension."""
    return Kit(
        life_data(
            entry_into_force={"ratifications": {"by": ["north", "usa", "chn"], "at_least": 2}},
            duration={"years": 10},
            extensions={"max": 1, "length": {"years": 5}, "by": ["north", "usa"]},
        )
    )


def refuse(
    kit: Kit,
    party: str,
    event_type: str,
    body: dict[str, Any],
    reason: str,
    *,
    time: dt.datetime = T0,
) -> EventRejectedError:
    with pytest.raises(EventRejectedError) as info:
        kit.act(party, event_type, body, time=time)
    assert info.value.reason == reason, str(info.value)
    return info.value


def test_ratifications_bring_the_agreement_into_force() -> None:
    kit = ratifying()
    report = {"step": "declare"}
    error = refuse(kit, "north", "step.reported", report, "not-in-force")
    assert "2 ratifications" in str(error)
    kit.act("north", "ratification.deposited", time=T0)
    assert not kit.gate.in_force(kit.history, T0)
    refuse(kit, "north", "ratification.deposited", {}, "duplicate")
    refuse(kit, "iaea", "ratification.deposited", {}, "unauthorised")
    kit.act("usa", "ratification.deposited", time=T0 + dt.timedelta(days=1))
    assert kit.gate.in_force(kit.history, T0 + dt.timedelta(days=1))
    kit.act("north", "step.reported", report, time=T0 + dt.timedelta(days=2))
    kit.act("chn", "ratification.deposited", time=T0 + dt.timedelta(days=3))  # a late ratifier


def test_a_road_map_without_ratifications_refuses_them() -> None:
    kit = Kit()
    refuse(kit, "north", "ratification.deposited", {}, "unauthorised")


def test_entry_into_force_on_a_date_waits_for_the_date_and_the_adoptions() -> None:
    kit = Kit(life_data(entry_into_force={"date": dt.date(2027, 3, 1)}))
    kit.adopt(T0)
    error = refuse(kit, "north", "step.reported", {"step": "declare"}, "not-in-force")
    assert "2027-03-01" in str(error)
    kit.act("north", "step.reported", {"step": "declare"}, time=at("2027-03-01"))


def in_force_until_2037() -> Kit:
    kit = ratifying()
    kit.act("north", "ratification.deposited", time=T0)
    kit.act("usa", "ratification.deposited", time=T0)
    return kit


def test_after_expiry_only_history_is_admitted() -> None:
    kit = in_force_until_2037()
    end = T0 + dt.timedelta(days=3653)  # ten years from 2027-01-02 09:00
    assert kit.history.life.until(kit.roadmap) == at("2037-01-02T09:00:00")
    error = refuse(kit, "north", "step.reported", {"step": "declare"}, "ended", time=end)
    assert "expired on 2037-01-02 09:00 UTC" in str(error)
    assert "step.reported is no longer accepted" in str(error)
    refuse(kit, "north", "agreement.extended", {"extension": "x"}, "ended", time=end)
    # The Council, measures by their imposers and findings on earlier allegations go on.
    kit.act("usa", "measure.lifted", {"measure": "m-usa"}, time=end)
    kit.act(
        "usa",
        "council.draft.tabled",
        {"draft": "d-9", "title": "After", "purpose": "other"},
        time=end,
    )


def test_the_road_map_may_allow_more_after_the_end() -> None:
    data = life_data(duration={"days": 1}, after_end=["step.reported"])
    kit = Kit(data)
    kit.adopt(T0)
    kit.act("north", "step.reported", {"step": "declare"}, time=T0 + dt.timedelta(days=2))


def test_one_extension_signed_by_all_and_no_more() -> None:
    kit = in_force_until_2037()
    kit.act("north", "agreement.extended", {"extension": "x1"}, time=T0)
    assert kit.history.life.until(kit.roadmap) == at("2037-01-02T09:00:00")  # proposed only
    refuse(kit, "north", "agreement.extended", {"extension": "x1"}, "duplicate")
    refuse(kit, "chn", "agreement.extended", {"extension": "x1"}, "unauthorised")
    kit.act("usa", "agreement.extended", {"extension": "x1"}, time=T0)
    assert kit.history.life.until(kit.roadmap) == at("2042-01-02T09:00:00")
    refuse(kit, "north", "agreement.extended", {"extension": "x2"}, "no-extensions-left")


def test_no_extension_without_a_provision() -> None:
    kit = Kit()
    kit.adopt(T0)
    refuse(kit, "north", "agreement.extended", {"extension": "x"}, "unauthorised")


def test_termination_by_every_adopting_party() -> None:
    kit = Kit()
    kit.adopt(T0)
    for party in ["north", "usa"]:
        kit.act(party, "agreement.terminated", {"reason": "Done"}, time=T0)
    refuse(kit, "usa", "agreement.terminated", {"reason": "Again"}, "duplicate")
    refuse(kit, "iaea", "agreement.terminated", {"reason": "No"}, "unauthorised")
    kit.act("north", "step.reported", {"step": "declare"}, time=T0)  # not ended yet
    kit.act("chn", "agreement.terminated", {"reason": "Done"}, time=T0 + dt.timedelta(hours=1))
    error = refuse(
        kit,
        "north",
        "step.verified",
        {"step": "declare", "outcome": "confirmed"},
        "ended",
        time=T0 + dt.timedelta(hours=2),
    )
    assert "terminated on 2027-01-02 10:00 UTC (terminated by north, usa, chn)" in str(error)


def test_termination_by_the_parties_the_road_map_names() -> None:
    kit = Kit(life_data(termination={"by": ["usa", "chn"], "at_least": 1}))
    kit.adopt(T0)
    refuse(kit, "north", "agreement.terminated", {"reason": "x"}, "unauthorised")
    kit.act("usa", "agreement.terminated", {"reason": "Denounced"}, time=T0)
    refuse(kit, "north", "step.reported", {"step": "declare"}, "ended")


def amendable(**amendments: Any) -> Kit:
    data = mini_data()
    data["amendments"] = {"by": ["north", "usa", "chn"], **amendments}
    kit = Kit(data)
    kit.adopt(T0)
    return kit


def version(kit: Kit, declare_days: int = 90) -> str:
    """A new version of the kit's road map (the deadline of ``declare`` changed), made
    known to its gate as if kept in the agreement directory; its digest."""
    data = mini_data()
    data["amendments"] = {"by": ["north", "usa", "chn"], "consent": {"at_least": 2}}
    data["phases"][0]["steps"][1]["deadline"]["days"] = declare_days
    new: RoadMap = from_data(with_keys(data)[0])
    return kit.gate.add_version(new)


def test_amendment_proposals_and_consents() -> None:
    kit = amendable(consent={"at_least": 2})
    digest = version(kit)
    proposal = {"amendment": "a1", "digest": digest, "effective": "2027-02-01"}
    unknown = {**proposal, "digest": "sha256:" + "ab" * 32}
    error = refuse(kit, "north", "amendment.proposed", unknown, "unknown-reference")
    assert f"versions/{'ab' * 32}.yaml" in str(error)
    refuse(kit, "iaea", "amendment.proposed", proposal, "unauthorised")
    past = {**proposal, "effective": "2027-01-01"}
    refuse(kit, "north", "amendment.proposed", past, "bad-body")
    refuse(kit, "north", "amendment.proposed", {**proposal, "effective": "2027-02-30"}, "bad-body")
    refuse(kit, "north", "amendment.proposed", {**proposal, "digest": "sha256:x"}, "bad-body")
    kit.act("north", "amendment.proposed", proposal, time=T0)
    refuse(kit, "usa", "amendment.proposed", proposal, "duplicate")
    refuse(kit, "north", "amendment.consented", {"amendment": "a1"}, "duplicate")
    refuse(kit, "usa", "amendment.consented", {"amendment": "a9"}, "unknown-reference")
    life = kit.history.life
    assert life.version_at(at("2027-03-01"), kit.roadmap) is None  # one consent of two
    kit.act("usa", "amendment.consented", {"amendment": "a1"}, time=T0)
    assert life.version_at(at("2027-01-31T23:59:59"), kit.roadmap) is None
    assert life.version_at(at("2027-02-01"), kit.roadmap) == digest


def test_no_amendment_without_a_provision() -> None:
    kit = Kit()
    kit.adopt(T0)
    proposal = {"amendment": "a1", "digest": version(kit), "effective": "2027-02-01"}
    refuse(kit, "north", "amendment.proposed", proposal, "unauthorised")


def test_every_reason_of_the_module_is_exercised_and_has_a_status() -> None:
    reasons = reasons_raised_in(authz_life)
    assert reasons == {
        "ended",
        "no-extensions-left",
        "unauthorised",
        "duplicate",
        "bad-body",
        "unknown-reference",
    }
    assert status_for_reason("ended") == 409
    assert status_for_reason("no-extensions-left") == 409


def test_the_bodies_are_registered() -> None:
    assert b.BODIES["agreement.extended"] is b.AgreementExtended
    assert set(b.BODIES) >= authz_life.AFTER_END


def test_events_carry_the_version_in_force_at_their_time() -> None:
    kit = amendable()
    digest = version(kit)
    kit.act(
        "north",
        "amendment.proposed",
        {"amendment": "a1", "digest": digest, "effective": "2027-02-01"},
        time=T0,
    )
    kit.act("usa", "amendment.consented", {"amendment": "a1"}, time=T0)
    kit.act("chn", "amendment.consented", {"amendment": "a1"}, time=T0)
    assert kit.gate.digest_at(at("2027-01-31"), kit.history) == kit.gate.digest
    assert kit.gate.digest_at(at("2027-02-01"), kit.history) == digest
    later = at("2027-02-02")
    old = kit.event("north", "step.reported", {"step": "declare"}, time=later)
    old = dataclasses.replace(old, roadmap=kit.gate.digest)
    data = sign_event(old, kit.signers["north"]).to_bytes()
    with pytest.raises(EventRejectedError) as info:
        kit.submit(data, now=later)
    assert info.value.reason == "wrong-roadmap"
    assert f"not the amended version in force then, {digest}" in str(info.value)
    kit.act("north", "step.reported", {"step": "declare"}, time=later)  # the new digest
    kit.gate.versions.clear()  # a kept version gone missing: named, not a crash
    with pytest.raises(EventRejectedError) as info:
        kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=later)
    assert "missing from the agreement directory" in str(info.value)
