"""Kazakhstan 1991-2014 replayed from its template's dated, signed history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cvid.agreement import Agreement, create_from_template, template_names


def day(text: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)


def test_the_history_replays_to_completion_with_the_real_dates(tmp_path: Path) -> None:
    assert "kazakhstan-1991" in template_names()
    assert not any(name.endswith(".history") for name in template_names())
    with create_from_template(tmp_path / "kz", "kazakhstan-1991", adopt_at=None) as created:
        assert created.log.size() == 22
    with Agreement.open(tmp_path / "kz") as agreement:  # every entry re-admitted
        state = agreement.state(at=day("2015-01-01"))
        early = agreement.state(at=day("1995-01-01"))
        ratified = agreement.state(at=day("2023-01-01"))
    assert state.adopted_at == day("1991-08-29")
    assert {p: s.complete_at for p, s in state.phases.items()} == {
        "renunciation": day("1994-02-14"),
        "removal": day("2000-07-29"),
        "zone": day("2009-03-21"),
    }
    assert {i: s.state for i, s in state.items.items()} == {
        "strategic-warheads": "removed",
        "ss18-silos": "dismantled",
        "ulba-heu": "removed",
        "semipalatinsk": "sealed",
    }
    heu = state.custody["ulba-heu"]
    assert (heu.holder, heu.in_transit_to, heu.flags) == ("usa", None, ())
    assert state.guarantees["canwfz-protocol"].since == day("2014-05-06")
    assert state.rules["p5-assurances"].fired_at == day("2014-05-06")
    assert state.violations == ()
    # Ratification: four of five by Aug 2022, the United States still missing.
    protocol = ratified.guarantees["canwfz-protocol-ratified"]
    assert not protocol.in_force
    assert sorted(protocol.signed_by) == ["chn", "fra", "gbr", "rus"]
    assert protocol.missing == ("usa",)
    # Time travel: at the start of 1995 the warheads were still there.
    assert early.steps["project-sapphire"].status == "reported"
    assert early.steps["warheads-removed"].status == "open"
    assert early.items["strategic-warheads"].state == "declared"
    assert early.phases["zone"].status == "blocked"
