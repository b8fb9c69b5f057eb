"""Whole-document checks of a road map's monitoring section, and of the conditions on it.

Each problem is a path into the document and a message, which
:mod:`cvid.roadmap.check` turns into its ``Problem`` (and the loader into a file,
line and column). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cvid import units
from cvid.errors import KeyFormatError
from cvid.log.note import Verifier
from cvid.roadmap.devices import BUILT_IN_KINDS, Device

if TYPE_CHECKING:
    from cvid.roadmap import model as m

Loc = tuple[str | int, ...]
Found = Iterator[tuple[Loc, str]]


def covered(roadmap: m.RoadMap) -> set[str]:
    """The items and facilities some device covers."""
    if roadmap.monitoring is None:
        return set()
    return {item for d in roadmap.monitoring.devices for item in d.covers}


def check_monitoring(roadmap: m.RoadMap) -> Found:
    """Every problem of the ``monitoring`` section: references, roles, kinds and keys."""
    if roadmap.monitoring is None:
        return
    yield from _devices(roadmap)
    yield from _releases(roadmap)
    yield from _areas(roadmap)


def _party(roadmap: m.RoadMap, loc: Loc, ref: str, role: str | None = None) -> Found:
    party = next((p for p in roadmap.parties if p.id == ref), None)
    if party is None:
        yield loc, f"{ref!r} is not a party to the agreement"
    elif role is not None and role not in party.roles:
        yield loc, f"party {ref!r} needs the role {role}"


def _devices(roadmap: m.RoadMap) -> Found:
    assert roadmap.monitoring is not None
    items = {i.id for i in roadmap.inventory.items}
    party_keys = {k for p in roadmap.parties for k in p.keys}
    kinds = set(BUILT_IN_KINDS) | set(roadmap.monitoring.kinds)
    seen: set[str] = set()
    key_of: dict[bytes, str] = {}
    for i, device in enumerate(roadmap.monitoring.devices):
        base: Loc = ("monitoring", "devices", i)
        if device.id in seen:
            yield (*base, "id"), f"duplicate device id {device.id!r}"
        seen.add(device.id)
        if device.kind not in kinds:
            yield (
                (*base, "kind"),
                f"{device.kind!r} is not a device kind: {', '.join(sorted(kinds))} "
                "(a road map names others in monitoring.kinds)",
            )
        for k, item in enumerate(device.covers):
            if item not in items:
                yield (*base, "covers", k), f"no item or facility {item!r} in the inventory"
        yield from _party(roadmap, (*base, "host"), device.host)
        if device.operator is not None:
            yield from _party(roadmap, (*base, "operator"), device.operator)
        for k, verifier in enumerate(device.verifiers):
            yield from _party(roadmap, (*base, "verifiers", k), verifier, "verifier")
        yield from _key(base, device, key_of, party_keys)


def _releases(roadmap: m.RoadMap) -> Found:
    assert roadmap.monitoring is not None
    devices = {d.id for d in roadmap.monitoring.devices}
    for i, release in enumerate(roadmap.monitoring.releases):
        base: Loc = ("monitoring", "releases", i)
        for k, ref in enumerate(release.devices):
            if ref not in devices:
                yield (*base, "devices", k), f"{ref!r} is not a device"
        start, end = release.records_from, release.records_until
        if start is not None and end is not None and end < start:
            yield (*base, "records_until"), "the records end before they start"
        if end is not None and release.by < end:
            yield (*base, "by"), "records are released before the last of them is made"


def _areas(roadmap: m.RoadMap) -> Found:
    assert roadmap.monitoring is not None
    items = {i.id for i in roadmap.inventory.items}
    seen: set[str] = set()
    for i, area in enumerate(roadmap.monitoring.balance_areas):
        base: Loc = ("monitoring", "balance_areas", i)
        if area.id in seen:
            yield (*base, "id"), f"duplicate balance area id {area.id!r}"
        seen.add(area.id)
        yield from _party(roadmap, (*base, "host"), area.host)
        for k, verifier in enumerate(area.verifiers):
            yield from _party(roadmap, (*base, "verifiers", k), verifier, "verifier")
        for k, item in enumerate(area.items):
            if item not in items:
                yield (*base, "items", k), f"no item or facility {item!r} in the inventory"
        try:
            units.check_unit(area.unit)
        except units.UnitError as e:
            yield (*base, "unit"), str(e)


def _key(base: Loc, device: Device, key_of: dict[bytes, str], party_keys: set[str]) -> Found:
    if device.key is None:
        return  # a template's device: the agreement generates its key
    try:
        verifier = Verifier.from_text(device.key)
    except KeyFormatError as e:
        yield (*base, "key"), f"not a verifier key: {e}"
        return
    if verifier.name not in (device.id, device.logged_by):
        yield (
            (*base, "key"),
            f"key is named {verifier.name!r}: a device's key is named after the device "
            f"({device.id!r}) or after the party that logs its data ({device.logged_by!r})",
        )
        return
    if verifier.name == device.id:
        if device.key in party_keys:
            yield (*base, "key"), "a device's own key cannot also be a party's key"
        other = key_of.get(verifier.public_key)
        if other is not None:
            yield (*base, "key"), f"the key of device {other!r} is listed for another device"
        key_of[verifier.public_key] = device.id


def check_condition(roadmap: m.RoadMap, loc: Loc, cond: object) -> Found:
    """Problems of a ``continuity_lost`` or ``muf_flagged`` leaf condition."""
    from cvid.roadmap import model as m

    if isinstance(cond, m.ContinuityLost):
        spec = cond.continuity_lost
        ref, where = (
            (spec, (*loc, "continuity_lost"))
            if isinstance(spec, str)
            else (spec.item, (*loc, "continuity_lost", "item"))
        )
        if ref != "any" and ref not in covered(roadmap):
            yield where, f"{ref!r} is not an item or facility a device covers (or 'any')"
    elif isinstance(cond, m.BalanceFlagged):
        areas = {a.id for a in roadmap.monitoring.balance_areas} if roadmap.monitoring else set()
        if cond.muf_flagged != "any" and cond.muf_flagged not in areas:
            yield (*loc, "muf_flagged"), f"{cond.muf_flagged!r} is not a balance area (or 'any')"
