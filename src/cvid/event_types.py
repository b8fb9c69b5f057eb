"""The names of the event types, below every layer that speaks of them.

A road map names event types (its ``permissions``, ``after_end``, anchors on the
first event of a type) and is checked when it loads, before any event exists; the
event layer (:mod:`cvid.events.bodies`) gives each name its body and raises
``ImportError`` if its table and this list differ. Keeping the names here lets
:mod:`cvid.roadmap` check them without importing :mod:`cvid.events`, which sits
above it. No I/O.
"""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "agreement.adopted",
    "step.reported",
    "step.verified",
    "step.waived",
    "inventory.observed",
    "guarantee.signed",
    "guarantee.withdrawn",
    "council.draft.tabled",
    "council.vote.cast",
    "council.vote.closed",
    "snapback.notified",
    "declaration.committed",
    "declaration.revealed",
    "beacon.committed",
    "beacon.revealed",
    "inspection.planned",
    "inspection.reported",
    "custody.handed_over",
    "custody.received",
    "party.withdrawal_notified",
    "participation.suspended",
    "participation.resumed",
    "measure.reimposed",
    "measure.suspended",
    "measure.lifted",
    "commitments.ceased",
    "allegation.made",
    "allegation.answered",
    "finding.made",
    "decision.proposed",
    "decision.joined",
    "decision.blocked",
    "obligation.refused",
    "quantity.declared",
    "quantity.measured",
    "obligation.performed",
    "obligation.confirmed",
    "inspection.conducted",
    "ratification.deposited",
    "agreement.extended",
    "agreement.terminated",
    "amendment.proposed",
    "amendment.consented",
    # continuous monitoring (ADR 0015)
    "device.installed",
    "device.removed",
    "device.replaced",
    "device.serviced",
    "device.key_rotated",
    "device.acknowledged",
    "records.committed",
    "records.revealed",
    "seal.opened",
    "seal.closed",
    "seal.tampered",
    "continuity.reverified",
    "balance.reported",
)
"""Every event type cvid knows (each has its body in :data:`cvid.events.bodies.BODIES`)."""
