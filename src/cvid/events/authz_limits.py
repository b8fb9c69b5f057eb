"""Admission of declared and measured quantities against a road map's limits.

A ``quantity.declared`` comes from the party a limit obliges, a ``quantity.measured``
from one of the limit's verifiers; either names a limit, or a quantity (and an item)
that selects the submitter's limits on it. Its unit must be one :mod:`cvid.units`
reads and that converts to each selected limit's unit. Whether the value keeps the
bound is the engine's question, not admission's: an exceedance is logged, not refused.
Remembers nothing in :class:`~cvid.events.authz.History` beyond sequence and time.
"""

from __future__ import annotations

from cvid import units
from cvid.errors import EventRejectedError
from cvid.events import bodies as b
from cvid.roadmap.model import Limit, RoadMap

LimitBody = b.QuantityDeclared | b.QuantityMeasured


def _reject(reason: str, message: str) -> EventRejectedError:
    return EventRejectedError(reason, message)


def may_submit(limit: Limit, party: str, body: LimitBody) -> bool:
    """Whether ``party`` may submit ``body`` for ``limit``: its own party declares, its
    verifiers measure."""
    if isinstance(body, b.QuantityDeclared):
        return limit.party == party
    return party in limit.verifiers


def limits_for(roadmap: RoadMap, party: str, body: LimitBody) -> list[Limit]:
    """The limits ``body`` from ``party`` applies to (empty when it names none of them)."""
    if body.limit is not None:
        return [x for x in roadmap.limits if x.id == body.limit]
    return [
        x
        for x in roadmap.limits
        if x.quantity == body.quantity
        and (body.item is None or x.item == body.item)
        and may_submit(x, party, body)
    ]


def check_limit_event(roadmap: RoadMap, party: str, body: LimitBody) -> None:
    """Refuse a declared or measured quantity that the road map does not expect.

    Raises:
        EventRejectedError: ``bad-body`` (neither or both of limit and quantity),
            ``unknown-reference`` (no such limit, or no limit of this party on the
            quantity), ``unauthorised`` (not the obligated party, not a verifier),
            ``bad-unit`` (an unknown unit, or one not convertible to the limit's).
    """
    if (body.limit is None) == (body.quantity is None):
        raise _reject("bad-body", "name either a 'limit' or a 'quantity', not both")
    if body.limit is not None and body.item is not None:
        raise _reject("bad-body", "'item' goes with 'quantity'; a limit names its own item")
    selected = limits_for(roadmap, party, body)
    if not selected:
        if body.limit is not None:
            raise _reject("unknown-reference", f"no limit {body.limit!r} in the road map")
        role = "declares" if isinstance(body, b.QuantityDeclared) else "measures"
        item = f" for item {body.item!r}" if body.item is not None else ""
        raise _reject(
            "unknown-reference",
            f"no limit on {body.quantity!r}{item} that {party} {role} in the road map",
        )
    for limit in selected:
        if not may_submit(limit, party, body):
            who = (
                f"only {limit.party} declares"
                if isinstance(body, b.QuantityDeclared)
                else f"only {', '.join(limit.verifiers)} measure"
            )
            raise _reject("unauthorised", f"{who} values of limit {limit.id!r}, not {party}")
        try:
            units.convert(0.0, body.unit, limit.unit)
        except units.UnitError as e:
            raise _reject("bad-unit", f"limit {limit.id!r} is in {limit.unit!r}: {e}") from None
