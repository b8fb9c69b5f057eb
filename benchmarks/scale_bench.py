"""An agreement at scale: open, ``cvid status``, memory and one more event, at 10^4-10^6.

Usage::

    python benchmarks/scale_bench.py                  # 10^4, 10^5 and 10^6 events
    python benchmarks/scale_bench.py --quick          # 10^4 and 10^5
    python benchmarks/scale_bench.py --sizes 10000,300000 --workdir /var/tmp/scale
    python benchmarks/scale_bench.py --build N DIR    # build one agreement directory only
    python benchmarks/scale_bench.py --build N DIR --database postgresql://...

``--build`` writes an ordinary agreement directory (``roadmap.yaml``, ``keys/``,
``log.db`` or the PostgreSQL log given): the road map is the continuing one of
``benchmarks/engine_bench.py`` (200 steps, limits, 50 recurring obligations owed by two
states, a Council, guarantees, a withdrawal), its keys are generated as
``cvid agreement init`` does, and its log holds N events of that benchmark's continuing
mix (step reports and verifications, Council drafts and votes, guarantees withdrawn and
signed again, quantities declared and measured, recurring obligations performed and
confirmed, inspectors' observations), each signed with its party's own key, with its
party's next sequence number, in time order. The entries are appended in bulk through
the store's ordinary API (``Log.append`` in blocks of 10,000); nothing is admitted while
building, so the first open of the directory admits every entry as usual (a refused
entry would stop it). ``cvid status DIR --at 2028-10-18T00:00:00Z`` and ``cvid serve DIR``
open it; its events lie between 2027-01-06 and 2028-10-17.

Each measurement runs in a fresh interpreter (``--child``), which prints one JSON object:

* **open**: ``Agreement.open`` (the first ``cvid status`` after the build writes the
  snapshot, with the engine's fold; it is shown, not compared); with snapshots, and
  with ``reverify=True`` (every entry admitted again, no snapshot read or written):
  the baseline.
* **status**: the whole ``cvid status DIR --at END --json`` command, wall time and the
  child's peak RSS, with snapshots and with ``--reverify``.
* **one more event**: the agreement open, its state at END computed once, then one more
  admitted event (an inspector's observation timed END), as the service sees them (the
  horizon its clock less the admission skew): the state at END + 1 s
  from the incremental evaluator (``Agreement.state``) against ``evaluate`` over every
  event (the baseline); and a later second with no new event (the service's poll).
* **serve**: ``open_service`` and its workers started, then its first filtered list
  (``GET /api/v1/entries?party=usa``, which restores the listing index from its snapshot
  section or builds it), then the dashboard's ``/ledger?type=quantity.declared``, through
  the ASGI app; the first start (the snapshot has no index section yet: the index is
  built from every event, and kept on stop) is shown, not compared; the baseline is
  ``--reverify`` (no snapshot read: every event admitted again, and in memory).

Times are CPU seconds of the measured process (the machine may be shared; every
operation is single-threaded), with the wall time beside them for open and status;
the service's are wall times (it runs workers and threads).
The goals (open < 5 s and < 500 MiB, status < 2 s) are judged at 10^6 events only.
Growth per 10x is the time at one size divided by the time at the size ten times
smaller (1 means constant, 10 linear). Builds run first, then the measurements; the
directories go in ``--workdir`` (a temporary directory unless given; ``--keep`` keeps
them). Not a library module: no test imports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rich.console import Console
from rich.table import Table

import engine_bench as eb

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
BLOCK = 10_000
END = eb.END + dt.timedelta(days=1)  # 2028-10-18: after every event of every size
err = Console(stderr=True, highlight=False)


# --- building ---------------------------------------------------------------------------------


def build(count: int, directory: Path, *, database: str | None = None) -> float:
    """Write an agreement directory holding ``count`` signed events; return the seconds."""
    from cvid import agreement as ag
    from cvid.events.authz import Gate
    from cvid.events.envelope import Event, sign_event

    started = time.perf_counter()
    data = eb.continuing_roadmap_data(eb.signers())
    for party in data["parties"]:
        party.pop("keys", None)  # the agreement generates its own
    data = _unshared(data)  # YAML would write a shared list as an alias
    agreement = ag.create(directory, data, adopt_at=None, database=database)
    try:
        roadmap = agreement.roadmap
        signers = {p.id: agreement.signer(p.id) for p in roadmap.parties}
        digest = Gate(roadmap).digest
        seq: Counter[str] = Counter()
        block: list[bytes] = []
        size = agreement.log.size()
        for p in eb.plan(count, continuing=True):
            seq[p.party] += 1
            event = Event(
                agreement=roadmap.agreement.id,
                roadmap=digest,
                type=p.type,
                party=p.party,
                seq=seq[p.party],
                time=p.time,
                body=p.body,
            )
            block.append(sign_event(event, signers[p.party]).to_bytes())
            if len(block) == BLOCK:
                agreement.log.append(block, expected_size=size)
                size += len(block)
                block = []
        if block:
            agreement.log.append(block, expected_size=size)
    finally:
        agreement.close()
    return time.perf_counter() - started


def _unshared(value: Any) -> Any:
    """``value`` with every dict and list its own copy."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


# --- measuring (each in a fresh interpreter) ---------------------------------------------------


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_open(directory: str, reverify: bool, database: str | None) -> dict[str, Any]:
    from cvid.agreement import Agreement

    started, cpu = time.perf_counter(), time.process_time()
    agreement = Agreement.open(directory, database=database, reverify=reverify)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = len(agreement.events)
    agreement.close()
    return {"seconds": seconds, "cpu": cpu, "rss_mib": peak_rss_mib(), "events": size}


def child_increment(directory: str, database: str | None) -> dict[str, Any]:
    """One more event and one more second, incremental against a full evaluation."""
    from cvid.agreement import Agreement
    from cvid.amendment import roadmap_at
    from cvid.engine import evaluate
    from cvid.events.envelope import Event, sign_event
    from cvid.report import state_to_dict

    agreement = Agreement.open(directory, database=database)
    skew = agreement.gate.skew  # the service's horizon: its clock less the skew
    agreement.state(at=END, horizon=END - skew)  # warm: every event applied
    party = "iaea"
    event = Event(
        agreement=agreement.roadmap.agreement.id,
        roadmap=agreement.gate.digest,
        type="inventory.observed",
        party=party,
        seq=agreement.history.seq.get(party, 0) + 1,
        time=END,  # received at END, as the service would
        body={"items": {eb.item_id(0, 0): eb.target_state(0, 0)}},
    )
    data = sign_event(event, agreement.signer(party)).to_bytes()
    admitted = agreement.gate.admit(data, agreement.history, now=None)
    agreement.events.append(admitted)  # as a commit does (the log is left as it was)
    at = END + dt.timedelta(seconds=1)
    roadmap = roadmap_at(agreement.gate, agreement.history, at)
    evaluator = agreement.evaluator(roadmap)  # what Agreement.state and the service use
    # CPU time of this process: the machine may be shared, and these are single-threaded.
    started = time.process_time()
    incremental = evaluator.state(agreement.events, at=at, horizon=at - skew)
    t_incremental = time.process_time() - started
    later = at + dt.timedelta(seconds=1)
    started = time.process_time()
    evaluator.state(agreement.events, at=later, horizon=later - skew)
    t_second = time.process_time() - started
    started = time.process_time()
    full = evaluate(roadmap, agreement.events, at=at)
    t_full = time.process_time() - started
    started = time.process_time()
    evaluate(roadmap, agreement.events, at=later)
    t_full_second = time.process_time() - started
    same = state_to_dict(incremental) == state_to_dict(full)
    agreement.log.close()  # not close(): no snapshot of an event the log does not hold
    return {
        "incremental": t_incremental,
        "full": t_full,
        "second": t_second,
        "full_second": t_full_second,
        "same": same,
        "rss_mib": peak_rss_mib(),
    }


LISTED_PARTY = "usa"  # about 3% of the events
LISTED_TYPE = "quantity.declared"  # about 5%


def child_listing(directory: str, reverify: bool, database: str | None) -> dict[str, Any]:
    """The service started (``open_service`` and its workers), then its first filtered
    list (``GET /api/v1/entries?party=``: the listing index is restored or built), then
    the dashboard's ledger filtered by type, as ``cvid serve`` answers them; wall times."""
    import asyncio

    import httpx

    from cvid.service.app import create_app
    from cvid.service.core import open_service

    started = time.perf_counter()
    service = open_service(directory, database=database, reverify=reverify)
    app = create_app(service, examples={})
    result: dict[str, Any] = {}

    async def scenario() -> None:
        await service.start()
        result["start"] = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cvid") as client:
            for name, path in (
                ("api", f"/api/v1/entries?party={LISTED_PARTY}&limit=50"),
                ("ledger", f"/ledger?type={LISTED_TYPE}"),
            ):
                at = time.perf_counter()
                answer = await client.get(path)
                result[name] = time.perf_counter() - at
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
        await service.stop()  # keeps the index in a snapshot section (unless reverify)

    asyncio.run(scenario())
    return {**result, "rss_mib": peak_rss_mib()}


def run_child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        ["nice", "-n", "5", sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def status_command(directory: Path, reverify: bool, database: str | None) -> dict[str, Any]:
    """The whole ``cvid status`` command in a child process: wall time and peak RSS."""
    cvid = str(Path(sys.executable).with_name("cvid"))  # the console script beside python
    cmd = [cvid, "status", str(directory), "--at", END.isoformat()]
    cmd += ["--json", *(["--reverify"] if reverify else [])]
    cmd += ["--database", database] if database else []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"cvid status failed: {stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu": cpu, "rss_mib": usage.ru_maxrss / 1024}


# --- the table --------------------------------------------------------------------------------


def measure(count: int, directory: Path, database: str | None) -> dict[str, Any]:
    db = [database] if database else []
    row: dict[str, Any] = {"events": count}
    err.print(f"[{count:,}] first cvid status (admits every entry, writes the snapshot)")
    row["first_status"] = status_command(directory, False, database)
    err.print(f"[{count:,}] open with the snapshot, and with --reverify")
    row["open"] = run_child(["open", str(directory), "0", *db])
    row["open_reverify"] = run_child(["open", str(directory), "1", *db])
    err.print(f"[{count:,}] cvid status")
    row["status"] = status_command(directory, False, database)
    row["status_reverify"] = status_command(directory, True, database)
    err.print(f"[{count:,}] one more event")
    row["increment"] = run_child(["increment", str(directory), *db])
    err.print(f"[{count:,}] the service's first filtered lists (the first start writes")
    err.print(f"[{count:,}] the index's snapshot section), again, and with --reverify")
    for section in (directory / "snapshots").glob("*.index"):
        section.unlink()  # a directory measured before: start without the section
    row["listing_first"] = run_child(["listing", str(directory), "0", *db])
    row["listing"] = run_child(["listing", str(directory), "0", *db])
    row["listing_reverify"] = run_child(["listing", str(directory), "1", *db])
    return row


def growth(rows: list[dict[str, Any]], i: int, get: Any) -> str:
    if i == 0:
        return "—"
    before, now = rows[i - 1], rows[i]
    factor = now["events"] / before["events"]
    ratio = get(now) / get(before)
    return f"{ratio:.1f}x per {factor:.0f}x"


def report(rows: list[dict[str, Any]], backend: str) -> None:
    table = Table(title=f"An agreement at scale ({backend})")
    for column in ("events", "measure", "fast", "baseline", "ratio", "growth (fast)", "goal"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    for i, r in enumerate(rows):
        n = f"{r['events']:,}"
        inc = r["increment"]
        at_goal = r["events"] >= 1_000_000  # the goals are set at 10^6 events

        def judged(ok: bool, at_goal: bool = at_goal) -> bool | None:
            return ok if at_goal else None

        lines = [
            (
                "open, CPU (s)",
                r["open"]["cpu"],
                r["open_reverify"]["cpu"],
                lambda x: x["open"]["cpu"],
                "< 5 s at 10^6",
                judged(r["open"]["seconds"] < 5),
            ),
            (
                "open, wall (s)",
                r["open"]["seconds"],
                r["open_reverify"]["seconds"],
                lambda x: x["open"]["seconds"],
                "",
                None,
            ),
            (
                "open, peak RSS (MiB)",
                r["open"]["rss_mib"],
                r["open_reverify"]["rss_mib"],
                lambda x: x["open"]["rss_mib"],
                "< 500 MiB at 10^6",
                judged(r["open"]["rss_mib"] < 500),
            ),
            (
                "cvid status, CPU (s)",
                r["status"]["cpu"],
                r["status_reverify"]["cpu"],
                lambda x: x["status"]["cpu"],
                "< 2 s at 10^6",
                judged(r["status"]["seconds"] < 2),
            ),
            (
                "cvid status, wall (s)",
                r["status"]["seconds"],
                r["status_reverify"]["seconds"],
                lambda x: x["status"]["seconds"],
                "",
                None,
            ),
            (
                "cvid status, peak RSS (MiB)",
                r["status"]["rss_mib"],
                r["status_reverify"]["rss_mib"],
                lambda x: x["status"]["rss_mib"],
                "",
                None,
            ),
            (
                "one more event, state, CPU (ms)",
                inc["incremental"] * 1000,
                inc["full"] * 1000,
                lambda x: x["increment"]["incremental"],
                "O(new events)",
                None,
            ),
            (
                "one more second, state, CPU (ms)",
                inc["second"] * 1000,
                inc["full_second"] * 1000,
                lambda x: x["increment"]["second"],
                "",
                None,
            ),
        ]
        listed, cold, scratch = r["listing"], r["listing_first"], r["listing_reverify"]
        lines += [
            (
                "serve: start, wall (s)",
                listed["start"],
                scratch["start"],
                lambda x: x["listing"]["start"],
                "",
                None,
            ),
            (
                "serve: first filtered list, wall (s)",
                listed["api"],
                scratch["api"],
                lambda x: x["listing"]["api"],
                "O(new entries)",
                None,
            ),
            (
                "  the same, no index section yet (s)",
                cold["api"],
                scratch["api"],
                lambda x: x["listing_first"]["api"],
                "",
                None,
            ),
            (
                "serve: then the ledger by type, wall (s)",
                listed["ledger"],
                scratch["ledger"],
                lambda x: x["listing"]["ledger"],
                "",
                None,
            ),
            (
                "serve: peak RSS (MiB)",
                listed["rss_mib"],
                scratch["rss_mib"],
                lambda x: x["listing"]["rss_mib"],
                "",
                None,
            ),
        ]
        for name, fast, base, get, goal, met in lines:
            verdict = "" if met is None else ("met" if met else "missed")
            table.add_row(
                n,
                name,
                f"{fast:,.2f}",
                f"{base:,.2f}",
                f"{fast / base:.3f}" if base else "—",
                growth(rows, i, get),
                f"{goal} {verdict}".strip(),
            )
            n = ""
        if not inc["same"]:
            table.add_row("", "[red]incremental state differs from evaluate()[/red]", *[""] * 5)
    Console(width=160).print(table)


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--child"]:
        mode, where, *rest = argv[1:]
        if mode == "open":
            result = child_open(where, rest[0] == "1", rest[1] if len(rest) > 1 else None)
        elif mode == "listing":
            result = child_listing(where, rest[0] == "1", rest[1] if len(rest) > 1 else None)
        else:
            result = child_increment(where, rest[0] if rest else None)
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 only")
    parser.add_argument("--sizes", help="comma-separated event counts")
    parser.add_argument("--build", nargs=2, metavar=("N", "DIR"), help="build one and stop")
    parser.add_argument("--database", help="a PostgreSQL URL for the log (one size only)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args(argv)
    if args.build:
        count, directory = int(args.build[0]), Path(args.build[1])
        seconds = build(count, directory, database=args.database)
        err.print(f"built {directory}: {count:,} signed events in {seconds:.1f} s")
        return 0
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else None
    sizes = sizes or list(QUICK_SIZES if args.quick else SIZES)
    if args.database and len(sizes) > 1:
        parser.error("--database holds one log: give one size with --sizes")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cvid-scale-"))
    rows = []
    try:
        for count in sizes:
            directory = workdir / f"agreement-{count}"
            if not (directory / "roadmap.yaml").is_file():
                err.print(f"[{count:,}] building")
                seconds = build(count, directory, database=args.database)
                err.print(f"[{count:,}] built in {seconds:.1f} s")
            rows.append(measure(count, directory, args.database))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report(rows, "PostgreSQL" if args.database else "SQLite")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
