"""``cvid escrow …``, ``cvid beacon …``, ``cvid inspect …``: declarations, randomness, inspections.

Thin over :mod:`cvid.escrow`, :mod:`cvid.verification.beacon` and the agreement.
The escrow file's passphrase comes from ``--passphrase-file`` or the environment
variable ``CVID_ESCROW_PASSPHRASE``, never from the command line (which other
users of the machine can read). Beacon secrets are written to the agreement's
``keys/`` directory (mode 0600) by the party that commits them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cvid import _yaml
from cvid import agreement as ag
from cvid._jcs import parse_json
from cvid._when import parse_when
from cvid.cli._app import Now, handle_errors, out, read_passphrase
from cvid.cli.agreement import Database, Dir, _now
from cvid.errors import InputError, JSONFormatError
from cvid.escrow.commit import Item, Partition, commit
from cvid.escrow.reveal import reveal_cells
from cvid.escrow.store import load_escrow, save_escrow
from cvid.events.authz_escrow import population, round_output
from cvid.verification.beacon import draw, secret_commitment

escrow_app = typer.Typer(
    help="Declarations in escrow: commit, reveal, verify.", no_args_is_help=True
)
beacon_app = typer.Typer(help="The randomness beacon: commit, reveal, draw.", no_args_is_help=True)
inspect_app = typer.Typer(
    help="Inspections: plan from the beacon, report findings.", no_args_is_help=True
)

PASSPHRASE_ENV = "CVID_ESCROW_PASSPHRASE"
Passphrase = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help=f"File with the passphrase (else ${PASSPHRASE_ENV})."),
]
Party = Annotated[str, typer.Option("--party", help="Act as this party (its key in DIR/keys).")]
Round = Annotated[str, typer.Option("--round", help="The beacon round id.")]
Time = Annotated[str | None, typer.Option("--time", help="The event time (default: --now).")]


def _passphrase(path: Path | None) -> str:
    return read_passphrase(path, PASSPHRASE_ENV)


def _read_items(path: Path) -> list[Item]:
    """Items from CSV (id, category, cell, then attribute columns) or YAML (a list)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from e
    rows: list[dict[str, Any]]
    if path.suffix == ".csv":
        rows = []
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            if None in row:  # DictReader's key for the fields beyond the header's
                raise InputError(f"{path}:{reader.line_num}: more fields than the header has")
            base = {k: row.pop(k, "") for k in ("id", "category", "cell")}
            attributes = {k: _number(v) for k, v in row.items() if v not in ("", None)}
            rows.append({**base, "attributes": attributes})
    else:
        loaded = _load_yaml(path, text)
        if not isinstance(loaded, list):
            raise InputError(f"{path}: expected a list of items")
        rows = loaded
    try:
        return [Item.from_dict(row) for row in rows]
    except (TypeError, KeyError, ValueError) as e:
        raise InputError(f"{path}: {e}") from e


def _number(text: str) -> str | int | float:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _load_yaml(path: Path, text: str) -> Any:
    try:
        return _yaml.load(text)
    except yaml.YAMLError as e:
        raise InputError(_yaml.describe(e, str(path))) from None


def _read_partition(path: Path) -> Partition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the partition {path}: {e}") from e
    data = _load_yaml(path, text)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a partition is {{cells: [...]}} or {{grid: {{rows, cols}}}}")
    return Partition.from_dict(data)


@escrow_app.command("commit")
@handle_errors
def escrow_commit(
    items: Annotated[Path, typer.Argument(help="The items: CSV (id,category,cell,...) or YAML.")],
    partition: Annotated[
        Path, typer.Option("--partition", help="YAML: {cells: [...]} or {grid: ...}.")
    ],
    escrow: Annotated[Path, typer.Option("--escrow", help="The encrypted escrow file to write.")],
    declaration: Annotated[str, typer.Option("--declaration", help="The declaration id.")],
    passphrase_file: Passphrase = None,
) -> None:
    """Commit to a complete declaration: write the escrow file, print the event body."""
    result = commit(_read_items(items), _read_partition(partition), random_bytes=os.urandom)
    save_escrow(escrow, result, _passphrase(passphrase_file), random_bytes=os.urandom)
    body = {
        "declaration": declaration,
        "root": result.root.hex(),
        "size": result.size,
        "cells": list(result.partition.cells),
    }
    out(json.dumps(body, indent=2) + "\n")


@escrow_app.command("reveal")
@handle_errors
def escrow_reveal(
    escrow: Annotated[Path, typer.Argument(help="The encrypted escrow file.")],
    declaration: Annotated[str, typer.Option("--declaration", help="The declaration id.")],
    cells: Annotated[str, typer.Option("--cells", help="Cells to reveal, comma-separated.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the event bodies.")],
    passphrase_file: Passphrase = None,
) -> None:
    """Write the ``declaration.revealed`` bodies that reveal CELLS (one file per chunk)."""
    loaded = load_escrow(escrow, _passphrase(passphrase_file))
    wanted = [c for c in cells.split(",") if c]
    reveals = reveal_cells(loaded, wanted)
    out_dir.mkdir(parents=True, exist_ok=True)
    for n, reveal in enumerate(reveals, 1):
        path = out_dir / f"reveal-{n:03d}.json"
        path.write_text(
            json.dumps({"declaration": declaration, "reveal": reveal.to_dict()}), encoding="utf-8"
        )
        out(f"{path}\n")


@escrow_app.command("verify")
@handle_errors
def escrow_verify(
    directory: Dir,
    at: Annotated[str | None, typer.Option("--at", help="As it stood at this time.")] = None,
    database: Database = None,
) -> None:
    """Re-check every logged reveal against its committed root; list revealed and escrowed cells."""
    with ag.Agreement.open(directory, database=database) as agreement:  # re-admits every entry
        state = agreement.state(at=_now(at))
    if not state.declarations:
        out("no declaration is committed\n")
    for d in state.declarations.values():
        out(
            f"{d.id}: {len(d.revealed)} of {d.cells} cells revealed and proven complete "
            f"({d.items_revealed} leaves); escrowed: {', '.join(d.escrowed) or 'none'}; "
            f"clean inspections: {len(d.inspected_clean)}; confidence {d.confidence:.1%}\n"
        )


# --- beacon -----------------------------------------------------------------------------


def _secret_path(agreement: ag.Agreement, round_id: str, party: str) -> Path:
    return agreement.directory / ag.KEYS_DIR / f"beacon-{round_id}-{party}.secret"


@beacon_app.command("commit")
@handle_errors
def beacon_commit(
    directory: Dir, party: Party, round_id: Round, time: Time = None, now: Now = None
) -> None:
    """Draw a fresh secret, keep it in DIR/keys, and log its commitment."""
    with ag.Agreement.open(directory) as agreement:
        secret = os.urandom(32)
        path = _secret_path(agreement, round_id, party)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as e:
            raise InputError(
                f"{path} exists: {party} already has a secret for round {round_id!r}"
            ) from e
        with os.fdopen(fd, "w") as f:
            f.write(secret.hex() + "\n")
        body = {"round": round_id, "commitment": secret_commitment(round_id, party, secret).hex()}
        try:
            admitted = _act(agreement, party, "beacon.committed", body, time, now)
        except Exception:
            path.unlink()  # nothing logged: the secret is not kept
            raise
        out(f"committed {party}'s secret for round {round_id!r} at index {admitted}\n")


@beacon_app.command("reveal")
@handle_errors
def beacon_reveal(
    directory: Dir, party: Party, round_id: Round, time: Time = None, now: Now = None
) -> None:
    """Log the secret committed earlier."""
    with ag.Agreement.open(directory) as agreement:
        path = _secret_path(agreement, round_id, party)
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise InputError(f"no secret for {party} in round {round_id!r} at {path}") from e
        index = _act(
            agreement,
            party,
            "beacon.revealed",
            {"round": round_id, "secret": secret},
            time,
            now,
        )
        out(f"revealed {party}'s secret for round {round_id!r} at index {index}\n")


def _draw(agreement: ag.Agreement, round_id: str, declaration: str, n: int, kind: str) -> list[str]:
    history = agreement.history.escrow
    record = history.declarations.get(declaration)
    if record is None:
        raise InputError(f"declaration {declaration!r} is not committed")
    output = round_output(agreement.roadmap, history, round_id, agreement.log.root)
    return draw(output, population(record, kind), n)


@beacon_app.command("draw")
@handle_errors
def beacon_draw(
    directory: Dir,
    round_id: Round,
    declaration: Annotated[str, typer.Option("--declaration", help="Whose cells to draw.")],
    n: Annotated[int, typer.Option("--n", help="How many cells.")],
    kind: Annotated[str, typer.Option("--population", help="revealed or all")] = "revealed",
) -> None:
    """Recompute, from the log alone, the cells a completed round draws."""
    with ag.Agreement.open(directory) as agreement:
        out("\n".join(_draw(agreement, round_id, declaration, n, kind)) + "\n")


# --- inspections --------------------------------------------------------------------------


@inspect_app.command("plan")
@handle_errors
def inspect_plan(
    directory: Dir,
    party: Party,
    inspection: Annotated[str, typer.Option("--inspection", help="The inspection id.")],
    declaration: Annotated[str, typer.Option("--declaration", help="The declaration inspected.")],
    round_id: Round,
    n: Annotated[int, typer.Option("--n", help="How many cells.")],
    kind: Annotated[str, typer.Option("--population", help="revealed or all")] = "revealed",
    time: Time = None,
    now: Now = None,
) -> None:
    """Draw the cells from the beacon and log the plan."""
    with ag.Agreement.open(directory) as agreement:
        cells = _draw(agreement, round_id, declaration, n, kind)
        body = {
            "inspection": inspection,
            "declaration": declaration,
            "round": round_id,
            "population": kind,
            "cells": cells,
        }
        index = _act(agreement, party, "inspection.planned", body, time, now)
        out(f"planned {inspection!r} at index {index}: {', '.join(cells)}\n")


@inspect_app.command("report")
@handle_errors
def inspect_report(
    directory: Dir,
    party: Party,
    inspection: Annotated[str, typer.Option("--inspection", help="The inspection id.")],
    findings: Annotated[Path, typer.Option("--findings", help="JSON list of per-cell findings.")],
    time: Time = None,
    now: Now = None,
) -> None:
    """Log the findings of a planned inspection."""
    try:
        data = parse_json(findings.read_bytes(), what=str(findings))
    except OSError as e:
        raise InputError(f"cannot read {findings}: {e.strerror}") from e
    except JSONFormatError as e:
        raise InputError(str(e)) from e
    with ag.Agreement.open(directory) as agreement:
        body = {"inspection": inspection, "findings": data}
        index = _act(agreement, party, "inspection.reported", body, time, now)
        out(f"reported {inspection!r} at index {index}\n")


def _act(
    agreement: ag.Agreement,
    party: str,
    event_type: str,
    body: dict[str, Any],
    time: str | None,
    now: str | None,
) -> int:
    """Sign and submit ``party``'s event; ``--now`` and ``--time`` as for ``event submit``."""
    received = _now(now)
    when = parse_when(time, "--time") if time else received
    return agreement.act(agreement.signer(party), event_type, body, time=when, now=received).index
