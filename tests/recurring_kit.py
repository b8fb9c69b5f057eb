"""Road maps with recurring obligations and inspection quotas, for tests.

The mini road map (``tests.kit``) with a second disarming state ``south``, a data
exchange every six months from 31 January 2027 owed by ``north`` and ``south``
(``for_each``), verified by the inspectorate, a report twice a year (15 March and
15 September) owed by ``north`` with 10 days of grace, inspection types and two
quotas on ``usa``'s inspections of ``north``: at most 3 a calendar year, and ``north``
must receive at least 2.
"""

from __future__ import annotations

from typing import Any

from tests.kit import mini_data


def recurring_data() -> dict[str, Any]:
    data = mini_data()
    data["parties"].append({"id": "south", "name": "Second state", "roles": ["party"]})
    data["parties"][1]["roles"].append("party")  # usa inspects
    data["obligations"] = [
        {
            "id": "exchange",
            "title": "Exchange of data",
            "for_each": ["north", "south"],
            "action": "Hand over the semi-annual data on stocks",
            "every": {"months": 6},
            "from": dt_date("2027-01-31"),
            "verification": {"by": ["iaea"]},
            "source": "Protocol, Part Four",
        },
        {
            "id": "report",
            "title": "Report on the freeze",
            "party": "north",
            "owed_to": ["usa"],
            "action": "Report the state of the frozen sites",
            "on_dates": ["03-15", "09-15"],
            "grace_days": 10,
        },
    ]
    data["inspection_types"] = [
        {"id": "type-one", "title": "Deployed forces inspection", "by": ["usa"], "of": ["north"]},
        {"id": "type-two", "title": "Non-deployed inspection", "by": ["usa"]},
    ]
    data["quotas"] = [
        {
            "id": "usa-at-most",
            "title": "Inspections a year",
            "party": "usa",
            "at_most": 3,
        },
        {
            "id": "north-at-least",
            "title": "Inspections accepted a year",
            "party": "north",
            "counts": "received",
            "at_least": 2,
        },
    ]
    return data


def dt_date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)
