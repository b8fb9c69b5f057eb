"""A small road map with joint bodies, a joint act and the Dispute Resolution Mechanism.

Parties: ``irn`` (the disarming state), ``e3`` and ``rus`` (participants), ``ind``
(the Advisory Board's independent member), ``iaea`` (the verifier). Joint bodies:
``jc`` (the Joint Commission: irn, e3, rus, by consensus), ``jc2`` (the same
members, at least 2), ``board`` (irn, e3, ind: the Advisory Board) and ``pair``
(irn and e3, who hold a joint session together). The shipped ``drm`` phase is
included with e3 as the complainant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

ADOPTED_BY = ["irn", "e3", "rus"]


def joint_data() -> dict[str, Any]:
    """The road map as plain data (no keys), fresh for each call."""
    return {
        "cvid_roadmap": 1,
        "agreement": {
            "id": "joint",
            "title": "A road map with a joint commission",
            "origin": "cvid.test/joint",
            "start": dt.date(2027, 1, 1),
            "adopted_by": list(ADOPTED_BY),
        },
        "parties": [
            {"id": "irn", "name": "Disarming state", "roles": ["disarming_state", "party"]},
            {"id": "e3", "name": "E3", "roles": ["party"]},
            {"id": "rus", "name": "Russia", "roles": ["party"]},
            {"id": "ind", "name": "Independent member", "roles": ["party"]},
            {"id": "iaea", "name": "Inspectorate", "roles": ["verifier"]},
        ],
        "joint_bodies": [
            {"id": "jc", "title": "Joint Commission", "members": ["irn", "e3", "rus"]},
            {
                "id": "jc2",
                "title": "Joint Commission (majority)",
                "members": ["irn", "e3", "rus"],
                "rule": {"at_least": 2},
            },
            {"id": "board", "title": "Advisory Board", "members": ["irn", "e3", "ind"]},
            {"id": "pair", "title": "The two sides", "members": ["irn", "e3"]},
        ],
        "measures": [
            {
                "id": "m-oil",
                "title": "Oil embargo",
                "source": "Resolution X",
                "initially": "suspended",
            }
        ],
        "phases": [
            {
                "id": "main",
                "title": "Main",
                "steps": [
                    {
                        "id": "limit-stock",
                        "title": "Reduce the stock",
                        "actor": "irn",
                        "action": "Ship out the stock above the limit",
                        "deadline": {"after": "adoption", "days": 30},
                        "owed_to": "e3",
                        "verification": {"by": ["iaea"]},
                    },
                    {
                        "id": "report",
                        "title": "Exchange data",
                        "actor": "irn",
                        "action": "Hand over the data",
                        "deadline": {"after": "adoption", "days": 60},
                    },
                    {
                        "id": "inspect",
                        "title": "Inspect",
                        "actor": "iaea",
                        "action": "Inspect the site",
                    },
                    {
                        "id": "joint-session",
                        "title": "Hold a joint session",
                        "actor": "pair",
                        "action": "Meet in joint session",
                        "deadline": {"after": "adoption", "days": 20},
                    },
                    {
                        "id": "e3-complaint",
                        "title": "Refer an issue to the Joint Commission",
                        "actor": "e3",
                        "action": "Refer a compliance issue to the Joint Commission",
                    },
                ],
            }
        ],
        "include_phases": [
            {
                "phase": "drm",
                "with": {
                    "complainant": "e3",
                    "joint_body": "jc",
                    "advisory_board": "board",
                    "complaint": "e3-complaint",
                },
            }
        ],
        "consequences": [
            {
                "id": "breach",
                "title": "Breach of the data exchange",
                "when": {"violated": "report"},
                "reimpose_measures": ["m-oil"],
            }
        ],
        "permissions": {"step.waived": ["disarming_state"]},
    }
