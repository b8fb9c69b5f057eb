"""Continuous monitoring in a road map: devices, release arrangements, balance areas.

A device (camera, seal, online monitor, flowmeter, or a kind the road map names)
covers inventory items or facilities for a host party; its data is authenticated by
its key (the device's own, named after it, or its operator's, named after that
party), it reports every ``interval_minutes``, and a gap longer than
``at_risk_after_minutes`` puts continuity of knowledge at risk, one longer than
``lost_after_minutes`` loses it. A release arrangement says that a device's records
of a span of time must be released by a date. A material balance area is where
material unaccounted for (MUF) is computed and judged against ``threshold_sigma``
times its sigma(MUF). Cross-references are checked by :mod:`cvid.roadmap.devices_check`.
No I/O here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from cvid._ids import STRICT, Id, Text

BUILT_IN_KINDS = ("camera", "seal", "online_monitor", "flowmeter")
"""Device kinds every road map knows; ``monitoring.kinds`` adds others."""

Minutes = Annotated[int, Field(ge=1, le=10 * 366 * 24 * 60)]


class _Model(BaseModel):
    model_config = STRICT


class Device(_Model):
    """One unattended monitoring device and what its gaps mean."""

    id: Id
    kind: Id
    key: Annotated[str, Field(min_length=1, max_length=300)] | None = None  # a template's: none
    covers: list[Id] = Field(min_length=1, max_length=1000)
    interval_minutes: Minutes
    at_risk_after_minutes: Minutes
    lost_after_minutes: Minutes
    host: Id
    verifiers: list[Id] = Field(min_length=1)
    operator: Id | None = None  # who logs its data; the host when absent
    source: Text | None = None

    @model_validator(mode="after")
    def _tolerances(self) -> Device:
        if self.at_risk_after_minutes < self.interval_minutes:
            raise ValueError("'at_risk_after_minutes' is shorter than 'interval_minutes'")
        if self.lost_after_minutes < self.at_risk_after_minutes:
            raise ValueError("'lost_after_minutes' is shorter than 'at_risk_after_minutes'")
        return self

    @property
    def logged_by(self) -> str:
        """The party that logs the device's data."""
        return self.operator or self.host


class Release(_Model):
    """An arrangement: the devices' records of ``[records_from, records_until]`` (dates,
    inclusive; open when absent) must be released, by their holder, by the end of ``by``."""

    id: Id
    title: Text
    devices: list[Id] = Field(min_length=1)
    records_from: dt.date | None = None
    records_until: dt.date | None = None
    by: dt.date
    source: Text | None = None


class BalanceArea(_Model):
    """A material balance area: the host reports, its verifiers verify, each period's
    MUF = (PB + X - Y) - PE in ``unit``; flagged when |MUF| exceeds ``threshold_sigma``
    times sigma(MUF) (or ``threshold``, in ``unit``, when no sigma is known)."""

    id: Id
    title: Text
    host: Id
    verifiers: list[Id] = Field(min_length=1)
    unit: Annotated[str, Field(min_length=1, max_length=64)]
    threshold_sigma: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    threshold: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    items: list[Id] = Field(default_factory=list)
    source: Text | None = None


class Monitoring(_Model):
    """The road map's monitoring section."""

    kinds: list[Id] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    releases: list[Release] = Field(default_factory=list)
    balance_areas: list[BalanceArea] = Field(default_factory=list)
