"""Continuing obligations on measured quantities: limits, their units, declared and
measured values, their status over time, violations and the conditions on them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvid.engine.limits import beyond, bound_text
from cvid.engine.state import AgreementState, Violation
from cvid.errors import RoadmapError
from cvid.events.authz import AdmittedEvent
from cvid.report import render_html, state_to_dict
from cvid.roadmap.loader import from_data, loads
from cvid.roadmap.model import Limit
from tests.kit import MINI, Kit, at, mini_data

T0 = at("2027-01-10")  # adoption


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def stock_limit(**more: Any) -> dict[str, Any]:
    limit: dict[str, Any] = {
        "id": "stock-cap",
        "title": "Stockpile of separated plutonium",
        "party": "north",
        "quantity": "pu_stock",
        "unit": "kg",
        "max": 300,
        "verifiers": ["iaea"],
        "source": "Test road map",
    }
    return limit | more


def with_limits(*limits: dict[str, Any], **top: Any) -> dict[str, Any]:
    data = mini_data()
    data["limits"] = list(limits)
    data.update(top)
    return data


def adopted(data: dict[str, Any]) -> Kit:
    kit = Kit(data)
    kit.adopt(T0)
    return kit


def measure(
    kit: Kit, value: float, unit: str, time: dt.datetime, limit: str = "stock-cap", **more: Any
) -> AdmittedEvent:
    body = {"limit": limit, "value": value, "unit": unit, **more}
    return kit.act("iaea", "quantity.measured", body, time=time)


def declare(
    kit: Kit, value: float, unit: str, time: dt.datetime, limit: str = "stock-cap"
) -> AdmittedEvent:
    body = {"limit": limit, "value": value, "unit": unit}
    return kit.act("north", "quantity.declared", body, time=time)


def limit_at(kit: Kit, when: dt.datetime, limit: str = "stock-cap") -> Any:
    return kit.evaluate(when).limits[limit]


# --- load time ------------------------------------------------------------------------------

LIMITS_YAML = """\
limits:
  - id: stock-cap
    title: Stockpile cap
    party: north
    quantity: pu_stock
    item: stock-1
    unit: {unit}
    max: 300
    verifiers: [iaea]
"""


def load_with(unit: str) -> None:
    text = MINI.read_text(encoding="utf-8") + LIMITS_YAML.format(unit=unit)
    loads(text, name="rm.yaml")


def unit_line() -> int:
    base = MINI.read_text(encoding="utf-8").count("\n")
    return base + LIMITS_YAML.splitlines().index("    unit: {unit}") + 1


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("bananas", "unknown unit 'bananas'"),
        ("kg of UF6", "unknown unit 'kg of UF6'"),
        ("3 kg", "unknown unit '3 kg'"),
        # stock-1 is declared in warheads: a mass cannot bound it
        ("kg", "item 'stock-1' is declared in 'warheads', which cannot be converted to 'kg'"),
    ],
)
def test_a_bad_unit_is_a_load_problem_at_its_position(unit: str, message: str) -> None:
    with pytest.raises(RoadmapError) as e:
        load_with(unit)
    assert f"rm.yaml:{unit_line()}:5: {message}" in str(e.value)


def test_a_unit_that_fits_the_item_loads() -> None:
    load_with("warheads")
    load_with("warhead")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max": None}, "a limit needs a bound"),
        ({"equal": 0}, "either 'equal' or 'min'/'max'"),
        ({"min": 400}, r"'min' \(400\) is above 'max' \(300\)"),
        ({"tolerance": -1}, "greater than or equal to 0"),
        ({"party": "nobody"}, "'nobody' is not a party"),
        ({"verifiers": ["usa"]}, "party 'usa' needs one of the roles verifier"),
        ({"item": "nothing"}, "no item 'nothing' in the inventory"),
        ({"from": {"after": "nowhere", "days": 3}}, "'nowhere' is not a step, a phase"),
        (
            {"from": {"date": dt.date(2028, 1, 1)}, "until": {"date": dt.date(2027, 1, 1)}},
            "the limit would end on 2027-01-01, before it starts on 2028-01-01",
        ),
        ({"measure_every_days": 0}, "greater than or equal to 1"),
        (
            {"until": {"after": "adoption", "days": 0}},
            r"would end 0 days after adoption, before it starts \(0 days after it\)",
        ),
        (
            {"from": {"after": "freeze", "days": 30}, "until": {"after": "freeze", "days": 10}},
            r"would end 10 days after freeze, before it starts \(30 days after it\)",
        ),
    ],
)
def test_limits_are_checked_when_the_road_map_loads(change: dict[str, Any], message: str) -> None:
    limit = {k: v for k, v in (stock_limit() | change).items() if v is not None}
    with pytest.raises(RoadmapError, match=message):
        from_data(with_limits(limit))


def test_duplicate_limits_and_unknown_limits_in_conditions() -> None:
    data = with_limits(stock_limit(), stock_limit())
    with pytest.raises(RoadmapError, match="duplicate limit id 'stock-cap'"):
        from_data(data)
    data = with_limits(stock_limit())
    data["consequences"].append(
        {"id": "c", "title": "C", "when": {"limit_exceeded": "nope"}, "council_procedure": "x"}
    )
    with pytest.raises(RoadmapError, match="'nope' is not a limit"):
        from_data(data)


def test_bound_text() -> None:
    def limit(**bound: float) -> Limit:
        return Limit.model_validate(stock_limit(max=None) | bound | {"unit": "kg"}, strict=False)

    assert bound_text(limit(max=300)) == "≤ 300 kg"
    assert bound_text(limit(min=5)) == "≥ 5 kg"
    assert bound_text(limit(min=5, max=300)) == "5 to 300 kg"
    assert bound_text(limit(equal=0)) == "= 0 kg"


# --- statuses -------------------------------------------------------------------------------


def test_each_status_in_turn() -> None:
    data = with_limits(
        stock_limit(
            measure_every_days=90,
            until={"date": dt.date(2028, 12, 31)},
        )
    )
    kit = Kit(data)
    before = limit_at(kit, at("2027-01-05"))
    assert (before.status, before.value, before.since) == ("not-in-effect", None, None)
    assert before.reason == "takes effect at adoption"
    kit.adopt(T0)
    state = limit_at(kit, T0 + days(1))
    assert (state.status, state.since, state.unit, state.bound) == (
        "unverified",
        T0,
        "kg",
        "≤ 300 kg",
    )
    assert state.measure_due == T0 + days(90)

    measure(kit, 250, "kg", at("2027-02-01"))
    state = limit_at(kit, at("2027-02-02"))
    assert (state.status, state.value, state.since) == ("in-compliance", 250, at("2027-02-01"))
    assert state.basis == "measured"
    assert state.reason == "iaea measured 250 kg on 2027-02-01: within ≤ 300 kg"

    measure(kit, 320, "kg", at("2027-03-01"))
    state = limit_at(kit, at("2027-03-02"))
    assert (state.status, state.value, state.since) == ("exceeded", 320, at("2027-03-01"))
    assert state.exceeded_since == at("2027-03-01")

    measure(kit, 280, "kg", at("2027-04-01"))
    state = limit_at(kit, at("2027-04-02"))
    assert (state.status, state.since, state.restored_at) == (
        "in-compliance",
        at("2027-04-01"),
        at("2027-04-01"),
    )
    assert state.exceeded_since is None
    assert state.violated  # once exceeded, always on record

    # Unverified exactly 90 days after the last measurement (a timer), until measured.
    due = at("2027-04-01") + days(90)
    assert limit_at(kit, due - dt.timedelta(seconds=1)).status == "in-compliance"
    state = limit_at(kit, due)
    assert (state.status, state.since, state.value) == ("unverified", due, 280)
    assert "no measurement since 2027-04-01" in state.reason
    assert any("limit stock-cap unverified" in a for a in kit.evaluate(due).alerts)
    measure(kit, 290, "kg", at("2027-08-01"))
    assert limit_at(kit, at("2027-08-01")).status == "in-compliance"

    # Not in effect once the last day of the interval has ended.
    end = at("2029-01-01")
    assert limit_at(kit, end - dt.timedelta(seconds=1)).status == "unverified"
    state = limit_at(kit, end)
    assert (state.status, state.since, state.reason) == (
        "not-in-effect",
        end,
        "ended on 2029-01-01",
    )


def test_a_value_after_the_end_is_kept_but_not_judged() -> None:
    data = with_limits(stock_limit(until={"after": "adoption", "days": 30}))
    kit = adopted(data)
    measure(kit, 999, "kg", T0 + days(30))  # the end is at that very moment: too late
    state = kit.evaluate(T0 + days(31))
    limit = state.limits["stock-cap"]
    assert limit.status == "not-in-effect"
    assert [(v.value, v.counted) for v in limit.history] == [(999, False)]
    assert not limit.violated
    assert state.violations == ()


def test_an_exceedance_ends_with_the_limit_but_stays_on_record() -> None:
    data = with_limits(stock_limit(until={"date": dt.date(2027, 6, 30)}))
    data["consequences"] += [
        {
            "id": "while-over",
            "title": "Measures while the cap is exceeded",
            "when": {"all": [{"limit_exceeded": "any"}, {"date_after": dt.date(2027, 6, 30)}]},
            "reimpose_measures": ["m-banking"],
        },
        {
            "id": "on-record",
            "title": "A past exceedance",
            "when": {
                "all": [{"limit_violated": "stock-cap"}, {"date_after": dt.date(2027, 6, 30)}]
            },
            "council_procedure": "The Council reviews the past exceedance.",
        },
    ]
    kit = adopted(data)
    measure(kit, 400, "kg", at("2027-03-01"))
    assert limit_at(kit, at("2027-06-30T23:00:00")).status == "exceeded"
    state = kit.evaluate(at("2027-07-02"))
    limit = state.limits["stock-cap"]
    assert (limit.status, limit.since, limit.exceeded_since) == (
        "not-in-effect",
        at("2027-07-01"),
        None,
    )
    assert limit.violated
    assert not state.rules["while-over"].fired  # no longer exceeded when the date came
    assert state.rules["on-record"].fired_at == at("2027-07-01")


def test_from_a_milestone_and_from_a_date() -> None:
    data = with_limits(
        stock_limit(**{"from": {"after": "freeze-reactor", "days": 10}}),
        stock_limit(id="later", **{"from": {"date": dt.date(2027, 6, 1)}}),
    )
    kit = adopted(data)
    measure(kit, 999, "kg", at("2027-02-01"))  # before either takes effect
    state = kit.evaluate(at("2027-02-02"))
    assert state.limits["stock-cap"].reason == "takes effect 10 days after freeze-reactor"
    assert state.limits["later"].reason == "takes effect on 2027-06-01"
    assert state.violations == ()
    kit.act("north", "step.reported", {"step": "freeze-reactor"}, time=at("2027-02-03"))
    verified = {"step": "freeze-reactor", "outcome": "confirmed"}
    kit.act("iaea", "step.verified", verified, time=at("2027-02-05"))
    state = kit.evaluate(at("2027-02-15"))
    assert state.limits["stock-cap"].status == "unverified"
    assert state.limits["stock-cap"].in_effect_from == at("2027-02-15")
    assert state.limits["later"].status == "not-in-effect"
    assert kit.evaluate(at("2027-06-01")).limits["later"].status == "unverified"


# --- units ----------------------------------------------------------------------------------


def test_values_are_converted_to_the_limits_unit() -> None:
    kit = adopted(with_limits(stock_limit()))
    measure(kit, 300_000, "g", at("2027-02-01"))  # exactly the bound, in grams
    state = limit_at(kit, at("2027-02-02"))
    assert (state.status, state.value, state.unit) == ("in-compliance", 300, "kg")
    assert state.history[0].submitted == "300000 g"
    measure(kit, 0.31, "t", at("2027-03-01"), uncertainty=0.001)
    state = limit_at(kit, at("2027-03-02"))
    assert state.status == "exceeded"
    assert state.value == pytest.approx(310)
    assert state.history[-1].uncertainty == pytest.approx(1)


def test_percent_and_fraction() -> None:
    limit = stock_limit(id="enrichment", quantity="u235", unit="fraction", max=0.0367)
    kit = adopted(with_limits(limit))
    measure(kit, 3.6, "%", at("2027-02-01"), limit="enrichment")
    assert limit_at(kit, at("2027-02-02"), "enrichment").status == "in-compliance"
    measure(kit, 4.5, "%", at("2027-03-01"), limit="enrichment")
    state = limit_at(kit, at("2027-03-02"), "enrichment")
    assert state.status == "exceeded"
    assert state.value == pytest.approx(0.045)


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("bananas", r"limit 'stock-cap' is in 'kg': unknown unit 'bananas'"),
        ("%", r"'%' cannot be converted to 'kg' \(a pure number is not \[mass\]\)"),
    ],
)
def test_a_unit_that_does_not_convert_is_refused(unit: str, message: str) -> None:
    from cvid.errors import EventRejectedError

    kit = adopted(with_limits(stock_limit()))
    with pytest.raises(EventRejectedError, match=message) as e:
        measure(kit, 1, unit, at("2027-02-01"))
    assert e.value.reason == "bad-unit"
    assert kit.history.size == 3


# --- declared and measured; tolerance -------------------------------------------------------


def test_a_declaration_alone_shows_as_declared() -> None:
    kit = adopted(with_limits(stock_limit()))
    declare(kit, 250, "kg", at("2027-02-01"))
    state = limit_at(kit, at("2027-02-02"))
    assert (state.status, state.value, state.basis, state.declared) == (
        "unverified",
        250,
        "declared",
        250,
    )
    assert state.reason == (
        "not measured since it took effect on 2027-01-10; north declared 250 kg on 2027-02-01"
    )


def test_a_declaration_beyond_the_bound_is_an_admitted_exceedance() -> None:
    kit = adopted(with_limits(stock_limit()))
    measure(kit, 250, "kg", at("2027-02-01"))
    ev = declare(kit, 310, "kg", at("2027-03-01"))
    state = kit.evaluate(at("2027-03-02"))
    limit = state.limits["stock-cap"]
    assert (limit.status, limit.value, limit.basis) == ("exceeded", 310, "declared")
    detail = "north declared (an exceedance it admits) 310 kg, beyond ≤ 300 kg"
    assert state.violations == (
        Violation("limit", "stock-cap", at("2027-03-01"), detail, ev.index, "north"),
    )
    # A declaration back within the bound does not restore compliance; a measurement does.
    declare(kit, 290, "kg", at("2027-04-01"))
    assert limit_at(kit, at("2027-04-02")).status == "exceeded"
    measure(kit, 290, "kg", at("2027-05-01"))
    state_after = limit_at(kit, at("2027-05-02"))
    assert (state_after.status, state_after.restored_at) == ("in-compliance", at("2027-05-01"))


def test_tolerance() -> None:
    kit = adopted(with_limits(stock_limit(tolerance=5)))
    measure(kit, 305, "kg", at("2027-02-01"))
    state = kit.evaluate(at("2027-02-02"))
    assert state.limits["stock-cap"].status == "in-compliance"
    assert state.violations == ()
    measure(kit, 305.5, "kg", at("2027-03-01"))
    state = kit.evaluate(at("2027-03-02"))
    assert state.limits["stock-cap"].status == "exceeded"
    assert state.violations[0].detail == (
        "iaea measured 305.5 kg, beyond ≤ 300 kg (tolerance 5 kg)"
    )


@pytest.mark.parametrize(
    ("bound", "inside", "outside"),
    [
        ({"max": 300}, [300, 0, -1], [300.01]),
        ({"min": 10, "max": None}, [10, 1e6], [9.99]),
        ({"min": 10, "max": 20}, [10, 15, 20], [9, 21]),
        ({"equal": 0, "max": None}, [0], [1, -1]),
    ],
)
def test_bounds(bound: dict[str, Any], inside: list[float], outside: list[float]) -> None:
    spec = {k: v for k, v in (stock_limit() | bound).items() if v is not None}
    limit = Limit.model_validate(spec, strict=False)
    assert not any(beyond(limit, v) for v in inside)
    assert all(beyond(limit, v) for v in outside)


def test_the_violation_is_the_obligated_partys_with_an_alert() -> None:
    kit = adopted(with_limits(stock_limit()))
    ev = measure(kit, 400, "kg", at("2027-02-01"))
    measure(kit, 450, "kg", at("2027-03-01"))  # still the same exceedance: no second one
    state = kit.evaluate(at("2027-03-02"))
    detail = "iaea measured 400 kg, beyond ≤ 300 kg"
    assert state.violations == (
        Violation("limit", "stock-cap", at("2027-02-01"), detail, ev.index, "north"),
    )
    assert f"2027-02-01: limit violation: stock-cap: {detail}" in state.alerts


# --- conditions -----------------------------------------------------------------------------


def test_conditions_fire_consequences() -> None:
    data = with_limits(stock_limit())
    data["consequences"] += [
        {
            "id": "over-cap",
            "title": "Stockpile above the cap",
            "when": {"limit_exceeded": "stock-cap"},
            "reimpose_measures": ["m-oil"],
        },
        {
            "id": "ever-over",
            "title": "A limit was ever exceeded",
            "when": {"all": [{"limit_violated": "any"}, {"not": {"limit_exceeded": "any"}}]},
            "council_procedure": "The Council reviews the past exceedance.",
        },
    ]
    kit = adopted(data)
    measure(kit, 250, "kg", at("2027-02-01"))
    state = kit.evaluate(at("2027-02-02"))
    assert not state.rules["over-cap"].fired
    measure(kit, 350, "kg", at("2027-03-01"))
    state = kit.evaluate(at("2027-03-02"))
    assert state.rules["over-cap"].fired_at == at("2027-03-01")
    assert state.rules["over-cap"].condition == "limit stock-cap exceeded"
    assert not state.rules["ever-over"].fired
    measure(kit, 250, "kg", at("2027-04-01"))
    state = kit.evaluate(at("2027-04-02"))
    assert state.rules["ever-over"].fired_at == at("2027-04-01")
    assert state.rules["ever-over"].condition == (
        "all of (a limit ever exceeded, not (a limit exceeded))"
    )


# --- status JSON ----------------------------------------------------------------------------


def test_status_json_has_the_contract_keys() -> None:
    kit = adopted(with_limits(stock_limit()))
    measure(kit, 320, "kg", at("2027-03-01"))
    data = state_to_dict(kit.evaluate(at("2027-03-02")))
    limit = data["limits"]["stock-cap"]
    assert {k: limit[k] for k in ("status", "value", "unit", "bound", "since")} == {
        "status": "exceeded",
        "value": 320,
        "unit": "kg",
        "bound": "≤ 300 kg",
        "since": "2027-03-01T00:00:00Z",
    }
    assert limit["history"][0]["basis"] == "measured"


# --- a property -----------------------------------------------------------------------------

BOUND, TOLERANCE = 300.0, 2.5
WITHIN = st.floats(min_value=-1e6, max_value=BOUND + TOLERANCE, allow_nan=False)
BEYOND = st.floats(min_value=BOUND + TOLERANCE + 1e-6, max_value=1e9, allow_nan=False)


@settings(max_examples=25)
@given(values=st.lists(st.one_of(WITHIN, BEYOND), min_size=1, max_size=8))
def test_exceeded_exactly_after_a_value_beyond_the_tolerance(values: list[float]) -> None:
    """Never exceeded while every measured value is within the bound and its tolerance;
    always exceeded right after one beyond it; back in compliance after one within."""
    kit = adopted(with_limits(stock_limit(max=BOUND, tolerance=TOLERANCE)))
    for n, value in enumerate(values):
        measure(kit, value, "kg", at("2027-02-01") + days(n))
    moments = [at("2027-02-01") + days(n) for n in range(len(values))]
    states: list[AgreementState] = [kit.evaluate(when) for when in moments]
    for value, state in zip(values, states, strict=True):
        limit = state.limits["stock-cap"]
        assert limit.status == ("exceeded" if value > BOUND + TOLERANCE else "in-compliance")
        assert limit.value == value
    episodes = sum(
        1
        for n, v in enumerate(values)
        if v > BOUND + TOLERANCE and (n == 0 or values[n - 1] <= BOUND + TOLERANCE)
    )
    assert len(states[-1].violations) == episodes


# --- the JCPOA case -------------------------------------------------------------------------


def jcpoa_like() -> dict[str, Any]:
    """Two limits shaped on facts §3 and §9 (the figures and dates are sourced there; the
    intermediate measurements below are test data)."""
    data = mini_data()
    implementation = {"date": dt.date(2016, 1, 16)}  # Implementation Day (facts §3)
    data["limits"] = [
        {
            "id": "leu-stockpile",
            "title": "Low-enriched uranium stockpile (as UF6)",
            "party": "north",
            "quantity": "leu_stock",
            "unit": "kg",
            "max": 300,
            "from": implementation,
            "measure_every_days": 120,
            "verifiers": ["iaea"],
            "source": "Facts §9: the 300 kg LEU stockpile limit",
        },
        {
            "id": "enrichment",
            "title": "Enrichment level",
            "party": "north",
            "quantity": "u235_enrichment",
            "unit": "%",
            "max": 3.67,
            "from": implementation,
            "verifiers": ["iaea"],
            "source": "Facts §9: the 3.67 % enrichment limit",
        },
    ]
    data["agreement"]["start"] = dt.date(2015, 7, 14)
    return data


def test_jcpoa_like_history() -> None:
    """Facts §9: the 300 kg stockpile exceeded on 1 Jul 2019; 4.5 % from 8 Jul 2019,
    20 % at Fordow (4 Jan 2021), 60 % at Natanz (16 Apr 2021)."""
    kit = Kit(jcpoa_like())
    kit.adopt(at("2015-10-18"))  # Adoption Day
    state = kit.evaluate(at("2016-01-15"))
    assert {x.status for x in state.limits.values()} == {"not-in-effect"}
    measure(kit, 3.67, "%", at("2016-01-16T12:00:00"), limit="enrichment")
    measure(kit, 205, "kg", at("2019-05-20"), limit="leu-stockpile")
    state = kit.evaluate(at("2019-06-30"))
    assert state.limits["leu-stockpile"].status == "in-compliance"
    assert state.limits["enrichment"].status == "in-compliance"
    stock = measure(kit, 305, "kg", at("2019-07-01T12:00:00"), limit="leu-stockpile")
    measure(kit, 4.5, "%", at("2019-07-08"), limit="enrichment")
    state = kit.evaluate(at("2019-07-07"))
    assert state.limits["leu-stockpile"].status == "exceeded"
    assert state.limits["enrichment"].status == "in-compliance"
    measure(kit, 20, "%", at("2021-01-04"), limit="enrichment")
    measure(kit, 60, "%", at("2021-04-16"), limit="enrichment")
    state = kit.evaluate(at("2021-05-01"))
    enrichment = state.limits["enrichment"]
    assert (enrichment.status, enrichment.value, enrichment.since) == (
        "exceeded",
        60,
        at("2019-07-08"),
    )
    assert [v.value for v in enrichment.history] == [3.67, 4.5, 20, 60]
    assert [v.at for v in enrichment.history][1:] == [
        at("2019-07-08"),
        at("2021-01-04"),
        at("2021-04-16"),
    ]
    assert state.limits["leu-stockpile"].status == "exceeded"
    assert state.limits["leu-stockpile"].exceeded_since == at("2019-07-01T12:00:00")
    assert [(v.subject, v.at, v.party) for v in state.violations] == [
        ("leu-stockpile", at("2019-07-01T12:00:00"), "north"),
        ("enrichment", at("2019-07-08"), "north"),
    ]
    assert state.violations[0].event == stock.index
    assert re.search(r"iaea measured 4\.5 %, beyond ≤ 3\.67 %", state.violations[1].detail)
    html = render_html(kit.roadmap, state, digest=kit.gate.digest)
    assert "3.67 → 4.5 → 20 → 60 %" in html
    assert (
        '<span class="badge" style="background: #b91c1c"><span aria-hidden="true">✕</span> '
        "exceeded</span>"
    ) in html
