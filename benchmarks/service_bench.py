"""Submitting signed events over HTTP: accepted-and-durable events/s, p50/p99 latency.

A ``cvid serve`` process (SQLite log, synchronous=FULL) takes submissions from
concurrent clients in this process: one event per request, then batches. Each
client is one Council member tabling drafts in sequence-number order, so every
event is valid and must be admitted (signature, sequence, authorisation) and
appended durably before it is answered. Events are signed before the clock starts.

Baseline, measured in the same run: the same admission and append in-process,
one event per transaction (``Agreement.submit``), with no HTTP and no grouping.

    python benchmarks/service_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cvid import agreement as ag
from cvid.events.envelope import Event, sign_event

CVID = Path(sys.executable).parent / "cvid"


def _events(a: ag.Agreement, parties: list[str], per_party: int, tag: str) -> list[list[bytes]]:
    """``per_party`` draft-tabling events for each party, signed, in sequence order."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    a.catch_up()
    out = []
    for party in parties:
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
                        time=now,
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
    port: int, entries: list[list[bytes]], batch: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []

    async def client(mine: list[bytes]) -> int:
        done = 0
        connection = await _Connection.open(port)
        try:
            for i in range(0, len(mine), batch):
                chunk = mine[i : i + batch]
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

    start = time.perf_counter()
    counts = await asyncio.gather(*(client(mine) for mine in entries))
    return sum(counts) / (time.perf_counter() - start), latencies, sum(counts)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    per_client = 40 if args.quick else 200
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "ag"
        adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        with ag.create_from_template(directory, "dprk-phased", adopt_at=adopted) as a:
            roles = {"council_permanent", "council_elected"}
            parties = [p.id for p in a.roadmap.parties if roles & set(p.roles)]
        base = _baseline(directory, parties, len(parties) * per_client // 4)
        print(f"baseline: in-process Agreement.submit, 1 event per transaction: {base:,.0f} ev/s")
        port = 18000 + int(time.time()) % 1000
        server = subprocess.Popen(
            [
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
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{url}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with ag.Agreement.open(directory) as a:
                for batch in (1, 50):
                    entries = _events(a, parties, per_client, f"b{batch}")
                    rate, latencies, count = asyncio.run(_load(port, entries, batch))
                    a.catch_up()
                    print(
                        f"HTTP, {len(parties)} concurrent clients, {batch} event(s) per request: "
                        f"{count} events, {rate:,.0f} accepted-and-durable ev/s "
                        f"({rate / base:.2f}x baseline); request latency p50 "
                        f"{_pct(latencies, 50):.1f} ms, p99 {_pct(latencies, 99):.1f} ms"
                    )
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
