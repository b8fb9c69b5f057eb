"""``cvid monitor …``: continuous monitoring of an agreement's devices.

Thin over :mod:`cvid.monitor` and the agreement. ``simulate`` writes a device stream
(one NDJSON file of records per device, and the faults injected); ``commit`` cuts
records files (CSV with a ``time`` column, or NDJSON) into each device's reporting
periods, keeps every period's records encrypted in the agreement's ``records/``
directory and logs one signed commitment per period, in time order across devices;
``reveal`` logs some or all of a period's records with their proof; ``verify`` says
which reveals matched their commitments; ``continuity`` shows continuity of knowledge;
``install`` and ``reverify`` log a verifier's installation and re-verification. The
passphrase of records files comes from ``--passphrase-file`` or
``$CVID_RECORDS_PASSPHRASE``, never from the command line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cvid import agreement as ag
from cvid._jcs import parse_json
from cvid._when import parse_when
from cvid.cli._app import handle_errors, out, read_passphrase
from cvid.cli.agreement import Dir, _now
from cvid.engine.state import moment_text
from cvid.errors import InputError, JSONFormatError
from cvid.events.monitoring_bodies import device_message
from cvid.monitor.records import Period, commit_period, parse_time
from cvid.monitor.simulate import Rates, simulate
from cvid.monitor.store import load_period, save_period
from cvid.report import state_to_dict
from cvid.roadmap.devices import Device

monitor_app = typer.Typer(
    help="Continuous monitoring: simulate, commit, reveal, verify, continuity.",
    no_args_is_help=True,
)

PASSPHRASE_ENV = "CVID_RECORDS_PASSPHRASE"
RECORDS_DIR = "records"
Passphrase = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help=f"File with the passphrase (else ${PASSPHRASE_ENV})."),
]
Time = Annotated[str | None, typer.Option("--time", help="The event time (default: now).")]


def _passphrase(path: Path | None) -> str:
    return read_passphrase(path, PASSPHRASE_ENV)


def _device(agreement: ag.Agreement, ident: str) -> Device:
    devices = agreement.roadmap.monitoring.devices if agreement.roadmap.monitoring else []
    for device in devices:
        if device.id == ident:
            return device
    raise InputError(f"no device {ident!r} in the road map's monitoring")


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records from CSV (a header with ``time``; numbers read as numbers) or NDJSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from e
    rows: list[dict[str, Any]] = []
    if path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            if None in row:
                raise InputError(f"{path}:{reader.line_num}: more fields than the header has")
            rows.append({k: v if k == "time" else _number(v) for k, v in row.items()})
        return rows
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = parse_json(line.encode("utf-8"), what=f"{path}:{n}")
        except JSONFormatError as e:
            raise InputError(str(e)) from None
        if not isinstance(value, dict):
            raise InputError(f"{path}:{n}: a record is a JSON object")
        rows.append(value)
    return rows


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def periods_of(
    device: Device, rows: list[dict[str, Any]]
) -> list[tuple[dt.datetime, list[dict[str, Any]]]]:
    """Records cut into the device's reporting periods (aligned on whole intervals
    since 1970-01-01 UTC), in time order; a period with no record is not listed."""
    step = device.interval_minutes * 60
    cut: dict[dt.datetime, list[dict[str, Any]]] = {}
    for n, row in enumerate(rows):
        moment = parse_time(row.get("time"), f"record {n}'s time")
        seconds = int(moment.timestamp())
        start = dt.datetime.fromtimestamp(seconds - seconds % step, dt.UTC)
        cut.setdefault(start, []).append(row)
    return sorted(cut.items(), key=lambda x: x[0])


def _period_file(agreement: ag.Agreement, device: str, start: dt.datetime) -> Path:
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    return agreement.directory / RECORDS_DIR / device / f"{stamp}.records"


@monitor_app.command("simulate")
@handle_errors
def simulate_cmd(
    directory: Dir,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the records files.")],
    start: Annotated[str, typer.Option("--start", help="When the stream starts.")],
    hours: Annotated[int, typer.Option("--hours", min=1, max=24 * 366)] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same stream.")] = 0,
    devices: Annotated[int | None, typer.Option("--devices", min=1, help="The first N.")] = None,
    gap_rate: Annotated[float, typer.Option("--gap-rate", min=0, max=1)] = 0.01,
    removal_rate: Annotated[float, typer.Option("--removal-rate", min=0, max=1)] = 0.05,
    tamper_rate: Annotated[float, typer.Option("--tamper-rate", min=0, max=1)] = 0.002,
    withheld_rate: Annotated[float, typer.Option("--withheld-rate", min=0, max=1)] = 0.0,
) -> None:
    """Simulate the road map's devices: one NDJSON records file each, and injected.ndjson."""
    with ag.Agreement.open(directory) as agreement:
        specs = agreement.roadmap.monitoring.devices if agreement.roadmap.monitoring else []
    if not specs:
        raise InputError("the road map lists no monitoring devices")
    stream = simulate(
        specs[:devices],
        start=parse_when(start, "--start"),
        hours=hours,
        rng=random.Random(seed),
        rates=Rates(gap_rate, removal_rate, tamper_rate, withheld_rate),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for ident, rows in stream.records.items():
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
        (out_dir / f"{ident}.ndjson").write_text(lines, encoding="utf-8")
    (out_dir / "injected.ndjson").write_text(
        "".join(json.dumps(x.to_dict()) + "\n" for x in stream.injected), encoding="utf-8"
    )
    total = sum(len(r) for r in stream.records.values())
    kinds = ", ".join(
        f"{k}: {sum(1 for x in stream.injected if x.kind == k)}"
        for k in ("gap", "removal", "tamper", "withheld")
    )
    out(f"{len(stream.records)} devices, {total} records in {out_dir}; injected {kinds}\n")


@monitor_app.command("install")
@handle_errors
def install_cmd(
    directory: Dir,
    device: Annotated[str, typer.Option("--device")],
    party: Annotated[str, typer.Option("--party", help="The installing verifier.")],
    time: Time = None,
) -> None:
    """Log a device's installation by one of its verifiers."""
    when = _now(time, "--time")
    with ag.Agreement.open(directory) as agreement:
        ev = agreement.act(
            agreement.signer(party), "device.installed", {"device": device}, time=when
        )
    out(f"logged at index {ev.index}: {device} installed by {party}\n")


@monitor_app.command("commit")
@handle_errors
def commit_cmd(
    directory: Dir,
    records: Annotated[list[Path], typer.Argument(help="Records files: CSV or NDJSON.")],
    device: Annotated[
        str | None, typer.Option("--device", help="The device (default: each file's name).")
    ] = None,
    passphrase_file: Passphrase = None,
) -> None:
    """Commit every reporting period in the records files: the records are kept
    encrypted in DIR/records/, one signed commitment per period is logged at its end."""
    if device is not None and len(records) != 1:
        raise InputError("--device goes with one records file")
    passphrase = _passphrase(passphrase_file)
    with ag.Agreement.open(directory) as agreement:
        work: list[tuple[dt.datetime, str, Device, list[dict[str, Any]]]] = []
        for path in records:
            spec = _device(agreement, device or path.stem)
            for start, rows in periods_of(spec, read_records(path)):
                work.append((start, spec.id, spec, rows))
        work.sort(key=lambda x: (x[0], x[1]))
        for start, _, spec, rows in work:
            end = start + dt.timedelta(minutes=spec.interval_minutes)
            period = commit_period(spec.id, start, end, rows, random_bytes=os.urandom)
            path = _period_file(agreement, spec.id, start)
            path.parent.mkdir(parents=True, exist_ok=True)
            pending = path.with_suffix(".pending")
            pending.unlink(missing_ok=True)
            save_period(pending, period, passphrase, random_bytes=os.urandom)
            try:  # kept under its name only once its commitment is logged
                _log_commitment(agreement, spec, period)
                os.link(pending, path)
            finally:
                pending.unlink(missing_ok=True)
    count = sum(len(w[3]) for w in work)
    out(f"committed {len(work)} periods ({count} records)\n")


def _log_commitment(agreement: ag.Agreement, spec: Device, period: Period) -> None:
    body = period.commitment()
    message = device_message(agreement.roadmap.agreement.id, "records.committed", body)
    body["signature"] = agreement.device_signer(spec.id).sign_message(message).hex()
    agreement.act(agreement.signer(spec.logged_by), "records.committed", body, time=period.end)


@monitor_app.command("reveal")
@handle_errors
def reveal_cmd(
    directory: Dir,
    device: Annotated[str, typer.Option("--device")],
    start: Annotated[str, typer.Option("--start", help="The period's start.")],
    first: Annotated[int, typer.Option("--from", min=0, help="First record (0-based).")] = 0,
    last: Annotated[int | None, typer.Option("--to", help="One past the last record.")] = None,
    time: Time = None,
    passphrase_file: Passphrase = None,
) -> None:
    """Log records of a committed period with their range proof."""
    when = _now(time, "--time")
    with ag.Agreement.open(directory) as agreement:
        spec = _device(agreement, device)
        period = load_period(
            _period_file(agreement, device, parse_when(start, "--start")),
            _passphrase(passphrase_file),
        )
        body = period.reveal(first, last)
        ev = agreement.act(agreement.signer(spec.logged_by), "records.revealed", body, time=when)
    out(f"logged at index {ev.index}: {len(body['records'])} records of {device}\n")


@monitor_app.command("verify")
@handle_errors
def verify_cmd(
    directory: Dir,
    at: Annotated[str | None, typer.Option("--at", help="As it stood at this time.")] = None,
) -> None:
    """Re-check every logged reveal (opening the agreement re-admits every entry)."""
    with ag.Agreement.open(directory) as agreement:
        state = agreement.state(at=_now(at, "--at"))
    failed = [v for v in state.violations if v.kind == "monitoring"]
    for d in state.devices.values():
        out(
            f"{d.id}: {d.periods} periods, {d.records_committed} records committed, "
            f"{d.records_revealed} revealed and matching\n"
        )
    for v in failed:
        out(f"finding: {moment_text(v.at)}: {v.detail}\n")
    if failed:
        raise typer.Exit(3)


@monitor_app.command("continuity")
@handle_errors
def continuity_cmd(
    directory: Dir,
    at: Annotated[str | None, typer.Option("--at", help="As it stood at this time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Continuity of knowledge of every covered item or facility."""
    with ag.Agreement.open(directory) as agreement:
        state = agreement.state(at=_now(at, "--at"))
    if as_json:
        out(json.dumps(state_to_dict(state)["continuity"], indent=2, ensure_ascii=False) + "\n")
        return
    table = Table("item", "status", "since", "cause", title="Continuity of knowledge")
    for rec in state.continuity.values():
        table.add_row(rec.item, rec.status, moment_text(rec.since), rec.cause)
    Console(highlight=False, width=160).print(table)


@monitor_app.command("reverify")
@handle_errors
def reverify_cmd(
    directory: Dir,
    items: Annotated[str, typer.Option("--items", help="Items or facilities, comma-separated.")],
    party: Annotated[str, typer.Option("--party", help="The re-verifying verifier.")],
    time: Time = None,
) -> None:
    """Log a re-verification (a new baseline) of items or facilities."""
    when = _now(time, "--time")
    wanted = [x for x in items.split(",") if x]
    with ag.Agreement.open(directory) as agreement:
        ev = agreement.act(
            agreement.signer(party), "continuity.reverified", {"items": wanted}, time=when
        )
    out(f"logged at index {ev.index}: {', '.join(wanted)} re-verified by {party}\n")
