"""Mirroring a served agreement: following it from scratch, then keeping up with it.

A service (``cvid serve`` in its own process, SQLite log) holds n validly signed
events (drafts tabled by one Council member, appended in bulk before it starts and
re-admitted when it opens). In this process, :class:`cvid.mirror.Mirror` follows it
from scratch: fetch the signed checkpoint, the entry bundles and hash tiles, append
to its own store, recompute the root, admit every entry (signature, sequence,
authorisation). Then a stream of submissions (batches of 100, at a target rate) runs
while the mirror follows in rounds; afterwards the mirror's lag and catch-up time
are reported.

Baseline, measured in the same run against the same service: fetch every entry
bundle over HTTP and hash every entry (RFC 9162 leaf hash), nothing else. The ratio
says what verification and admission cost on top of moving the bytes.

    python benchmarks/mirror_bench.py [--quick]      # quick: 10^4; else 10^4 and 10^5
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cvid import agreement as ag
from cvid.events.envelope import Event, sign_event
from cvid.log.tiles import ENTRIES, TILE_WIDTH, TileId, decode_bundle, tile_path
from cvid.mirror import Mirror

BATCH = 100
STARTUP_S = 600.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _signed(a: ag.Agreement, party: str, count: int, tag: str, first: int) -> list[bytes]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signer = a.signer(party)
    return [
        sign_event(
            Event(
                agreement=a.roadmap.agreement.id,
                roadmap=a.gate.digest,
                type="council.draft.tabled",
                party=party,
                seq=first + i,
                time=now,
                body={"draft": f"{tag}-{first + i}", "title": "Benchmark", "purpose": "other"},
            ),
            signer,
        ).to_bytes()
        for i in range(count)
    ]


def _build(directory: Path, n: int) -> None:
    adopted = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with ag.create_from_template(directory, "dprk-phased", adopt_at=adopted) as a:
        size = a.log.size()
        entries = _signed(a, "usa", n - size, "bulk", a.history.seq.get("usa", 0) + 1)
        a.log.append(entries, expected_size=size)


def _serve(directory: Path, port: int) -> subprocess.Popen[bytes]:
    code = "from cvid.cli import main; main()"
    args = ["serve", str(directory), "--port", str(port), "--no-examples"]
    args += ["--party-rate", "1e9", "--checkpoint-interval", "0.2"]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )


def _wait_checkpoint(client: httpx.Client, size: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get("/healthz").json()["checkpoint_size"] == size:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no checkpoint of size {size} in {timeout:g} s")
        time.sleep(0.1)


def _baseline(client: httpx.Client, n: int) -> float:
    """Entries/s: fetch every entry bundle and hash every entry, nothing else."""
    start = time.perf_counter()
    count = 0
    for index in range(-(-n // TILE_WIDTH)):
        width = min(TILE_WIDTH, n - index * TILE_WIDTH)
        data = client.get("/" + tile_path(TileId(ENTRIES, index), width)).content
        for entry in decode_bundle(data):
            hashlib.sha256(b"\x00" + entry).digest()
            count += 1
    assert count == n
    return n / (time.perf_counter() - start)


@dataclass
class _Sent:
    """What the submitting thread has done so far."""

    events: int = 0
    failure: str | None = None


def _stream(
    url: str, entries: list[bytes], rate: float, stop: threading.Event, sent: _Sent
) -> None:
    """Submit ``entries`` in batches at about ``rate`` events/s; stop at a refusal."""
    with httpx.Client(base_url=url, timeout=60.0) as client:
        start = time.perf_counter()
        for k in range(0, len(entries), BATCH):
            if stop.is_set():
                return
            due = start + k / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            chunk = entries[k : k + BATCH]
            answer = client.post(
                "/api/v1/events/batch",
                content=b"\n".join(chunk),
                headers={"Content-Type": "application/x-ndjson"},
            )
            if answer.status_code != 201:
                sent.failure = f"HTTP {answer.status_code}: {answer.text}"
                return
            sent.events += len(chunk)


def _warm_up(client: httpx.Client, entry: bytes, size: int) -> None:
    """Submit one event and wait until it is logged: the service's first write after
    opening a large log is slow (it may answer 504 and log the event anyway)."""
    client.post("/api/v1/events", content=entry, timeout=STARTUP_S)
    _wait_checkpoint(client, size + 1, STARTUP_S)


def _scale_stream(directory: Path, count: int, started: float) -> list[bytes]:
    """``count`` drafts tabled by the Council's members of a scale agreement, interleaved
    (each member's in sequence order), timed from the served clock (END + the seconds
    since the service started) on at 1 ms apart."""
    import loaded_bench as lb

    offset = time.monotonic() - started
    lists = lb._signed(directory, count, start=lb.END + dt.timedelta(seconds=offset))
    return [entry for column in zip(*lists, strict=False) for entry in column][:count]


def run(n: int, stream_seconds: float, rate: float, agreement: Path | None = None) -> None:
    """Mirror ``n`` events built here, or (``agreement``) a copy of an agreement built by
    ``scale_bench.py --build``, served on a clock starting at its end (loaded_bench)."""
    with tempfile.TemporaryDirectory(dir=agreement.parent if agreement else None) as scratch:
        directory = Path(scratch) / "ag"
        t0 = time.perf_counter()
        if agreement is None:
            _build(directory, n)
            print(f"\n{n:,} events: built in {time.perf_counter() - t0:.1f} s")
        else:
            shutil.copytree(agreement, directory)
            with ag.Agreement.open(directory) as a:
                n = a.log.size()
            print(f"\n{n:,} events: {agreement} copied in {time.perf_counter() - t0:.1f} s")
        port = _port()
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        if agreement is None:
            server = _serve(directory, port)
        else:
            child = [str(Path(__file__).parent / "loaded_bench.py"), "--serve"]
            server = subprocess.Popen(
                [sys.executable, *child, str(directory), str(port), "0"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        try:
            with httpx.Client(base_url=url, timeout=60.0) as client:
                t0 = time.perf_counter()
                _wait_checkpoint(client, n, STARTUP_S)
                print(f"  service open and checkpointed in {time.perf_counter() - t0:.1f} s")
                base = _baseline(client, n)
                print(f"  baseline, fetch every bundle and hash every entry: {base:,.0f} ev/s")

                with ag.Agreement.open(directory) as a:
                    seq = a.history.seq.get("chn", 0) + 1
                    if agreement is None:
                        count = int(stream_seconds * rate) + 1
                        stream = _signed(a, "chn", count, "stream", seq)
                    key = a.log_signer().verifier
                where = Path(scratch) / "mirror"
                with httpx.Client(timeout=60.0) as http:
                    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    t0 = time.perf_counter()
                    mirror = Mirror.open(url, where, key, client=http)
                    done = mirror.follow()
                    took = time.perf_counter() - t0
                    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
                    assert done.new_size == n
                    print(
                        f"  mirror from scratch: {n / took:,.0f} ev/s ({took:.1f} s; "
                        f"{n / took / base:.2f}x baseline); peak RSS +{rss:,.0f} MiB"
                    )
                    if agreement is not None:  # signed now: timed near the served clock
                        count = int(stream_seconds * rate) + 1
                        stream = _scale_stream(directory, count, started)
                    t0 = time.perf_counter()
                    _warm_up(client, stream[0], n)
                    print(f"  first submission logged after {time.perf_counter() - t0:.1f} s")
                    _keep_up(mirror, url, stream[1:], rate, n + 1)
                    t0 = time.perf_counter()
                    mirror.close()
                    again = Mirror.open(url, where, key, client=http)
                    took = time.perf_counter() - t0
                    print(
                        f"  restart (re-admit {again.size:,} held entries): {took:.1f} s, "
                        f"{again.size / took:,.0f} ev/s"
                    )
                    again.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def _keep_up(mirror: Mirror, url: str, stream: list[bytes], rate: float, n: int) -> None:
    stop = threading.Event()
    sent = _Sent()
    thread = threading.Thread(target=_stream, args=(url, stream, rate, stop, sent), daemon=True)
    lags: list[int] = []
    mirrored = 0
    t0 = time.perf_counter()
    thread.start()
    try:
        while thread.is_alive():
            round_ = mirror.follow()
            mirrored += round_.admitted
            lags.append(n + sent.events - round_.new_size)
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=60)
    streaming = time.perf_counter() - t0
    t1 = time.perf_counter()
    deadline = t1 + 300
    target = n + sent.events
    while (mirror.verified.tree_size if mirror.verified else 0) < target:
        if time.perf_counter() > deadline:
            raise RuntimeError("the mirror did not catch up")
        mirrored += mirror.follow().admitted
        time.sleep(0.05)
    caught = time.perf_counter() - t1
    median = sorted(lags)[len(lags) // 2] if lags else 0
    print(
        f"  keeping up: {sent.events:,} events submitted at {sent.events / streaming:,.0f} ev/s "
        f"(target {rate:,.0f}); mirror admitted {mirrored:,} in {streaming + caught:.1f} s "
        f"({mirrored / (streaming + caught):,.0f} ev/s); lag at each round max "
        f"{max(lags, default=0):,}, median {median:,} entries; caught up {caught:.2f} s "
        "after the stream ended"
    )
    if sent.failure:
        print(f"  the stream stopped: the service answered {sent.failure[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^4 events only")
    parser.add_argument("--rate", type=float, default=1000.0, help="stream events/s")
    parser.add_argument(
        "--agreement",
        type=Path,
        help="mirror a copy of this agreement (scale_bench.py --build N DIR) instead",
    )
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    print("mirror_bench: following a served agreement (cvid mirror)")
    if args.agreement is not None:
        run(0, stream_seconds=10.0, rate=args.rate, agreement=args.agreement)
        return
    for n in sizes:
        run(n, stream_seconds=5.0 if args.quick else 10.0, rate=args.rate)


if __name__ == "__main__":
    main()
