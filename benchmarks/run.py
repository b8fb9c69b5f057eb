"""Benchmarks of the cvid log against baselines measured in the same run (``make bench``).

Prints one table of ratios with a goal column. Every timed operation runs in a fresh
process (``benchmarks/log_bench.py``), so no measurement inherits another's caches,
heap or imports. See ``benchmarks/README.md`` for what each row measures.

Usage::

    python benchmarks/run.py                 # sizes 10^5 and 10^6 (~2-3 minutes on 2 cores)
    python benchmarks/run.py --quick         # 10^4 only, fewer repetitions: a smoke run
    python benchmarks/run.py --sizes 20000,200000 --json bench-out/log.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table

from log_bench import CVID_FILE, ORIGIN, PYMERKLE_FILE, SEED

HERE = Path(__file__).resolve().parent
WORKER = HERE / "log_bench.py"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

# Goals from the issue.
FLOOR_RATIO_GOAL = 2.0  # bulk append ≤ 2x the raw-hash floor
PYMERKLE_RATIO_GOAL = 0.5  # bulk append ≤ 0.5x pymerkle's time
PROOF_SPEEDUP_GOAL = 100.0  # cold proofs ≥ 100x faster than pymerkle's …
PROOF_ABSOLUTE_GOAL_S = 1e-3  # … and under 1 ms
MEMORY_GOAL_MIB = 64.0  # peak RSS of the largest append ≤ 64 MiB above the input data

Result = dict[str, Any]
err = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Settings:
    """What to run, from the command line."""

    sizes: list[int]
    repeat: int
    cold_repeat: int
    writers: int
    writer_seconds: float
    postgres_url: str | None
    pymerkle_timeout: float
    evict_page_cache: bool


@dataclass
class Row:
    """One line of the result table."""

    measurement: str
    size: str
    cvid: str
    baseline: str
    ratio: str
    goal: str
    verdict: str  # met | missed | reported | not run
    note: str = ""


@dataclass
class Report:
    """Everything measured, for the table and for ``--json``."""

    environment: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    samples: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- running the worker ---------------------------------------------------------------------


class WorkerError(RuntimeError):
    """A measurement process failed."""


def run_worker(*args: str, timeout: float = 600.0) -> Result:
    """Run ``log_bench.py ARGS`` in a fresh interpreter and return its JSON result."""
    proc = subprocess.run(
        [sys.executable, str(WORKER), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise WorkerError(f"log_bench.py {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    result: Result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def evict(paths: Sequence[Path]) -> None:
    """Drop the files' clean pages from the OS page cache (``--evict-page-cache``)."""
    for path in paths:
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# --- formatting -----------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_size(n: int) -> str:
    """10^k for powers of ten, else the number with separators."""
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else f"{n:,}"


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- 1, 2, 4: bulk append, floor, memory ------------------------------------------------------


@dataclass
class AppendSamples:
    """The repetitions at one size."""

    floor: list[float] = field(default_factory=list)
    cvid: list[float] = field(default_factory=list)
    pymerkle: list[float] = field(default_factory=list)
    pymerkle_extrapolated_from: int | None = None  # size measured, when too slow at this one
    cvid_memory_kib: list[int] = field(default_factory=list)  # peak RSS above the input data
    pymerkle_memory_kib: list[int] = field(default_factory=list)
    data_kib: list[int] = field(default_factory=list)  # what the input data added to RSS


def measure_appends(settings: Settings, workdir: Path) -> tuple[dict[int, AppendSamples], Path]:
    """Run floor, cvid and pymerkle at each size; keep the last largest files for proofs."""
    results: dict[int, AppendSamples] = {}
    largest = max(settings.sizes)
    kept = workdir / "largest"
    pymerkle_too_slow_at: int | None = None
    for size in sorted(settings.sizes):
        samples = results[size] = AppendSamples()
        for rep in range(settings.repeat):
            directory = workdir / f"append-{size}-{rep}"
            directory.mkdir()
            tasks = ["floor", "cvid", "pymerkle"]
            tasks = tasks[rep % 3 :] + tasks[: rep % 3]  # rotate: drift hits each one alike
            err.print(f"  append n={fmt_size(size)} rep {rep + 1}/{settings.repeat}", end="")
            for task in tasks:
                if task == "floor":
                    samples.floor.append(run_worker("floor", str(size))["seconds"])
                elif task == "cvid":
                    r = run_worker("append-cvid", str(size), str(directory))
                    samples.cvid.append(r["seconds"])
                    samples.cvid_memory_kib.append(r["rss_end_kib"] - r["rss_data_kib"])
                    samples.data_kib.append(r["rss_data_kib"] - r["rss_start_kib"])
                elif pymerkle_too_slow_at is None:
                    try:
                        r = run_worker(
                            "append-pymerkle",
                            str(size),
                            str(directory),
                            timeout=settings.pymerkle_timeout,
                        )
                    except subprocess.TimeoutExpired:
                        pymerkle_too_slow_at = size
                        for leftover in directory.glob(f"{PYMERKLE_FILE}*"):
                            leftover.unlink()  # no half-built tree for the cold proofs
                        err.print(f" [pymerkle > {settings.pymerkle_timeout:.0f} s]", end="")
                        continue
                    samples.pymerkle.append(r["seconds"])
                    samples.pymerkle_memory_kib.append(r["rss_end_kib"] - r["rss_data_kib"])
            err.print(
                f": floor {fmt_time(samples.floor[-1])}, cvid {fmt_time(samples.cvid[-1])}"
                + (f", pymerkle {fmt_time(samples.pymerkle[-1])}" if samples.pymerkle else "")
            )
            if size == largest and rep == settings.repeat - 1:
                directory.rename(kept)
            else:
                shutil.rmtree(directory)
        if pymerkle_too_slow_at is not None and size >= pymerkle_too_slow_at:
            samples.pymerkle.clear()
            samples.pymerkle_memory_kib.clear()
            measured = [n for n in results if results[n].pymerkle and n < size]
            if measured:  # linear in n: pymerkle's bulk append is one INSERT per entry
                base = max(measured)
                samples.pymerkle_extrapolated_from = base
                samples.pymerkle = [median(results[base].pymerkle) * size / base]
    return results, kept


def append_rows(results: dict[int, AppendSamples], report: Report) -> None:
    for size, s in sorted(results.items()):
        cvid, floor_s = median(s.cvid), median(s.floor)
        ratio = cvid / floor_s
        report.rows.append(
            Row(
                "bulk append, SQLite, vs raw-hash floor",
                fmt_size(size),
                fmt_time(cvid),
                f"floor {fmt_time(floor_s)}",
                f"{ratio:.2f}x floor",
                f"≤ {FLOOR_RATIO_GOAL:g}x",
                verdict(ratio <= FLOOR_RATIO_GOAL),
                f"median of {len(s.cvid)} fresh processes each",
            )
        )
        if not s.pymerkle:
            report.rows.append(
                Row(
                    "bulk append, SQLite, vs pymerkle",
                    fmt_size(size),
                    fmt_time(cvid),
                    "pymerkle: not measured",
                    "—",
                    f"≤ {PYMERKLE_RATIO_GOAL:g}x",
                    "not run",
                    "pymerkle exceeded its time limit at every size",
                )
            )
            continue
        pymerkle = median(s.pymerkle)
        ratio = cvid / pymerkle
        extrapolated = s.pymerkle_extrapolated_from
        label = (
            f"pymerkle ≈{fmt_time(pymerkle)} (EXTRAPOLATED from n={fmt_size(extrapolated)})"
            if extrapolated
            else f"pymerkle {fmt_time(pymerkle)}"
        )
        report.rows.append(
            Row(
                "bulk append, SQLite, vs pymerkle",
                fmt_size(size),
                fmt_time(cvid),
                label,
                f"{ratio:.2f}x pymerkle",
                f"≤ {PYMERKLE_RATIO_GOAL:g}x",
                verdict(ratio <= PYMERKLE_RATIO_GOAL),
                "vs an extrapolation, not a measurement"
                if extrapolated
                else f"median of {len(s.cvid)} fresh processes each",
            )
        )


def memory_row(size: int, s: AppendSamples, report: Report) -> None:
    cvid_mib = median(s.cvid_memory_kib) / 1024
    data_mib = median(s.data_kib) / 1024
    if s.pymerkle_memory_kib:
        pymerkle_mib = median(s.pymerkle_memory_kib) / 1024
        baseline = f"pymerkle +{pymerkle_mib:.1f} MiB"
        ratio = f"{cvid_mib / pymerkle_mib:.2f}x pymerkle" if pymerkle_mib > 0 else "—"
    else:
        baseline, ratio = "pymerkle: not measured", "—"
    report.rows.append(
        Row(
            "bulk append, peak RSS above input data",
            fmt_size(size),
            f"+{cvid_mib:.1f} MiB",
            baseline,
            ratio,
            f"≤ {MEMORY_GOAL_MIB:g} MiB",
            verdict(cvid_mib <= MEMORY_GOAL_MIB),
            f"input data: {data_mib:.0f} MiB of RSS",
        )
    )


# --- 3: cold proofs ---------------------------------------------------------------------------


@dataclass
class ColdSamples:
    """Seconds per fresh process, by (implementation, kind, phase)."""

    times: dict[str, list[float]] = field(default_factory=dict)
    queries: list[dict[str, int]] = field(default_factory=list)

    def add(self, key: str, value: float) -> None:
        self.times.setdefault(key, []).append(value)


def measure_cold_proofs(settings: Settings, size: int, directory: Path) -> ColdSamples:
    """One proof per fresh process, cvid then pymerkle on the same random query."""
    samples = ColdSamples()
    files = [directory / CVID_FILE, directory / PYMERKLE_FILE]
    have_pymerkle = files[1].exists()
    for rep in range(settings.cold_repeat):
        rng = random.Random(SEED + rep)
        index = rng.randrange(size)
        old = rng.randrange(1, size)
        new = rng.randrange(old + 1, size + 1)
        samples.queries.append({"index": index, "tree_size": size, "old": old, "new": new})
        err.print(f"  cold proofs rep {rep + 1}/{settings.cold_repeat}", end="")
        if settings.evict_page_cache:
            evict(files)
        samples.add("sqlite open floor", run_worker("open-floor", str(directory))["open_seconds"])
        for kind, first, second, hashes in (
            ("inclusion", index, size, ("leaf_hash", "root_hash")),
            ("consistency", old, new, ("old_root", "new_root")),
        ):
            if settings.evict_page_cache:
                evict(files)
            r = run_worker("prove-cvid", str(directory), kind, str(first), str(second))
            samples.add(f"cvid {kind} open", r["open_seconds"])
            samples.add(f"cvid {kind} proof", r["proof_seconds"])
            err.print(f", cvid {kind} {fmt_time(r['open_seconds'] + r['proof_seconds'])}", end="")
            if not have_pymerkle:
                continue
            if settings.evict_page_cache:
                evict(files)
            expected = [r[h] for h in hashes]  # pymerkle verifies its proof against cvid's roots
            args = ("prove-pymerkle", str(directory), kind, str(first), str(second), *expected)
            p = run_worker(*args, timeout=settings.pymerkle_timeout)
            samples.add(f"pymerkle {kind} open", p["open_seconds"])
            samples.add(f"pymerkle {kind} proof", p["proof_seconds"])
            err.print(f", pymerkle {fmt_time(p['open_seconds'] + p['proof_seconds'])}", end="")
        err.print()
    return samples


def cold_rows(size: int, samples: ColdSamples, report: Report, *, evicted: bool) -> None:
    t = samples.times
    cache = "page cache dropped" if evicted else "OS page cache warm"
    if "sqlite open floor" in t:
        opening = median(t["sqlite open floor"])
        report.rows.append(
            Row(
                "cold open floor: bare sqlite3 connect + one SELECT",
                fmt_size(size),
                "—",
                f"floor {fmt_time(opening)}",
                f"{opening / PROOF_ABSOLUTE_GOAL_S:.0%} of the 1 ms goal",
                "none set (report)",
                "reported",
                f"cvid's file, no cvid code; what any 'with open' row pays first; {cache}",
            )
        )
    for kind in ("inclusion", "consistency"):
        for phase in ("with open", "proof only"):

            def total(impl: str, kind: str = kind, phase: str = phase) -> float:
                proofs = t[f"{impl} {kind} proof"]
                if phase == "proof only":
                    return median(proofs)
                opens = t[f"{impl} {kind} open"]
                return median([a + b for a, b in zip(opens, proofs, strict=True)])

            cvid = total("cvid")
            goal = f"≥ {PROOF_SPEEDUP_GOAL:g}x and < {fmt_time(PROOF_ABSOLUTE_GOAL_S)}"
            under = cvid < PROOF_ABSOLUTE_GOAL_S
            note = f"median of {len(t[f'cvid {kind} proof'])} fresh processes; {cache}"
            if f"pymerkle {kind} proof" not in t:
                report.rows.append(
                    Row(
                        f"cold {kind} proof, {phase}",
                        fmt_size(size),
                        fmt_time(cvid),
                        "pymerkle: not measured",
                        "—",
                        goal,
                        "not run",
                        note,
                    )
                )
                continue
            pymerkle = total("pymerkle")
            speedup = pymerkle / cvid
            fast_enough = speedup >= PROOF_SPEEDUP_GOAL
            met = fast_enough and under
            misses = [
                *([] if fast_enough else [f"< {PROOF_SPEEDUP_GOAL:g}x"]),
                *([] if under else [f"≥ {fmt_time(PROOF_ABSOLUTE_GOAL_S)}"]),
            ]
            why = f" ({', '.join(misses)})" if misses else ""
            report.rows.append(
                Row(
                    f"cold {kind} proof, {phase}",
                    fmt_size(size),
                    fmt_time(cvid),
                    f"pymerkle {fmt_time(pymerkle)}",
                    f"{speedup:,.0f}x faster",
                    goal,
                    verdict(met) + why,
                    note,
                )
            )


# --- 5: concurrent durable writers ------------------------------------------------------------


@dataclass
class WriterRun:
    """One run of N writer processes."""

    label: str
    writers: int
    total: int
    seconds: float
    errors: int
    per_writer: list[int]
    p50_ms: float | None
    p99_ms: float | None
    first_error: str

    @property
    def rate(self) -> float:
        return self.total / self.seconds


def run_writers(impl: str, location: str, count: int, seconds: float, label: str) -> WriterRun:
    """Start ``count`` writer processes, release them at once, collect their counts."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), f"writer-{impl}", location, str(seconds), f"w{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise WorkerError(f"a {impl} writer did not start (exit {proc.wait()})")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outs = [proc.communicate(timeout=seconds + 300)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if any(proc.returncode for proc in procs):
        raise WorkerError(f"a {impl} writer failed")
    results = [json.loads(out.strip().splitlines()[-1]) for out in outs]
    latencies_50 = [r["p50_seconds"] for r in results if r["p50_seconds"] is not None]
    latencies_99 = [r["p99_seconds"] for r in results if r["p99_seconds"] is not None]
    errors = [r["first_error"] for r in results if r["first_error"]]
    return WriterRun(
        label=label,
        writers=count,
        total=sum(r["count"] for r in results),
        seconds=max(r["ended"] for r in results) - min(r["began"] for r in results),
        errors=sum(r["errors"] for r in results),
        per_writer=[r["count"] for r in results],
        p50_ms=median(latencies_50) * 1e3 if latencies_50 else None,
        p99_ms=max(latencies_99) * 1e3 if latencies_99 else None,
        first_error=errors[0] if errors else "",
    )


def check_cvid_log(location: str, run: WriterRun) -> None:
    """Every acknowledged entry is in the log, and nothing else is."""
    from cvid.log.store import open_store
    from cvid.log.tlog import Log

    with Log(open_store(location)) as log:
        per_writer = [0] * run.writers
        for entry in log.entries():
            per_writer[int(entry.split(b":", 1)[0][1:])] += 1
        size = log.size()
    if size != run.total or per_writer != run.per_writer:  # writer n is w{n}
        raise WorkerError(f"{run.label}: log holds {size} entries, {run.total} acknowledged")


def check_pymerkle_tree(path: Path, run: WriterRun) -> None:
    """pymerkle's tree holds exactly the acknowledged entries (its open checks contiguity)."""
    import pymerkle

    tree = pymerkle.SqliteTree(str(path))
    size = int(tree.get_size())
    tree.close()
    if size != run.total:
        raise WorkerError(f"{run.label}: tree holds {size} entries, {run.total} acknowledged")


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped on exit."""
    import psycopg

    name = f"cvid_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        sep = "&" if "?" in base else "?"
        try:
            yield f"{base}{sep}options=-csearch_path%3D{name}"
        finally:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def postgres_settings(url: str) -> str:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = [conn.execute(f"SHOW {name}").fetchone() for name in ("synchronous_commit", "fsync")]
        version = conn.execute("SHOW server_version").fetchone()
    values = [str(r[0]) if r else "?" for r in rows]
    return (
        f"PostgreSQL {version[0] if version else '?'}, "
        f"synchronous_commit={values[0]}, fsync={values[1]}"
    )


def create_cvid_log(location: str) -> None:
    from cvid.log.store import open_store
    from cvid.log.tlog import Log

    Log.create(open_store(location, create=True), ORIGIN).close()


def writer_title(count: int, backend: str) -> str:
    plural = "s" if count > 1 else ""
    return f"{count} durable writer{plural}, 1 entry/commit, {backend}"


def sqlite_writers(workdir: Path, count: int, seconds: float) -> tuple[WriterRun, WriterRun]:
    """cvid, then pymerkle, each with ``count`` processes on a fresh SQLite file."""
    import pymerkle

    directory = workdir / f"writers-{count}"
    directory.mkdir()
    cvid_path, pymerkle_path = directory / CVID_FILE, directory / PYMERKLE_FILE
    create_cvid_log(str(cvid_path))
    pymerkle.SqliteTree(str(pymerkle_path)).close()  # the table exists before they race
    err.print(f"  {count} writer(s), {seconds:g} s: cvid SQLite", end="")
    cvid = run_writers("cvid", str(cvid_path), count, seconds, f"cvid SQLite x{count}")
    check_cvid_log(str(cvid_path), cvid)
    err.print(f" {cvid.rate:,.0f}/s; pymerkle SQLite", end="")
    other = run_writers("pymerkle", str(pymerkle_path), count, seconds, f"pymerkle x{count}")
    check_pymerkle_tree(pymerkle_path, other)
    err.print(f" {other.rate:,.0f}/s")
    shutil.rmtree(directory)
    return cvid, other


def postgres_writers(base_url: str, count: int, seconds: float, report: Report) -> WriterRun:
    """cvid with ``count`` processes on a fresh PostgreSQL schema."""
    with postgres_schema(base_url) as url:
        report.environment["postgres"] = postgres_settings(url)
        create_cvid_log(url)
        err.print(f"  {count} writer(s), {seconds:g} s: cvid PostgreSQL", end="")
        run = run_writers("cvid", url, count, seconds, f"cvid PostgreSQL x{count}")
        check_cvid_log(url, run)
        err.print(f" {run.rate:,.0f}/s")
    return run


def measure_writers(settings: Settings, workdir: Path, report: Report) -> list[WriterRun]:
    """N writers, then one: cvid on SQLite and PostgreSQL, pymerkle on SQLite."""
    import psycopg

    runs: list[WriterRun] = []
    postgres_missing = "--no-postgres" if settings.postgres_url is None else ""
    for count in sorted({settings.writers, 1}, reverse=True):
        cvid, pymerkle = sqlite_writers(workdir, count, settings.writer_seconds)
        runs += [cvid, pymerkle]
        writer_row(report, writer_title(count, "SQLite"), cvid, pymerkle)
        title = writer_title(count, "PostgreSQL")
        if settings.postgres_url and not postgres_missing:
            try:
                pg = postgres_writers(settings.postgres_url, count, settings.writer_seconds, report)
            except psycopg.Error as e:  # no server: say so in the table, measure the rest
                postgres_missing = f"{type(e).__name__}: {str(e).strip()[:80]}"
            else:
                runs.append(pg)
                note = "baseline: pymerkle's SQLite run above (it has no PostgreSQL backend)"
                writer_row(report, title, pg, pymerkle, baseline_note=note)
                continue
        report.rows.append(
            Row(title, "—", "—", "—", "—", "none set (report)", "not run", postgres_missing)
        )
    return runs


def writer_row(
    report: Report, title: str, cvid: WriterRun, base: WriterRun, baseline_note: str = ""
) -> None:
    def detail(run: WriterRun) -> str:
        spread = f"acknowledged per writer {min(run.per_writer)}…{max(run.per_writer)}"
        p50 = f"{run.p50_ms:.1f}" if run.p50_ms is not None else "—"
        p99 = f"{run.p99_ms:.0f}" if run.p99_ms is not None else "—"
        errors = f", {run.errors} failed appends ({run.first_error[:70]})" if run.errors else ""
        return (
            f"{run.label}: {run.total} entries in {run.seconds:.1f} s, {spread}, "
            f"median writer's p50 latency {p50} ms, worst writer's p99 {p99} ms{errors}"
        )

    report.notes += [d for d in (detail(cvid), detail(base)) if d not in report.notes]
    report.rows.append(
        Row(
            title,
            "—",
            f"{cvid.rate:,.0f} /s",
            f"pymerkle {base.rate:,.0f} /s",
            f"{cvid.rate / base.rate:.2f}x pymerkle" if base.rate else "—",
            "none set (report)",
            "reported",
            baseline_note
            or f"{cvid.writers} writer process{'es' if cvid.writers > 1 else ''} per side",
        )
    )


# --- the run ----------------------------------------------------------------------------------


def environment(workdir: Path) -> dict[str, str]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "sqlite": sqlite3.sqlite_version,
        "pymerkle": version("pymerkle"),
        "cvid": f"{version('cvid')} ({source_revision()})",
        "workdir": str(workdir),
        "load average at start": load_average(),
    }


def source_revision() -> str:
    """The commit benchmarked, marked if ``src/`` has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "src")
    except OSError:
        return "no git"
    return f"{head or '?'}{' + uncommitted src changes' if dirty else ''}"


def load_average() -> str:
    """The 1-minute load: other work on the machine skews every figure (both sides alike)."""
    return f"{os.getloadavg()[0]:.2f}"


def render(report: Report, console: Console) -> None:
    env = report.environment
    table = Table(
        title="cvid log benchmarks: ratios measured in this run",
        caption=", ".join(f"{k} {v}" for k, v in env.items()),
        show_lines=True,
    )
    columns: list[tuple[str, JustifyMethod]] = [
        ("measurement", "left"),
        ("entries", "right"),
        ("cvid", "right"),
        ("baseline (same run)", "right"),
        ("ratio", "right"),
        ("goal", "left"),
        ("result", "left"),
        ("notes", "left"),
    ]
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    colours = {"met": "green", "missed": "bold red", "not run": "yellow"}
    for row in report.rows:
        colour = colours.get(row.verdict.split(" (")[0], "")
        result = f"[{colour}]{row.verdict}[/]" if colour else row.verdict
        table.add_row(
            row.measurement, row.size, row.cvid, row.baseline, row.ratio, row.goal, result, row.note
        )
    console.print(table)
    for note in report.notes:
        console.print(f"• {note}")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(float(part)) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 2:
        raise argparse.ArgumentTypeError("sizes must be integers ≥ 2, e.g. 100000,1000000")
    return sizes


def parse_args(argv: Sequence[str]) -> tuple[Settings, argparse.Namespace]:
    parser = argparse.ArgumentParser(description="cvid log benchmarks (ratios, with goals)")
    parser.add_argument("--quick", action="store_true", help="10^4 entries, fewer repetitions")
    parser.add_argument("--sizes", type=parse_sizes, help="comma-separated entry counts")
    parser.add_argument("--repeat", type=positive, help="fresh processes per append (default 5)")
    parser.add_argument(
        "--cold-repeat", type=positive, help="fresh processes per proof (default 9)"
    )
    parser.add_argument("--writers", type=positive, default=16, help="concurrent writer processes")
    parser.add_argument("--writer-seconds", type=float, help="how long writers run (default 10)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CVID_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="server for the PostgreSQL writers (a fresh schema is created and dropped)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--pymerkle-timeout",
        type=float,
        default=180.0,
        help="seconds one pymerkle append may take before we extrapolate from a smaller size",
    )
    parser.add_argument(
        "--evict-page-cache",
        action="store_true",
        help="drop the database files from the OS page cache before each cold proof",
    )
    parser.add_argument("--workdir", type=Path, help="where the databases go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args(argv)
    quick = args.quick
    settings = Settings(
        sizes=args.sizes or ([10_000] if quick else [100_000, 1_000_000]),
        repeat=args.repeat or (2 if quick else 5),
        cold_repeat=args.cold_repeat or (3 if quick else 9),
        writers=args.writers,
        writer_seconds=args.writer_seconds or (3.0 if quick else 10.0),
        postgres_url=None if args.no_postgres else args.postgres_url,
        pymerkle_timeout=args.pymerkle_timeout,
        evict_page_cache=args.evict_page_cache,
    )
    return settings, args


def main(argv: Sequence[str]) -> int:
    settings, args = parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cvid-bench-", dir=args.workdir))
    report = Report(environment=environment(workdir))
    started = time.monotonic()
    try:
        err.print(f"[bold]append[/] (sizes {', '.join(map(fmt_size, settings.sizes))})")
        appends, kept = measure_appends(settings, workdir)
        append_rows(appends, report)
        largest = max(settings.sizes)
        err.print(f"[bold]cold proofs[/] at n={fmt_size(largest)}")
        cold = measure_cold_proofs(settings, largest, kept)
        cold_rows(largest, cold, report, evicted=settings.evict_page_cache)
        memory_row(largest, appends[largest], report)
        err.print(f"[bold]durable writers[/] ({settings.writers} processes)")
        writers = measure_writers(settings, workdir, report)
        report.environment["load average at end"] = load_average()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report.samples = {
        "settings": asdict(settings),
        "append": {str(n): asdict(s) for n, s in appends.items()},
        "cold": asdict(cold),
        "writers": [asdict(w) | {"rate": w.rate} for w in writers],
    }
    report.notes += [
        "Times are medians over fresh processes; imports happen before any timer starts.",
        "Floor: fastest of 3 passes of the bare hashlib loop per process (strict for cvid).",
        "Appends: one Log.append / one pymerkle append_entries (default chunksize) into a fresh "
        "file, both committed durably: cvid in WAL mode with synchronous=FULL (its store's "
        "settings), pymerkle with a rollback journal and synchronous=FULL (SQLite's defaults, "
        "which it keeps).",
        "Writers: one append per commit; an entry counts once its append returned; the log is "
        "checked afterwards to hold exactly the acknowledged entries.",
        "Other work on the machine skews every figure; the caption gives the 1-minute load.",
        "Cold proofs: open + one proof per fresh process on the same random query for both; "
        "cvid's time includes computing the root it returns; pymerkle's proof is verified "
        "against cvid's roots after the timer (same tree).",
        f"Whole run: {time.monotonic() - started:.0f} s.",
    ]
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    render(report, console)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "environment": report.environment,
            "rows": [asdict(r) for r in report.rows],
            "samples": report.samples,
            "notes": report.notes,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0  # a missed goal is a finding to report, not a failed run


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
