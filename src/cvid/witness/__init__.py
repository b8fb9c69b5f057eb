"""Witnesses (C2SP tlog-witness): a witness server, and the log's client that asks them."""

from cvid.witness.client import (
    CosigningResult,
    Outcome,
    WitnessClient,
    WitnessOutcome,
    collect_cosignatures,
    cosign_checkpoint,
)
from cvid.witness.protocol import AddCheckpointRequest
from cvid.witness.server import Witness, create_witness_app
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
