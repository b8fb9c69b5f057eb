"""The device-stream simulator: deterministic by seed, faults where it says they are."""

from __future__ import annotations

import datetime as dt
import random

from cvid.monitor.records import parse_time
from cvid.monitor.simulate import Rates, simulate
from cvid.roadmap.devices import Device
from tests.monitor_kit import monitoring_data

START = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
DEVICES = [Device.model_validate(d) for d in monitoring_data()["monitoring"]["devices"]]


def run(seed: int, rates: Rates, hours: int = 96) -> object:
    return simulate(DEVICES, start=START, hours=hours, rng=random.Random(seed), rates=rates)


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    rates = Rates(gap=0.05, removal=0.5, tamper=0.05, withheld=0.05)
    assert run(3, rates) == run(3, rates)
    assert run(3, rates) != run(4, rates)


def test_without_faults_every_device_reports_every_interval_in_time_order() -> None:
    stream = simulate(DEVICES, start=START, hours=24, rng=random.Random(1), rates=Rates(0, 0, 0, 0))
    assert stream.injected == []
    for rows in stream.records.values():
        times = [parse_time(r["time"]) for r in rows]
        assert len(rows) == 24 * 12
        assert times == sorted(times)
        assert {t.replace(minute=0, second=0) for t in times} == {
            START + dt.timedelta(hours=h) for h in range(24)
        }


def test_records_stop_at_a_removal_and_are_absent_during_a_gap() -> None:
    for seed in range(20):
        stream = simulate(
            DEVICES, start=START, hours=96, rng=random.Random(seed), rates=Rates(0.05, 0.5, 0.05, 0)
        )
        for fault in stream.injected:
            times = [parse_time(r["time"]) for r in stream.records[fault.device]]
            if fault.kind == "removal":
                assert all(t < fault.start for t in times)
            elif fault.kind == "gap":
                assert fault.end is not None
                assert not [t for t in times if fault.start <= t < fault.end]
            elif fault.kind == "tamper":
                assert fault.device == "seal-1"  # only seals raise tamper alarms
    kinds = {
        x.kind
        for seed in range(20)
        for x in simulate(
            DEVICES,
            start=START,
            hours=96,
            rng=random.Random(seed),
            rates=Rates(0.05, 0.5, 0.05, 0.05),
        ).injected
    }
    assert kinds == {"gap", "removal", "tamper", "withheld"}
