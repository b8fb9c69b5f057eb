"""Reference data from the project's reference facts file: NWFZs and CICA, every fact sourced.

Each fact is a :class:`Fact` with a value, a source and a confidence (C, D or U). The
data ships as YAML in ``cvid/reference/data`` and is validated when loaded.
"""

from __future__ import annotations

from cvid.reference._facts import CONFIDENCES, Fact
from cvid.reference.cica import (
    Cbm,
    CbmCatalogue,
    Cica,
    Membership,
    cbm_catalogue,
    cbm_ids,
    cica,
    cica_members,
    load_cica,
)
from cvid.reference.nwfz import P5, Pending, Protocol, Zone, load_zones, pending_protocols, zones

__all__ = [
    "CONFIDENCES",
    "P5",
    "Cbm",
    "CbmCatalogue",
    "Cica",
    "Fact",
    "Membership",
    "Pending",
    "Protocol",
    "Zone",
    "cbm_catalogue",
    "cbm_ids",
    "cica",
    "cica_members",
    "load_cica",
    "load_zones",
    "pending_protocols",
    "zones",
]
