"""`cvid status` of an agreement with limits: the JSON contract and the text table."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.test_agreement_cli import ok, status, submit
from tests.kit import mini_data


def test_status_shows_limits(tmp_path: Path) -> None:
    data = mini_data()
    data["limits"] = [
        {
            "id": "pu-cap",
            "title": "Separated plutonium",
            "party": "north",
            "quantity": "pu_stock",
            "unit": "kg",
            "max": 40,
            "measure_every_days": 180,
            "verifiers": ["iaea"],
        }
    ]
    roadmap = tmp_path / "roadmap.yaml"
    roadmap.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    directory = tmp_path / "agreement"
    ok("agreement", "init", directory, "--roadmap", roadmap, "--adopt-at", "2027-01-02T00:00:00Z")
    body = {"limit": "pu-cap", "value": 42500, "unit": "g", "uncertainty": 100}
    submit(directory, "iaea", "quantity.measured", body, "2027-02-01T00:00:00Z")
    limit = status(directory, "2027-02-02T00:00:00Z")["limits"]["pu-cap"]
    assert {k: limit[k] for k in ("status", "value", "unit", "bound", "since")} == {
        "status": "exceeded",
        "value": 42.5,
        "unit": "kg",
        "bound": "≤ 40 kg",
        "since": "2027-02-01T00:00:00Z",
    }
    text = ok("status", directory, "--at", "2027-02-02T00:00:00Z")
    assert "Limits" in text
    assert "42.5 kg (measured)" in text
    report = tmp_path / "report.html"
    ok("report", directory, "--out", report, "--at", "2027-02-02T00:00:00Z")
    html = report.read_text(encoding="utf-8")
    assert '<h2 id="limits">Limits</h2>' in html
    assert "42.5 kg" in html
