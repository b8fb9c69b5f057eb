"""Witnesses (C2SP tlog-witness): a witness server, and the log's client that asks them.

The server (:mod:`cvid.witness.server`) needs the ``service`` extra; it is imported on
first use of ``Witness`` or ``create_witness_app`` from here.
"""

from typing import Any

from cvid.witness.client import (
    CosigningResult,
    Outcome,
    WitnessClient,
    WitnessOutcome,
    collect_cosignatures,
    cosign_checkpoint,
)
from cvid.witness.protocol import AddCheckpointRequest
from cvid.witness.state import LogState, WitnessState

__all__ = [
    "AddCheckpointRequest",
    "CosigningResult",
    "LogState",
    "Outcome",
    "Witness",
    "WitnessClient",
    "WitnessOutcome",
    "WitnessState",
    "collect_cosignatures",
    "cosign_checkpoint",
    "create_witness_app",
]


def __getattr__(name: str) -> Any:
    if name in ("Witness", "create_witness_app"):
        from cvid.witness import server

        return getattr(server, name)
    raise AttributeError(f"module 'cvid.witness' has no attribute {name!r}")
