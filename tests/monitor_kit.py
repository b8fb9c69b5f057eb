"""The mini road map with monitoring devices, and helpers to sign their data."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cvid.events.authz import AdmittedEvent
from cvid.events.monitoring_bodies import device_message
from cvid.log.note import Signer
from cvid.monitor.records import Period, commit_period, time_text
from tests.kit import Kit, at, mini_data, seeded_signer

T0 = at("2027-01-10")  # adoption
H = dt.timedelta(hours=1)


def device_signer(device: str, generation: int = 0) -> Signer:
    """A device's key (``generation`` > 0: a rotated one)."""
    return seeded_signer(device, f"device-{generation}")


def device(ident: str, kind: str, covers: list[str], **more: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": ident,
        "kind": kind,
        "key": device_signer(ident).verifier.to_text(),
        "covers": covers,
        "interval_minutes": 60,
        "at_risk_after_minutes": 180,
        "lost_after_minutes": 1440,
        "host": "north",
        "verifiers": ["iaea"],
    }
    return spec | more


def monitoring_data(**more: Any) -> dict[str, Any]:
    """Mini with a camera and a seal on reactor A, an online monitor (run by the
    operator) on stockpile 1, and an arrangement to release the camera's records."""
    data = mini_data()
    data["monitoring"] = {
        "devices": [
            device("cam-1", "camera", ["reactor-a"]),
            device("seal-1", "seal", ["reactor-a", "stock-1"]),
            device("mon-1", "online_monitor", ["stock-1"], operator="ops"),
        ],
        "releases": [
            {
                "id": "held-data",
                "title": "Camera records held by the host",
                "devices": ["cam-1"],
                "by": dt.date(2027, 2, 28),
            }
        ],
        "balance_areas": [
            {
                "id": "mba-1",
                "title": "Fuel store",
                "host": "north",
                "verifiers": ["iaea"],
                "unit": "kg",
                "threshold_sigma": 3.0,
            }
        ],
    } | more
    return data


class MonitorKit(Kit):
    """A :class:`Kit` whose road map has devices; knows how to sign their data."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        super().__init__(data if data is not None else monitoring_data())
        self.keys = {d.id: device_signer(d.id) for d in self.roadmap.monitoring.devices}  # type: ignore[union-attr]
        self.seq = 0

    def sign_body(self, event_type: str, body: dict[str, Any], key: Signer) -> dict[str, Any]:
        message = device_message(self.roadmap.agreement.id, event_type, body)
        return body | {"signature": key.sign_message(message).hex()}

    def install(self, ident: str, time: dt.datetime) -> AdmittedEvent:
        return self.act("iaea", "device.installed", {"device": ident}, time=time)

    def period(
        self, ident: str, start: dt.datetime, n: int = 4, step: dt.timedelta = H / 4
    ) -> Period:
        """``n`` records of ``ident`` from ``start``, committed over one hour."""
        self.seq += 1
        records = [
            {"time": time_text(start + k * step), "value": self.seq * 100 + k} for k in range(n)
        ]
        counter = iter(range(10**9))

        def random_bytes(size: int) -> bytes:
            out = b""
            while len(out) < size:
                out += hashlib.sha256(f"{ident}:{self.seq}:{next(counter)}".encode()).digest()
            return out[:size]

        return commit_period(ident, start, start + H, records, random_bytes=random_bytes)

    def commit_body(self, period: Period, key: Signer | None = None) -> dict[str, Any]:
        return self.sign_body(
            "records.committed", period.commitment(), key or self.keys[period.device]
        )

    def commit(
        self, ident: str, start: dt.datetime, *, time: dt.datetime | None = None
    ) -> tuple[Period, AdmittedEvent]:
        """Commit one period of ``ident`` starting ``start``, logged at its end."""
        period = self.period(ident, start)
        party = self.logger(ident)
        return period, self.act(
            party, "records.committed", self.commit_body(period), time=time or period.end
        )

    def logger(self, ident: str) -> str:
        spec = next(d for d in self.roadmap.monitoring.devices if d.id == ident)  # type: ignore[union-attr]
        return spec.logged_by

    def seal(
        self, event_type: str, ident: str, time: dt.datetime, inspector: str | None = None
    ) -> AdmittedEvent:
        body: dict[str, Any] = {"device": ident, "at": time_text(time)}
        if inspector is not None:
            body["inspector"] = inspector
        return self.act(
            self.logger(ident),
            event_type,
            self.sign_body(event_type, body, self.keys[ident]),
            time=time,
        )


def adopted_kit(data: dict[str, Any] | None = None) -> MonitorKit:
    kit = MonitorKit(data)
    kit.adopt(T0)
    return kit
