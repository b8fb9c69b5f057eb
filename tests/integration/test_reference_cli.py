"""``cvid ref``: tables show [U] marks; --json parses."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cvid.cli.reference import ref_app

runner = CliRunner()


def test_nwfz_table_marks_unconfirmed() -> None:
    result = runner.invoke(ref_app, ["nwfz"])
    assert result.exit_code == 0, result.output
    assert "[U]" in result.output
    assert "Tlatelolco" in result.output


def test_nwfz_pending_json() -> None:
    result = runner.invoke(ref_app, ["nwfz", "--pending", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {"zone": "canwfz", "member": "usa"}.items() <= next(
        d for d in doc if d["zone"] == "canwfz"
    ).items()
    assert len(doc) == 11


def test_nwfz_pending_table_marks_u() -> None:
    result = runner.invoke(ref_app, ["nwfz", "--pending"])
    assert result.exit_code == 0
    assert "[U]" in result.output


def test_nwfz_json_parses() -> None:
    result = runner.invoke(ref_app, ["nwfz", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert len(doc) == 10  # the nine zones of the facts file and the proposed one
    assert [z["id"] for z in doc if z["status"] == "proposed"] == ["nea-nwfz"]
    nea = doc[-1]
    assert nea["protocols"] == []
    assert nea["facts"]["proposal"]["confidence"] == "U"
    assert all(f["source"] for f in nea["facts"].values())


def test_nwfz_table_shows_the_proposed_zone() -> None:
    result = runner.invoke(ref_app, ["nwfz"])
    assert result.exit_code == 0
    assert "North-East Asia" in result.output
    assert "(proposed)" in result.output


def test_cica_table_and_json() -> None:
    result = runner.invoke(ref_app, ["cica"])
    assert result.exit_code == 0
    assert "[U]" in result.output
    assert "military-political" in result.output
    doc = json.loads(runner.invoke(ref_app, ["cica", "--json"]).output)
    assert len(doc["cbm_catalogue"]["dimensions"]) == 5


def test_cica_lists_the_measure_ids() -> None:
    table = runner.invoke(ref_app, ["cica"])
    assert table.exit_code == 0
    assert "id: notify-military-activities" in table.output
    assert "id: info-arms-control" in table.output
    doc = json.loads(runner.invoke(ref_app, ["cica", "--json"]).output)
    ids = doc["cbm_catalogue"]["ids"]
    assert len(ids) == 8
    assert "notify-military-activities" in ids
    (mil,) = [d for d in doc["cbm_catalogue"]["dimensions"] if d["name"] == "military-political"]
    assert [m["id"] for m in mil["measures"]] == ids
    (eco,) = [d for d in doc["cbm_catalogue"]["dimensions"] if d["name"] == "economic"]
    assert "id" not in eco["measures"][0]


def test_cica_members_on_a_day() -> None:
    result = runner.invoke(ref_app, ["cica", "--members", "--on", "2023-01-01", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["count"]["value"] == 28
    assert len(doc["members"]["value"]) == 28
    table = runner.invoke(ref_app, ["cica", "--members", "--on", "2019-01-01"])
    assert table.exit_code == 0
    assert "[U]" in table.output


def test_cica_bad_date_is_an_input_error() -> None:
    result = runner.invoke(ref_app, ["cica", "--members", "--on", "soon"])
    assert result.exit_code == 2
