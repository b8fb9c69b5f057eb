"""`cvid status` prints recurring obligations and inspection quotas."""

from __future__ import annotations

import io

from rich.console import Console

from cvid.cli.agreement import _print_recurring
from tests.kit import Kit, at
from tests.recurring_kit import recurring_data


def test_status_tables_for_recurring_obligations_and_quotas() -> None:
    kit = Kit(recurring_data())
    kit.adopt(at("2027-01-10"))
    kit.act(
        "usa",
        "inspection.conducted",
        {"type": "type-one", "inspected": "north", "site": "Site A"},
        time=at("2027-02-01"),
    )
    out = io.StringIO()
    _print_recurring(
        Console(file=out, width=200, color_system=None), kit.evaluate(at("2027-08-02"))
    )
    text = out.getvalue()
    assert "Recurring" in text
    assert "exchange.south" in text
    assert "1 missed, 1 pending" in text
    assert "south to perform by the end of 2028-01-31" in text
    assert "at most 3 conducted" in text
    assert "1 (open)" in text
