"""Submitting signed events over HTTP: accepted-and-durable events/s, p50/p99 latency.

A ``cvid serve`` process (SQLite log, synchronous=FULL) takes submissions from
concurrent clients in this process: one event per request, then batches. Each
client is one Council member tabling drafts in sequence-number order, so every
event is valid and must be admitted (signature, sequence, authorisation) and
appended durably before it is answered. Events are signed before the clock starts.
Each is measured twice, in the same run: with the writer parsing entries and
checking signatures itself (``--workers 0``) and with worker processes doing it
(the default). The machine is shared, so beside events/s the server's CPU time
per event (its process and its children) is reported.

Then reads under load: while clients submit single events paced at 1,000 events/s,
one client reads ``GET /`` and ``GET /api/v1/state`` in turn; their p50/p95.

Baseline, measured in the same run: the same admission and append in-process,
one event per transaction (``Agreement.submit``), with no HTTP and no grouping.

    python benchmarks/service_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import httpx

from cvid import agreement as ag
from cvid.events.envelope import Event, sign_event

CVID = Path(sys.executable).parent / "cvid"
T = TypeVar("T")


def _events(
    a: ag.Agreement,
    parties: list[str],
    per_party: int,
    tag: str,
    start: dt.datetime | None = None,
) -> list[list[bytes]]:
    """``per_party`` draft-tabling events for each party, signed, in sequence order,
    timed now (to the second), or from ``start`` on, 1 ms apart in turn."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    a.catch_up()
    out = []
    for number, party in enumerate(parties):
        signer = a.signer(party)
        first = a.history.seq.get(party, 0) + 1
        out.append(
            [
                sign_event(
                    Event(
                        agreement=a.roadmap.agreement.id,
                        roadmap=a.gate.digest,
                        type="council.draft.tabled",
                        party=party,
                        seq=first + i,
                        time=now
                        if start is None
                        else start + dt.timedelta(seconds=(i * len(parties) + number) / 1000),
                        body={
                            "draft": f"{tag}-{party}-{i}",
                            "title": "Benchmark",
                            "purpose": "other",
                        },
                    ),
                    signer,
                ).to_bytes()
                for i in range(per_party)
            ]
        )
    return out


def _baseline(directory: Path, parties: list[str], n: int) -> float:
    with ag.Agreement.open(directory) as a:
        entries = _events(a, parties, n // len(parties), "base")
        now = dt.datetime.now(dt.UTC)
        start = time.perf_counter()
        count = 0
        for column in zip(*entries, strict=True):
            for data in column:
                a.submit(data, now=now)
                count += 1
        return count / (time.perf_counter() - start)


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the machine's two
    cores with the server, so it must cost far less per request than the server does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes, media_type: str) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {media_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _load(
    port: int, entries: list[list[bytes]], batch: int, *, pace: float | None = None
) -> tuple[float, list[float], int]:
    """Submit each client's entries in ``batch``es; with ``pace``, at most that many
    events/s in all (each client its share, on a fixed schedule)."""
    latencies: list[float] = []
    start = time.perf_counter()

    async def client(number: int, mine: list[bytes]) -> int:
        done = 0
        connection = await _Connection.open(port)
        try:
            for i in range(0, len(mine), batch):
                chunk = mine[i : i + batch]
                if pace is not None:
                    due = start + (i * len(entries) + number) / pace
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                t0 = time.perf_counter()
                if batch == 1:
                    status, text = await connection.post(
                        "/api/v1/events", chunk[0], "application/json"
                    )
                else:
                    status, text = await connection.post(
                        "/api/v1/events/batch", b"\n".join(chunk), "application/x-ndjson"
                    )
                latencies.append(time.perf_counter() - t0)
                if status != 201:
                    raise AssertionError(text)
                done += len(chunk)
        finally:
            connection.close()
        return done

    counts = await asyncio.gather(*(client(n, mine) for n, mine in enumerate(entries)))
    return sum(counts) / (time.perf_counter() - start), latencies, sum(counts)


async def _reads_while(port: int, work: Awaitable[T]) -> tuple[T, dict[str, list[float]]]:
    """Read ``GET /`` and ``GET /api/v1/state`` in turn until ``work`` is done; return its
    result and the read latencies (and, under "entries behind", how many entries the
    log held beyond the state each read of the state answered with)."""
    reads: dict[str, list[float]] = {"/": [], "/api/v1/state": []}
    behind: list[float] = []  # entries logged but not yet in the state read
    task = asyncio.ensure_future(work)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        while not task.done():
            for path in ("/", "/api/v1/state"):
                t0 = time.perf_counter()
                response = await http.get(path)
                reads[path].append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise AssertionError(f"GET {path}: {response.status_code}")
                if "X-Cvid-Entries" in response.headers:
                    size, of = (
                        response.headers["X-Cvid-Log-Size"],
                        response.headers["X-Cvid-Entries"],
                    )
                    behind.append(int(size) - int(of))
            await asyncio.sleep(0.05)
    reads["entries behind"] = behind
    return await task, reads


async def _reads_under_load(
    port: int, entries: list[list[bytes]], pace: float
) -> tuple[float, dict[str, list[float]]]:
    """Submit ``entries`` one per request at ``pace`` events/s while one client reads
    the dashboard and the state in turn; return the events/s reached and read latencies."""
    (rate, _, _), reads = await _reads_while(port, _load(port, entries, 1, pace=pace))
    return rate, reads


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and all its descendants (Linux)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(name)] = int(fields[1])
        times[int(name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(times.get(p, 0.0) for p in tree)


def _serve(directory: Path, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    command = [
        str(CVID),
        "serve",
        str(directory),
        "--port",
        str(port),
        "--no-examples",
        "--party-rate",
        "1e9",
        "--checkpoint-interval",
        "1",
    ]
    if workers is not None:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not start")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=20)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client = 40 if args.quick else 200
    pace, seconds = 1000.0, 4 if args.quick else 10
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "ag"
        adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        with ag.create_from_template(directory, "dprk-phased", adopt_at=adopted) as a:
            roles = {"council_permanent", "council_elected"}
            parties = [p.id for p in a.roadmap.parties if roles & set(p.roles)]
        base = _baseline(directory, parties, len(parties) * per_client // 4)
        print(f"baseline: in-process Agreement.submit, 1 event per transaction: {base:,.0f} ev/s")
        port = 18000 + int(time.time()) % 1000
        pool = os.cpu_count() or 1
        for workers, label in ((0, "writer checks signatures"), (pool, "worker processes")):
            server = _serve(directory, port, workers)
            try:
                with ag.Agreement.open(directory) as a:
                    for batch in (1, 50):
                        entries = _events(a, parties, per_client, f"b{batch}-{len(label)}")
                        cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
                        rate, latencies, count = asyncio.run(_load(port, entries, batch))
                        cpu = _cpu_seconds(server.pid) - cpu
                        client_cpu = time.process_time() - client_cpu
                        a.catch_up()
                        print(
                            f"HTTP ({label}), {len(parties)} concurrent clients, {batch} "
                            f"event(s) per request: {count} events, {rate:,.0f} "
                            f"accepted-and-durable ev/s ({rate / base:.2f}x baseline); "
                            f"server CPU {cpu / count * 1e6:,.0f} us/event, client CPU "
                            f"{client_cpu / count * 1e6:,.0f} us/event; request latency p50 "
                            f"{_pct(latencies, 50):.1f} ms, p99 {_pct(latencies, 99):.1f} ms"
                        )
                    if workers is None:
                        per = int(pace * seconds) // len(parties)
                        entries = _events(a, parties, per, "reads")
                        rate, reads = asyncio.run(_reads_under_load(port, entries, pace))
                        a.catch_up()
                        behind = reads.pop("entries behind")
                        shown = ", ".join(
                            f"GET {path} p50 {_pct(v, 50):.0f} ms, p95 {_pct(v, 95):.0f} ms "
                            f"({len(v)} reads)"
                            for path, v in reads.items()
                        )
                        shown += (
                            f"; the state read {max(behind, default=0):,} entries behind at most"
                        )
                        print(
                            f"reads while submitting single events paced at {pace:,.0f}/s "
                            f"(reached {rate:,.0f}/s, log of {a.log.size():,}): {shown}"
                        )
            finally:
                _stop(server)


if __name__ == "__main__":
    main()
