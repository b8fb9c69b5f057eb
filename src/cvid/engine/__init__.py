"""The compliance engine: a pure function of road map, events and time."""

from cvid.engine.evaluate import evaluate
from cvid.engine.state import AgreementState

__all__ = ["AgreementState", "evaluate"]
