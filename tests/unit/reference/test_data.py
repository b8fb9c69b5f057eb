"""The packaged reference data: every fact sourced and marked, U facts kept U."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cvid.errors import ConfigError, ReferenceDataError
from cvid.reference import (
    CONFIDENCES,
    Cbm,
    Fact,
    cbm_catalogue,
    cbm_ids,
    cica,
    cica_members,
    load_cica,
    load_zones,
    pending_protocols,
    zones,
)


def _all() -> list[Fact]:
    found = cica().all_facts()
    for z in zones():
        found += z.all_facts()
    return found


def _zone(zid: str) -> dict[str, Fact]:
    (z,) = [z for z in zones() if z.id == zid]
    return dict(z.facts)


def test_every_fact_has_a_source_and_a_confidence() -> None:
    facts = _all()
    assert len(facts) > 150
    assert all(f.source.strip() and f.confidence in CONFIDENCES for f in facts)


def test_every_zone_in_facts_md_is_present() -> None:
    ids = [z.id for z in zones() if not z.proposed]
    assert ids == [
        "tlatelolco", "rarotonga", "bangkok", "pelindaba", "canwfz",
        "mongolia", "antarctic", "outer-space", "seabed",
    ]  # fmt: skip


def test_unconfirmed_facts_are_tagged_u() -> None:
    (pel,) = [z for z in zones() if z.id == "pelindaba"]
    (p3,) = [p for p in pel.protocols if p.id == "III"]
    assert p3.subject.confidence == "U"
    fra = next(s for s in p3.p5 if s.member == "fra")
    assert fra.ratification.confidence == "U"
    assert fra.ratification.value == "unknown"
    sri = next(r for r in cica().membership if r.count.value == 27)
    assert sri.date is not None
    assert sri.date.confidence == "U"
    (can,) = [z for z in zones() if z.id == "canwfz"]
    usa = next(s for s in can.protocols[0].p5 if s.member == "usa")
    assert usa.ratification.confidence == "U"


def test_missing_facts_are_unknown_u() -> None:
    in_force = _zone("rarotonga")["in_force"]
    assert in_force.value == "unknown"
    assert in_force.confidence == "U"
    assert "not in the facts file" in in_force.source
    unknown = [f for f in _all() if f.value == "unknown"]
    assert unknown
    assert all(f.confidence == "U" for f in unknown)


def test_sourced_dates() -> None:
    assert _zone("canwfz")["signed"].value == "2006-09-08"
    assert _zone("canwfz")["in_force"].value == "2009-03-21"
    assert _zone("seabed")["in_force"].value == "1972-05-18"


def test_27_members_then_kuwait_makes_28() -> None:
    before = cica_members(dt.date(2020, 1, 1))
    assert before.members is not None
    assert isinstance(before.members.value, tuple)
    assert len(before.members.value) == 27
    assert before.count is not None
    assert before.count.value == 27
    assert "Kuwait" not in before.members.value
    after = cica_members(dt.date(2022, 10, 13))
    assert after.members is not None
    assert isinstance(after.members.value, tuple)
    assert len(after.members.value) == 28
    assert "Kuwait" in after.members.value
    assert set(after.members.value) - set(before.members.value) == {"Kuwait"}
    assert not after.uncertain


def test_membership_before_and_during_uncertain_dates() -> None:
    assert cica_members(dt.date(1998, 1, 1)).count is None
    mid_2018 = cica_members(dt.date(2018, 6, 1))
    assert mid_2018.count is not None
    assert mid_2018.count.value == 26
    assert mid_2018.uncertain


def test_cbm_catalogue_has_five_dimensions() -> None:
    cat = cbm_catalogue()
    assert [d.name for d in cat.dimensions] == [
        "economic", "environmental", "human", "military-political",
        "fight against new challenges and threats",
    ]  # fmt: skip
    mil = next(d for d in cat.dimensions if d.name == "military-political")
    assert len(mil.measures) == 8
    assert all(f.confidence == "C" for f in mil.measures)
    assert cat.adopted.value.startswith("2004-10-22")  # type: ignore[union-attr]


def test_pending_matches_facts_md() -> None:
    got = {(p.zone, p.protocol, p.member, p.awaiting) for p in pending_protocols()}
    expected = {("rarotonga", pid, "usa", "ratification") for pid in ("1", "2", "3")}
    expected |= {
        ("bangkok", "protocol", m, "signature") for m in ("chn", "fra", "rus", "gbr", "usa")
    }
    expected |= {("pelindaba", pid, "usa", "ratification") for pid in ("I", "II")}
    expected |= {("canwfz", "protocol", "usa", "ratification")}
    assert got == expected


_BAD = """
zones:
- id: x
  name: X
  region: R
  kind: k
  facts:
    signed: {value: '2000-01-01', confidence: C}
  protocols: []
"""


def test_a_fact_without_source_fails_to_load(tmp_path: Path) -> None:
    path = tmp_path / "nwfz.yaml"
    path.write_text(_BAD, "utf-8")
    with pytest.raises(ReferenceDataError, match="no source"):
        load_zones(path)


def test_a_bad_confidence_fails_to_load(tmp_path: Path) -> None:
    path = tmp_path / "nwfz.yaml"
    path.write_text(_BAD.replace("confidence: C", "source: s, confidence: X"), "utf-8")
    with pytest.raises(ReferenceDataError, match="confidence"):
        load_zones(path)
    assert issubclass(ReferenceDataError, ConfigError)


def test_cica_loader_rejects_missing_source(tmp_path: Path) -> None:
    path = tmp_path / "cica.yaml"
    path.write_text("proposed: {value: x, confidence: C}\n", "utf-8")
    with pytest.raises(ReferenceDataError):
        load_cica(path)


# --- the proposed North-East Asia zone ------------------------------------------------------


def test_the_proposed_north_east_asia_zone_is_last_and_marked_proposed() -> None:
    *established, nea = zones()
    assert nea.id == "nea-nwfz"
    assert nea.proposed
    assert nea.status == "proposed"
    assert not any(z.proposed for z in established)
    assert nea.protocols == ()  # no treaty, so no protocol to sign yet
    assert nea.region == "North-East Asia"


def test_every_fact_of_the_proposed_zone_is_sourced_and_unconfirmed_ones_are_u() -> None:
    (nea,) = [z for z in zones() if z.id == "nea-nwfz"]
    facts = dict(nea.facts)
    assert all(f.source.strip() and f.confidence in CONFIDENCES for f in facts.values())
    # The meeting is in the facts file; the wording of the proposal is not confirmed there.
    assert facts["statement"].confidence == "C"
    assert str(facts["statement"].value).startswith("2018-09-26")
    assert facts["proposal"].confidence == "U"
    assert "second nuclear-weapon-free zone in the northern hemisphere" in str(
        facts["proposal"].value
    )
    assert "2014-05-06" in str(facts["precedent"].value)
    # What this project proposes is labelled as such, and never presented as sourced.
    for key in ("regional_states", "p5_protocol"):
        assert facts[key].confidence == "U"
        assert str(facts[key].value).startswith("proposal of this road map")
    assert facts["treaty"].value == "unknown"


def test_a_proposed_zone_adds_nothing_pending() -> None:
    assert all(p.zone != "nea-nwfz" for p in pending_protocols())


def test_a_proposed_zone_with_protocols_or_a_bad_status_fails_to_load(tmp_path: Path) -> None:
    path = tmp_path / "nwfz.yaml"
    path.write_text(_BAD.replace("kind: k", "kind: k\n  status: imagined"), "utf-8")
    with pytest.raises(ReferenceDataError, match="status"):
        load_zones(path)


# --- CICA measure ids --------------------------------------------------------------------


def test_every_known_cbm_has_a_stable_id() -> None:
    assert cbm_ids() == (
        "info-armed-forces", "info-defence-budgets", "info-foreign-contingents",
        "notify-military-activities", "observers-at-exercises", "incidents-near-borders",
        "military-visits", "info-arms-control",
    )  # fmt: skip
    measures = cbm_catalogue().measures()
    dimension, cbm = measures["notify-military-activities"]
    assert dimension == "military-political"
    assert "including exercises" in str(cbm.value)
    assert cbm.to_dict()["id"] == "notify-military-activities"
    # The placeholders of the dimensions the facts file lists no measure for have no id.
    for dim in cbm_catalogue().dimensions:
        for f in dim.measures:
            assert isinstance(f, Cbm) or (f.value == "unknown" and f.unconfirmed)


def _cica_with(tmp_path: Path, old: str, new: str) -> Path:
    packaged = Path(__file__).resolve().parents[3] / "src/cvid/reference/data/cica.yaml"
    text = packaged.read_text("utf-8")
    assert old in text
    path = tmp_path / "cica.yaml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def test_a_known_measure_without_id_fails_to_load(tmp_path: Path) -> None:
    path = _cica_with(tmp_path, "    - id: military-visits\n", "    -\n")
    with pytest.raises(ReferenceDataError, match="needs an 'id'"):
        load_cica(path)


def test_a_duplicate_or_malformed_measure_id_fails_to_load(tmp_path: Path) -> None:
    dup = _cica_with(tmp_path, "id: military-visits", "id: info-arms-control")
    with pytest.raises(ReferenceDataError, match="duplicate measure id"):
        load_cica(dup)
    bad = _cica_with(tmp_path, "id: military-visits", "id: Military Visits")
    with pytest.raises(ReferenceDataError, match="not a valid id"):
        load_cica(bad)
