"""What the dashboard reads from a running service: one narrow, read-only interface.

The service (:mod:`cvid.service.core`) implements it over its open agreement; tests
may implement it over an :class:`cvid.agreement.Agreement` directly. Nothing here
writes: the dashboard only shows what the log and the engine say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from cvid.engine import AgreementState
from cvid.events.authz import AdmittedEvent
from cvid.log.cosignature import WitnessPolicy
from cvid.log.proof import InclusionProof
from cvid.roadmap.model import RoadMap


class Source(Protocol):
    """Read-only view of one agreement, as the service holds it."""

    @property
    def roadmap(self) -> RoadMap:
        """The adopted road map."""
        ...

    @property
    def digest(self) -> str:
        """The road map's identity (``sha256:<hex>``)."""
        ...

    def events(self) -> Sequence[AdmittedEvent]:
        """Every admitted event, in log order (index i is leaf i)."""
        ...

    def entry(self, index: int) -> bytes:
        """Log entry ``index`` exactly as logged. Raises TreeSizeError if out of range."""
        ...

    def state(self, at: dt.datetime) -> AgreementState:
        """The agreement's state at ``at`` (the engine's time travel)."""
        ...

    def now(self) -> dt.datetime:
        """The service's clock (aware, UTC); the dashboard's default moment."""
        ...

    def checkpoint(self) -> bytes | None:
        """The latest published checkpoint note with its cosignatures, if any."""
        ...

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        """Proof that leaf ``index`` is in the tree of ``tree_size``."""
        ...

    @property
    def witness_policy(self) -> WitnessPolicy | None:
        """The road map's witnesses and threshold, if it names any."""
        ...

    @property
    def log_key(self) -> str:
        """The log's checkpoint verifier key text (``origin+hex+base64``)."""
        ...
