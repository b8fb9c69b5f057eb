"""What every field of every event body means: the descriptions of the event reference.

Kept beside the body models (:mod:`cvid.events.bodies`) rather than in them, one entry
per event type and field (JSON names, so ``from`` rather than ``from_``), and one per
model nested in a body (by class name). The reference page of event types
(``scripts/docs_reference.py``) shows them. A test fails on any body field without a
description here and on any entry that names no field: a new event type is documented
when it is registered. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

_NOTE = "Free text for the record: shown with the event, it decides nothing."
_REASON = "Why, in the party's words: free text kept in the record and shown with the state."
_STEP = "The step, by its identifier in the road map's phases."
_ITEMS = (
    "Item identifier to the state observed for it, a state of the lifecycle of the item's category."
)
_GUARANTEE = "The security guarantee, by its identifier in the road map's `guarantees`."
_DRAFT = "The draft resolution, by the identifier it was tabled with."
_DECLARATION = "The escrowed declaration, by its identifier in the road map's `escrow`."
_ROUND = "The beacon round, by its identifier (one commit-reveal round per inspection draw)."
_INSPECTION = "The inspection, by the identifier it was planned with."
_ALLEGATION = "The allegation, by the identifier it was made with."
_DECISION = "The joint body's decision, by the identifier it was proposed with."
_MEASURE = "The sanctions measure, by its identifier in the road map's `measures`."
_LIMIT = "The limit, by its identifier in the road map's `limits` (or give `quantity`)."
_QUANTITY = (
    "The measured quantity, by its identifier in the road map's limits: the value then "
    "applies to each of the party's limits on it (or give `limit`)."
)
_LIMIT_ITEM = "The item the value is for, when the limit is per item."
_VALUE = "The value, a finite number in `unit`."
_UNIT = (
    "The unit of `value` (for instance `kg` or `t`); converted to the limit's unit, and "
    "refused if not of the same dimension."
)
_OBLIGATION = "The recurring obligation, by its identifier in the road map's `obligations`."
_OCCURRENCE = "The occurrence, by the date it is due (an ISO date, `YYYY-MM-DD`)."
_OUTCOME = "`confirmed` or `failed`: the verifier's finding."
_DETERMINED = "`confirmed` (the allegation holds) or `rejected`."

_DEVICE = "The monitoring device, by its identifier in the road map."
_DEVICE_SIGNATURE = (
    "The device's own Ed25519 signature (128 hex digits) over the agreement, the type and "
    "the body without this field (ADR 0015)."
)
_SEAL_AT = "When the seal recorded it (RFC 3339, UTC)."
_INSPECTOR = "The verifier present, if any (a seal opened without one loses continuity)."

FIELDS: dict[str, dict[str, str]] = {
    "agreement.adopted": {"note": _NOTE},
    "step.reported": {"step": _STEP, "note": _NOTE},
    "step.verified": {
        "step": _STEP,
        "outcome": "`confirmed` (the step is carried out) or `failed` (it is not: a "
        "violation by the step's actor).",
        "items": _ITEMS,
        "note": _NOTE,
    },
    "step.waived": {"step": _STEP, "reason": _REASON},
    "inventory.observed": {"items": _ITEMS, "note": _NOTE},
    "guarantee.signed": {"guarantee": _GUARANTEE},
    "guarantee.withdrawn": {"guarantee": _GUARANTEE, "reason": _REASON},
    "council.draft.tabled": {
        "draft": "The draft's identifier, new in this agreement; votes name it.",
        "title": "The draft's title.",
        "purpose": "`continue_relief` (adopted within a snapback window, it keeps the relief "
        "in place), `endorse` (the Council endorses the agreement) or `other`.",
        "vote_by": "When the vote closes by itself (RFC 3339, UTC, `...Z`), if it is not "
        "closed earlier by `council.vote.closed`.",
        "chapter": "`VII`, `VI` (the parties to the dispute must abstain, Charter Art. "
        "27(3)) or `procedural` (no veto applies, Art. 27(2)).",
        "dispute_parties": "The Council members that are parties to the dispute (they "
        "abstain under chapter VI).",
        "suspend_measures": "Measures the resolution suspends once adopted.",
        "reimpose_measures": "Measures the resolution re-imposes once adopted.",
        "waive_steps": "Steps the resolution waives once adopted.",
        "determines": "Allegations the resolution determines confirmed once adopted (a "
        "Council finding, for consequences found by the Council).",
    },
    "council.vote.cast": {
        "draft": _DRAFT,
        "vote": "`yes`, `no` or `abstain`; one vote per member, while the vote is open.",
    },
    "council.vote.closed": {"draft": _DRAFT},
    "snapback.notified": {
        "reason": "The significant non-performance notified, in the notifier's words."
    },
    "declaration.committed": {
        "declaration": _DECLARATION,
        "root": "The escrow tree's Merkle root: 64 lowercase hexadecimal digits.",
        "size": "The number of leaves (items) under the root, at least 1.",
        "cells": "The agreed partition into cells, in leaf order; each cell holds at "
        "least one leaf.",
    },
    "declaration.revealed": {
        "declaration": _DECLARATION,
        "reveal": "The reveal: a contiguous run of leaves with their salts and the range "
        "proof against the committed root (the format is in the specification's escrow "
        "page).",
    },
    "beacon.committed": {
        "round": _ROUND,
        "commitment": "The SHA-256 commitment to the party's secret, the round and its "
        "name (the specification's beacon page): 64 lowercase hexadecimal digits.",
    },
    "beacon.revealed": {
        "round": _ROUND,
        "secret": "The secret committed to: 32 bytes as 64 lowercase hexadecimal digits.",
    },
    "inspection.planned": {
        "inspection": "The inspection's identifier, new in this agreement; the report names it.",
        "declaration": _DECLARATION,
        "round": "The completed beacon round the cells are drawn from.",
        "population": "The cells drawn from: `revealed` (those completely revealed) or "
        "`all` (every cell of the declaration).",
        "cells": "The cells drawn, in the order of the draw; anyone can recompute them "
        "from the round's secrets.",
    },
    "inspection.reported": {
        "inspection": _INSPECTION,
        "findings": "What was found, one entry per inspected cell.",
    },
    "custody.handed_over": {
        "item": "The inventory item handed over.",
        "to": "The party that receives it.",
        "note": _NOTE,
    },
    "custody.received": {
        "item": "The inventory item received.",
        "from": "The party that handed it over.",
        "note": _NOTE,
    },
    "party.withdrawal_notified": {"reason": _REASON},
    "participation.suspended": {"reason": _REASON},
    "participation.resumed": {"note": _NOTE},
    "measure.reimposed": {"measure": _MEASURE, "note": _NOTE},
    "measure.suspended": {"measure": _MEASURE, "note": _NOTE},
    "measure.lifted": {"measure": _MEASURE, "note": _NOTE},
    "commitments.ceased": {
        "commitments": "The party's own commitments it ceases: steps it is the actor of, "
        "its limits or its recurring obligations, by identifier.",
        "ground": "The ground it claims, in its words; shown with each breach it causes.",
        "in_response_to": "The other parties whose non-performance it answers.",
    },
    "allegation.made": {
        "allegation": "The allegation's identifier, new in this agreement.",
        "against": "The party accused.",
        "kind": "What it is about: `custody`, `undeclared`, `receipt`, `non-performance` "
        "or `other`.",
        "subject": "What it concerns, by identifier (an item, a step, an obligation), "
        "when there is one.",
        "detail": "The allegation, in the accuser's words.",
    },
    "allegation.answered": {
        "allegation": _ALLEGATION,
        "response": "The accused party's answer, in its words.",
    },
    "finding.made": {"allegation": _ALLEGATION, "outcome": _DETERMINED, "note": _NOTE},
    "decision.proposed": {
        "decision": "The decision's identifier, new in this agreement; members join or "
        "block it by it.",
        "body": "The joint body deciding, by its identifier in the road map's `joint_bodies`.",
        "subject": "What the decision is about, in words.",
        "extend": "Extend a step's deadline (one of the five acts).",
        "waive": "Waive this step (one of the five acts).",
        "perform": "Perform this step, whose actor is the body: a joint act (one of the "
        "five acts).",
        "approve": "Approve this text, recorded for later use such as an amendment (one of "
        "the five acts).",
        "find": "Find on an allegation, when a consequence is found by this body (one of "
        "the five acts).",
        "by": "The day (`YYYY-MM-DD`) after which the decision lapses unless adopted.",
    },
    "decision.joined": {"decision": _DECISION},
    "decision.blocked": {"decision": _DECISION, "reason": _REASON},
    "obligation.refused": {
        "step": "The step refused (the party must be its actor); or give `subject`.",
        "subject": "An obligation the road map does not list as a step, in words; or give `step`.",
        "reason": _REASON,
    },
    "quantity.declared": {
        "limit": _LIMIT,
        "quantity": _QUANTITY,
        "item": _LIMIT_ITEM,
        "value": _VALUE,
        "unit": _UNIT,
        "note": _NOTE,
    },
    "quantity.measured": {
        "limit": _LIMIT,
        "quantity": _QUANTITY,
        "item": _LIMIT_ITEM,
        "value": _VALUE,
        "unit": _UNIT,
        "uncertainty": "The measurement's uncertainty, in `unit`, at least 0; kept with "
        "the value in the limit's history.",
        "note": _NOTE,
    },
    "obligation.performed": {
        "obligation": _OBLIGATION,
        "occurrence": _OCCURRENCE,
        "note": _NOTE,
    },
    "obligation.confirmed": {
        "obligation": _OBLIGATION,
        "occurrence": _OCCURRENCE,
        "outcome": _OUTCOME,
        "note": _NOTE,
    },
    "inspection.conducted": {
        "type": "The inspection type, by its identifier in the road map's `inspection_types`.",
        "inspected": "The party whose site was inspected.",
        "site": "The site, in words.",
        "note": _NOTE,
    },
    "ratification.deposited": {"note": _NOTE},
    "agreement.extended": {
        "extension": "The extension signed, by its identifier in the agreement's `extensions`.",
        "note": _NOTE,
    },
    "agreement.terminated": {"reason": _REASON},
    "amendment.proposed": {
        "amendment": "The amendment's identifier, new in this agreement; consents name it.",
        "digest": "The new road-map version's digest, `sha256:` and 64 hexadecimal digits; "
        "the file travels as `versions/<hex>.yaml` in the agreement directory.",
        "effective": "The day (`YYYY-MM-DD`) the new version takes effect once consented.",
        "note": _NOTE,
    },
    "amendment.consented": {"amendment": "The proposed amendment, by its identifier."},
    # continuous monitoring (ADR 0015)
    "device.installed": {"device": _DEVICE, "note": _NOTE},
    "device.removed": {"device": _DEVICE, "reason": "Why it was removed, in words."},
    "device.replaced": {
        "device": _DEVICE,
        "replacement": "The road map's device that takes its place.",
        "note": _NOTE,
    },
    "device.serviced": {"device": _DEVICE, "note": "What was done, in words."},
    "device.key_rotated": {
        "device": _DEVICE,
        "key": "The device's new verifier key; its data is checked against it from now on.",
        "note": _NOTE,
    },
    "device.acknowledged": {
        "device": _DEVICE,
        "act": "The verifier's act the host acknowledges: installed, replaced, serviced, "
        "key_rotated or removed.",
        "note": _NOTE,
    },
    "records.committed": {
        "device": _DEVICE,
        "start": "The period's start (RFC 3339, UTC, whole seconds); periods never overlap.",
        "end": "The period's end, exclusive.",
        "root": "The RFC 9162 Merkle root over the period's salted records (64 hex digits).",
        "count": "How many records the period holds.",
        "first": "The time of the period's first record.",
        "last": "The time of the period's last record.",
        "signature": _DEVICE_SIGNATURE,
    },
    "records.revealed": {
        "device": _DEVICE,
        "start": "The start of the committed period the records belong to.",
        "count": "The number of records the commitment holds (must match it).",
        "index": "The position of the first revealed record in the period.",
        "records": "The revealed records, each with its salt, in order.",
        "proof": "The range proof of the revealed records against the committed root.",
    },
    "seal.opened": {
        "device": _DEVICE,
        "at": _SEAL_AT,
        "inspector": _INSPECTOR,
        "note": _NOTE,
        "signature": _DEVICE_SIGNATURE,
    },
    "seal.closed": {
        "device": _DEVICE,
        "at": _SEAL_AT,
        "inspector": _INSPECTOR,
        "note": _NOTE,
        "signature": _DEVICE_SIGNATURE,
    },
    "seal.tampered": {
        "device": _DEVICE,
        "at": _SEAL_AT,
        "inspector": _INSPECTOR,
        "note": _NOTE,
        "signature": _DEVICE_SIGNATURE,
    },
    "continuity.reverified": {
        "items": "The items or facilities re-verified: a new baseline for their continuity "
        "of knowledge.",
        "note": _NOTE,
    },
    "balance.reported": {
        "area": "The material balance area.",
        "period": "The last day of the balance period (YYYY-MM-DD).",
        "pb": "The beginning physical inventory (PB), in the area's unit.",
        "x": "The increases during the period (X).",
        "y": "The decreases during the period (Y).",
        "pe": "The ending physical inventory (PE); MUF = (PB + X - Y) - PE.",
        "sigma": "The standard deviation of MUF, sigma(MUF), when known.",
        "note": _NOTE,
    },
}
"""Event type to body field (JSON name) to what it means."""

PARTS: dict[str, dict[str, str]] = {
    "Finding": {
        "cell": "The inspected cell (one of the planned cells).",
        "confirmed": "Items revealed in the cell that the inspectors found as declared.",
        "discrepancies": "Declared quantities the inspectors found different.",
        "undeclared": "What the inspectors found in the cell that the declaration does not list.",
    },
    "Discrepancy": {
        "item": "The revealed item, by its identifier in the declaration.",
        "attribute": "The attribute found different, by its name in the revealed leaf.",
        "declared": "The value declared.",
        "found": "The value found.",
    },
    "Undeclared": {
        "category": "The inventory category of what was found.",
        "description": "What was found, in words.",
        "quantity": "How much, when counted or measured.",
    },
    "Extension": {
        "step": "The step whose deadline is extended.",
        "days": "By how many days, 1 to 3650.",
    },
    "Determination": {"allegation": _ALLEGATION, "outcome": _DETERMINED},
}
"""Model nested in an event body (by class name) to field (JSON name) to what it means."""


def describe(kind: str, field: str) -> str | None:
    """What ``field`` of an event type's body means, or None if it is not described."""
    return FIELDS.get(kind, {}).get(field)


def describe_part(model: str, field: str) -> str | None:
    """What ``field`` of a model nested in a body means, or None if it is not described."""
    return PARTS.get(model, {}).get(field)


def table(kind: str) -> Mapping[str, str]:
    """Every described field of an event type's body."""
    return FIELDS.get(kind, {})
