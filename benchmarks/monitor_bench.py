"""Continuous monitoring's costs: committing device records, revealing and verifying
them, the engine's time per commitment, and the log's size for a year of devices.

Usage::

    python benchmarks/monitor_bench.py           # 10^5 records, a day of 1,000 devices
    python benchmarks/monitor_bench.py --quick   # 10^4 records, a day of 100 devices

*Commit throughput.* ``cvid.monitor.records.commit_period`` over N records of one
period (each ``{"time", "value", "unit"}``): checking their times, a fresh salt each,
the canonical JSON, one leaf hash each and the RFC 9162 tree. The floor, timed in the
same run on the same records, is one SHA-256 leaf hash per record over its bytes
already encoded (the issue's floor: goal at most 2x); a second floor adds the canonical
JSON encoding of each record, which any commitment of JSON records must pay. Then
``commit_lines`` over the same records as NDJSON lines already canonical (the bytes a
device wrote, checked canonical by one pattern pass and hashed as they are), and a
bare tree's floor (one leaf hash and one interior hash per record, no salt, no check:
the least any RFC 9162 commitment costs). Best of ``--repeat`` interleaved runs. Peak
memory of both commits is traced (tracemalloc).

*Reveal and verify.* A period of 10^4 records is revealed whole and verified against
its root (``Period.reveal`` then ``verify_reveal``).

*A day of devices.* D devices (every one a camera on one of D/10 facilities) each
commit 24 hourly periods; every commitment is signed by its device and by the host,
admitted by the real gate and appended to an in-memory log. Reported: log entries per
day, their bytes, the engine's time for the day (``evaluate`` over the whole day's
log, so per commitment the cost of a full replay), the incremental
``cvid.engine.incremental.Evaluator`` (as the service runs it) fed the day up to its
last hour and then that hour's commitments one at a time with the state asked after
each, or the hour taken whole and the state asked once (time per commitment), the
monitoring fold's own time per new commitment (``MonitoringFold.apply``),
and the storage per year for 1,000 devices hourly (8.76 x 10^6 commitments),
extrapolated linearly from the simulated day. The holder's encrypted records are not
on the log; their size per period is reported beside it.

Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from cvid._jcs import canonical
from cvid.engine import evaluate
from cvid.engine.incremental import Evaluator
from cvid.engine.monitoring import MonitoringFold
from cvid.events.authz import AdmittedEvent, Gate, History
from cvid.events.envelope import Event, sign_event
from cvid.events.monitoring_bodies import device_message
from cvid.log import merkle
from cvid.log.note import Signer
from cvid.monitor.records import (
    commit_lines,
    commit_period,
    parse_time,
    time_text,
    verify_reveal,
)
from cvid.monitor.store import period_json
from cvid.roadmap.loader import from_data

SEED = 20270101
START = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
GOAL = 2.0
SAMPLE = 100  # commitments timed one at a time through the Evaluator
LAST: list[Any] = []  # the last simulated day: its road map and events (for profiling)
err = Console(stderr=True, highlight=False)


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def records(count: int, rng: random.Random, start: dt.datetime = START) -> list[dict[str, Any]]:
    step = 3600 / count
    return [
        {
            "time": time_text(start + dt.timedelta(seconds=int(k * step))),
            "value": round(rng.gauss(100.0, 2.0), 3),
            "unit": "kg/h",
        }
        for k in range(count)
    ]


def floor_hash(encoded: Sequence[bytes]) -> bytes:
    """One SHA-256 leaf hash per record over bytes already encoded."""
    sha256 = hashlib.sha256
    last = b""
    for data in encoded:
        last = sha256(b"\x00" + data).digest()
    return last


def floor_tree(encoded: Sequence[bytes]) -> bytes:
    """The least any RFC 9162 commitment costs: one leaf hash per record and the
    interior nodes (one more hash per record), with no salt and no checks."""
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + data).digest() for data in encoded]
    while len(level) > 1:
        nxt = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def floor_json(rows: Sequence[dict[str, Any]]) -> bytes:
    """The canonical JSON of each record, then one SHA-256 leaf hash."""
    sha256 = hashlib.sha256
    last = b""
    for row in rows:
        last = sha256(b"\x00" + canonical(row)).digest()
    return last


def signer(name: str) -> Signer:
    return Signer.generate(name, seed=hashlib.sha256(f"monitor-bench:{name}".encode()).digest())


def day_roadmap(devices: int) -> tuple[Any, dict[str, Signer], dict[str, Signer]]:
    parties = {p: signer(p) for p in ("host", "iaea", "usa")}
    facilities = max(1, devices // 10)
    keys = {f"cam-{n:04d}": signer(f"cam-{n:04d}") for n in range(devices)}
    data: dict[str, Any] = {
        "cvid_roadmap": 1,
        "agreement": {
            "id": "bench",
            "title": "Monitoring benchmark",
            "origin": "cvid.bench/monitor",
            "start": dt.date(2027, 1, 1),
            "adopted_by": ["host", "usa"],
            "clock_skew_seconds": 300,
        },
        "parties": [
            {"id": "host", "name": "Host", "roles": ["disarming_state"]},
            {"id": "iaea", "name": "Inspectorate", "roles": ["verifier"]},
            {"id": "usa", "name": "Guarantor", "roles": ["guarantor"]},
        ],
        "inventory": {
            "categories": [{"id": "site", "title": "Sites"}],
            "items": [
                {"id": f"site-{n:03d}", "title": f"Site {n}", "category": "site"}
                for n in range(facilities)
            ],
        },
        "phases": [
            {
                "id": "p1",
                "title": "Phase",
                "steps": [{"id": "s1", "title": "Step", "actor": "host", "action": "Act"}],
            }
        ],
        "consequences": [
            {
                "id": "cok",
                "title": "Continuity lost",
                "when": {"continuity_lost": {"item": "any", "grace_days": 7}},
                "council_procedure": "The Council considers it.",
            }
        ],
        "monitoring": {
            "devices": [
                {
                    "id": ident,
                    "kind": "camera",
                    "key": key.verifier.to_text(),
                    "covers": [f"site-{n % facilities:03d}"],
                    "interval_minutes": 60,
                    "at_risk_after_minutes": 180,
                    "lost_after_minutes": 1440,
                    "host": "host",
                    "verifiers": ["iaea"],
                }
                for n, (ident, key) in enumerate(keys.items())
            ]
        },
    }
    for party in data["parties"]:
        party["keys"] = [parties[party["id"]].verifier.to_text()]
    return from_data(data), parties, keys


def simulated_day(devices: int) -> dict[str, Any]:
    roadmap, parties, keys = day_roadmap(devices)
    gate, history = Gate(roadmap), History()
    events: list[AdmittedEvent] = []
    sizes: list[int] = []
    seq: dict[str, int] = {}
    rng = random.Random(SEED)

    def submit(party: str, event_type: str, body: dict[str, Any], when: dt.datetime) -> None:
        seq[party] = seq.get(party, 0) + 1
        event = Event(
            agreement="bench",
            roadmap=gate.digest,
            type=event_type,
            party=party,
            seq=seq[party],
            time=when,
            body=body,
        )
        data = sign_event(event, parties[party]).to_bytes()
        admitted = gate.admit(data, history, now=when)
        history.record(admitted)
        events.append(admitted)
        sizes.append(len(data))

    for party in ("host", "usa"):
        submit(party, "agreement.adopted", {}, START)
    for ident in keys:
        submit("iaea", "device.installed", {"device": ident}, START)
    holder_bytes = 0
    day_start = len(events)
    for hour in range(24):
        for ident, key in keys.items():
            period = commit_period(
                ident,
                START + hour * HOUR,
                START + (hour + 1) * HOUR,
                records(12, rng, START + hour * HOUR),
                random_bytes=rng.randbytes,
            )
            if hour == 0 and holder_bytes == 0:
                holder_bytes = len(period_json(period))
            body = period.commitment()
            message = device_message("bench", "records.committed", body)
            body["signature"] = key.sign_message(message).hex()
            submit("host", "records.committed", body, period.end)
    commitments = events[day_start:]
    LAST[:] = [roadmap, events]
    end = START + 24 * HOUR
    engine = min(timed(lambda: evaluate(roadmap, events, at=end)) for _ in range(3))
    baseline = min(timed(lambda: evaluate(roadmap, events[:day_start], at=end)) for _ in range(3))
    # The incremental Evaluator (what the service runs). ``per_hour``: the day's events
    # taken an hour at a time, the state asked once an hour (time per commitment,
    # checkpoints included); ``per_event``: then the last SAMPLE commitments one at a
    # time, the state asked after each (its answer lists every device).
    hours = [day_start + devices * h for h in range(1, 25)]

    def hourly() -> float:
        ev = Evaluator(roadmap)
        ev.state(events[:day_start], at=events[day_start - 1].time)
        start = time.perf_counter()
        for k in hours:
            ev.state(events[:k], at=events[k - 1].time, horizon=events[k - 1].time)
        return (time.perf_counter() - start) / len(commitments)

    def each() -> float:
        ev = Evaluator(roadmap)
        first = len(events) - SAMPLE
        ev.state(events[:first], at=events[first - 1].time)
        start = time.perf_counter()
        for k in range(first + 1, len(events) + 1):
            ev.state(events[:k], at=events[k - 1].time, horizon=events[k - 1].time)
        return (time.perf_counter() - start) / SAMPLE

    per_hour = min(hourly() for _ in range(2))
    per_event = min(each() for _ in range(2))
    fold = MonitoringFold(roadmap, lambda _when, _ref: None, lambda _v: None)
    for ev in events[:day_start]:
        if ev.type == "device.installed":
            fold.apply(ev, ev.time)
    folded = timed(lambda: [fold.apply(ev, ev.time) for ev in commitments])
    state = evaluate(roadmap, events, at=end)
    assert all(c.status == "maintained" for c in state.continuity.values())
    return {
        "devices": devices,
        "commitments": len(commitments),
        "entry_bytes": sum(sizes[day_start:]),
        "engine_s": engine,
        "engine_without_s": baseline,
        "fold_s": folded,
        "incremental_each_s": per_event,
        "incremental_hourly_s": per_hour,
        "holder_period_bytes": holder_bytes,
    }


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10^4 records, 100 devices")
    parser.add_argument("--records", type=int, help="records to commit (default 10^5)")
    parser.add_argument("--devices", type=int, help="devices in the simulated day (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; best counts")
    args = parser.parse_args(argv)
    count = args.records or (10_000 if args.quick else 100_000)
    devices = args.devices or (100 if args.quick else 1_000)

    rng = random.Random(SEED)
    rows = records(count, rng)
    encoded = [canonical(r) for r in rows]
    commit_t, hash_t, json_t, lines_t, tree_t = [], [], [], [], []
    for n in range(args.repeat):
        err.print(f"commit {count:,} records, run {n + 1} of {args.repeat}")
        commit_t.append(
            timed(
                lambda: (
                    commit_period("m", START, START + HOUR, rows, random_bytes=rng.randbytes).root
                )
            )
        )
        lines_t.append(
            timed(
                lambda: (
                    commit_lines("m", START, START + HOUR, encoded, random_bytes=rng.randbytes).root
                )
            )
        )
        hash_t.append(timed(lambda: floor_hash(encoded)))
        tree_t.append(timed(lambda: floor_tree(encoded)))
        json_t.append(timed(lambda: floor_json(rows)))
    tracemalloc.start()
    commit_period("m", START, START + HOUR, rows, random_bytes=rng.randbytes).root  # noqa: B018
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    committed, hashed, jsoned = min(commit_t), min(hash_t), min(json_t)
    lined, treed = min(lines_t), min(tree_t)
    tracemalloc.start()
    commit_lines("m", START, START + HOUR, encoded, random_bytes=rng.randbytes).root  # noqa: B018
    lines_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    reveal_n = 10_000
    period = commit_period(
        "m", START, START + HOUR, records(reveal_n, rng), random_bytes=rng.randbytes
    )
    root = period.root

    def reveal_verify() -> None:
        body = period.reveal()
        verify_reveal(
            body["records"],
            index=0,
            count=period.count,
            proof=body["proof"],
            root=root,
            first=parse_time(body["records"][0]["record"]["time"]),
            last=parse_time(body["records"][-1]["record"]["time"]),
        )

    revealed = min(timed(reveal_verify) for _ in range(3))
    assert merkle.HASH_SIZE == 32

    err.print(f"a simulated day of {devices:,} devices committing hourly")
    day = simulated_day(devices)
    per_commit = (day["engine_s"] - day["engine_without_s"]) / day["commitments"]
    fold_per = day["fold_s"] / day["commitments"]
    scale = 1000 / devices
    per_year_entries = day["commitments"] * scale * 365
    per_year_bytes = day["entry_bytes"] * scale * 365

    ratio = committed / hashed
    table = Table(title="cvid.monitor: commitments of device records")
    for name in ("measure", "value", "per record / unit", "goal", "status"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    table.add_row("commit", f"{committed:.3f} s", f"{committed / count * 1e6:.2f} µs", "", "")
    table.add_row(
        "floor: one SHA-256 leaf hash", f"{hashed:.3f} s", f"{hashed / count * 1e6:.2f} µs", "", ""
    )
    table.add_row(
        "commit / leaf-hash floor",
        f"{ratio:.1f}x",
        "",
        f"≤ {GOAL:.0f}x",
        "met" if ratio <= GOAL else "NOT MET",
    )
    lines_ratio = lined / hashed
    table.add_row(
        "commit canonical NDJSON lines", f"{lined:.3f} s", f"{lined / count * 1e6:.2f} µs", "", ""
    )
    table.add_row(
        "lines / leaf-hash floor",
        f"{lines_ratio:.1f}x",
        "",
        f"≤ {GOAL:.0f}x",
        "met" if lines_ratio <= GOAL else "NOT MET",
    )
    table.add_row(
        "bare tree (leaves + nodes) / floor",
        f"{treed / hashed:.1f}x",
        "the least any tree costs",
        "",
        "",
    )
    table.add_row("lines peak memory", f"{lines_peak / 2**20:.1f} MiB", "", "", "")
    table.add_row(
        "floor + canonical JSON", f"{jsoned:.3f} s", f"{jsoned / count * 1e6:.2f} µs", "", ""
    )
    table.add_row("commit / JSON+hash floor", f"{committed / jsoned:.1f}x", "", "", "")
    table.add_row("records per second", f"{count / committed:,.0f}", "", "", "")
    table.add_row("commit peak memory", f"{peak / 2**20:.1f} MiB", f"{peak / count:.0f} B", "", "")
    table.add_row(
        f"reveal + verify {reveal_n:,} records",
        f"{revealed:.3f} s",
        f"{revealed / reveal_n * 1e6:.1f} µs",
        "",
        "",
    )
    table.add_row("simulated day: devices", f"{devices:,}", "", "", "")
    table.add_row("log entries per day", f"{day['commitments']:,}", "", "", "")
    table.add_row(
        "engine, full replay of the day",
        f"{day['engine_s']:.2f} s",
        f"{per_commit * 1e6:.0f} µs per commitment",
        "",
        "",
    )
    table.add_row(
        f"Evaluator, state after each of {SAMPLE} commitments",
        f"{day['incremental_each_s'] * 1e3:.2f} ms",
        "per commitment (incremental)",
        "",
        "",
    )
    table.add_row(
        "Evaluator, the day an hour at a time",
        f"{day['incremental_hourly_s'] * 1e6:.1f} µs",
        "per commitment (incremental)",
        "",
        "",
    )
    table.add_row(
        "monitoring fold alone per new commitment",
        f"{fold_per * 1e6:.1f} µs",
        "",
        "",
        "",
    )
    table.add_row(
        "log bytes per commitment", f"{day['entry_bytes'] / day['commitments']:.0f} B", "", "", ""
    )
    table.add_row(
        "1,000 devices hourly, a year",
        f"{per_year_entries:,.0f} entries",
        f"{per_year_bytes / 2**30:.2f} GiB of entries",
        "",
        "",
    )
    table.add_row(
        "held off the log, per period", f"{day['holder_period_bytes']:,} B (12 records)", "", "", ""
    )
    Console(highlight=False, width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
