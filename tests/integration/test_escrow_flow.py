"""Declarations revealed step by step, end to end through admission and the engine.

A complete declaration is committed in escrow, cells are revealed with proofs (a
step requiring them completes), a beacon round that no single party controls
draws the inspection targets, clean inspections raise the confidence in
completeness until a reward fires, an undeclared item in a revealed cell fires a
consequence, a participant that withholds its beacon secret is recorded, and a
chain of custody with a double hand-over or a gap is flagged. Tampered reveals,
forged draws and acts by the wrong party are refused and change nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import pytest

from cvid.errors import EventRejectedError
from cvid.escrow.commit import Escrow, Item, Partition, commit
from cvid.escrow.reveal import reveal_cells
from cvid.events.authz_escrow import population, round_output
from cvid.verification.beacon import draw, secret_commitment
from cvid.verification.sampling import Prior, completeness_confidence
from tests.kit import Kit, at, escrow_data

T0 = at("2027-01-02")
CELLS = ["n1", "n2", "s1", "s2"]


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def _escrow(seed: int = 7) -> Escrow:
    rng = random.Random(seed)
    items = [
        Item("reactor-a", "reactor", "n1", {"power_mwe": 5}),
        Item("stock-1", "warhead", "n1", {"quantity": 10}),
        Item("site-x", "site", "n2", {"buildings": 3}),
        Item("site-y", "site", "s1", {"buildings": 12}),
    ]
    return commit(items, Partition(tuple(CELLS)), random_bytes=rng.randbytes)


def _committed() -> tuple[Kit, Escrow]:
    kit = Kit(escrow_data())
    kit.adopt(T0)
    escrow = _escrow()
    body = {"declaration": "decl", "root": escrow.root.hex(), "size": escrow.size, "cells": CELLS}
    kit.act("north", "declaration.committed", body, time=day(1))
    return kit, escrow


def _reveal(kit: Kit, escrow: Escrow, cells: list[str], when: dt.datetime) -> None:
    for reveal in reveal_cells(escrow, cells):
        kit.act(
            "north",
            "declaration.revealed",
            {"declaration": "decl", "reveal": reveal.to_dict()},
            time=when,
        )


def _round(kit: Kit, round_id: str, when: dt.datetime, *, withhold: str | None = None) -> None:
    secrets = {p: random.Random(f"{round_id}{p}").randbytes(32) for p in ("north", "usa", "iaea")}
    for party, secret in secrets.items():
        commitment = secret_commitment(round_id, party, secret).hex()
        kit.act(party, "beacon.committed", {"round": round_id, "commitment": commitment}, time=when)
    for party, secret in secrets.items():
        if party != withhold:
            kit.act(
                party, "beacon.revealed", {"round": round_id, "secret": secret.hex()}, time=when
            )


def _drawn(kit: Kit, round_id: str, n: int) -> list[str]:
    history = kit.history.escrow
    output = round_output(kit.roadmap, history, round_id, kit.log.root)
    return draw(output, population(history.declarations["decl"], "revealed"), n)


def _refused(
    kit: Kit, party: str, event_type: str, body: dict[str, Any], reason: str, when: dt.datetime
) -> str:
    before = (kit.history.size, repr(kit.history), kit.log.size())
    with pytest.raises(EventRejectedError) as info:
        kit.act(party, event_type, body, time=when)
    assert info.value.reason == reason, str(info.value)
    assert (kit.history.size, repr(kit.history), kit.log.size()) == before
    return str(info.value)


def test_reveals_complete_cells_and_the_step_that_requires_them() -> None:
    kit, escrow = _committed()
    assert kit.evaluate(day(2)).declarations["decl"].escrowed == tuple(CELLS)
    _reveal(kit, escrow, ["n1"], day(3))
    mid = kit.evaluate(day(3))
    assert mid.declarations["decl"].revealed == ("n1",)
    assert mid.steps["reveal-north"].status == "open"
    _reveal(kit, escrow, ["n2"], day(4))
    state = kit.evaluate(day(4))
    decl = state.declarations["decl"]
    assert decl.revealed == ("n1", "n2")
    assert decl.escrowed == ("s1", "s2")
    assert decl.items_revealed == 3
    step = state.steps["reveal-north"]
    assert step.status == "verified"
    assert step.reason == "cells revealed and proven complete on 2027-01-06"


def test_a_tampered_or_foreign_reveal_is_refused() -> None:
    kit, escrow = _committed()
    (reveal,) = reveal_cells(escrow, ["n1"])
    good = reveal.to_dict()
    tampered = copy.deepcopy(good)
    tampered_leaves = tampered["leaves"]
    tampered_leaves[0]["record"]["item"]["attributes"] = {"power_mwe": 50}
    message = _refused(
        kit,
        "north",
        "declaration.revealed",
        {"declaration": "decl", "reveal": tampered},
        "bad-reveal",
        day(3),
    )
    assert "reveal of 'decl' refused" in message
    dropped = copy.deepcopy(good)
    dropped["leaves"] = dropped["leaves"][1:]
    _refused(
        kit,
        "north",
        "declaration.revealed",
        {"declaration": "decl", "reveal": dropped},
        "bad-reveal",
        day(3),
    )
    _refused(
        kit,
        "usa",
        "declaration.revealed",
        {"declaration": "decl", "reveal": good},
        "unauthorised",
        day(3),
    )
    body = {"declaration": "decl", "root": escrow.root.hex(), "size": escrow.size, "cells": CELLS}
    _refused(kit, "north", "declaration.committed", body, reason="duplicate", when=day(3))


def test_inspections_drawn_from_the_beacon_raise_confidence_until_a_reward() -> None:
    kit, escrow = _committed()
    _reveal(kit, escrow, ["n1", "n2"], day(3))
    _round(kit, "r1", day(5))
    cells = _drawn(kit, "r1", 2)
    assert sorted(cells) == ["n1", "n2"]
    forged = {
        "inspection": "i1",
        "declaration": "decl",
        "round": "r1",
        "cells": list(reversed(cells)),
    }
    assert "not the beacon's draw" in _refused(
        kit, "iaea", "inspection.planned", forged, reason="bad-draw", when=day(6)
    )
    plan = {"inspection": "i1", "declaration": "decl", "round": "r1", "cells": cells}
    _refused(kit, "north", "inspection.planned", plan, reason="unauthorised-type", when=day(6))
    kit.act("iaea", "inspection.planned", plan, time=day(6))
    findings = [
        {"cell": "n1", "confirmed": ["reactor-a", "stock-1"]},
        {"cell": "n2", "confirmed": ["site-x"]},
    ]
    kit.act("iaea", "inspection.reported", {"inspection": "i1", "findings": findings}, time=day(10))
    state = kit.evaluate(day(10))
    decl = state.declarations["decl"]
    expected = completeness_confidence(4, 2, prior=Prior.uniform(4))  # the prior is capped at N
    assert decl.confidence == pytest.approx(expected)
    assert expected >= 0.5
    assert state.rules["confidence-relief"].fired_at == day(10)
    assert state.measures["m-banking"].status == "suspended"
    assert kit.evaluate(day(9)).measures["m-banking"].status == "in_force"  # time travel


def test_an_undeclared_item_in_a_revealed_cell_is_a_violation() -> None:
    kit, escrow = _committed()
    _reveal(kit, escrow, ["n1", "n2"], day(3))
    _round(kit, "r1", day(5))
    cells = _drawn(kit, "r1", 1)
    kit.act(
        "iaea",
        "inspection.planned",
        {"inspection": "i1", "declaration": "decl", "round": "r1", "cells": cells},
        time=day(6),
    )
    finding = {
        "cell": cells[0],
        "undeclared": [{"category": "centrifuge", "description": "a hall of cascades"}],
    }
    kit.act("iaea", "inspection.reported", {"inspection": "i1", "findings": [finding]}, time=day(8))
    state = kit.evaluate(day(8))
    decl = state.declarations["decl"]
    assert decl.confidence == 0.0
    assert decl.violations == (
        f"undeclared centrifuge in revealed cell {cells[0]}: a hall of cascades",
    )
    assert state.rules["false-declaration"].fired_at == day(8)
    assert state.measures["m-oil"].status == "in_force"
    assert any(v.kind == "declaration" for v in state.violations)


def test_a_discrepancy_beyond_the_tolerance_is_a_violation() -> None:
    kit, escrow = _committed()
    _reveal(kit, escrow, ["n1", "n2"], day(3))
    _round(kit, "r1", day(5))
    kit.act(
        "iaea",
        "inspection.planned",
        {"inspection": "i1", "declaration": "decl", "round": "r1", "cells": _drawn(kit, "r1", 2)},
        time=day(6),
    )
    within = {"item": "stock-1", "attribute": "quantity", "declared": 10, "found": 10.4}
    beyond = {"item": "site-x", "attribute": "buildings", "declared": 3, "found": 4}
    findings = [
        {"cell": "n1", "discrepancies": [within]},
        {"cell": "n2", "discrepancies": [beyond]},
    ]
    kit.act("iaea", "inspection.reported", {"inspection": "i1", "findings": findings}, time=day(8))
    decl = kit.evaluate(day(8)).declarations["decl"]
    assert decl.violations == ("site-x.buildings declared 3, found 4 (tolerance 5%)",)
    assert decl.inspected_clean == ("n1",)


def test_a_withheld_beacon_secret_is_recorded_and_stalls_the_round() -> None:
    kit, escrow = _committed()
    _reveal(kit, escrow, ["n1", "n2"], day(3))
    _round(kit, "r1", day(5), withhold="usa")
    plan = {"inspection": "i1", "declaration": "decl", "round": "r1", "cells": ["n1"]}
    assert "waits for usa" in _refused(
        kit, "iaea", "inspection.planned", plan, reason="beacon-incomplete", when=day(6)
    )
    before = kit.evaluate(day(12) - dt.timedelta(seconds=1))
    assert not before.rules["beacon-withheld"].fired
    state = kit.evaluate(day(12))
    assert state.beacon_rounds["r1"].missed == ("usa",)
    assert state.rules["beacon-withheld"].fired_at == day(12)
    assert any("Council procedure" in a or "withheld" in a for a in state.alerts)


def test_beacon_rules() -> None:
    kit, _ = _committed()
    secret = bytes(32)
    commitment = secret_commitment("r1", "north", secret).hex()
    _refused(
        kit,
        "e1",
        "beacon.committed",
        {"round": "r1", "commitment": commitment},
        "unauthorised",
        day(2),
    )
    kit.act("north", "beacon.committed", {"round": "r1", "commitment": commitment}, time=day(2))
    _refused(
        kit,
        "north",
        "beacon.committed",
        {"round": "r1", "commitment": commitment},
        "duplicate",
        day(2),
    )
    _refused(
        kit,
        "north",
        "beacon.revealed",
        {"round": "r1", "secret": secret.hex()},
        "beacon-open",
        day(2),
    )
    for party in ("usa", "iaea"):
        other = secret_commitment("r1", party, secret).hex()
        kit.act(party, "beacon.committed", {"round": "r1", "commitment": other}, time=day(2))
    wrong = {"round": "r1", "secret": bytes([1] * 32).hex()}
    _refused(kit, "north", "beacon.revealed", wrong, reason="bad-reveal", when=day(3))
    kit.act("north", "beacon.revealed", {"round": "r1", "secret": secret.hex()}, time=day(3))
    late = secret_commitment("r1", "usa", secret).hex()
    _refused(
        kit,
        "usa",
        "beacon.committed",
        {"round": "r1", "commitment": late},
        reason="duplicate",
        when=day(3),
    )


def test_chain_of_custody() -> None:
    kit = Kit(escrow_data())
    kit.adopt(T0)
    kit.act("north", "custody.handed_over", {"item": "stock-1", "to": "usa"}, time=day(1))
    kit.act("usa", "custody.received", {"item": "stock-1", "from": "north"}, time=day(2))
    clean = kit.evaluate(day(3))
    assert clean.custody["stock-1"].holder == "usa"
    assert clean.custody["stock-1"].flags == ()
    # The previous holder cannot hand it over again, nor can anyone acknowledge a
    # hand-over that did not happen: one party's word never breaks a chain.
    _refused(
        kit, "north", "custody.handed_over", {"item": "stock-1", "to": "chn"}, "not-holder", day(4)
    )
    _refused(
        kit, "chn", "custody.received", {"item": "stock-1", "from": "usa"}, "no-hand-over", day(4)
    )
    # The holder hands it over twice: its own act, flagged; then nobody receives it in
    # time: an allegation against the receiver, not a finding.
    kit.act("usa", "custody.handed_over", {"item": "stock-1", "to": "chn"}, time=day(4))
    kit.act("usa", "custody.handed_over", {"item": "stock-1", "to": "chn"}, time=day(5))
    state = kit.evaluate(day(40))
    flags = state.custody["stock-1"].flags
    assert flags[0] == "double hand-over: already handed to chn, not yet received"
    assert flags[1] == "gap: handed to chn on 2027-01-07, no receipt"
    assert state.rules["false-declaration"].fired_at == day(5)
    (gap,) = state.allegations
    assert (gap.id, gap.by, gap.against, gap.status) == (
        "custody-gap.stock-1.1",
        "usa",
        "chn",
        "open",
    )
    _refused(
        kit,
        "usa",
        "custody.handed_over",
        {"item": "nothing", "to": "chn"},
        "unknown-reference",
        day(41),
    )
