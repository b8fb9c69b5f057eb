"""A device-stream simulator: devices over a span of time, with gaps, removals,
tampers and withheld periods injected. Pure and deterministic: the randomness is the
``rng`` given (``random.Random(seed)``), the start is given, nothing is read or written.

Each device samples ``samples_per_interval`` records per reporting interval, at
evenly spaced times with a jitter of up to a tenth of the spacing; each interval is
one period to commit. Injected:

* a *gap*: the device is silent for a run of periods (its length drawn up to one and a
  half times the device's lost tolerance, so some gaps stay within tolerance and some
  go beyond it);
* a *removal* by the host: the device stops for good (its records end there);
* a *tamper* alarm (seals only), at a moment inside a period;
* a *withheld* period: recorded and committed, but its records are not to be released.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cvid.monitor.records import time_text
from cvid.roadmap.devices import Device


@dataclass(frozen=True)
class Injected:
    """One injected fault: what, on which device, from when (to when, for a gap)."""

    kind: Literal["gap", "removal", "tamper", "withheld"]
    device: str
    start: dt.datetime
    end: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "device": self.device,
            "start": time_text(self.start),
            "end": time_text(self.end) if self.end is not None else None,
        }


@dataclass
class Stream:
    """What one simulation produced: each device's records and the faults injected."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    injected: list[Injected] = field(default_factory=list)


@dataclass(frozen=True)
class Rates:
    """Chances per device and period (gap, tamper, withheld) or per device (removal)."""

    gap: float = 0.01
    removal: float = 0.05
    tamper: float = 0.002
    withheld: float = 0.0


def simulate(
    devices: Sequence[Device],
    *,
    start: dt.datetime,
    hours: int,
    rng: random.Random,
    rates: Rates | None = None,
    samples_per_interval: int = 12,
) -> Stream:
    """Simulate ``devices`` from ``start`` for ``hours`` hours."""
    rates = rates or Rates()
    stream = Stream()
    end = start + dt.timedelta(hours=hours)
    for device in devices:
        interval = dt.timedelta(minutes=device.interval_minutes)
        periods = int((end - start) / interval)
        removed_at = (
            rng.randrange(1, periods) if periods > 1 and rng.random() < rates.removal else None
        )
        if removed_at is not None:
            stream.injected.append(Injected("removal", device.id, start + removed_at * interval))
        silent_until = -1
        rows: list[dict[str, Any]] = []
        for p in range(removed_at if removed_at is not None else periods):
            t0 = start + p * interval
            if p <= silent_until:
                continue
            if p > 0 and rng.random() < rates.gap:
                longest = max(1, int(1.5 * device.lost_after_minutes / device.interval_minutes))
                length = rng.randint(1, longest)
                silent_until = p + length - 1
                stream.injected.append(
                    Injected("gap", device.id, t0, min(t0 + length * interval, end))
                )
                continue
            if rng.random() < rates.withheld:
                stream.injected.append(Injected("withheld", device.id, t0, t0 + interval))
            spacing = interval / samples_per_interval
            for k in range(samples_per_interval):
                jitter = spacing * rng.uniform(0, 0.1)
                moment = (t0 + k * spacing + jitter).replace(microsecond=0)
                rows.append({"time": time_text(moment), "value": round(rng.gauss(100.0, 2.0), 3)})
            if device.kind == "seal" and rng.random() < rates.tamper:
                stream.injected.append(Injected("tamper", device.id, t0 + interval / 2))
        stream.records[device.id] = rows
    stream.injected.sort(key=lambda x: (x.start, x.device, x.kind))
    return stream
