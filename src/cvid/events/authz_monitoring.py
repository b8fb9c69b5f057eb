"""Admission of continuous-monitoring events: devices, their data, reveals, balances.

Who: a device's verifiers install, replace, service and re-key it; they or its host
remove it; its host acknowledges; the party that logs its data (its operator, else
its host) commits periods, logs seal events and reveals records. Device data carries
the device's own signature, checked against the device's current key. Refused with
a reason and nothing logged: an unknown device, a device not installed or removed,
a signature by another device's key (``device-key``), a bad device signature, times
that go backwards (``non-monotonic-times``), a period overlapping an earlier one
(``overlapping-period``), a reveal whose count differs from its commitment's
(``count-mismatch``). A reveal that is well formed but does not match its commitment
*is* logged: that is a finding (the engine's), and admission says so in ``checked``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cvid.errors import EventRejectedError, KeyFormatError, MonitoringError
from cvid.events import bodies as b
from cvid.events import monitoring_bodies as mb
from cvid.log.note import Verifier
from cvid.monitor.records import parse_time, verify_reveal
from cvid.roadmap.devices import Device
from cvid.roadmap.model import RoadMap

MONITORING_TYPES = tuple(mb.MONITORING_BODIES)


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


@dataclass(frozen=True)
class Commitment:
    """A logged commitment, as admission and the engine need it."""

    start: dt.datetime
    end: dt.datetime
    root: bytes
    count: int
    first: dt.datetime
    last: dt.datetime
    index: int


@dataclass(frozen=True)
class RevealCheck:
    """Admission's verdict on a reveal: whether it matched, and if not why."""

    commitment: Commitment
    matched: bool
    reason: str
    revealed: int


@dataclass
class _Device:
    spec: Device
    key: Verifier | None
    installed: dt.datetime | None = None
    removed: dt.datetime | None = None
    periods: dict[dt.datetime, Commitment] = field(default_factory=dict)
    last_end: dt.datetime | None = None
    last_time: dt.datetime | None = None  # the last data time (records or seal)


@dataclass
class MonitoringHistory:
    """What admission remembers of devices: installed, removed, keys, periods."""

    devices: dict[str, _Device] = field(default_factory=dict)

    def device(self, roadmap: RoadMap, ref: str) -> _Device:
        rec = self.devices.get(ref)
        if rec is None:
            spec = _spec(roadmap, ref)
            key = Verifier.from_text(spec.key) if spec.key is not None else None
            rec = self.devices[ref] = _Device(spec, key)
        return rec

    def record(self, index: int, body: b.Body, when: dt.datetime) -> None:
        """Remember an admitted event (its devices were looked up when it was checked)."""
        if isinstance(body, mb.ContinuityReverified | mb.BalanceReported):
            return
        rec = self.devices[body.device]  # type: ignore[attr-defined]
        if isinstance(body, mb.DeviceInstalled):
            rec.installed, rec.removed = when, None
        elif isinstance(body, mb.DeviceRemoved):
            rec.removed = when
        elif isinstance(body, mb.DeviceReplaced):
            rec.removed = when
            new = self.devices[body.replacement]
            new.installed, new.removed = when, None
        elif isinstance(body, mb.DeviceKeyRotated):
            rec.key = Verifier.from_text(body.key)
        elif isinstance(body, mb.RecordsCommitted):
            c = commitment_of(body, index)
            rec.periods[c.start] = c
            rec.last_end = c.end
            rec.last_time = c.last
        elif isinstance(body, mb.SealEvent):
            rec.last_time = parse_time(body.at)


def commitment_of(body: mb.RecordsCommitted, index: int) -> Commitment:
    return Commitment(
        parse_time(body.start),
        parse_time(body.end),
        bytes.fromhex(body.root),
        body.count,
        parse_time(body.first),
        parse_time(body.last),
        index,
    )


def _spec(roadmap: RoadMap, ref: str) -> Device:
    devices = {d.id: d for d in roadmap.monitoring.devices} if roadmap.monitoring else {}
    if ref not in devices:
        raise _reject("unknown-device", f"no device {ref!r} in the road map's monitoring")
    return devices[ref]


def check_monitoring_event(
    roadmap: RoadMap,
    party: str,
    body: b.Body,
    history: MonitoringHistory,
    when: dt.datetime,
) -> Any:
    """Refuse a monitoring event the road map and the log so far do not allow; return
    a reveal's :class:`RevealCheck`.

    Raises:
        EventRejectedError: see the module's list of reasons.
    """
    event_type = mb.TYPE_OF[type(body)]
    if isinstance(body, mb.ContinuityReverified):
        return _reverified(roadmap, party, body)
    if isinstance(body, mb.BalanceReported):
        return _balance(roadmap, party, body)
    device = history.device(roadmap, body.device)  # type: ignore[attr-defined]
    spec = device.spec
    if isinstance(body, mb.DeviceAcknowledged):
        if party != spec.host:
            raise _reject("unauthorised", f"only {spec.host}, the host, acknowledges {spec.id!r}")
        return None
    if isinstance(body, mb.DeviceRemoved):
        if party not in (*spec.verifiers, spec.host):
            raise _reject(
                "unauthorised", f"only {spec.id!r}'s verifiers or its host remove it, not {party}"
            )
        _active(device, "remove")
        return None
    if event_type.startswith("device."):
        return _verifier_act(roadmap, party, body, device, history)
    if party != spec.logged_by:
        raise _reject(
            "unauthorised", f"{spec.id!r}'s data is logged by {spec.logged_by}, not {party}"
        )
    if isinstance(body, mb.RecordsRevealed):  # records committed before a removal too
        return _reveal(body, device)
    if device.removed is not None:
        raise _reject(
            "device-removed",
            f"device {spec.id!r} was removed on {device.removed.isoformat()}: "
            "data signed by a removed device is refused",
        )
    _active(device, "log data of")
    _device_signature(roadmap, event_type, body, device, history)
    if isinstance(body, mb.RecordsCommitted):
        _period(body, device, when)
    else:
        assert isinstance(body, mb.SealEvent)
        _seal(event_type, body, device, when)
    return None


def _active(device: _Device, verb: str) -> None:
    if device.installed is None:
        raise _reject(
            "device-not-installed", f"device {device.spec.id!r} is not installed: cannot {verb} it"
        )
    if device.removed is not None and verb != "log data of":
        raise _reject("duplicate", f"device {device.spec.id!r} was already removed")


def _verifier_act(
    roadmap: RoadMap, party: str, body: b.Body, device: _Device, history: MonitoringHistory
) -> None:
    spec = device.spec
    if party not in spec.verifiers:
        raise _reject("unauthorised", f"{party} is not a verifier of device {spec.id!r}")
    if isinstance(body, mb.DeviceInstalled):
        if device.installed is not None and device.removed is None:
            raise _reject("duplicate", f"device {spec.id!r} is already installed")
        return
    _active(device, "act on")
    if isinstance(body, mb.DeviceReplaced):
        new = history.device(roadmap, body.replacement)
        if new.spec.id == spec.id:
            raise _reject("bad-body", "a device cannot replace itself")
        if new.installed is not None and new.removed is None:
            raise _reject("duplicate", f"device {new.spec.id!r} is already installed")
    elif isinstance(body, mb.DeviceKeyRotated):
        try:
            key = Verifier.from_text(body.key)
        except KeyFormatError as e:
            raise _reject("bad-body", f"not a verifier key: {e}") from None
        if key.name != spec.id:
            raise _reject("bad-body", f"a device's new key is named after it ({spec.id!r})")
        for other in history.devices.values():
            if (
                other.spec.id != spec.id
                and other.key is not None
                and other.key.public_key == key.public_key
            ):
                raise _reject(
                    "device-key", f"the new key is already device {other.spec.id!r}'s key"
                )


def _device_signature(
    roadmap: RoadMap, event_type: str, body: b.Body, device: _Device, history: MonitoringHistory
) -> None:
    assert isinstance(body, mb.RecordsCommitted | mb.SealEvent)
    message = mb.device_message(
        roadmap.agreement.id, event_type, body.model_dump(mode="json", exclude_unset=True)
    )
    sig = bytes.fromhex(body.signature)
    if device.key is None:
        raise _reject("bad-device-signature", f"device {device.spec.id!r} has no key")
    if device.key.verify(message, sig):
        return
    for ref in sorted(d.id for d in roadmap.monitoring.devices) if roadmap.monitoring else []:
        other = history.device(roadmap, ref)
        if ref != device.spec.id and other.key is not None and other.key.verify(message, sig):
            raise _reject(
                "device-key",
                f"data for device {device.spec.id!r} is signed with device {ref!r}'s key",
            )
    raise _reject(
        "bad-device-signature",
        f"the device signature does not verify with {device.spec.id!r}'s key",
    )


def _period(body: mb.RecordsCommitted, device: _Device, when: dt.datetime) -> None:
    c = commitment_of(body, 0)
    if not c.start <= c.first <= c.last < c.end:
        raise _reject(
            "non-monotonic-times",
            f"a period's times go start ≤ first ≤ last < end; got {body.start}, "
            f"{body.first}, {body.last}, {body.end}",
        )
    if c.end > when:
        raise _reject("non-monotonic-times", f"the period ends at {body.end}, after it is logged")
    assert device.installed is not None
    if c.start < device.installed:
        raise _reject(
            "non-monotonic-times",
            f"the period starts at {body.start}, before {device.spec.id!r} was installed",
        )
    if device.last_end is not None and c.start < device.last_end:
        raise _reject(
            "overlapping-period",
            f"the period starts at {body.start}, before the end of {device.spec.id!r}'s "
            f"previous period ({device.last_end.strftime('%Y-%m-%dT%H:%M:%SZ')})",
        )
    if device.last_time is not None and c.first < device.last_time:
        raise _reject(
            "non-monotonic-times",
            f"the first record ({body.first}) is earlier than the device's previous data",
        )


def _seal(event_type: str, body: mb.SealEvent, device: _Device, when: dt.datetime) -> None:
    at = parse_time(body.at)
    if at > when:
        raise _reject("non-monotonic-times", f"the seal event at {body.at} is logged before it")
    if device.last_time is not None and at < device.last_time:
        raise _reject(
            "non-monotonic-times",
            f"the seal event at {body.at} is earlier than the device's last data",
        )
    if body.inspector is not None and (
        event_type != "seal.opened" or body.inspector not in device.spec.verifiers
    ):
        raise _reject(
            "bad-body",
            "an inspector is named on a seal opening only, and must be one of the device's "
            f"verifiers ({', '.join(device.spec.verifiers)})",
        )


def check_reveal(body: mb.RecordsRevealed, device: _Device) -> RevealCheck:
    """Admission's check of a reveal against ``device``'s logged commitment (also used to
    check records handed over off the log, logging nothing).

    Raises:
        EventRejectedError: no such period (``unknown-reference``) or a count that is not
            the commitment's (``count-mismatch``).
    """
    return _reveal(body, device)


def _reveal(body: mb.RecordsRevealed, device: _Device) -> RevealCheck:
    start = parse_time(body.start)
    c = device.periods.get(start)
    if c is None:
        raise _reject(
            "unknown-reference",
            f"device {device.spec.id!r} committed no period starting {body.start}",
        )
    if body.count != c.count:
        raise _reject(
            "count-mismatch",
            f"the reveal says the period holds {body.count} records; its commitment says {c.count}",
        )
    if body.index + len(body.records) > c.count:
        raise _reject(
            "count-mismatch",
            f"records {body.index} to {body.index + len(body.records) - 1} do not all lie "
            f"among the {c.count} committed",
        )
    try:
        verify_reveal(
            body.records,
            index=body.index,
            count=c.count,
            proof=body.proof,
            root=c.root,
            first=c.first,
            last=c.last,
        )
    except MonitoringError as e:
        return RevealCheck(c, False, str(e), len(body.records))
    return RevealCheck(c, True, "", len(body.records))


def _reverified(roadmap: RoadMap, party: str, body: mb.ContinuityReverified) -> None:
    devices = roadmap.monitoring.devices if roadmap.monitoring else []
    for item in body.items:
        covering = [d for d in devices if item in d.covers]
        if not covering:
            raise _reject("unknown-reference", f"no device covers {item!r}")
        if not any(party in d.verifiers for d in covering):
            raise _reject(
                "unauthorised", f"{party} is not a verifier of any device covering {item!r}"
            )


def _balance(roadmap: RoadMap, party: str, body: mb.BalanceReported) -> None:
    areas = {a.id: a for a in roadmap.monitoring.balance_areas} if roadmap.monitoring else {}
    area = areas.get(body.area)
    if area is None:
        raise _reject("unknown-reference", f"no balance area {body.area!r} in the road map")
    if party != area.host and party not in area.verifiers:
        raise _reject(
            "unauthorised", f"{party} is neither the host nor a verifier of area {body.area!r}"
        )
    try:
        dt.date.fromisoformat(body.period)
    except ValueError:
        raise _reject("bad-body", f"{body.period!r} is not a date") from None
