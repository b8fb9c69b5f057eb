"""The engine's answer on continuous monitoring: continuity of knowledge per covered
item or facility, each device's reporting, and material balances. Frozen; built by
:class:`cvid.engine.monitoring.MonitoringFold`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

ContinuityStatus = Literal["not-established", "maintained", "at-risk", "lost"]


@dataclass(frozen=True)
class Gap:
    """A device's silence: from the end of its last period to the next one (or open)."""

    device: str
    start: dt.datetime
    end: dt.datetime | None
    beyond: Literal["interval", "at-risk", "lost"]


@dataclass(frozen=True)
class ContinuityState:
    """Continuity of knowledge of one item or facility.

    ``status``: ``not-established`` (no covering device installed yet), ``maintained``
    (every covering device reporting within its tolerance, no seal opened without an
    inspector), ``at-risk`` (a gap within tolerance), ``lost`` (a gap beyond tolerance,
    a removal, a tamper alarm, a seal opened without an inspector, a failed reveal:
    until a re-verification). ``cause`` says which device and which gap or act;
    ``device`` names it; ``gap`` is the gap at fault, if one is.
    """

    item: str
    status: ContinuityStatus
    since: dt.datetime | None
    cause: str
    device: str | None
    gap: Gap | None
    devices: tuple[str, ...]  # covering devices installed now
    baseline_at: dt.datetime | None
    baseline_by: str | None
    event: int | None


@dataclass(frozen=True)
class DeviceState:
    """A device's life and reporting: ``status`` ``not-installed`` ``reporting``
    ``silent`` (past its at-risk tolerance) ``removed``."""

    id: str
    kind: str
    host: str
    status: Literal["not-installed", "reporting", "silent", "removed"]
    installed_at: dt.datetime | None
    removed_at: dt.datetime | None
    removed_by: str | None
    reported_until: dt.datetime | None
    periods: int
    records_committed: int
    records_revealed: int
    unacknowledged: tuple[str, ...]
    seal: Literal["closed", "open", "tampered"] | None
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class BalancePeriod:
    """One material balance: MUF = (PB + X - Y) - PE, its sigma(MUF) and whether flagged."""

    period: str
    basis: Literal["declared", "verified"]
    pb: float
    x: float
    y: float
    pe: float
    muf: float
    sigma: float | None
    flagged: bool
    reason: str
    by: str
    event: int


@dataclass(frozen=True)
class BalanceState:
    """A material balance area over time (the latest balance per period, verified ones
    preferred to declared ones)."""

    id: str
    title: str
    unit: str
    flagged: bool
    periods: tuple[BalancePeriod, ...]
