"""Bodies of the continuous-monitoring event types (registered in
:data:`cvid.events.bodies.BODIES`).

Device lifecycle acts are signed by one of the device's verifiers (a removal also by
its host, and recorded as such) and acknowledged by the host. A device's data goes on
the log as a *commitment* per period (the RFC 9162 root over the period's records,
their count, the first and last record times) and as seal events, each carrying the
device's own signature (:func:`device_message`) beside the envelope's. Records stay
with their holder; a reveal brings some of them with a range proof against the root.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from cvid._ids import Id, Text
from cvid._jcs import canonical
from cvid.events.bodies import Body

TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
Time = Annotated[str, StringConstraints(pattern=TIME)]
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DeviceSignature = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
Number = Annotated[float, Field(allow_inf_nan=False)]

DEVICE_DOMAIN = b"cvid-device-v1\n"
"""Prefix of every message a device signs: never a note text, never an event."""


class DeviceInstalled(Body):
    """A verifier installed the device (and, with it, a baseline of what it covers)."""

    device: Id
    note: Text | None = None


class DeviceRemoved(Body):
    """The device was removed: by a verifier, or by its host (recorded as such)."""

    device: Id
    reason: Text


class DeviceReplaced(Body):
    """A verifier replaced the device by another one of the road map's devices."""

    device: Id
    replacement: Id
    note: Text | None = None


class DeviceServiced(Body):
    """A verifier serviced the device."""

    device: Id
    note: Text


class DeviceKeyRotated(Body):
    """A verifier gave the device a new key; its data is checked against it from now."""

    device: Id
    key: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    note: Text | None = None


class DeviceAcknowledged(Body):
    """The host acknowledges a verifier's act on a device it hosts."""

    device: Id
    act: Literal["installed", "replaced", "serviced", "key_rotated", "removed"]
    note: Text | None = None


class RecordsCommitted(Body):
    """A period's records, committed: ``[start, end)`` holds ``count`` records from
    ``first`` to ``last``, whose RFC 9162 root is ``root``; signed by the device."""

    device: Id
    start: Time
    end: Time
    root: Hex32
    count: int = Field(ge=1, le=10**9)
    first: Time
    last: Time
    signature: DeviceSignature


class SealEvent(Body):
    """A seal opened (``inspector``: the verifier present, if any), closed, or raised a
    tamper alarm, at ``at``; signed by the device."""

    device: Id
    at: Time
    inspector: Id | None = None
    note: Text | None = None
    signature: DeviceSignature


class SealOpened(SealEvent):
    """A seal was opened (with the named inspector present, or none)."""


class SealClosed(SealEvent):
    """A seal was closed."""


class SealTampered(SealEvent):
    """A seal raised a tamper alarm."""


class RecordsRevealed(Body):
    """Records ``index`` onwards of the period starting ``start`` (whose commitment
    holds ``count``), each ``{"record": {...}, "salt": hex}``, with a range proof."""

    device: Id
    start: Time
    count: int = Field(ge=1, le=10**9)
    index: int = Field(ge=0, le=10**9)
    records: list[dict[str, Any]] = Field(min_length=1, max_length=2000)
    proof: list[Hex32] = Field(max_length=128)


class ContinuityReverified(Body):
    """A verifier re-verified items or facilities: a new baseline for their continuity."""

    items: list[Id] = Field(min_length=1, max_length=1000)
    note: Text | None = None


class BalanceReported(Body):
    """A material balance for a period ending on ``period`` (YYYY-MM-DD): beginning
    inventory, increases, decreases, ending inventory and sigma(MUF), in the area's unit."""

    area: Id
    period: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pb: Number
    x: Number
    y: Number
    pe: Number
    sigma: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    note: Text | None = None


MONITORING_BODIES: dict[str, type[Body]] = {
    "device.installed": DeviceInstalled,
    "device.removed": DeviceRemoved,
    "device.replaced": DeviceReplaced,
    "device.serviced": DeviceServiced,
    "device.key_rotated": DeviceKeyRotated,
    "device.acknowledged": DeviceAcknowledged,
    "records.committed": RecordsCommitted,
    "records.revealed": RecordsRevealed,
    "seal.opened": SealOpened,
    "seal.closed": SealClosed,
    "seal.tampered": SealTampered,
    "continuity.reverified": ContinuityReverified,
    "balance.reported": BalanceReported,
}

TYPE_OF = {model: name for name, model in MONITORING_BODIES.items()}
"""Each monitoring body's event type (every type has its own model)."""

SIGNED_BY_DEVICE = ("records.committed", "seal.opened", "seal.closed", "seal.tampered")
"""The types whose body carries the device's own signature."""


def device_message(agreement: str, event_type: str, body: dict[str, Any]) -> bytes:
    """What a device signs: the domain, then the canonical JSON of the agreement, the
    type and the body without its ``signature``."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return DEVICE_DOMAIN + canonical({"agreement": agreement, "type": event_type, "body": unsigned})
