"""Devices, release arrangements and balance areas in a road map: each problem is
reported at its file, line and column."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cvid.errors import RoadmapError
from cvid.log.note import Verifier
from cvid.roadmap.loader import from_data, loads
from tests.kit import MINI, with_keys
from tests.monitor_kit import device_signer, monitoring_data

KEY = device_signer("cam-1").verifier.to_text()
SEAL_KEY = device_signer("seal-1").verifier.to_text()
CAM_KEY_AS_SEAL = Verifier("seal-1", device_signer("cam-1").public_key).to_text()

BLOCK = """\
monitoring:
  kinds: [portal_monitor]
  devices:
    - id: cam-1
      kind: {kind}
      key: {key}
      covers: [{covers}]
      interval_minutes: 60
      at_risk_after_minutes: {at_risk}
      lost_after_minutes: 1440
      host: {host}
      verifiers: [{verifier}]
    - id: seal-1
      kind: seal
      key: {seal_key}
      covers: [reactor-a]
      interval_minutes: 60
      at_risk_after_minutes: 120
      lost_after_minutes: 1440
      host: north
      verifiers: [iaea]
  releases:
    - id: held
      title: Held records
      devices: [{released}]
      by: 2027-03-01
consequences_extra: {extra}
"""

GOOD: dict[str, Any] = {
    "kind": "camera",
    "key": KEY,
    "covers": "reactor-a",
    "at_risk": "180",
    "host": "north",
    "verifier": "iaea",
    "seal_key": SEAL_KEY,
    "released": "cam-1",
    "extra": "",
}


def text(**change: str) -> str:
    block = BLOCK.format(**(GOOD | change))
    block = block.replace("consequences_extra: \n", "")
    return MINI.read_text(encoding="utf-8") + block


def line_of(needle: str, **change: str) -> int:
    lines = text(**change).splitlines()
    base = MINI.read_text(encoding="utf-8").count("\n")
    hits = [n + 1 for n, line in enumerate(lines) if n >= base and needle in line]
    return hits[0]


def test_a_sound_monitoring_section_loads() -> None:
    roadmap = loads(text(), name="rm.yaml")
    assert roadmap.monitoring is not None
    assert [d.id for d in roadmap.monitoring.devices] == ["cam-1", "seal-1"]


@pytest.mark.parametrize(
    ("change", "needle", "column", "message"),
    [
        ({"kind": "drone"}, "kind: drone", 7, "'drone' is not a device kind: camera, flowmeter"),
        ({"covers": "nothing"}, "covers: [nothing]", 16, "no item or facility 'nothing'"),
        ({"host": "nobody"}, "host: nobody", 7, "'nobody' is not a party"),
        ({"verifier": "usa"}, "verifiers: [usa]", 19, "party 'usa' needs the role verifier"),
        ({"key": "junk"}, "key: junk", 7, "not a verifier key"),
        (
            {"seal_key": CAM_KEY_AS_SEAL},
            f"key: {CAM_KEY_AS_SEAL}",
            7,
            "the key of device 'cam-1' is listed for another device",
        ),
        ({"released": "cam-9"}, "devices: [cam-9]", 17, "'cam-9' is not a device"),
        (
            {"at_risk": "30"},
            "- id: cam-1",
            7,
            "monitoring.devices.0: Value error, 'at_risk_after_minutes' is shorter than",
        ),
    ],
)
def test_monitoring_problems_are_reported_at_their_position(
    change: dict[str, str], needle: str, column: int, message: str
) -> None:
    with pytest.raises(RoadmapError) as e:
        loads(text(**change), name="rm.yaml")
    line = line_of(needle, **change)
    if change.get("seal_key") == KEY:
        line = [n + 1 for n, x in enumerate(text(**change).splitlines()) if f"key: {KEY}" in x][1]
    assert f"rm.yaml:{line}:{column}: {message}" in str(e.value)


def test_a_road_map_may_name_its_own_device_kinds() -> None:
    loads(text(kind="portal_monitor"), name="rm.yaml")


def test_a_device_key_is_named_after_the_device_or_the_party_that_logs_its_data() -> None:
    data = monitoring_data()
    data["monitoring"]["devices"][0]["key"] = device_signer("usa").verifier.to_text()
    raw, _ = with_keys(data)
    with pytest.raises(RoadmapError, match="a device's key is named after the device"):
        from_data(raw)


def test_an_operator_key_may_sign_for_several_devices() -> None:
    data = monitoring_data()
    raw, signers = with_keys(data)
    for spec in raw["monitoring"]["devices"]:
        spec["operator"] = "ops"
        spec["key"] = signers["ops"].verifier.to_text()
    assert from_data(raw).monitoring is not None


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ({"continuity_lost": "stock-9"}, "'stock-9' is not an item or facility a device covers"),
        ({"continuity_lost": {"item": "x", "grace_days": 3}}, "'x' is not an item or facility"),
        ({"continuity_lost": {"item": "any", "grace_days": -1}}, "greater than or equal to 0"),
        ({"muf_flagged": "mba-9"}, "'mba-9' is not a balance area"),
    ],
)
def test_conditions_on_monitoring_name_what_exists(cond: dict[str, Any], message: str) -> None:
    data = monitoring_data()
    data["consequences"].append({"id": "c-x", "title": "X", "when": cond})
    raw, _ = with_keys(data)
    with pytest.raises(RoadmapError, match=message):
        from_data(raw)


def test_the_schema_knows_the_monitoring_section() -> None:
    from cvid.roadmap.loader import schema_text

    schema = json.loads(schema_text())
    assert "monitoring" in schema["properties"]
