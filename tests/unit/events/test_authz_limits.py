"""Admission of declared and measured quantities: who may submit them, for which limits,
in which units; every reason code the limits module raises has a case."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cvid.events import authz_limits
from cvid.events import bodies as b
from tests.kit import Kit, at, mini_data
from tests.unit.events.test_authz import in_force, reasons_raised_in, refuse

T1 = at("2027-01-03T09:00:00")
Body = dict[str, Any]


def limits_kit() -> Kit:
    data = mini_data()
    data["limits"] = [
        {
            "id": "stock-cap",
            "title": "Warheads in stockpile 1",
            "party": "north",
            "quantity": "warheads",
            "item": "stock-1",
            "unit": "warheads",
            "max": 10,
            "verifiers": ["iaea"],
        },
        {
            "id": "pu-cap",
            "title": "Separated plutonium",
            "party": "north",
            "quantity": "pu_stock",
            "unit": "kg",
            "max": 40,
            "verifiers": ["iaea"],
        },
    ]
    return Kit(data)


@pytest.mark.parametrize(
    ("party", "event_type", "body", "model"),
    [
        (
            "north",
            "quantity.declared",
            {"limit": "pu-cap", "value": 38.5, "unit": "kg", "note": "Annual declaration."},
            b.QuantityDeclared,
        ),
        (
            "north",
            "quantity.declared",
            {"quantity": "warheads", "item": "stock-1", "value": 9, "unit": "warhead"},
            b.QuantityDeclared,
        ),
        (
            "iaea",
            "quantity.measured",
            {"limit": "pu-cap", "value": 39_000, "unit": "g", "uncertainty": 500},
            b.QuantityMeasured,
        ),
        (
            "iaea",
            "quantity.measured",
            {"quantity": "pu_stock", "value": 0.04, "unit": "t"},
            b.QuantityMeasured,
        ),
    ],
)
def test_each_limit_type_is_admitted(
    party: str, event_type: str, body: Body, model: type[b.Body]
) -> None:
    kit = in_force(limits_kit())
    size = kit.history.size
    admitted = kit.act(party, event_type, body, time=T1)
    assert isinstance(admitted.body, model)
    assert admitted.body == model.model_validate(body)
    assert (admitted.index, kit.history.size) == (size, size + 1)


CASES: list[tuple[str, str, str, Body, str, str]] = [
    (
        "neither",
        "north",
        "quantity.declared",
        {"value": 1, "unit": "kg"},
        "bad-body",
        "name either a 'limit' or a 'quantity', not both",
    ),
    (
        "item-with-limit",
        "north",
        "quantity.declared",
        {"limit": "pu-cap", "item": "stock-1", "value": 1, "unit": "kg"},
        "bad-body",
        "'item' goes with 'quantity'",
    ),
    (
        "no-limit",
        "north",
        "quantity.declared",
        {"limit": "heu-cap", "value": 1, "unit": "kg"},
        "unknown-reference",
        "no limit 'heu-cap' in the road map",
    ),
    (
        "no-quantity",
        "north",
        "quantity.declared",
        {"quantity": "warheads", "item": "reactor-a", "value": 1, "unit": "warhead"},
        "unknown-reference",
        "no limit on 'warheads' for item 'reactor-a' that north declares in the road map",
    ),
    (
        "not-measured-by-them",
        "usa",
        "quantity.measured",
        {"quantity": "pu_stock", "value": 1, "unit": "kg"},
        "unknown-reference",
        "no limit on 'pu_stock' that usa measures in the road map",
    ),
    (
        "not-the-party",
        "usa",
        "quantity.declared",
        {"limit": "pu-cap", "value": 1, "unit": "kg"},
        "unauthorised",
        "only north declares values of limit 'pu-cap', not usa",
    ),
    (
        "not-a-verifier",
        "north",
        "quantity.measured",
        {"limit": "pu-cap", "value": 1, "unit": "kg"},
        "unauthorised",
        "only iaea measure values of limit 'pu-cap', not north",
    ),
    (
        "unknown-unit",
        "iaea",
        "quantity.measured",
        {"limit": "pu-cap", "value": 1, "unit": "bananas"},
        "bad-unit",
        "limit 'pu-cap' is in 'kg': unknown unit 'bananas'",
    ),
    (
        "other-dimension",
        "iaea",
        "quantity.measured",
        {"limit": "stock-cap", "value": 1, "unit": "launchers"},
        "bad-unit",
        "'launchers' cannot be converted to 'warheads'",
    ),
    (
        "negative-uncertainty",
        "iaea",
        "quantity.measured",
        {"limit": "pu-cap", "value": 1, "unit": "kg", "uncertainty": -1},
        "bad-body",
        "uncertainty",
    ),
]


@pytest.mark.parametrize(
    ("party", "event_type", "body", "reason", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_refusals(party: str, event_type: str, body: Body, reason: str, message: str) -> None:
    kit = in_force(limits_kit())
    error = refuse(kit, party, event_type, body, reason, time=T1)
    assert message in str(error)


def test_the_cases_cover_every_reason_of_the_module() -> None:
    assert reasons_raised_in(authz_limits) <= {c[4] for c in CASES}


@pytest.mark.parametrize("event_type", ["quantity.declared", "quantity.measured"])
def test_not_before_the_agreement_is_in_force(event_type: str) -> None:
    kit = limits_kit()
    party = "north" if event_type == "quantity.declared" else "iaea"
    body = {"limit": "pu-cap", "value": 1, "unit": "kg"}
    refuse(kit, party, event_type, body, "not-in-force", time=T1)


def test_an_exceedance_is_logged_not_refused() -> None:
    kit = in_force(limits_kit())
    kit.act("iaea", "quantity.measured", {"limit": "pu-cap", "value": 1e6, "unit": "kg"}, time=T1)
    state = kit.evaluate(T1 + dt.timedelta(hours=1))
    assert state.limits["pu-cap"].status == "exceeded"
