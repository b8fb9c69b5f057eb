"""The engine's view of continuous monitoring: continuity of knowledge, devices and
material balances (ADR 0015).

Folded by :mod:`cvid.engine.evaluate` at the same moments as everything else; its
timers (the moment a device's silence passes its at-risk or lost tolerance, a release
deadline, a condition's days of grace) share the engine's queue. Per covered item or
facility, continuity is *maintained* while every installed covering device reports
within its tolerance; *at risk* during a gap within tolerance; *lost* from a gap
beyond tolerance, a removal that leaves it uncovered (or any removal by the host), a
tamper alarm, a seal opened without an inspector, a failed reveal. Lost stays lost
until a re-verification by a device's verifier sets a new baseline. A reveal that
does not match its commitment and records not released by an arrangement's date are
findings against the party that holds the data.

Pure: time comes from the engine, timers go back through ``push``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from cvid import calendar
from cvid.engine import state as s
from cvid.engine.monitoring_state import (
    BalancePeriod,
    BalanceState,
    ContinuityState,
    ContinuityStatus,
    DeviceState,
    Gap,
)
from cvid.engine.state import moment_text
from cvid.events import monitoring_bodies as mb
from cvid.events.authz import AdmittedEvent
from cvid.events.authz_monitoring import RevealCheck
from cvid.monitor.records import parse_time
from cvid.roadmap import model as m
from cvid.roadmap.devices import BalanceArea, Device, Release
from cvid.sentences import say

Beyond = Literal["interval", "at-risk", "lost"]
Push = Callable[[dt.datetime, str], None]
Report = Callable[[s.Violation], None]


def continuity_graces(cond: m.Condition) -> Iterator[int]:
    """The days of grace every ``continuity_lost`` test in ``cond`` allows."""
    if isinstance(cond, m.All | m.AnyOf):
        for c in cond.all if isinstance(cond, m.All) else cond.any:
            yield from continuity_graces(c)
    elif isinstance(cond, m.Not):
        yield from continuity_graces(cond.not_)
    elif isinstance(cond, m.ContinuityLost):
        spec = cond.continuity_lost
        yield 0 if isinstance(spec, str) else spec.grace_days


def muf(pb: float, x: float, y: float, pe: float) -> float:
    """Material unaccounted for, MUF = (PB + X - Y) - PE (facts §9: beginning
    inventory plus increases minus decreases, minus the ending physical inventory)."""
    return (pb + x - y) - pe


@dataclass
class _Device:
    spec: Device
    installed: dt.datetime | None = None
    removed: dt.datetime | None = None
    removed_by: str | None = None
    until: dt.datetime | None = None  # covered until: installation, then each period's end
    generation: int = 0  # which silence the pending timers belong to
    silent: bool = False
    periods: int = 0
    committed: int = 0
    revealed: dict[dt.datetime, list[tuple[int, int]]] = field(default_factory=dict)
    counts: dict[dt.datetime, int] = field(default_factory=dict)
    pending_acks: list[str] = field(default_factory=list)
    seal: str | None = None
    gaps: list[Gap] = field(default_factory=list)

    def active(self) -> bool:
        return self.installed is not None and self.removed is None

    def revealed_count(self) -> int:
        return sum(b - a for spans in self.revealed.values() for a, b in spans)


@dataclass
class _Item:
    id: str
    status: ContinuityStatus = "not-established"
    since: dt.datetime | None = None
    cause: str = say("no covering device installed yet")
    device: str | None = None
    gap: Gap | None = None
    baseline_at: dt.datetime | None = None
    baseline_by: str | None = None
    event: int | None = None


class MonitoringFold:
    """Mutable state of one evaluation for devices, continuity and balances."""

    def __init__(self, roadmap: m.RoadMap, push: Push, report: Report) -> None:
        self.rm = roadmap
        self.zone = roadmap.agreement.zone
        self.push = push
        self.report = report
        mon = roadmap.monitoring
        devices = mon.devices if mon else []
        self.devices = {d.id: _Device(d) for d in devices}
        self.items: dict[str, _Item] = {}
        self.by_item: dict[str, list[_Device]] = {}
        for d in devices:
            for item in d.covers:
                self.items.setdefault(item, _Item(item))
                self.by_item.setdefault(item, []).append(self.devices[d.id])
        self.areas: dict[str, BalanceArea] = {a.id: a for a in (mon.balance_areas if mon else [])}
        self.balances: dict[str, dict[str, BalancePeriod]] = {a: {} for a in self.areas}
        self.releases: dict[str, Release] = {r.id: r for r in (mon.releases if mon else [])}
        self.graces = sorted(
            {
                g
                for when in [r.when for r in roadmap.rewards]
                + [c.when for c in roadmap.consequences]
                for g in continuity_graces(when)
            }
        )
        self.alerts: list[str] = []
        self.findings: set[str] = set()
        for release in self.releases.values():
            self.push(calendar.end_of_day(release.by, self.zone), f"release:{release.id}")

    # --- events -------------------------------------------------------------------------

    def apply(self, ev: AdmittedEvent, t: dt.datetime) -> bool:
        """Fold one monitoring event in at ``t``; whether anything changed."""
        body = ev.body
        if isinstance(body, mb.ContinuityReverified):
            for item in body.items:
                self._reverified(item, ev, t)
            return True
        if isinstance(body, mb.BalanceReported):
            self._balance(body, ev)
            return True
        dev = self.devices[body.device]  # type: ignore[attr-defined]
        if isinstance(body, mb.DeviceInstalled):
            self._install(dev, t, ev)
        elif isinstance(body, mb.DeviceReplaced):
            new = self.devices[body.replacement]
            self._install(new, t, ev)
            new.pending_acks.remove("installed")  # the host acknowledges the replacement
            why = say("replaced by {device} ({party})", device=new.spec.id, party=ev.party)
            self._remove(dev, t, ev, why)
            dev.pending_acks.append("replaced")
        elif isinstance(body, mb.DeviceRemoved):
            self._remove(
                dev, t, ev, say("removed by {party}: {note}", party=ev.party, note=body.reason)
            )
        elif isinstance(body, mb.DeviceAcknowledged):
            if body.act in dev.pending_acks:
                dev.pending_acks.remove(body.act)
        elif isinstance(body, mb.DeviceServiced | mb.DeviceKeyRotated):
            dev.pending_acks.append("serviced" if ev.type == "device.serviced" else "key_rotated")
        elif isinstance(body, mb.RecordsCommitted):
            self._committed(dev, body, t)
        elif isinstance(body, mb.RecordsRevealed):
            self._revealed(dev, body, ev, t)
        else:
            assert isinstance(body, mb.SealEvent)
            self._seal(dev, ev, t)
        return True

    def _install(self, dev: _Device, t: dt.datetime, ev: AdmittedEvent) -> None:
        dev.installed, dev.removed, dev.removed_by = t, None, None
        dev.until, dev.silent = t, False
        dev.pending_acks.append("installed")
        self._watch(dev)
        for item in dev.spec.covers:
            rec = self.items[item]
            if rec.status == "not-established":  # the installation is its first baseline
                why = say("{device} installed by {party}", device=dev.spec.id, party=ev.party)
                self._set(rec, "maintained", t, why, dev=dev)
                rec.baseline_at, rec.baseline_by, rec.event = t, ev.party, ev.index

    def _remove(self, dev: _Device, t: dt.datetime, ev: AdmittedEvent, why: str) -> None:
        by_host = ev.party == dev.spec.host and ev.party not in dev.spec.verifiers
        dev.removed, dev.removed_by = t, ev.party
        dev.generation += 1  # its silence no longer counts: it is gone
        if ev.type == "device.removed" and not by_host:
            dev.pending_acks.append("removed")
        for item in dev.spec.covers:
            others = [d for d in self._covering(item) if d is not dev]
            if by_host or not others:
                cause = (
                    say(
                        "{device} {why} (by its host, on {when})",
                        device=dev.spec.id,
                        why=why,
                        when=moment_text(t),
                    )
                    if by_host
                    else say(
                        "{device} {why} (on {when})",
                        device=dev.spec.id,
                        why=why,
                        when=moment_text(t),
                    )
                )
                self._lose(item, t, cause, dev=dev, ev=ev)
        if by_host:
            self.alerts.append(
                say(
                    "{when}: {device} removed by its host {party}",
                    when=moment_text(t),
                    device=dev.spec.id,
                    party=ev.party,
                )
            )

    def _committed(self, dev: _Device, body: mb.RecordsCommitted, t: dt.datetime) -> None:
        start, end = parse_time(body.start), parse_time(body.end)
        assert dev.until is not None
        if start - dev.until > dt.timedelta(minutes=dev.spec.interval_minutes):
            worst = self._beyond(dev, start - dev.until)
            dev.gaps.append(Gap(dev.spec.id, dev.until, start, worst))
        dev.periods += 1
        dev.committed += body.count
        dev.counts[start] = body.count
        dev.until = max(dev.until, end)
        dev.silent = False
        self._watch(dev)
        self._refresh(dev, t)

    @staticmethod
    def _beyond(dev: _Device, silence: dt.timedelta) -> Beyond:
        minutes = silence.total_seconds() / 60
        if minutes > dev.spec.lost_after_minutes:
            return "lost"
        if minutes > dev.spec.at_risk_after_minutes:
            return "at-risk"
        return "interval"

    def _watch(self, dev: _Device) -> None:
        assert dev.until is not None
        dev.generation += 1
        for what, minutes in (
            ("risk", dev.spec.at_risk_after_minutes),
            ("lost", dev.spec.lost_after_minutes),
        ):
            when = dev.until + dt.timedelta(minutes=minutes)
            self.push(when, f"{what}:{dev.spec.id}:{dev.generation}")

    def _revealed(
        self, dev: _Device, body: mb.RecordsRevealed, ev: AdmittedEvent, t: dt.datetime
    ) -> None:
        check = ev.checked
        assert isinstance(check, RevealCheck)
        start = parse_time(body.start)
        if check.matched:
            spans = dev.revealed.setdefault(start, [])
            spans.append((body.index, body.index + len(body.records)))
            dev.revealed[start] = _merged(spans)
            return
        detail = say(
            "records {index} to {last} of {device}'s period from {stamp} do not match their "
            "commitment: {error}",
            index=body.index,
            last=body.index + len(body.records) - 1,
            device=dev.spec.id,
            stamp=body.start,
            error=check.reason,
        )
        self.findings.add(dev.spec.id)
        self.report(s.Violation("monitoring", dev.spec.id, t, detail, ev.index, ev.party))
        for item in dev.spec.covers:
            self._lose(item, t, say("failed reveal: {detail}", detail=detail), dev=dev, ev=ev)

    def _seal(self, dev: _Device, ev: AdmittedEvent, t: dt.datetime) -> None:
        body = ev.body
        assert isinstance(body, mb.SealEvent)
        if ev.type == "seal.closed":
            dev.seal = "closed" if dev.seal != "tampered" else "tampered"
            return
        if ev.type == "seal.tampered":
            dev.seal = "tampered"
            why = say("tamper alarm on {device} at {stamp}", device=dev.spec.id, stamp=body.at)
        else:
            dev.seal = "open"
            if body.inspector is not None:
                return
            why = say(
                "seal {device} opened at {stamp} without an inspector present",
                device=dev.spec.id,
                stamp=body.at,
            )
        self.alerts.append(say("{when}: {why}", when=moment_text(t), why=why))
        for item in dev.spec.covers:
            self._lose(item, t, why, dev=dev, ev=ev)

    def _reverified(self, item: str, ev: AdmittedEvent, t: dt.datetime) -> None:
        rec = self.items[item]
        rec.baseline_at, rec.baseline_by, rec.event = t, ev.party, ev.index
        active = self._covering(item)
        for dev in active:  # the new baseline starts every covering device's count again
            dev.until, dev.silent = t, False
            if dev.seal == "tampered":
                dev.seal = "closed"
            self._watch(dev)
        if active:
            self._set(
                rec, "maintained", t, say("re-verified by {party} (a new baseline)", party=ev.party)
            )
            self.alerts.append(
                say(
                    "{when}: continuity of {item} re-established by {party}",
                    when=moment_text(t),
                    item=item,
                    party=ev.party,
                )
            )
        else:
            why = say("re-verified by {party}, but no device covers it", party=ev.party)
            self._set(rec, "lost", t, why)

    # --- timers -------------------------------------------------------------------------

    def run_timer(self, ref: str, t: dt.datetime) -> None:
        kind, _, rest = ref.partition(":")
        if kind == "grace":
            return  # a condition's days of grace ran out: the rules are checked again
        if kind == "release":
            self._release_due(self.releases[rest], t)
            return
        name, _, generation = rest.rpartition(":")
        dev = self.devices[name]
        if int(generation) != dev.generation or not dev.active():
            return  # it reported since, or was removed
        assert dev.until is not None
        if kind == "risk":
            dev.silent = True
            self._refresh(dev, t)
            return
        gap = Gap(dev.spec.id, dev.until, None, "lost")
        why = say(
            "{device} silent since {since}, beyond its tolerance of {duration}",
            device=dev.spec.id,
            since=moment_text(dev.until),
            duration=_minutes(dev.spec.lost_after_minutes),
        )
        for item in dev.spec.covers:
            self._lose(item, t, why, dev=dev, gap=gap)

    def _release_due(self, release: Release, t: dt.datetime) -> None:
        lo = release.records_from
        hi = release.records_until
        for ref in release.devices:
            dev = self.devices[ref]
            held = [
                (start, count)
                for start, count in sorted(dev.counts.items())
                if (lo is None or start.date() >= lo) and (hi is None or start.date() <= hi)
            ]
            missing = sum(
                count - sum(b - a for a, b in dev.revealed.get(start, [])) for start, count in held
            )
            if missing:
                who = dev.spec.logged_by
                detail = say(
                    "{missing} of {total} records of {device} that the arrangement {arrangement} "
                    "says are released by {date} were not released",
                    missing=missing,
                    total=sum(c for _, c in held),
                    device=ref,
                    arrangement=repr(release.id),
                    date=release.by.isoformat(),
                )
                self.report(s.Violation("monitoring", ref, t, detail, -1, who))

    # --- continuity ---------------------------------------------------------------------

    def _covering(self, item: str) -> list[_Device]:
        return [d for d in self.by_item[item] if d.active()]

    def _set(
        self,
        rec: _Item,
        status: ContinuityStatus,
        t: dt.datetime,
        cause: str,
        *,
        dev: _Device | None = None,
        gap: Gap | None = None,
    ) -> None:
        if rec.status != status:
            rec.since = t
        rec.status, rec.cause, rec.gap = status, cause, gap
        rec.device = dev.spec.id if dev else None

    def _lose(
        self,
        item: str,
        t: dt.datetime,
        cause: str,
        *,
        dev: _Device,
        ev: AdmittedEvent | None = None,
        gap: Gap | None = None,
    ) -> None:
        rec = self.items[item]
        if rec.status == "lost":
            return  # lost once: the first cause stands until a re-verification
        self._set(rec, "lost", t, cause, dev=dev, gap=gap)
        rec.event = ev.index if ev is not None else None
        self.alerts.append(
            say(
                "{when}: continuity of knowledge of {item} lost: {cause}",
                when=moment_text(t),
                item=item,
                cause=cause,
            )
        )
        for grace in self.graces:
            if grace:
                self.push(calendar.add(t, days=grace, zone_name=self.zone), f"grace:{item}")

    def _refresh(self, dev: _Device, t: dt.datetime) -> None:
        """Items the device covers move between maintained and at risk (lost stays)."""
        for item in dev.spec.covers:
            rec = self.items[item]
            if rec.status in ("lost", "not-established"):
                continue
            silent = [d for d in self._covering(item) if d.silent]
            if silent:
                d = silent[0]
                assert d.until is not None
                gap = Gap(d.spec.id, d.until, None, "at-risk")
                why = say(
                    "{device} silent since {since}, past {duration}",
                    device=d.spec.id,
                    since=moment_text(d.until),
                    duration=_minutes(d.spec.at_risk_after_minutes),
                )
                self._set(rec, "at-risk", t, why, dev=d, gap=gap)
            elif rec.status == "at-risk":
                why = say("{device} reported again", device=dev.spec.id)
                self._set(rec, "maintained", t, why, dev=dev)

    # --- balances -----------------------------------------------------------------------

    def _balance(self, body: mb.BalanceReported, ev: AdmittedEvent) -> None:
        area = self.areas[body.area]
        basis: Literal["declared", "verified"] = "declared" if ev.party == area.host else "verified"
        held = self.balances[area.id].get(body.period)
        if held is not None and held.basis == "verified" and basis == "declared":
            return  # a verified balance is not replaced by a declaration
        value = muf(body.pb, body.x, body.y, body.pe)
        if body.sigma is not None and body.sigma > 0:
            flagged = abs(value) > area.threshold_sigma * body.sigma
            limit = area.threshold_sigma * body.sigma
            reason = say(
                "|MUF| {value} vs {sigmas} sigma(MUF) = {limit_value} {unit}",
                value=f"{abs(value):g}",
                sigmas=f"{area.threshold_sigma:g}",
                limit_value=f"{limit:g}",
                unit=area.unit,
            )
        elif area.threshold is not None:
            flagged = abs(value) > area.threshold
            reason = say(
                "|MUF| {value} vs threshold {threshold} {unit}",
                value=f"{abs(value):g}",
                threshold=f"{area.threshold:g}",
                unit=area.unit,
            )
        else:
            flagged = value != 0
            reason = say("no sigma(MUF) or threshold: any MUF is flagged {unit}", unit=area.unit)
        self.balances[area.id][body.period] = BalancePeriod(
            body.period,
            basis,
            body.pb,
            body.x,
            body.y,
            body.pe,
            value,
            body.sigma,
            flagged,
            reason,
            ev.party,
            ev.index,
        )
        if flagged:
            self.alerts.append(
                say(
                    "{when}: MUF of {area} for {period} flagged ({reason})",
                    when=moment_text(ev.time),
                    area=area.id,
                    period=body.period,
                    reason=reason,
                )
            )

    # --- facts and result ---------------------------------------------------------------

    def continuity_lost(self, ref: str, grace_days: int, t: dt.datetime) -> bool:
        for rec in self.items.values():
            if (
                ref in ("any", rec.id)
                and rec.status == "lost"
                and rec.since is not None
                and t >= calendar.add(rec.since, days=grace_days, zone_name=self.zone)
            ):
                return True
        return False

    def muf_flagged(self, ref: str) -> bool:
        return any(
            p.flagged
            for area, periods in self.balances.items()
            if ref in ("any", area)
            for p in periods.values()
        )

    def result(
        self, t: dt.datetime
    ) -> tuple[dict[str, ContinuityState], dict[str, DeviceState], dict[str, BalanceState]]:
        continuity = {
            item: ContinuityState(
                item,
                rec.status,
                rec.since,
                rec.cause,
                rec.device,
                rec.gap,
                tuple(d.spec.id for d in self._covering(item)),
                rec.baseline_at,
                rec.baseline_by,
                rec.event,
            )
            for item, rec in sorted(self.items.items())
        }
        devices = {}
        for ref, dev in self.devices.items():
            status = (
                "not-installed"
                if dev.installed is None
                else "removed"
                if dev.removed is not None
                else "silent"
                if dev.silent
                else "reporting"
            )
            gaps = list(dev.gaps)
            if dev.active() and dev.until is not None and dev.silent:
                gaps.append(Gap(ref, dev.until, None, self._beyond(dev, t - dev.until)))
            devices[ref] = DeviceState(
                ref,
                dev.spec.kind,
                dev.spec.host,
                status,  # type: ignore[arg-type]
                dev.installed,
                dev.removed,
                dev.removed_by,
                dev.until,
                dev.periods,
                dev.committed,
                dev.revealed_count(),
                tuple(dev.pending_acks),
                dev.seal,  # type: ignore[arg-type]
                tuple(gaps),
            )
        balances = {
            ref: BalanceState(
                ref,
                area.title,
                area.unit,
                any(p.flagged for p in self.balances[ref].values()),
                tuple(p for _, p in sorted(self.balances[ref].items())),
            )
            for ref, area in self.areas.items()
        }
        return continuity, devices, balances


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _minutes(n: int) -> str:
    if n % 1440 == 0:
        return say("{n} days", n=n // 1440) if n != 1440 else say("{n} day", n=1)
    if n % 60 == 0:
        return say("{n} hours", n=n // 60) if n != 60 else say("{n} hour", n=1)
    return say("{n} minutes", n=n)
