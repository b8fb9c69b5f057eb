"""Reads while 1,000 events/s are submitted, on an agreement of 10^5 or 10^6 events.

The scale benchmark's agreements (``scale_bench.py --build N DIR``) are dated 2027-2028,
so the service here runs on a clock that starts at the end of their history and then
advances with the real one: a ``cvid serve`` whose clock is injected (the service's
``clock`` parameter), started in a child process from a copy of the directory (the
run appends to it). Its first start from a directory without a snapshot admits every
entry (minutes at 10^6); the scale benchmark's directories already hold one.

While Council members table drafts at ``--rate`` events/s in all (batches of
``--batch`` events, on a fixed schedule, each event signed before the clock starts),
one client reads ``GET /`` and ``GET /api/v1/state`` in turn, and p50/p95/max of each
are reported with the events/s actually reached and the server's CPU per second. The
same reads are measured first with nothing submitted (the baseline: a state that does
not change between reads), and the ratio loaded / idle is printed, with how far behind
the log the state read under load was (``X-Cvid-Entries`` against ``X-Cvid-Log-Size``).

    python benchmarks/loaded_bench.py DIR [--seconds 20] [--rate 1000] [--batch 20]
    python benchmarks/loaded_bench.py DIR --database postgresql://...   # appends to it
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import engine_bench as eb
import mirror_bench as mb
import service_bench as sb

END = eb.END + dt.timedelta(days=1)  # after every event of the scale agreements
GOAL_MS = 200.0  # p95 of GET / and GET /api/v1/state at 1,000 events/s


def serve_child(directory: str, port: int, workers: int | None, database: str | None) -> None:
    """In the child: serve ``directory`` on a clock that starts at END."""
    from cvid.service.app import run
    from cvid.service.core import Limits, open_service

    started = time.monotonic()

    def clock() -> dt.datetime:
        return END + dt.timedelta(seconds=time.monotonic() - started)

    limits = Limits(party_rate=1e9, party_burst=10**6, workers=workers)
    service = open_service(directory, database=database, limits=limits, clock=clock)
    run(service, host="127.0.0.1", port=port, examples=None)


def _signed(
    directory: Path, count: int, start: dt.datetime = END, database: str | None = None
) -> list[list[bytes]]:
    """``count`` draft-tabling events from the Council's members, signed, timed from
    ``start`` on (1 ms apart), one list per member in sequence order."""
    from cvid import agreement as ag

    with ag.Agreement.open(directory, database=database) as a:
        council = {"council_permanent", "council_elected"}
        members = [p.id for p in a.roadmap.parties if set(p.roles) & council]
        return sb._events(a, members, count // len(members) + 1, "load", start)


async def _loaded(
    port: int, entries: list[list[bytes]], rate: float, batch: int, seconds: float
) -> tuple[float, int, dict[str, list[float]]]:
    """Submit at ``rate`` events/s for ``seconds`` while reading; (events/s, events, reads)."""
    share = int(rate * seconds) // len(entries)  # each member's events
    load = sb._load(port, [mine[:share] for mine in entries], batch, pace=rate)
    (reached, _, count), reads = await sb._reads_while(port, load)
    return reached, count, reads


async def _idle(port: int, seconds: float) -> dict[str, list[float]]:
    """The same reads for ``seconds``, nothing submitted."""
    _, reads = await sb._reads_while(port, asyncio.sleep(seconds))
    return reads


def _summary(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    return {"n": len(ms), "p50": q[49], "p95": q[94], "max": ms[-1]}


def measure(
    source: Path,
    seconds: float,
    rate: float,
    batch: int,
    workers: int | None,
    *,
    database: str | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cvid-loaded-", dir=source.parent) as scratch:
        directory = Path(scratch) / "ag"
        if database is None:
            shutil.copytree(source, directory)
        else:
            directory = source  # a PostgreSQL log is not copied: the run appends to it
        entries = _signed(directory, int(rate * seconds * 1.2) + batch * 20, database=database)
        port = mb._port()
        started = time.perf_counter()
        args = [str(directory), str(port), str(workers), str(database)]
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(6000):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if server.poll() is not None:
                        err = server.stderr.read().decode() if server.stderr else ""
                        raise SystemExit(f"the server stopped: {err}") from None
                    time.sleep(0.1)
            start_seconds = time.perf_counter() - started
            asyncio.run(_idle(port, 2))  # warm: the first state after the start
            cpu = sb._cpu_seconds(server.pid)
            idle = asyncio.run(_idle(port, seconds / 2))
            idle_cpu = sb._cpu_seconds(server.pid) - cpu
            cpu = sb._cpu_seconds(server.pid)
            reached, count, loaded = asyncio.run(_loaded(port, entries, rate, batch, seconds))
            loaded_cpu = sb._cpu_seconds(server.pid) - cpu
        finally:
            server.terminate()
            server.wait(timeout=60)
    return {
        "start_seconds": start_seconds,
        "rate": reached,
        "events": count,
        "server_cpu_per_s": loaded_cpu / seconds,
        "idle_server_cpu_per_s": idle_cpu / (seconds / 2),
        "behind": _behind(loaded.pop("entries behind")),
        "idle": {path: _summary(v) for path, v in idle.items() if path != "entries behind"},
        "loaded": {path: _summary(v) for path, v in loaded.items()},
        "loaded_ms": {path: sorted(round(x * 1000, 1) for x in v) for path, v in loaded.items()},
    }


def _behind(counts: list[float]) -> dict[str, float]:
    """How many entries the log held beyond the state each read of it answered with."""
    ordered = sorted(counts) or [0.0]
    return {
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[int(len(ordered) * 0.95)],
        "max": ordered[-1],
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        workers = None if argv[3] == "None" else int(argv[3])
        database = argv[4] if len(argv) > 4 and argv[4] != "None" else None
        serve_child(argv[1], int(argv[2]), workers, database)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "directory",
        type=Path,
        nargs="?",
        help="an agreement built by scale_bench.py --build (else --build N makes one)",
    )
    parser.add_argument("--build", type=int, help="build an agreement of N events first")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s submitted")
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="the service's --workers (signature checks; default: the service's, one per core)",
    )
    parser.add_argument(
        "--database",
        help="the agreement's PostgreSQL log (DIRECTORY built with it): not copied, the "
        "run appends to it",
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.directory is None and args.build is None:
        parser.error("give DIRECTORY or --build N")
    with tempfile.TemporaryDirectory(prefix="cvid-loaded-build-") as scratch:
        directory = args.directory
        if directory is None:
            import scale_bench

            directory = Path(scratch) / "built"
            seconds = scale_bench.build(args.build, directory)
            print(f"built {args.build:,} signed events in {seconds:.0f} s")
            subprocess.run(  # the first open admits every entry and writes the snapshot
                [str(sb.CVID), "status", str(directory), "--at", END.isoformat()],
                capture_output=True,
                check=True,
            )
        result = measure(
            directory, args.seconds, args.rate, args.batch, args.workers, database=args.database
        )
    print(f"service started in {result['start_seconds']:.1f} s (from its snapshot)")
    print(
        f"submitted {result['events']:,} events at {result['rate']:,.0f} events/s "
        f"(asked {args.rate:,.0f}); server CPU {result['server_cpu_per_s']:.2f} s/s loaded, "
        f"{result['idle_server_cpu_per_s']:.2f} s/s idle"
    )
    print(
        f"{'read':<16}{'idle p50':>10}{'idle p95':>10}{'loaded p50':>12}{'loaded p95':>12}"
        f"{'max':>9}{'ratio p95':>11}  goal p95 < {GOAL_MS:.0f} ms"
    )
    for path in ("/", "/api/v1/state"):
        i, lo = result["idle"][path], result["loaded"][path]
        verdict = "met" if lo["p95"] < GOAL_MS else "missed"
        print(
            f"{path:<16}{i['p50']:>9.1f} {i['p95']:>9.1f} {lo['p50']:>11.1f} {lo['p95']:>11.1f}"
            f" {lo['max']:>8.0f} {lo['p95'] / i['p95']:>10.2f}x  {verdict} (n={lo['n']})"
        )
    behind = result["behind"]
    print(
        f"the state read under load was of a log {behind['p50']:,.0f} entries shorter than "
        f"the log at p50, {behind['p95']:,.0f} at p95, {behind['max']:,.0f} at most "
        f"(/api/v1/state's X-Cvid-Entries against X-Cvid-Log-Size)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
