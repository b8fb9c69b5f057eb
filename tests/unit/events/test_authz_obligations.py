"""Admission of recurring obligations' occurrences and of inspections within quotas.

The road map is ``tests.recurring_kit``'s: adopted at ``T0`` (2027-01-10); ``exchange``
is owed by north and south every six months from 31 January 2027 and confirmed by
the inspectorate; ``report`` is north's on 15 March and 15 September; usa may carry
out at most 3 inspections a calendar year. Every refusal leaves the history as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from cvid.errors import EventRejectedError
from cvid.events import authz_obligations
from cvid.events import bodies as b
from cvid.service.problems import status_for_reason
from tests.kit import Kit, at
from tests.recurring_kit import recurring_data
from tests.unit.events.test_authz import reasons_raised_in

T0 = at("2027-01-10")
JULY = at("2027-07-01")


def kit(data: dict[str, Any] | None = None) -> Kit:
    k = Kit(data or recurring_data())
    k.adopt(T0)
    return k


def perform(obligation: str = "exchange.north", occurrence: str = "2027-07-31") -> dict[str, Any]:
    return {"obligation": obligation, "occurrence": occurrence}


def confirm(outcome: str = "confirmed", occurrence: str = "2027-07-31") -> dict[str, Any]:
    return {"obligation": "exchange.north", "occurrence": occurrence, "outcome": outcome}


INSPECT = {"type": "type-one", "inspected": "north", "site": "Site A"}


def refused(
    k: Kit, party: str, event_type: str, body: dict[str, Any], time: dt.datetime
) -> EventRejectedError:
    before = copy.deepcopy(k.history)
    with pytest.raises(EventRejectedError) as info:
        k.act(party, event_type, body, time=time)
    assert k.history == before
    return info.value


def performed(k: Kit | None = None) -> Kit:
    k = k or kit()
    k.act("north", "obligation.performed", perform(), time=JULY)
    return k


def three_inspections(k: Kit) -> Kit:
    for n in range(3):
        k.act("usa", "inspection.conducted", INSPECT, time=at(f"2027-0{n + 3}-01"))
    return k


CASES: list[tuple[str, str, Any, str, str, dict[str, Any], dt.datetime, str]] = [
    # (id, reason, setup, party, type, body, time, message fragment)
    (
        "unknown",
        "unknown-reference",
        kit,
        "north",
        "obligation.performed",
        perform("nothing"),
        JULY,
        "no recurring obligation 'nothing'",
    ),
    (
        "not-the-obliged",
        "unauthorised",
        kit,
        "south",
        "obligation.performed",
        perform(),
        JULY,
        "'exchange.north' is north's to perform, not south's",
    ),
    (
        "no-such-day",
        "bad-body",
        kit,
        "north",
        "obligation.performed",
        perform(occurrence="2027-02-30"),
        JULY,
        "'2027-02-30' is not a date",
    ),
    (
        "not-an-occurrence",
        "no-occurrence",
        kit,
        "north",
        "obligation.performed",
        perform(occurrence="2027-07-30"),
        JULY,
        "2027-07-30 is not an occurrence of 'exchange.north'; the next is 2027-07-31",
    ),
    (
        "before-the-anchor",
        "no-occurrence",
        kit,
        "north",
        "obligation.performed",
        perform(occurrence="2027-01-31"),
        JULY,
        "not an occurrence",
    ),
    (
        "not-yet-open",
        "not-open",
        kit,
        "north",
        "obligation.performed",
        perform(occurrence="2028-01-31"),
        JULY,
        "due 2028-01-31 may be performed from 2027-08-01",
    ),
    (
        "performed-twice",
        "duplicate",
        performed,
        "north",
        "obligation.performed",
        perform(),
        JULY,
        "north already performed the occurrence of 'exchange.north' due 2027-07-31",
    ),
    (
        "not-a-verifier",
        "unauthorised",
        performed,
        "usa",
        "obligation.confirmed",
        confirm(),
        JULY,
        "usa is not a verifier of north's obligation 'exchange.north'",
    ),
    (
        "confirm-unperformed",
        "not-performed",
        kit,
        "iaea",
        "obligation.confirmed",
        confirm(),
        JULY,
        "has not been performed",
    ),
    (
        "unknown-type",
        "unknown-reference",
        kit,
        "usa",
        "inspection.conducted",
        {**INSPECT, "type": "type-nine"},
        JULY,
        "no inspection type 'type-nine'",
    ),
    (
        "not-an-inspector",
        "unauthorised",
        kit,
        "chn",
        "inspection.conducted",
        INSPECT,
        JULY,
        "chn does not carry out 'type-one' inspections",
    ),
    (
        "unknown-inspected",
        "unknown-reference",
        kit,
        "usa",
        "inspection.conducted",
        {**INSPECT, "inspected": "nobody"},
        JULY,
        "'nobody' is not a party",
    ),
    (
        "inspects-itself",
        "unauthorised",
        kit,
        "usa",
        "inspection.conducted",
        {**INSPECT, "type": "type-two", "inspected": "usa"},
        JULY,
        "'type-two' inspections are not of usa",
    ),
    (
        "not-of-that-party",
        "unauthorised",
        kit,
        "usa",
        "inspection.conducted",
        {**INSPECT, "inspected": "south"},
        JULY,
        "'type-one' inspections are not of south",
    ),
    (
        "quota",
        "quota-exceeded",
        lambda: three_inspections(kit()),
        "usa",
        "inspection.conducted",
        INSPECT,
        JULY,
        "quota 'usa-at-most': usa has had its 3 inspections for the period 2027-01-01 to 2028",
    ),
]


@pytest.mark.parametrize(
    ("case_id", "reason", "setup", "party", "event_type", "body", "time", "said"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_each_refusal(
    case_id: str,
    reason: str,
    setup: Any,
    party: str,
    event_type: str,
    body: dict[str, Any],
    time: dt.datetime,
    said: str,
) -> None:
    error = refused(setup(), party, event_type, body, time)
    assert error.reason == reason
    assert said in str(error)


def test_a_confirmation_twice_is_refused() -> None:
    k = performed(kit())
    k.act("iaea", "obligation.confirmed", confirm(), time=JULY)
    error = refused(k, "iaea", "obligation.confirmed", confirm("failed"), JULY)
    assert error.reason == "duplicate"


def test_the_table_covers_every_reason_in_the_module() -> None:
    confirmed_twice = {"duplicate"}
    assert reasons_raised_in(authz_obligations) == {c[1] for c in CASES} | confirmed_twice


@pytest.mark.parametrize(
    ("reason", "status"),
    [("quota-exceeded", 409), ("not-open", 409), ("not-performed", 409), ("no-occurrence", 422)],
)
def test_refusals_map_to_http_statuses(reason: str, status: int) -> None:
    assert status_for_reason(reason) == status


def test_each_type_is_admitted() -> None:
    k = kit()
    done = k.act(
        "north", "obligation.performed", {**perform(), "note": "Data handed over"}, time=JULY
    )
    assert isinstance(done.body, b.ObligationPerformed)
    seen = k.act("iaea", "obligation.confirmed", confirm(), time=JULY)
    assert isinstance(seen.body, b.ObligationConfirmed)
    inspected = k.act("usa", "inspection.conducted", INSPECT, time=JULY)
    assert isinstance(inspected.body, b.InspectionConducted)
    assert inspected.checked == [("usa-at-most", 0), ("north-at-least", 0)]
    assert k.history.obligations.quota_counts == {("usa-at-most", 0): 1, ("north-at-least", 0): 1}


def test_an_occurrence_opens_when_the_previous_one_falls_due() -> None:
    k = kit()
    error = refused(
        k,
        "north",
        "obligation.performed",
        perform(occurrence="2028-01-31"),
        at("2027-07-31T23:59:59"),
    )
    assert error.reason == "not-open"
    k.act("north", "obligation.performed", perform(occurrence="2028-01-31"), time=at("2027-08-01"))
    # the earlier one may still be performed, late
    k.act("north", "obligation.performed", perform(), time=at("2027-08-02"))


def test_the_quota_starts_again_with_the_next_year() -> None:
    k = three_inspections(kit())
    assert (
        refused(k, "usa", "inspection.conducted", INSPECT, at("2027-12-31T23:59:00")).reason
        == "quota-exceeded"
    )
    k.act("usa", "inspection.conducted", INSPECT, time=at("2028-01-01"))
    assert k.history.obligations.quota_counts[("usa-at-most", 1)] == 1


def test_an_obligation_anchored_on_a_step_starts_when_the_step_is_done() -> None:
    data = recurring_data()
    data["obligations"].append(
        {
            "id": "monthly",
            "title": "Monthly",
            "party": "north",
            "action": "Report",
            "every": {"months": 1},
            "from": {"after": "declare"},
        }
    )
    k = kit(data)
    body = perform("monthly", "2027-03-01")
    error = refused(k, "north", "obligation.performed", body, at("2027-02-01"))
    assert (error.reason, str(error).endswith("has not started: its anchor is not reached")) == (
        "no-occurrence",
        True,
    )
    k.act("north", "step.reported", {"step": "declare"}, time=at("2027-02-01"))
    k.act("north", "obligation.performed", body, time=at("2027-02-02"))


def test_an_obligation_ended_by_a_milestone_has_no_occurrence_after_it() -> None:
    data = recurring_data()
    data["obligations"][1]["until"] = {"milestone": "declare"}
    k = kit(data)
    k.act("north", "step.reported", {"step": "declare"}, time=at("2027-02-01"))
    error = refused(
        k, "north", "obligation.performed", perform("report", "2027-03-15"), at("2027-02-02")
    )
    assert error.reason == "no-occurrence"
    assert "no occurrence follows" in str(error)


@pytest.mark.parametrize(
    ("party", "event_type", "body"),
    [
        ("north", "obligation.performed", perform("report", "2027-03-15")),
        ("iaea", "obligation.confirmed", confirm()),
        ("usa", "inspection.conducted", INSPECT),
    ],
)
def test_nothing_before_the_agreement_is_in_force(
    party: str, event_type: str, body: dict[str, Any]
) -> None:
    k = Kit(recurring_data())
    error = refused(k, party, event_type, body, T0)
    assert error.reason == "not-in-force"


def test_a_verified_step_anchors_once_confirmed_as_the_engine_says() -> None:
    data = recurring_data()
    data["obligations"].append(
        {
            "id": "monthly",
            "title": "Monthly",
            "party": "north",
            "action": "Report",
            "every": {"months": 1},
            "from": {"after": "freeze"},  # a phase: freeze-reactor (verified) and declare
        }
    )
    k = kit(data)
    k.act("north", "step.reported", {"step": "declare"}, time=at("2027-02-01"))
    k.act("north", "step.reported", {"step": "freeze-reactor"}, time=at("2027-02-01"))
    k.act(
        "iaea",
        "step.verified",
        {"step": "freeze-reactor", "outcome": "failed"},
        time=at("2027-02-02"),
    )
    body = perform("monthly", "2027-04-03")
    assert (
        refused(k, "north", "obligation.performed", body, at("2027-03-04")).reason
        == "no-occurrence"
    )
    k.act(
        "iaea",
        "step.verified",
        {"step": "freeze-reactor", "outcome": "confirmed"},
        time=at("2027-03-03"),
    )
    assert k.evaluate(at("2027-03-03")).phases["freeze"].complete_at == at("2027-03-03")
    k.act("north", "obligation.performed", body, time=at("2027-03-04"))
